"""The engagement page (``/engagement``): completion and quality charts under the shared filters.

Components and what each output shows, for the first layout and the callbacks
alike (:mod:`.callbacks` registers the callbacks).  The page shares the
header, filter bar and URL state with the overview; its charts are drawn only
when the page is shown: the first layout of ``/engagement`` draws them, and
on the overview their callbacks do nothing.  Each chart's numbers come from
:func:`moviedash.pipeline.engagement_figure`, the function behind
``/figures/engagement/<chart>.json``, and its CSV link is the JSON route of
the same numbers (``format=csv``).
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import plotly.graph_objects as go
from dash import dcc, html

from .. import charts, engagement, metrics, pipeline
from .. import engagement_cards as cards
from ..charts import placeholder_figure
from ..errors import DatabaseUnavailable, MoviedashError, QueryTimeout, log_database_error
from ..params import RESOLUTIONS, Filters
from ..viewstate import ENGAGEMENT_PATH
from ..web.context import get_connection
from . import about, ids
from .views import figure_props, graph_config, kept, selected_filters

#: The page's path, next to the overview's ``/``.
PATH = ENGAGEMENT_PATH
COMPLETION_MEASURES = cards.COMPLETION_MEASURES
QUALITY_MEASURES = cards.QUALITY_MEASURES
#: Each control's component id, by its key in :data:`moviedash.engagement_cards.DEFAULTS`.
CONTROL_IDS: dict[str, str] = {
    "completion_measure": ids.COMPLETION_MEASURE,
    "completion_resolution": ids.COMPLETION_RESOLUTION,
    "breakdown_by": ids.BREAKDOWN_BY,
    "stops_title": ids.STOPS_TITLE,
    "quality_measure": ids.QUALITY_MEASURE,
    "quality_resolution": ids.QUALITY_RESOLUTION,
}
#: The page's controls (by component id) and their first values (the URL does not record them).
DEFAULTS: dict[str, str] = {CONTROL_IDS[key]: value for key, value in cards.DEFAULTS.items()}
#: The controls in the order the callbacks pass them.
CONTROLS: tuple[str, ...] = tuple(DEFAULTS)
_BY_LABELS = {"device": "Device", "market": "Market", "sessiontype": "Session type"}
_RESOLUTION_LABELS = {"daily": "Daily", "weekly": "Weekly", "monthly": "Monthly"}
#: Titles offered for "where people stop": the most played of the selection.
STOP_TITLES = 50
CHARTS = cards.CARDS
CHART_KEYS: tuple[str, ...] = cards.CARD_KEYS
KPIS: tuple[tuple[str, str], ...] = (("completion-rate", "Completion rate"), ("poor-quality", "Poor-quality plays"))


def chart_request(chart: str, controls: dict[str, Any]) -> tuple[str, str | None]:
    """Which :data:`moviedash.pipeline.ENGAGEMENT_CHARTS` chart a card shows for the controls (by component id)."""
    return cards.chart_request(chart, {key: controls[cid] for key, cid in CONTROL_IDS.items()})


#: Each pipeline chart's JSON route (``{option}``: its own parameter) and the name of that parameter.
def _route(name: str, option: str | None) -> tuple[str, dict[str, str]]:
    if name in metrics.ENGAGEMENT_SERIES:
        return f"/data/{name}/", {"resolution": str(option)}
    if name.endswith("_breakdown"):
        return f"/data/{name.removesuffix('_breakdown')}/breakdown/", {"by": str(option)}
    if name == "completion_distribution":
        return "/data/completion/distribution/", {}
    if name == "completion_stops":
        return "/data/completion/stops/", {"title": str(option)}
    if name == "quality_worst_segments":
        return "/data/quality/worst_segments/", {"resolution": str(option)}
    return "/data/quality/completion/", {}


def filter_params(filters: Filters) -> list[tuple[str, str]]:
    """The shared filters as the JSON routes take them."""
    out: list[tuple[str, str]] = []
    if filters.start:
        out.append(("start", filters.start.isoformat()))
    if filters.end:
        out.append(("end", filters.end.isoformat()))
    for name in ("sessiontype", "device", "market"):
        out += [(name, value) for value in getattr(filters, name)]
    return out


def csv_href(name: str, option: str | None, filters: Filters) -> str:
    """The address of the CSV of a chart's numbers (its JSON route with ``format=csv``)."""
    path, own = _route(name, option)
    return f"{path}?{urlencode([*own.items(), *filter_params(filters), ('format', 'csv')], quote_via=quote)}"


def chart_view(
    chart: str, controls: dict[str, Any], filter_values: Sequence[Any], theme: str,
    faults: list[MoviedashError] | None = None,
) -> tuple[go.Figure, dict[str, Any], str, str | None]:
    """A card's figure, Plotly config, text alternative and CSV address (``None``: no numbers to export).

    A selection the controls cannot make (only a crafted request sends one) is the chart's message.
    """
    try:
        filters = selected_filters(filter_values)
        name, option = chart_request(chart, controls)
        if name == "completion_stops" and not option:
            message = "Choose a title to see where its viewers stop."
            return charts.empty_figure(message, theme=theme), graph_config(chart), message, None
        figure, data = pipeline.engagement_figure(get_connection(), name, filters, option, theme=theme, title=None)
    except QueryTimeout:
        raise
    except MoviedashError as exc:
        if isinstance(exc, DatabaseUnavailable):
            log_database_error(exc)
            if faults is not None:
                faults.append(exc)
        text = exc.public_message
        message = f"Invalid selection: {text}" if exc.status == 400 else text[:1].upper() + text[1:]
        return charts.empty_figure(message, theme=theme), graph_config(chart), message, None
    frame = data.frame
    numbers = not frame.empty and ("values" not in frame or bool(frame["values"].notna().any()))
    href = csv_href(name, option, filters) if numbers else None
    return figure, graph_config(data.name), cards.describe(name, data.frame), href


def title_options(filter_values: Sequence[Any]) -> list[dict[str, str]]:
    """The titles "where people stop" offers: the selection's most played, most first."""
    try:
        filters = selected_filters(filter_values)
        data = pipeline.top_data(get_connection(), pipeline.TopQuery(STOP_TITLES, "plays", filters))
    except MoviedashError:
        return []
    return [{"label": str(t), "value": str(t)} for t in data.frame["title"]]


def kpi_view(filter_values: Sequence[Any]) -> list[Any]:
    """The two cards (value, change, change class each): completion rate and poor-quality share."""
    filters = selected_filters(filter_values)
    return [part for kpi in engagement.kpis(get_connection(), filters) for part in
            (kpi.value, kpi.change, f"kpi-delta kpi-{kpi.direction}")]


@dataclass
class EngagementView:
    """Every output of the page for the controls it starts at (the first layout of ``/engagement``)."""

    controls: dict[str, Any] = field(default_factory=lambda: dict(DEFAULTS))
    titles: list[dict[str, str]] = field(default_factory=list)
    charts: dict[str, dict[str, Any]] = field(default_factory=dict)
    summaries: dict[str, str] = field(default_factory=dict)
    csv: dict[str, str | None] = field(default_factory=dict)
    kpis: list[Any] = field(default_factory=list)
    about: list[str] = field(default_factory=list)


def first_view(filter_values: Sequence[Any], theme: str, faults: list[MoviedashError] | None = None) -> EngagementView:
    """The page drawn for the filters it starts at, with the first title of "where people stop" chosen.

    Kept in :data:`.views.VIEW_CACHE` while the data's version holds (not when drawn during a database fault,
    whose faults are added to ``faults``).
    """
    key = ("engagement_view", json.dumps(list(filter_values), default=str), theme)
    return kept(key, lambda met: _draw(filter_values, theme, met), faults=faults)


def _draw(filter_values: Sequence[Any], theme: str, faults: list[MoviedashError]) -> EngagementView:
    view = EngagementView()
    view.titles = title_options(filter_values)
    view.controls[ids.STOPS_TITLE] = view.titles[0]["value"] if view.titles else ""
    for chart in CHART_KEYS:
        figure, config, summary, href = chart_view(chart, view.controls, filter_values, theme, faults)
        view.charts[chart] = {"figure": figure_props(figure), "config": config}
        view.summaries[chart] = summary
        view.csv[chart] = href
    try:
        view.kpis = kpi_view(filter_values)
    except DatabaseUnavailable as exc:
        log_database_error(exc)
        faults.append(exc)
        view.kpis = []
    except MoviedashError:
        view.kpis = []
    try:
        view.about = about.lines()
    except DatabaseUnavailable as exc:
        log_database_error(exc)
        faults.append(exc)
        view.about = []
    except MoviedashError:
        view.about = []
    return view


# --------------------------------------------------------------------------- #
# Components.
# --------------------------------------------------------------------------- #


def _attrs(names: dict[str, str]) -> dict[str, Any]:
    """HTML attributes whose names are not Python identifiers (``aria-*``), as Dash keyword arguments."""
    return names


def _dropdown(component_id: str, label: str, options: list[dict[str, str]], value: Any, **kwargs: Any) -> html.Div:
    label_id = f"{component_id}-label"
    return html.Div(
        [
            html.Label(label, htmlFor=component_id, id=label_id, className="control-label"),
            dcc.Dropdown(id=component_id, options=options, value=value, clearable=False,
                         className="dropdown dropdown-small", **kwargs),
        ],
        className="control control-inline",
        role="group",
        **_attrs({"aria-labelledby": label_id}),
    )


def _resolution(component_id: str, value: str) -> html.Div:
    return _dropdown(component_id, "Resolution", [{"label": _RESOLUTION_LABELS[r], "value": r} for r in RESOLUTIONS],
                     value, searchable=False)


def _measure(component_id: str, names: Sequence[str], value: str, label: str) -> html.Div:
    return _dropdown(component_id, label, [{"label": metrics.measure(n).label, "value": n} for n in names], value,
                     searchable=False)


def _tools(chart: str, view: EngagementView) -> list[Any]:
    controls = view.controls
    tools: list[Any] = []
    if chart == "completion":
        tools += [_measure(ids.COMPLETION_MEASURE, COMPLETION_MEASURES, controls[ids.COMPLETION_MEASURE], "Measure"),
                  _resolution(ids.COMPLETION_RESOLUTION, controls[ids.COMPLETION_RESOLUTION])]
    elif chart == "breakdown":
        tools.append(_dropdown(ids.BREAKDOWN_BY, "By", [{"label": _BY_LABELS[b], "value": b}
                                                       for b in engagement.BREAKDOWNS],
                               controls[ids.BREAKDOWN_BY], searchable=False))
    elif chart == "stops":
        tools.append(_dropdown(ids.STOPS_TITLE, "Title", view.titles, controls[ids.STOPS_TITLE] or None))
    elif chart == "quality":
        tools += [_measure(ids.QUALITY_MEASURE, QUALITY_MEASURES, controls[ids.QUALITY_MEASURE], "Measure"),
                  _resolution(ids.QUALITY_RESOLUTION, controls[ids.QUALITY_RESOLUTION])]
    href = view.csv.get(chart)
    what = chart.replace("-", " ")
    tools.append(html.A("CSV", id=ids.csv_link(chart), href=href or "", className="btn btn-link",
                        hidden=href is None, download="",
                        title="Download the numbers of this chart as CSV",
                        **_attrs({"aria-label": f"Download the numbers of the {what} chart as CSV"})))
    return tools


def _card(chart: cards.Card, view: EngagementView) -> html.Section:
    title_id = f"{chart.key}-title"
    graph = {"figure": placeholder_figure(), "config": graph_config(chart.key), **view.charts.get(chart.key, {})}
    return html.Section(
        [
            html.Div(
                [
                    html.Div([html.H2(chart.title, id=title_id), html.P(chart.subtitle, className="card-sub")]),
                    html.Div(_tools(chart.key, view), className="card-tools"),
                ],
                className="card-head",
            ),
            html.Div(
                dcc.Loading(
                    dcc.Graph(id=ids.graph(chart.key), **graph, responsive=True, className="graph"),
                    type="circle", delay_show=150, overlay_style={"visibility": "visible", "opacity": 0.45},
                    parent_className="graph-loading", className="graph-loading-inner",
                ),
                className="graph-frame graph-frame-engagement",
                **_attrs({"aria-describedby": ids.summary(chart.key)}),
            ),
            html.P(view.summaries.get(chart.key), id=ids.summary(chart.key), className="sr-only chart-summary"),
        ],
        className="card",
        **_attrs({"aria-labelledby": title_id}),
    )


def kpi_cards(values: list[Any]) -> html.Section:
    """Completion rate and poor-quality share of the selection, each against the previous period."""
    cards = []
    for index, (name, label) in enumerate(KPIS):
        have = len(values) >= 3 * (index + 1)
        cards.append(html.Div(
            [
                html.H2(label, className="kpi-label"),
                html.Div(values[3 * index] if have else "…", id=ids.kpi_value(name), className="kpi-value"),
                html.Div(values[3 * index + 1] if have else "", id=ids.kpi_delta(name),
                         className=values[3 * index + 2] if have else "kpi-delta"),
            ],
            className="kpi",
        ))
    return html.Section(cards, className="kpis kpis-engagement", **_attrs({"aria-label": "Engagement key figures"}))


def section(view: EngagementView | None, shown: bool) -> html.Div:
    """The page's content: its key figures and chart cards (``view``: as drawn; ``None``: placeholders)."""
    view = view or EngagementView()
    return html.Div(
        [
            # Written client side only while the page is shown (empty at first: filling them would run the callbacks).
            dcc.Store(id=ids.ENGAGEMENT_SELECTION),
            dcc.Store(id=ids.ENGAGEMENT_FILTERS),
            kpi_cards(view.kpis),
            html.Div([_card(chart, view) for chart in CHARTS], className="grid"),
            about.panel(view.about),
        ],
        id=ids.ENGAGEMENT_SECTION,
        hidden=not shown,
    )
