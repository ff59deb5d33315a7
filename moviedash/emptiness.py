"""Why a selection is empty, and which filter to clear to see events again.

An empty chart alone does not say whether the database is empty or which of
several filters left nothing.  :func:`explain` tries the selection without
each active filter, from the right of the filter bar (market, device, session
type, then the dates), and names the first one whose removal brings events
back: "No events with device TV have market SE."
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from . import analysis, dimensions
from .params import Filters
from .store import Connection

#: The filters tried, in the order they are tried (right to left in the filter bar).
FILTERS: tuple[str, ...] = (*reversed(dimensions.DIMS), "dates")
_NAMES = {**{d.column: d.label for d in dimensions.DIMENSIONS}, "dates": "date range"}
#: ``clear`` for "every filter" (no single one brings events back).
ALL = "all"


@dataclass(frozen=True)
class Emptiness:
    """Why nothing is shown: the message, and the filter to clear (``None``: nothing to clear)."""

    message: str
    clear: str | None
    #: The clear button's text.
    action: str = ""


def _day(day: dt.date) -> str:
    return f"{day.day} {day:%b %Y}"


def active(filters: Filters) -> list[str]:
    """The filters that ``filters`` sets, in the filter bar's order."""
    out = [name for name in dimensions.DIMS if getattr(filters, name)]
    if filters.start is not None or filters.end is not None:
        out.append("dates")
    return out


def without(filters: Filters, name: str) -> Filters:
    """``filters`` with the filter ``name`` cleared."""
    if name == "dates":
        return filters.with_range(None, None)
    cleared: dict[str, Any] = {name: ()}  # a dimension's field, named at run time
    return replace(filters, **cleared)


def describe(filters: Filters, name: str, whole: analysis.Span) -> str:
    """One filter in words: ``market SE or Unknown``, ``1 Jan 2013 – 7 Jan 2013``."""
    if name == "dates":
        start = filters.start or whole.first
        end = filters.end or whole.last
        return f"{_day(start)} – {_day(end)}" if start and end else "the date range"
    values = [dimensions.label(v) for v in getattr(filters, name)]
    return f"{_NAMES[name]} {' or '.join(values)}"


def explain(conn: Connection, filters: Filters) -> Emptiness | None:
    """``None`` when the selection holds events, else why it does not and what to clear."""
    if analysis.totals(conn, filters).plays:
        return None
    whole = analysis.span(conn)
    if not whole.events:
        return Emptiness("The database holds no events yet: load some with moviedash load.", None)
    names = active(filters)
    for name in FILTERS:
        if name not in names or not analysis.totals(conn, without(filters, name)).plays:
            continue
        others = [describe(filters, other, whole) for other in names if other != name and other != "dates"]
        subject = f"No events with {' and '.join(others)}" if others else "No events"
        if name == "dates":
            message = f"{subject} fall within {describe(filters, name, whole)}."
        elif "dates" in names:
            message = f"{subject} have {describe(filters, name, whole)} within {describe(filters, 'dates', whole)}."
        else:
            message = f"{subject} have {describe(filters, name, whole)}."
        return Emptiness(message, name, f"Clear the {_NAMES[name]} filter")
    return Emptiness("No events match these filters together.", ALL, "Clear all filters")
