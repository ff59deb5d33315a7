"""The engagement page's cards as data: what each shows for a set of controls, and its text alternative.

Shared by the dashboard's ``/engagement`` page and by reports, so a report's
engagement section shows the same charts as the page opened on the same
selection (the page's controls at their first values; the address does not
record them).  No Dash here: the page maps its component ids onto
:data:`DEFAULTS`' keys.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from . import engagement, metrics, summaries
from .errors import MoviedashError
from .params import parse_resolution

#: The measures of the completion and quality charts (declared in :mod:`moviedash.metrics`).
COMPLETION_MEASURES = ("completion_rate", "completion", "full_watches")
QUALITY_MEASURES = ("poor_quality", "quality", "quality_p90")
#: The page's controls and their first values; ``stops_title`` empty: the selection's most played title.
DEFAULTS: dict[str, str] = {
    "completion_measure": "completion_rate",
    "completion_resolution": "weekly",
    "breakdown_by": "device",
    "stops_title": "",
    "quality_measure": "poor_quality",
    "quality_resolution": "weekly",
}


@dataclass(frozen=True)
class Card:
    """One card of the page: its key, heading and subtitle."""

    key: str
    title: str
    subtitle: str


CARDS: tuple[Card, ...] = (
    Card("completion", "Completion over time", "How much of each play was watched (capped at 100 %)"),
    Card("breakdown", "Completion by segment", "The selected completion measure per device, market or type"),
    Card("distribution", "How far people get", "Plays per 10 % of completion, movies and series side by side"),
    Card("stops", "Where people stop", "Share of a title's plays still watching at 10 %, 20 %, …"),
    Card("quality", "Quality of experience", "From errorperception: higher is worse unless set otherwise"),
    Card("segments", "Worst segments", "Device × market × period with the most poor plays beyond the overall rate"),
    Card("quality-completion", "Quality against completion", "Average completion per quality score bin"),
)
CARD_KEYS: tuple[str, ...] = tuple(c.key for c in CARDS)


def _choice(value: Any, allowed: tuple[str, ...], name: str) -> str:
    if value not in allowed:
        raise MoviedashError(f"{name} must be one of {', '.join(allowed)}", parameter=name)
    return str(value)


def chart_request(card: str, controls: dict[str, Any]) -> tuple[str, str | None]:
    """Which :data:`moviedash.pipeline.ENGAGEMENT_CHARTS` chart a card shows, and its own parameter's value.

    ``controls`` holds :data:`DEFAULTS`' keys; a value the controls cannot offer is a :class:`MoviedashError`.
    """
    completion = _choice(controls["completion_measure"], COMPLETION_MEASURES, "completion measure")
    quality = _choice(controls["quality_measure"], QUALITY_MEASURES, "quality measure")
    if card == "completion":
        return completion, parse_resolution(controls["completion_resolution"], "resolution")
    if card == "breakdown":
        return f"{completion}_breakdown", _choice(controls["breakdown_by"], engagement.BREAKDOWNS, "by")
    if card == "distribution":
        return "completion_distribution", None
    if card == "stops":
        return "completion_stops", str(controls["stops_title"] or "")
    if card == "quality":
        return quality, parse_resolution(controls["quality_resolution"], "resolution")
    if card == "segments":
        return "quality_worst_segments", parse_resolution(controls["quality_resolution"], "resolution")
    return "completion_by_quality", None


def _share(value: Any) -> str:
    return "no plays" if value is None or value != value else f"{float(value):.2f} %"


def describe(name: str, frame: pd.DataFrame) -> str:
    """The text alternative of the engagement chart ``name`` drawn from ``frame``."""
    if name in metrics.ENGAGEMENT_SERIES:
        measure = metrics.measure(name)
        return summaries.engagement_summary(frame, f"{measure.label} per period", "date", measure.short_unit)
    if name.endswith("_breakdown"):
        measure = metrics.measure(name.removesuffix("_breakdown"))
        key = next(c for c in frame.columns if c not in ("values", "plays")) if len(frame.columns) else "values"
        return summaries.engagement_summary(frame, f"{measure.label} by {key}", key, measure.short_unit)
    if name == "completion_stops":
        return summaries.engagement_summary(frame, "Plays still watching", "at", "% of the title's plays")
    if name == "quality_worst_segments":
        if frame.empty:
            return "Worst segments: no plays with a quality score in this selection."
        rows = "; ".join(f"{r['device']} in {r['market']} from {r['date']}: {r['poor']:,} poor of {r['plays']:,} "
                         f"plays ({r['poor_share']:.2f} %)" for r in frame.to_dict("records"))
        return f"Worst segments, most poor plays beyond the overall rate first: {rows}."
    if name == "completion_distribution":
        if frame.empty:
            return "How far people get: no plays with a completion in this selection."
        rows = "; ".join(f"{r['from']}–{r['to']} %: movies {_share(r['movie_share'])}, "
                         f"series {_share(r['series_share'])}" for r in frame.to_dict("records"))
        return f"Share of plays per completion bin: {rows}."
    frame = frame.assign(bin=[f"{a}–{b}" for a, b in zip(frame["from"], frame["to"], strict=False)]) \
        if len(frame) else frame
    return summaries.engagement_summary(frame, "Average completion per quality score bin", "bin", "%")
