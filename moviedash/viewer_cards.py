"""The concentration and heavy-viewer cards as data: what each shows, and its text alternative (issue 15).

Shaped like :mod:`moviedash.engagement_cards`: the ``/audience`` page (another slice of
issue 15) adds these cards, and reports draw the same charts (:func:`moviedash.report.build.viewer_sections`),
so a report shows what the page shows for the same selection.  No Dash here; no card
ever shows a user id (the frames hold counts only).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from .errors import MoviedashError


@dataclass(frozen=True)
class Card:
    """One card: its key, heading, subtitle and the chart it draws (:data:`moviedash.pipeline.VIEWER_CHARTS`)."""

    key: str
    title: str
    subtitle: str
    chart: str


CARDS: tuple[Card, ...] = (
    Card("lorenz", "How concentrated viewing is",
         "Lorenz curve of minutes watched per viewer, with its Gini coefficient", "viewer_lorenz"),
    Card("top-shares", "The heaviest viewers' share",
         "Share of minutes watched by the top 1 %, 10 % and 50 % of viewers", "viewer_top_shares"),
    Card("plays-per-viewer", "Plays per viewer", "How many viewers had 1, 2, 3–5, … plays", "viewer_plays"),
    Card("minutes-per-viewer", "Minutes per viewer", "How many viewers watched 0–29, 30–59, … minutes",
         "viewer_minutes"),
)
CARD_KEYS: tuple[str, ...] = tuple(c.key for c in CARDS)
_BY_KEY = {c.key: c for c in CARDS}


def chart_request(card: str) -> str:
    """The :data:`moviedash.pipeline.VIEWER_CHARTS` chart ``card`` shows (unknown: :class:`MoviedashError`)."""
    found = _BY_KEY.get(card)
    if found is None:
        raise MoviedashError(f"card must be one of {', '.join(CARD_KEYS)}", parameter="card")
    return found.chart


def _share(value: Any) -> str:
    return "—" if value is None or value != value else f"{float(value):.2f} %"  # NaN is not equal to itself


def describe(chart: str, frame: pd.DataFrame, gini: float | None = None) -> str:
    """The text alternative of the viewer chart ``chart`` drawn from ``frame`` (and the Gini, for the curve)."""
    if chart == "viewer_lorenz":
        if frame.empty or gini is None:
            return "Concentration of viewing: no viewers with minutes watched in this selection."
        half = frame.loc[frame["viewers_share"] == 0.5, "minutes_share"]
        middle = f"; the lightest half of the viewers watched {100 * float(half.iloc[0]):.2f} % of the minutes" \
            if len(half) else ""
        return f"Concentration of viewing: Gini coefficient {gini:.4f} (0 = everyone watched the same){middle}."
    if chart == "viewer_top_shares":
        if frame.empty or all(v is None for v in frame["share"]):
            return "The heaviest viewers' share: no viewers with minutes watched in this selection."
        rows = "; ".join(f"top {int(r['top'])} % ({int(r['viewers']):,} viewers): {_share(r['share'])}"
                         for r in frame.to_dict("records"))
        return f"Share of minutes watched by the heaviest viewers: {rows}."
    what = "Plays per viewer" if chart == "viewer_plays" else "Minutes per viewer"
    if frame.empty or int(frame["viewers"].sum()) == 0:
        return f"{what}: no viewers in this selection."
    rows = "; ".join(f"{r['label']}: {int(r['viewers']):,} viewers ({_share(r['share'])})"
                     for r in frame.to_dict("records"))
    return f"{what}, viewers per bin: {rows}."
