"""The binge cards as data (issue 15): what each shows for a set of controls, and its text alternative.

Shaped like :mod:`moviedash.engagement_cards`, for the series page to lay out
(and reports to draw: :func:`moviedash.report.build.binge_sections`), so a
report shows the same charts as the page opened on the same selection with its
controls at their first values.  No Dash here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from .errors import MoviedashError
from .params import parse_num, parse_resolution

#: The cards' controls and their first values.
DEFAULTS: dict[str, Any] = {
    "binge_resolution": "weekly",
    "binge_num": 10,
}


@dataclass(frozen=True)
class Card:
    """One card: its key, heading and subtitle."""

    key: str
    title: str
    subtitle: str


CARDS: tuple[Card, ...] = (
    Card("binge-sessions", "Binge sessions",
         "Runs of episodes of one show with short breaks, by the period they started in"),
    Card("binge-share", "Series minutes watched in binges", "Share of the period's series minutes"),
    Card("binge-shows", "Most binged shows", "Binge sessions per show, with viewers and episodes per session"),
)
CARD_KEYS: tuple[str, ...] = tuple(c.key for c in CARDS)
#: Which binge chart (:data:`moviedash.pipeline.BINGE_CHARTS`) each card draws.
CHART_OF: dict[str, str] = {
    "binge-sessions": "binge_sessions",
    "binge-share": "binge_share",
    "binge-shows": "binge_shows",
}


def chart_request(card: str, controls: dict[str, Any]) -> tuple[str, str | int]:
    """Which binge chart a card shows and its own parameter's value (the resolution, or ``num``).

    ``controls`` holds :data:`DEFAULTS`' keys; a value the controls cannot offer is a :class:`MoviedashError`.
    """
    if card not in CHART_OF:
        raise MoviedashError(f"card must be one of {', '.join(CARD_KEYS)}", parameter="card")
    chart = CHART_OF[card]
    if chart == "binge_shows":
        return chart, parse_num(controls["binge_num"], "num")
    return chart, parse_resolution(controls["binge_resolution"], "resolution")


def _share(value: Any) -> str:
    return "no series minutes" if value is None or value != value else f"{float(value):.2f} %"


def describe(name: str, frame: pd.DataFrame) -> str:
    """The text alternative of the binge chart ``name`` drawn from ``frame``."""
    if name == "binge_shows":
        if frame.empty:
            return "Most binged shows: no binge sessions in this selection."
        rows = "; ".join(f"{r['show']}: {r['sessions']:,} sessions by {r['viewers']:,} viewers, "
                         f"{r['episodes_per_session']:.2f} episodes per session" for r in frame.to_dict("records"))
        return f"Most binged shows, most sessions first: {rows}."
    if frame.empty:
        return "Binge sessions: no series events in this selection."
    if name == "binge_sessions":
        total = int(frame["sessions"].sum())
        busiest = frame.loc[frame["sessions"].idxmax()]
        return (f"{total:,} binge sessions started over {len(frame):,} periods; the most, "
                f"{int(busiest['sessions']):,}, in the period from {busiest['date']}.")
    binged, total = int(frame["binge_minutes"].sum()), int(frame["series_minutes"].sum())
    rows = "; ".join(f"{r['date']}: {_share(r['share'])}" for r in frame.to_dict("records"))
    return (f"{binged:,} of {total:,} series minutes were watched in binges. "
            f"Share per period: {rows}.")
