"""Periods of a time series: the label of a day's period, how many periods a range has, every label.

Weeks start on Monday and are labelled by their Monday; months by their 1st.
"""
from __future__ import annotations

import datetime as dt

from .errors import MoviedashError
from .params import MAX_PERIODS


def period_start(day: dt.date, resolution: str) -> dt.date:
    """The label of the period containing ``day`` (Monday of its week, 1st of its month)."""
    if resolution == "daily":
        return day
    if resolution == "weekly":
        return day - dt.timedelta(days=day.weekday())
    if resolution == "monthly":
        return day.replace(day=1)
    raise ValueError(f"unknown resolution {resolution!r}")


def period_end(label: dt.date, resolution: str) -> dt.date:
    """The last day of the period labelled ``label`` (its Sunday, the last of its month)."""
    if resolution == "daily":
        return label
    if resolution == "weekly":
        return label + dt.timedelta(days=6)
    if resolution == "monthly":
        return dt.date(label.year + label.month // 12, label.month % 12 + 1, 1) - dt.timedelta(days=1)
    raise ValueError(f"unknown resolution {resolution!r}")


def period_count(first: dt.date, last: dt.date, resolution: str) -> int:
    """How many periods of ``resolution`` a series from ``first`` to ``last`` (period labels) has."""
    if resolution == "monthly":
        return (last.year - first.year) * 12 + last.month - first.month + 1
    return (last - first).days // (7 if resolution == "weekly" else 1) + 1


def check_periods(first: dt.date, last: dt.date, resolution: str) -> None:
    """Refuse (400, naming ``resolution``) a series of more than :data:`MAX_PERIODS` periods."""
    count = period_count(first, last, resolution)
    if count > MAX_PERIODS:
        raise MoviedashError(
            f"a {resolution} series from {first.isoformat()} to {last.isoformat()} has {count:,} periods, "
            f"more than the maximum of {MAX_PERIODS:,}: choose a coarser resolution or a shorter range (start, end)",
            parameter="resolution",
        )


def period_labels(first: dt.date, last: dt.date, resolution: str) -> list[str]:
    """Every period label from ``first`` to ``last`` (both labels), as ``YYYY-MM-DD``."""
    out: list[str] = []
    day = first
    while day <= last:
        out.append(day.isoformat())
        if resolution == "daily":
            day += dt.timedelta(days=1)
        elif resolution == "weekly":
            day += dt.timedelta(days=7)
        else:
            day = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return out
