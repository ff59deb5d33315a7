"""The series page (``/series``) and a show's page (``/show/<name>``), under the shared filters and URL state.

Both share the header, filter bar and query string with the overview and the engagement page; their
content is drawn into the first layout of their own address and redrawn by :mod:`.callbacks` when a
filter changes while they are shown (as the engagement page).  The series page's cards are the
declarations of :mod:`moviedash.series_cards`; a click on a show in its top list opens the show's
page.  A show's page has its per-season and per-episode table and the charts of
:mod:`moviedash.show_charts` (viewers per episode, drop-off, episode grid), each with its CSV, from
:func:`moviedash.pipeline.show_figure` -- the numbers of ``/data/show/``.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

from .. import charts, pipeline, series_cards, show_charts
from ..errors import DatabaseUnavailable, MoviedashError, QueryTimeout, log_database_error
from ..escapes import decode_escapes
from ..params import MAX_VALUE_LENGTH
from ..series_cards import route
from ..viewstate import SERIES_PATH, SHOW_PREFIX
from ..web.context import get_connection
from . import ids
from .views import figure_props, graph_config, kept, selected_filters

PATH = SERIES_PATH
CARDS = series_cards.CARDS
CARD_KEYS = series_cards.CARD_KEYS
#: The show page's charts (component keys), each a chart of :data:`moviedash.pipeline.SHOW_CHARTS`.
SHOW_CHART_KEYS: tuple[str, ...] = tuple(chart.replace("_", "-") for chart in pipeline.SHOW_CHARTS)
_SHOW_CARDS: dict[str, tuple[str, str]] = {
    "show_episodes": ("Viewers per episode", "Distinct viewers of each episode, in episode order"),
    "show_dropoff": ("Episode drop-off", "Each episode's viewers as % of its season's first episode's"),
    "show_grid": ("Episodes watched per viewer", "How many viewers watched 1, 2, … N episodes of a season"),
}


def show_path(name: str) -> str:
    """The path of a show's page (its name URL-encoded, ``/`` included)."""
    return SHOW_PREFIX + quote(name, safe="")


def show_name(path: str | None) -> str | None:
    """The show named by a ``/show/<name>`` path (``None`` for another path or a name the routes refuse)."""
    if not path or not path.startswith(SHOW_PREFIX):
        return None
    name = unquote(path[len(SHOW_PREFIX):])
    return name if name and len(name) <= MAX_VALUE_LENGTH and "\x00" not in name else None


def _message(exc: MoviedashError, faults: list[MoviedashError] | None) -> str:
    if isinstance(exc, DatabaseUnavailable):
        log_database_error(exc)
        if faults is not None:
            faults.append(exc)
    text = exc.public_message
    return f"Invalid selection: {text}" if exc.status == 400 else text[:1].upper() + text[1:]


def card_view(
    key: str, filter_values: Sequence[Any], theme: str, faults: list[MoviedashError] | None = None,
) -> tuple[go.Figure, dict[str, Any], str, str | None]:
    """A series card's figure, Plotly config, text alternative and CSV address (``None``: nothing to export)."""
    card = CARDS[CARD_KEYS.index(key)]
    try:
        filters = selected_filters(filter_values)
        figure, data = card.draw(get_connection(), filters, theme)
    except QueryTimeout:
        raise
    except MoviedashError as exc:
        message = _message(exc, faults)
        return charts.empty_figure(message, theme=theme), graph_config(key), message, None
    href = card.csv(filters) if not data.frame.empty else None
    return figure, graph_config(data.name), card.describe(data), href


def show_chart_view(
    key: str, name: str, filter_values: Sequence[Any], theme: str, faults: list[MoviedashError] | None = None,
) -> tuple[go.Figure, dict[str, Any], str, str | None]:
    """A show chart's figure, config, text alternative and CSV address (the show's table behind it)."""
    chart = key.replace("-", "_")
    try:
        filters = selected_filters(filter_values)
        figure, data = pipeline.show_figure(get_connection(), chart, name, filters, theme=theme, title=None)
    except QueryTimeout:
        raise
    except MoviedashError as exc:
        message = _message(exc, faults)
        return charts.empty_figure(message, theme=theme), graph_config(key), message, None
    part = show_charts.SHOW_CHART_PARTS[chart]
    href = route("/data/show/", [("name", name), ("table", part)], filters) if not data.frame.empty else None
    return figure, graph_config(data.name), _describe(chart, decode_escapes(name), data.frame), href


def _describe(chart: str, name: str, frame: Any) -> str:
    title = _SHOW_CARDS[chart][0]
    if frame.empty:
        return f"{title} of {name}: no plays in this selection."
    if chart == "show_grid":
        parts = [f"{show_charts.season_label(r.season)}: {int(r.viewers):,} watched {int(r.episodes_watched)}"
                 for r in frame.itertuples() if r.viewers]
        return f"{title} of {name}: " + "; ".join(parts) + "."
    if chart == "show_dropoff":
        shares = [f"{show_charts.episode_label(r.season, r.episode)} {r.share_of_first} %"
                  for r in frame.itertuples() if pd.notna(r.share_of_first)]
        return f"{title} of {name}: " + ", ".join(shares) + "."
    viewers = [f"{show_charts.episode_label(r.season, r.episode)} {int(r.viewers):,}" for r in frame.itertuples()]
    return f"{title} of {name}: " + ", ".join(viewers) + "."


def table_rows(name: str, filter_values: Sequence[Any]) -> list[dict[str, Any]]:
    """The show's per-episode rows with their season's totals (empty for an invalid selection)."""
    try:
        result = pipeline.show_result(get_connection(), name, selected_filters(filter_values))
    except QueryTimeout:
        raise
    except MoviedashError:
        return []
    return list(result["episodes"])


@dataclass
class SeriesView:
    """Every output of the series page (or a show's page) for the filters it starts at."""

    charts: dict[str, dict[str, Any]] = field(default_factory=dict)
    summaries: dict[str, str] = field(default_factory=dict)
    csv: dict[str, str | None] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)


def first_view(filter_values: Sequence[Any], theme: str, faults: list[MoviedashError] | None = None) -> SeriesView:
    """The series page drawn for the filters it starts at (kept while the data's version holds)."""

    def draw(met: list[MoviedashError]) -> SeriesView:
        view = SeriesView()
        for key in CARD_KEYS:
            figure, config, summary, href = card_view(key, filter_values, theme, met)
            view.charts[key] = {"figure": figure_props(figure), "config": config}
            view.summaries[key], view.csv[key] = summary, href
        return view

    return kept(("series_view", json.dumps(list(filter_values), default=str), theme), draw, faults=faults)


def first_show_view(name: str, filter_values: Sequence[Any], theme: str,
                    faults: list[MoviedashError] | None = None) -> SeriesView:
    """A show's page drawn for the filters it starts at."""

    def draw(met: list[MoviedashError]) -> SeriesView:
        view = SeriesView()
        for key in SHOW_CHART_KEYS:
            figure, config, summary, href = show_chart_view(key, name, filter_values, theme, met)
            view.charts[key] = {"figure": figure_props(figure), "config": config}
            view.summaries[key], view.csv[key] = summary, href
        view.rows = table_rows(name, filter_values)
        return view

    return kept(("show_view", name, json.dumps(list(filter_values), default=str), theme), draw, faults=faults)


# --------------------------------------------------------------------------- #
# Components.
# --------------------------------------------------------------------------- #


def _attrs(names: dict[str, str]) -> dict[str, Any]:
    """HTML attributes whose names are not Python identifiers (``aria-*``), as Dash keyword arguments."""
    return names


def _csv_link(key: str, href: str | None, what: str) -> html.A:
    return html.A("CSV", id=ids.csv_link(key), href=href or "", className="btn btn-link", hidden=href is None,
                  download="", title="Download the numbers of this chart as CSV",
                  **_attrs({"aria-label": f"Download the numbers of the {what} chart as CSV"}))


def _card(key: str, title: str, subtitle: str, view: SeriesView) -> html.Section:
    title_id = f"{key}-title"
    graph = {"figure": charts.placeholder_figure(), "config": graph_config(key), **view.charts.get(key, {})}
    return html.Section(
        [
            html.Div(
                [
                    html.Div([html.H2(title, id=title_id), html.P(subtitle, className="card-sub")]),
                    html.Div([_csv_link(key, view.csv.get(key), title.lower())], className="card-tools"),
                ],
                className="card-head",
            ),
            html.Div(
                dcc.Loading(
                    dcc.Graph(id=ids.graph(key), **graph, responsive=True, className="graph"),
                    type="circle", delay_show=150, overlay_style={"visibility": "visible", "opacity": 0.45},
                    parent_className="graph-loading", className="graph-loading-inner",
                ),
                className="graph-frame graph-frame-engagement",
                **_attrs({"aria-describedby": ids.summary(key)}),
            ),
            html.P(view.summaries.get(key), id=ids.summary(key), className="sr-only chart-summary"),
        ],
        className="card",
        **_attrs({"aria-labelledby": title_id}),
    )


def section(view: SeriesView | None, shown: bool) -> html.Div:
    """The series page's cards (``view``: as drawn; ``None``: placeholders)."""
    view = view or SeriesView()
    return html.Div(
        [
            dcc.Store(id=ids.SERIES_SELECTION),
            dcc.Store(id=ids.SERIES_FILTERS),
            dcc.Store(id=ids.SHOW_OPEN),
            html.Div([_card(c.key, c.title, c.subtitle, view) for c in CARDS], className="grid"),
        ],
        id=ids.SERIES_SECTION,
        hidden=not shown,
    )


_TABLE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("episode", "Episode"), ("episode_name", "Name"), ("plays", "Plays"), ("viewers", "Viewers"),
    ("minutes", "Minutes"), ("completion", "Completion %"), ("share_of_first", "% of first episode"),
)


def table(rows: Sequence[dict[str, Any]]) -> list[Any]:
    """The per-episode table's children: a header row, then one row per episode (its season's label first)."""
    if not rows:
        return [html.Caption("No plays of this show in the selection.")]
    head = html.Thead(html.Tr([html.Th("Season", scope="col"), *(html.Th(label, scope="col")
                                                                  for _, label in _TABLE_COLUMNS)]))

    def cell(key: str, value: Any, row: dict[str, Any]) -> str:
        if key == "episode":
            return show_charts.episode_label(row["season"], value)
        if value is None:
            return "—"
        return f"{value:,}" if isinstance(value, int) else str(value)

    body = html.Tbody([
        html.Tr([html.Th(show_charts.season_label(row["season"]), scope="row"),
                 *(html.Td(cell(key, row[key], row)) for key, _ in _TABLE_COLUMNS)])
        for row in rows
    ])
    return [html.Caption("Per episode"), head, body]


def show_section(view: SeriesView | None, name: str | None, shown: bool) -> html.Div:
    """A show's page: its name, the per-episode table and its charts (``view``: as drawn; ``None``: placeholders)."""
    view = view or SeriesView()
    shown_name = decode_escapes(name) if name else ""
    return html.Div(
        [
            dcc.Store(id=ids.SHOW_SELECTION),
            dcc.Store(id=ids.SHOW_FILTERS),
            dcc.Store(id=ids.SHOW_NAME, data=name),
            html.H2(shown_name, className="show-name"),
            html.Div(html.Table(table(view.rows), id=ids.SHOW_TABLE, className="show-table"),
                     className="card show-table-card"),
            html.Div([_card(key, *_SHOW_CARDS[key.replace("-", "_")], view) for key in SHOW_CHART_KEYS],
                     className="grid"),
        ],
        id=ids.SHOW_SECTION,
        hidden=not shown,
    )
