"""Text alternatives of the charts: the plotted numbers in words (pure functions, frame -> text).

A chart drawn in SVG says nothing to a screen reader.  Each chart card holds a
visually hidden summary written by the same callback that draws the chart,
from the same frame, so the two cannot disagree.  The report puts them under
its charts too.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd

from . import metrics
from .charts import hour_range, period_label

_PERIOD_WORDS = {"daily": "day", "weekly": "week", "monthly": "month"}
_RANK_WORDS = {"plays": "plays", "minutes": "minutes watched", "viewers": "viewers"}
#: The top list names at most this many titles in words (the table of the CSV holds them all).
_TOP_NAMED = 50


def _n(value: float) -> str:
    return f"{int(value):,}"


def series_summary(frame: pd.DataFrame, metric: str, resolution: str) -> str:
    """E.g. ``Unique users per day, 1 Jan 2013 to 30 Jun 2013 (181 days): lowest 1 on Tue 1 Jan 2013, ...``."""
    measure = metrics.measure(metric)
    what, unit = measure.label, measure.short_unit
    period = _PERIOD_WORDS[resolution]
    if frame.empty:
        return f"{what} per {period}: no events in this selection."
    days = [dt.date.fromisoformat(str(d)) for d in frame["date"]]
    values = [int(v) for v in frame["values"]]
    low, high = min(range(len(values)), key=values.__getitem__), max(range(len(values)), key=values.__getitem__)
    label = lambda i: period_label(days[i], resolution)  # noqa: E731
    count = len(values)
    parts = [
        f"{what} per {period}, {label(0)} to {label(count - 1)} ({count:,} {period}{'s' if count != 1 else ''}):",
        f"lowest {_n(values[low])} {unit} ({label(low)}),",
        f"highest {_n(values[high])} {unit} ({label(high)}),",
        f"average {sum(values) / count:,.1f} per {period};",
        f"first {_n(values[0])}, last {_n(values[-1])}.",
    ]
    return " ".join(parts)


def top_summary(frame: pd.DataFrame, rank: str) -> str:
    """E.g. ``Top 3 titles by plays: 1. Title A, 40; 2. Title B, 31; 3. Title C, 12.``."""
    words = _RANK_WORDS[rank]
    if frame.empty:
        return f"Top titles by {words}: no titled events in this selection."
    rows = list(zip(frame["title"], frame["values"], strict=False))
    named = "; ".join(f"{i}. {title}, {_n(value)}" for i, (title, value) in enumerate(rows[:_TOP_NAMED], start=1))
    return f"Top {len(rows)} title{'s' if len(rows) != 1 else ''} by {words}: {named}."


def heatmap_summary(grid: pd.DataFrame) -> str:
    """The busiest and quietest weekday/hour cells and the busiest weekday and hour overall."""
    total = int(grid.to_numpy().sum())
    if total == 0:
        return "Plays by weekday and hour started: no events in this selection."
    stacked = grid.stack()
    busiest_day, busiest_hour = stacked.idxmax()
    by_day = grid.sum(axis=1)
    by_hour = grid.sum(axis=0)
    return (
        f"Plays by weekday and hour started, {total:,} plays: the busiest hour is {busiest_day} "
        f"{hour_range(int(busiest_hour))} with {_n(stacked.max())} plays; the busiest weekday is "
        f"{by_day.idxmax()} ({_n(by_day.max())} plays) and the busiest hour of the day "
        f"{hour_range(int(by_hour.idxmax()))} ({_n(by_hour.max())} plays); "
        f"{int((stacked == 0).sum())} of 168 weekday-hours have no plays."
    )


def engagement_summary(frame: pd.DataFrame, what: str, key: str, unit: str) -> str:
    """An engagement chart's numbers in words: ``what`` per ``key`` (a column of ``frame``) with ``values``.

    E.g. ``Completion rate by device (%): TV 71.2, Computer 64.0; no value for 1.``  Rows without a
    value (no play with one) are counted, not listed.
    """
    if frame.empty or "values" not in frame or key not in frame:
        return f"{what}: no plays with a value in this selection."
    rows = [(str(k), v) for k, v in zip(frame[key], frame["values"], strict=False)]
    shown = [(k, float(v)) for k, v in rows if v is not None and v == v]
    missing = len(rows) - len(shown)
    if not shown:
        return f"{what}: no plays with a value in this selection."
    low = min(shown, key=lambda r: r[1])
    high = max(shown, key=lambda r: r[1])
    listed = "; ".join(f"{k} {v:,.2f}" for k, v in shown[:_TOP_NAMED])
    more = f" (first {_TOP_NAMED} of {len(shown)})" if len(shown) > _TOP_NAMED else ""
    gap = f"; no value for {missing}" if missing else ""
    return (f"{what} ({unit}), {len(shown)} with a value{more}: lowest {low[1]:,.2f} ({low[0]}), "
            f"highest {high[1]:,.2f} ({high[0]}); {listed}{gap}.")
