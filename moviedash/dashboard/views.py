"""What each output of the page shows for given control values: one place for the callbacks and the first layout.

The callbacks call these when a control changes; the first layout calls them
with the controls it starts at, so a cold load draws the charts and the key
figures from the layout itself, with no callback round trip (the callbacks
skip their initial call).  Both ways give the same props, so the first view
cannot differ from the one a callback would have drawn.

Invalid values (only a crafted request can send them) never raise from the
chart functions: a chart shows the problem as its message.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import plotly.graph_objects as go
from dash import html, no_update

from .. import analysis, charts, emptiness, pipeline, summaries, viewstate
from ..charts import plotly_config
from ..errors import DatabaseUnavailable, MoviedashError, QueryTimeout, log_database_error
from ..metrics import MEASURES
from ..params import Filters, SeriesQuery, TopQuery, parse_group, parse_rank, parse_resolution
from ..pipeline import ChartData
from ..web.context import get_connection
from . import ids, selection

#: Plotly modebar buttons that make no sense for these charts.
_MODEBAR_REMOVE = ("select2d", "lasso2d", "autoScale2d", "zoomIn2d", "zoomOut2d")
#: The time-series charts (dashboard key -> declared measure, :mod:`moviedash.metrics`).
SERIES_CHARTS = {m.key: m.name for m in MEASURES}
#: The theme the first layout draws its charts in (a stored "dark" preference redraws them).
FIRST_THEME = "light"


def graph_config(filename: str) -> dict[str, Any]:
    """The Plotly config of every chart: nothing sent elsewhere, PNG export named ``filename``
    (SVG: a modebar button added by assets/dashboard.js)."""
    return plotly_config(filename, remove=_MODEBAR_REMOVE)


# --------------------------------------------------------------------------- #
# The data behind each chart: shared by the figure and the CSV download.
# --------------------------------------------------------------------------- #


def selected_filters(values: Sequence[Any]) -> Filters:
    """The filter bar's five values as validated :class:`Filters` (the one helper every callback uses)."""
    return selection.filters_from_controls(get_connection(), *values)


def series_query(chart: str, resolution: Any, filter_values: Sequence[Any]) -> SeriesQuery:
    """A time-series chart's query (``chart``: its key, e.g. ``users``) from its controls.

    Raises :class:`MoviedashError` naming the control at fault.
    """
    return SeriesQuery(parse_resolution(resolution, chart), selected_filters(filter_values))


def top_query(num: Any, rank: Any, filter_values: Sequence[Any], group: Any = "titles") -> TopQuery:
    """The top-titles chart's query from its controls (raises :class:`MoviedashError`)."""
    rank = parse_rank(rank)
    return TopQuery(viewstate.parse_top(num), rank, selected_filters(filter_values), group=parse_group(group, rank))


def theme_name(value: Any) -> str:
    """``light`` or ``dark``; anything else is ``light``."""
    try:
        return selection.parse_theme(value)
    except MoviedashError:
        return "light"


# --------------------------------------------------------------------------- #
# The props of each output.
# --------------------------------------------------------------------------- #


def _render(
    theme_value: Any, build: Callable[[str], tuple[go.Figure, ChartData]], describe: Callable[[ChartData], str],
    faults: list[MoviedashError] | None = None,
) -> tuple[go.Figure, Any, str]:
    """A chart's figure, Plotly config and text alternative, or a message figure when the selection is invalid.

    A database fault shown as the chart's message is appended to ``faults`` (the first layout is not cached then).
    """
    theme = theme_name(theme_value)
    try:
        figure, data = build(theme)
    except QueryTimeout:
        raise  # the request as a whole is over its limit: a 503 in the standard shape, on either backend
    except MoviedashError as exc:
        # public_message: a database fault says only that the database cannot be read;
        # the details go to the server log.
        if isinstance(exc, DatabaseUnavailable):
            log_database_error(exc)
            if faults is not None:
                faults.append(exc)
        text = exc.public_message
        message = f"Invalid selection: {text}" if exc.status == 400 else text[:1].upper() + text[1:]
        return charts.empty_figure(message, theme=theme), no_update, message
    return figure, graph_config(data.name), describe(data)


def _series_query(data: ChartData) -> SeriesQuery:
    assert isinstance(data.query, SeriesQuery)
    return data.query


def _top_query(data: ChartData) -> TopQuery:
    assert isinstance(data.query, TopQuery)
    return data.query


def series_view(
    chart: str, resolution: Any, filter_values: Sequence[Any], theme_value: Any,
    faults: list[MoviedashError] | None = None,
) -> tuple[Any, ...]:
    """A time-series chart at its own resolution: figure, config, text alternative."""
    metric = SERIES_CHARTS[chart]

    def build(theme: str) -> tuple[go.Figure, ChartData]:
        query = series_query(chart, resolution, filter_values)
        return pipeline.series_figure(get_connection(), metric, query, theme=theme, title=None)

    def describe(data: ChartData) -> str:
        return summaries.series_summary(data.frame, metric, _series_query(data).resolution)

    return _render(theme_value, build, describe, faults)


def top_view(
    num: Any, rank: Any, filter_values: Sequence[Any], theme_value: Any, faults: list[MoviedashError] | None = None,
    group: Any = "titles",
) -> tuple[Any, ...]:
    """The top-N titles (``group``: or shows) chart, as tall as its bars need: figure, config, style, text
    alternative."""

    def build(theme: str) -> tuple[go.Figure, ChartData]:
        return pipeline.top_figure(get_connection(), top_query(num, rank, filter_values, group), theme=theme,
                                   title=None)

    figure, config, summary = _render(
        theme_value, build, lambda data: summaries.top_summary(data.frame, _top_query(data).rank), faults
    )
    # The graph is responsive, so its height comes from the container.
    height = figure.layout.height or charts.toplist_height(0)
    return figure, config, {"height": f"{height}px"}, summary


def heatmap_view(
    filter_values: Sequence[Any], theme_value: Any, faults: list[MoviedashError] | None = None
) -> tuple[Any, ...]:
    """The weekday x hour heatmap of plays: figure, config, text alternative."""

    def build(theme: str) -> tuple[go.Figure, ChartData]:
        return pipeline.heatmap_figure(get_connection(), selected_filters(filter_values), theme=theme, title=None)

    return _render(theme_value, build, lambda data: summaries.heatmap_summary(data.frame), faults)


def kpi_view(filters: Filters) -> list[Any]:
    """The four KPI cards (value, delta children, delta class each), each against the previous period."""
    kpis = pipeline.kpis(get_connection(), filters)
    out: list[Any] = []
    for kpi in kpis:
        delta = [html.Span(kpi.change, className="kpi-change")]
        if kpi.comparison:
            delta.append(html.Span(f" {kpi.comparison}", className="kpi-comparison"))
        out += [kpi.value, delta, f"kpi-delta kpi-{kpi.direction}"]
    return out


def empty_view(filters: Filters, exports: int) -> list[Any]:
    """The empty state (hidden, text, button label, button hidden, target), ``exports`` disabled flags, the report's."""
    found = emptiness.explain(get_connection(), filters)
    if found is None:
        return [True, None, no_update, True, None, *[False] * exports, False]
    return [False, found.message, found.action or no_update, found.clear is None, found.clear,
            *[True] * exports, True]


# --------------------------------------------------------------------------- #
# The first layout's outputs.
# --------------------------------------------------------------------------- #


@dataclass
class FirstView:
    """Every output the page's callbacks would compute for the controls the first layout starts at.

    ``charts`` maps a chart to its graph's props (``figure``, ``config``, and
    ``style`` for the top list) and ``summaries`` to its text alternative;
    ``kpis`` holds each card's (value, delta, delta class), empty when they
    could not be computed; ``empty`` is the empty state's message and clear
    button (``None`` when the selection holds events).
    """

    charts: dict[str, dict[str, Any]] = field(default_factory=dict)
    summaries: dict[str, str] = field(default_factory=dict)
    kpis: dict[str, tuple[Any, Any, str]] = field(default_factory=dict)
    empty: emptiness.Emptiness | None = None


#: First views kept while the data's version holds (few: each holds the figures of a whole page).
VIEW_CACHE = analysis.ResultCache(maxsize=32)


def figure_props(figure: go.Figure) -> dict[str, Any]:
    """``figure`` as the plain dict a kept first view holds.

    Converted once, when the view is drawn: each page request then writes it
    as JSON directly, without Plotly's deep copy and array encoding of a
    figure object (the same JSON either way).
    """
    return figure.to_dict()


T = TypeVar("T")


def kept(key: tuple, draw: Callable[[list[MoviedashError]], T], cache: analysis.ResultCache = VIEW_CACHE,
         faults: list[MoviedashError] | None = None) -> T:
    """``draw(met)``, kept in ``cache`` while the data's version holds (:func:`moviedash.analysis.cached`),
    unless ``draw`` met a database fault (``met``: the faults it showed as messages): then it is shown
    once and never kept, and its faults are added to ``faults`` (an outer view is not kept either).

    A kept value is shared between requests, so nothing may change it.
    """
    drawn: list[T] = []
    met: list[MoviedashError] = []

    def compute() -> T:
        value = draw(met)
        if met:
            drawn.append(value)
            raise _Unkept
        return value

    try:
        return analysis.cached(get_connection(), key, compute, cache=cache)
    except _Unkept:
        if faults is not None:
            faults.extend(met)
        return drawn[0]


class _Unkept(Exception):
    """A value drawn while the database could not be read: shown once, never kept."""


#: A page's charts as its own controls and selection draw them (callbacks), kept while the data's version
#: holds: a triangle of weeks is thousands of cells, drawn again at every click otherwise.
CHART_CACHE = analysis.ResultCache(maxsize=64)

#: A page's ``chart_view``: (chart, its controls' values, the filter values, theme, faults) -> the chart's
#: figure, Plotly config, text alternative and CSV address.
ChartView = Callable[..., tuple[go.Figure, dict[str, Any], str, "str | None"]]


def kept_chart(page: str, chart: str, controls: dict[str, Any], filter_values: Sequence[Any], theme: str,
               chart_view: ChartView) -> tuple[dict[str, Any], dict[str, Any], str, str | None]:
    """``chart_view``'s outputs with the figure as a plain dict (:func:`figure_props`), kept in
    :data:`CHART_CACHE` (:func:`kept`)."""
    key = ("chart", page, chart, json.dumps(controls, sort_keys=True, default=str),
           json.dumps(list(filter_values), default=str), theme)

    def draw(met: list[MoviedashError]) -> tuple[dict[str, Any], dict[str, Any], str, str | None]:
        figure, config, summary, href = chart_view(chart, controls, filter_values, theme, met)
        return figure_props(figure), config, summary, href

    return kept(key, draw, CHART_CACHE)


def first_view(controls: dict[str, Any], *, draw_charts: bool = True,
               faults: list[MoviedashError] | None = None) -> FirstView:
    """The outputs for ``controls`` (keyed like :data:`~.selection.CONTROL_NAMES`), drawn in :data:`FIRST_THEME`
    (``draw_charts=False``: the key figures and the empty state only).

    Kept in :data:`VIEW_CACHE` while the data's version holds, as the answers behind it are
    (:func:`kept`): a repeated first load does not build its figures again.
    """
    key = ("first_view", json.dumps(controls, sort_keys=True, default=str), draw_charts)
    return kept(key, lambda met: _first_view(controls, draw_charts, met), faults=faults)


def _first_view(controls: dict[str, Any], draw_charts: bool, faults: list[MoviedashError]) -> FirstView:
    filter_values = [controls[name] for name in ("start", "end", "sessiontype", "device", "market")]
    view = FirstView()
    if draw_charts:
        _draw_charts(view, controls, filter_values, faults)
    else:
        # The top list's frame at the height of a full list, as the chart will most often need.
        view.charts["top"] = {"style": {"height": f"{charts.toplist_height(controls['top'])}px"}}
    try:
        filters = selected_filters(filter_values)
        values = kpi_view(filters)
        view.empty = emptiness.explain(get_connection(), filters)
    except MoviedashError as exc:
        # The cards keep their "…" (the charts say why); details go to the log.
        if isinstance(exc, DatabaseUnavailable):
            log_database_error(exc)
            faults.append(exc)
        return view
    for index, name in enumerate(ids.KPIS):
        view.kpis[name] = (values[3 * index], values[3 * index + 1], values[3 * index + 2])
    return view


def _draw_charts(
    view: FirstView, controls: dict[str, Any], filter_values: list[Any], faults: list[MoviedashError]
) -> None:
    for chart in SERIES_CHARTS:
        figure, config, summary = series_view(chart, controls[chart], filter_values, FIRST_THEME, faults)
        view.charts[chart] = _graph_props(figure, config)
        view.summaries[chart] = summary
    figure, config, style, summary = top_view(controls["top"], controls["rank"], filter_values, FIRST_THEME, faults,
                                              group=controls["group"])
    view.charts["top"] = {**_graph_props(figure, config), "style": style}
    view.summaries["top"] = summary
    figure, config, summary = heatmap_view(filter_values, FIRST_THEME, faults)
    view.charts["heatmap"] = _graph_props(figure, config)
    view.summaries["heatmap"] = summary


def _graph_props(figure: go.Figure, config: Any) -> dict[str, Any]:
    props: dict[str, Any] = {"figure": figure_props(figure)}
    if config is not no_update:
        props["config"] = config
    return props
