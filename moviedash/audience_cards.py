"""The audience page's cards as data: what each shows for a set of controls, and its text alternative.

Shared by the dashboard's ``/audience`` page and by reports (:func:`moviedash.report.build.audience_sections`),
so a report's audience section shows the charts of the page opened on the same selection (its controls at
their first values).  No Dash here: the page maps its component ids onto :data:`DEFAULTS`' keys.

The page's cards are the one declaration :data:`CARDS`; a card is added with one entry there (and its chart
in :data:`moviedash.pipeline.AUDIENCE_CHARTS`).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .audience_charts import cohort_label
from .charts import period_label
from .params import COHORT_PERIODS, RESOLUTIONS, parse_period, parse_resolution

#: The page's controls and their first values.
DEFAULTS: dict[str, str] = {
    "audience_resolution": "weekly",
    "cohort_period": "month",
}


@dataclass(frozen=True)
class Card:
    """One card of the page: its key (and chart name), heading, subtitle and its one control, if any:
    the key of that control in :data:`DEFAULTS`, its label and its choices."""

    key: str
    title: str
    subtitle: str
    control: str | None = None
    label: str = ""
    choices: tuple[tuple[str, str], ...] = ()


CARDS: tuple[Card, ...] = (
    Card("audience", "New and returning viewers",
         "Viewers first seen in each period (over all data), and those who came back",
         "audience_resolution", "Resolution", tuple((r, r.capitalize()) for r in RESOLUTIONS)),
    Card("cohorts", "Cohort retention",
         "Viewers grouped by when they were first seen: the share active in each later period",
         "cohort_period", "Cohorts by", tuple((p, p.capitalize()) for p in COHORT_PERIODS)),
)
CARD_KEYS: tuple[str, ...] = tuple(c.key for c in CARDS)
_BY_KEY = {c.key: c for c in CARDS}


def chart_request(card: str, controls: dict[str, Any]) -> tuple[str, str | None]:
    """Which :data:`moviedash.pipeline.AUDIENCE_CHARTS` chart a card shows, and its own parameter's value.

    ``controls`` holds :data:`DEFAULTS`' keys; a value the controls cannot offer is a
    :class:`~moviedash.errors.MoviedashError`.
    """
    if card == "audience":
        return "audience", parse_resolution(controls["audience_resolution"], "resolution")
    if card == "cohorts":
        return "cohorts", parse_period(controls["cohort_period"], "period")
    control = _BY_KEY[card].control
    return card, None if control is None else str(controls[control])


def _n(value: Any) -> str:
    return f"{int(value):,}"


def _audience_text(frame: pd.DataFrame, option: str) -> str:
    word = {"daily": "day", "weekly": "week", "monthly": "month"}[option]
    if frame.empty:
        return f"New and returning viewers per {word}: no events in this selection."
    days = [dt.date.fromisoformat(str(d)) for d in frame["date"]]
    new, back = [int(v) for v in frame["new"]], [int(v) for v in frame["returning"]]
    label = lambda i: period_label(days[i], option)  # noqa: E731
    most_new = max(range(len(new)), key=new.__getitem__)
    most_back = max(range(len(back)), key=back.__getitem__)
    count = len(days)
    return (
        f"New and returning viewers per {word}, {label(0)} to {label(count - 1)} ({count:,} {word}"
        f"{'s' if count != 1 else ''}): {_n(sum(new))} new and {_n(sum(back))} returning in all; most new "
        f"{_n(new[most_new])} ({label(most_new)}), most returning {_n(back[most_back])} ({label(most_back)}); "
        f"last {_n(new[-1])} new, {_n(back[-1])} returning."
    )


#: The cohorts and offsets a text alternative names (the CSV holds them all).
_COHORTS_NAMED, _OFFSETS_NAMED = 24, 12


def _cohorts_text(frame: pd.DataFrame, option: str) -> str:
    if frame.empty:
        return f"Cohort retention by {option}: no viewers in this selection."
    parts = []
    cohorts = list(dict.fromkeys(str(c) for c in frame["cohort"]))
    for cohort in cohorts[:_COHORTS_NAMED]:
        rows = frame[frame["cohort"].astype(str) == cohort]
        shares = ", ".join(f"{option} {int(r.offset)} {float(r.share):.2f} %"
                           for r in rows.head(_OFFSETS_NAMED).itertuples(index=False))
        size = int(rows["size"].iloc[0])
        parts.append(f"{cohort_label(cohort, option)} ({_n(size)} viewer{'s' if size != 1 else ''}): {shares}")
    more = f" (first {_COHORTS_NAMED} of {len(cohorts)})" if len(cohorts) > _COHORTS_NAMED else ""
    return (f"Cohort retention by {option}, {len(cohorts)} cohort{'s' if len(cohorts) != 1 else ''}{more}, "
            f"share of each cohort active {option} by {option}: {'; '.join(parts)}.")


def describe(name: str, option: str | None, frame: pd.DataFrame) -> str:
    """The text alternative of the audience chart ``name`` (with its option) drawn from ``frame``."""
    if name == "audience":
        return _audience_text(frame, str(option))
    if name == "cohorts":
        return _cohorts_text(frame, str(option))
    raise ValueError(f"no text alternative for {name!r}")
