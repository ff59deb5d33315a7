"""The series page's cards as data: what each draws for a selection, its CSV address and its text alternative.

A card is one entry of :data:`CARDS` (as :mod:`moviedash.engagement_cards` declares the engagement
page's): the page (:mod:`moviedash.dashboard.series_page`), its callbacks and its tests go through
this list, so another card (binge sessions, say) is one more entry.  No Dash here.

The top shows card ranks movies and whole shows together (``group=shows``), as the overview's top
list does by show: a movie is its own show, so a selection of movies lists movies, and the session
type filter narrows it to series.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import plotly.graph_objects as go

from . import binge_cards, pipeline, summaries
from .params import Filters, TopQuery
from .pipeline import ChartData
from .store import Connection

#: How many shows the top shows card lists.
TOP_SHOWS = 20


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


def route(path: str, own: list[tuple[str, str]], filters: Filters) -> str:
    """A JSON route's CSV address for ``filters``."""
    return f"{path}?{urlencode([*own, *filter_params(filters), ('format', 'csv')], quote_via=quote)}"


@dataclass(frozen=True)
class Card:
    """One card of the page: its key, heading, subtitle, what draws it and the CSV of its numbers."""

    key: str
    title: str
    subtitle: str
    #: ``(connection, filters, theme) -> (figure, data)``: the figure without a title (the card has one).
    draw: Callable[[Connection, Filters, str], tuple[go.Figure, ChartData]]
    #: The CSV address of the card's numbers for a selection.
    csv: Callable[[Filters], str]
    #: The plotted numbers in words (the chart's text alternative).
    describe: Callable[[ChartData], str]
    #: Whether a click on a bar opens that show's page.
    opens_shows: bool = False


def _top_shows(conn: Connection, filters: Filters, theme: str) -> tuple[go.Figure, ChartData]:
    return pipeline.top_figure(conn, TopQuery(TOP_SHOWS, "plays", filters, group="shows"), theme=theme, title=None)


def _binge_card(card: binge_cards.Card) -> Card:
    """A binge card (:mod:`moviedash.binge_cards`) on this page, at its controls' first values."""
    name, option = binge_cards.chart_request(card.key, binge_cards.DEFAULTS)
    if name == "binge_shows":
        path, own = "/data/binge/shows/", [("num", str(option))]
    else:
        path, own = "/data/binge/", [("resolution", str(option))]

    def draw(conn: Connection, filters: Filters, theme: str) -> tuple[go.Figure, ChartData]:
        return pipeline.binge_figure(conn, name, filters, option, theme=theme, title=None)

    return Card(card.key, card.title, card.subtitle, draw, lambda f: route(path, own, f),
                lambda data: binge_cards.describe(name, data.frame), opens_shows=name == "binge_shows")


CARDS: tuple[Card, ...] = (
    Card(
        "top-shows", "Top shows", "Movies and whole shows by plays; choose a show to open its page",
        _top_shows,
        lambda f: route("/data/toplist/", [("num", str(TOP_SHOWS)), ("group", "shows")], f),
        lambda data: summaries.top_summary(data.frame, "plays").replace(" title", " show", 1),
        opens_shows=True,
    ),
    # Binge sessions (:mod:`moviedash.binge`): one entry per binge card.
    *(_binge_card(card) for card in binge_cards.CARDS),
)
CARD_KEYS: tuple[str, ...] = tuple(c.key for c in CARDS)
