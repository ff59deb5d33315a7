"""The audience page (``/audience``): new vs returning viewers and cohort retention under the shared filters.

A tab beside the overview and the engagement page, with the same header, filter bar and URL state.  Its
cards are :data:`moviedash.audience_cards.CARDS` (one declaration: a card is added with one entry there);
each draws :func:`moviedash.pipeline.audience_figure`, the function behind
``/figures/audience/<chart>.json``, with a text alternative and a CSV link to the JSON route of the same
numbers (``format=csv``).  As on the engagement page, the charts are drawn only while the page is shown:
its first layout draws them, and elsewhere their callbacks do nothing (:mod:`.callbacks`).
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import plotly.graph_objects as go
from dash import dcc, html

from .. import audience_cards as cards
from .. import charts, pipeline, viewer_cards
from ..charts import placeholder_figure
from ..errors import DatabaseUnavailable, MoviedashError, QueryTimeout, log_database_error
from ..params import Filters
from ..viewstate import AUDIENCE_PATH
from ..web.context import get_connection
from . import ids
from .engagement_page import filter_params
from .views import figure_props, graph_config, kept, selected_filters

#: The page's path.
PATH = AUDIENCE_PATH
#: Each control's component id, by its key in :data:`moviedash.audience_cards.DEFAULTS`.
CONTROL_IDS: dict[str, str] = {key: f"{key.replace('_', '-')}-select" for key in cards.DEFAULTS}
#: The page's controls (by component id) and their first values (the URL does not record them).
DEFAULTS: dict[str, str] = {CONTROL_IDS[key]: value for key, value in cards.DEFAULTS.items()}
CONTROLS: tuple[str, ...] = tuple(DEFAULTS)
#: The page's cards: new vs returning viewers and cohorts, then concentration and heavy viewers
#: (:mod:`moviedash.viewer_cards`, which have no controls of their own).
CHARTS: tuple[cards.Card, ...] = (*cards.CARDS, *(cards.Card(c.key, c.title, c.subtitle) for c in viewer_cards.CARDS))
CHART_KEYS: tuple[str, ...] = tuple(c.key for c in CHARTS)
#: Each chart's JSON route and the name of its own parameter there.
ROUTES: dict[str, tuple[str, str]] = {"audience": ("/data/audience/", "resolution"),
                                      "cohorts": ("/data/cohorts/", "period")}
#: The viewer cards' charts: their JSON route and its ``measure``, if any.
VIEWER_ROUTES: dict[str, tuple[str, str | None]] = {
    "viewer_lorenz": ("/data/concentration/", None), "viewer_top_shares": ("/data/concentration/", None),
    "viewer_plays": ("/data/viewers/", "plays"), "viewer_minutes": ("/data/viewers/", "minutes"),
}


def chart_inputs(chart: str) -> tuple[str, ...]:
    """The component ids of a card's own controls (they redraw it)."""
    control = next(c.control for c in CHARTS if c.key == chart)
    return () if control is None else (CONTROL_IDS[control],)


def csv_href(name: str, option: str | None, filters: Filters) -> str:
    """The address of the CSV of a chart's numbers (its JSON route with ``format=csv``)."""
    if name in VIEWER_ROUTES:
        path, measure = VIEWER_ROUTES[name]
        own = [("measure", measure)] if measure is not None else []
    else:
        path, parameter = ROUTES[name]
        own = [(parameter, str(option))] if option is not None else []
    return f"{path}?{urlencode([*own, *filter_params(filters), ('format', 'csv')], quote_via=quote)}"


def chart_view(
    chart: str, controls: dict[str, Any], filter_values: Sequence[Any], theme: str,
    faults: list[MoviedashError] | None = None,
) -> tuple[go.Figure, dict[str, Any], str, str | None]:
    """A card's figure, Plotly config, text alternative and CSV address (``None``: no numbers to export)."""
    try:
        filters = selected_filters(filter_values)
        conn = get_connection()
        if chart in viewer_cards.CARD_KEYS:
            name, option = viewer_cards.chart_request(chart), None
            figure, data = pipeline.viewer_figure(conn, name, filters, theme=theme, title=None)
            gini = pipeline.concentration(conn, filters).gini if name == "viewer_lorenz" else None
            text = viewer_cards.describe(name, data.frame, gini)
        else:
            name, option = cards.chart_request(chart, {key: controls[cid] for key, cid in CONTROL_IDS.items()})
            figure, data = pipeline.audience_figure(conn, name, filters, option, theme=theme, title=None)
            text = cards.describe(name, option, data.frame)
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
    href = csv_href(name, option, filters) if not data.frame.empty else None
    return figure, graph_config(data.name), text, href


@dataclass
class AudienceView:
    """Every output of the page for the controls it starts at (the first layout of ``/audience``)."""

    controls: dict[str, Any] = field(default_factory=lambda: dict(DEFAULTS))
    charts: dict[str, dict[str, Any]] = field(default_factory=dict)
    summaries: dict[str, str] = field(default_factory=dict)
    csv: dict[str, str | None] = field(default_factory=dict)


def first_view(filter_values: Sequence[Any], theme: str, faults: list[MoviedashError] | None = None) -> AudienceView:
    """The page drawn for the filters it starts at; kept in :data:`.views.VIEW_CACHE` while the data's
    version holds (not when drawn during a database fault, whose faults are added to ``faults``)."""

    def draw(met: list[MoviedashError]) -> AudienceView:
        view = AudienceView()
        for chart in CHART_KEYS:
            figure, config, summary, href = chart_view(chart, view.controls, filter_values, theme, met)
            view.charts[chart] = {"figure": figure_props(figure), "config": config}
            view.summaries[chart] = summary
            view.csv[chart] = href
        return view

    return kept(("audience_view", json.dumps(list(filter_values), default=str), theme), draw, faults=faults)


# --------------------------------------------------------------------------- #
# Components.
# --------------------------------------------------------------------------- #


def _attrs(names: dict[str, str]) -> dict[str, Any]:
    """HTML attributes whose names are not Python identifiers (``aria-*``), as Dash keyword arguments."""
    return names


def _tools(card: cards.Card, view: AudienceView) -> list[Any]:
    tools: list[Any] = []
    if card.control is not None:
        component_id = CONTROL_IDS[card.control]
        label_id = f"{component_id}-label"
        tools.append(html.Div(
            [
                html.Label(card.label, htmlFor=component_id, id=label_id, className="control-label"),
                dcc.Dropdown(id=component_id, options=[{"label": text, "value": value} for value, text in card.choices],
                             value=view.controls[component_id], clearable=False, searchable=False,
                             className="dropdown dropdown-small"),
            ],
            className="control control-inline", role="group", **_attrs({"aria-labelledby": label_id}),
        ))
    href = view.csv.get(card.key)
    tools.append(html.A("CSV", id=ids.csv_link(card.key), href=href or "", className="btn btn-link",
                        hidden=href is None, download="", title="Download the numbers of this chart as CSV",
                        **_attrs({"aria-label": f"Download the numbers of the {card.title.lower()} chart as CSV"})))
    return tools


def _card(card: cards.Card, view: AudienceView) -> html.Section:
    title_id = f"{card.key}-title"
    graph = {"figure": placeholder_figure(), "config": graph_config(card.key), **view.charts.get(card.key, {})}
    return html.Section(
        [
            html.Div(
                [
                    html.Div([html.H2(card.title, id=title_id), html.P(card.subtitle, className="card-sub")]),
                    html.Div(_tools(card, view), className="card-tools"),
                ],
                className="card-head",
            ),
            html.Div(
                dcc.Loading(
                    dcc.Graph(id=ids.graph(card.key), **graph, responsive=True, className="graph"),
                    type="circle", delay_show=150, overlay_style={"visibility": "visible", "opacity": 0.45},
                    parent_className="graph-loading", className="graph-loading-inner",
                ),
                className="graph-frame graph-frame-engagement",
                **_attrs({"aria-describedby": ids.summary(card.key)}),
            ),
            html.P(view.summaries.get(card.key), id=ids.summary(card.key), className="sr-only chart-summary"),
        ],
        className="card",
        **_attrs({"aria-labelledby": title_id}),
    )


def section(view: AudienceView | None, shown: bool) -> html.Div:
    """The page's content: its chart cards (``view``: as drawn; ``None``: placeholders)."""
    view = view or AudienceView()
    return html.Div(
        [
            # Written client side only while the page is shown (empty at first: filling them would run the callbacks).
            dcc.Store(id=ids.AUDIENCE_SELECTION),
            html.Div([_card(card, view) for card in CHARTS], className="grid"),
        ],
        id=ids.AUDIENCE_SECTION,
        hidden=not shown,
    )
