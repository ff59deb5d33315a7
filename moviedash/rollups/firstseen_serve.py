"""Serving from the first-seen rollups (:mod:`.firstseen`): new vs returning viewers and cohorts.

A period's new viewers are ``|active ∩ first-seen-in-period|``: the union of the period's ``md_day``
bitmaps under the filters, intersected with the union of its ``md_first_day`` bitmaps (all data, no
filter); a cohort is the union of its period's ``md_first_day`` bitmaps, and its active members in a
later period an intersection of bitmaps.  The unfiltered answers are stored at load (:func:`default_results`).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from pyroaring import BitMap

from ..params import RESOLUTIONS, Filters
from ..periods import period_count, period_start
from ..store import Queryable
from .serve import _stored, where


def _by_period(rows: Iterable[Sequence[Any]], resolution: str) -> dict[str, BitMap]:
    """``(day, bitmap or its serialization)`` rows into the union of each period's bitmaps, by period label."""
    parts: dict[str, list[BitMap]] = {}
    labels: dict[str, str] = {}
    for day, blob in rows:
        text = str(day)[:10]
        label = labels.get(text)
        if label is None:
            label = labels[text] = period_start(dt.date.fromisoformat(text), resolution).isoformat()
        parts.setdefault(label, []).append(blob if isinstance(blob, BitMap) else BitMap.deserialize(blob))
    return {label: BitMap.union(*maps) for label, maps in parts.items()}


def active_by_period(conn: Queryable, filters: Filters, resolution: str) -> dict[str, BitMap]:
    """The viewers of each period under ``filters`` (the union of its ``md_day`` bitmaps)."""
    clause, params = where(filters)
    return _by_period(conn.execute(f"SELECT day, users FROM md_day WHERE {clause}", params), resolution)


def first_by_period(conn: Queryable, resolution: str, first: str | None = None,
                    last: str | None = None) -> dict[str, BitMap]:
    """The users first seen in each period (all data), from the period of ``first`` to ``last`` (days)."""
    clauses, params = ["1 = 1"], []
    if first is not None:
        clauses.append("day >= ?")
        params.append(period_start(dt.date.fromisoformat(first), resolution).isoformat())
    if last is not None:
        clauses.append("day <= ?")
        params.append(last)
    return _by_period(
        conn.execute(f"SELECT day, users FROM md_first_day WHERE {' AND '.join(clauses)}", params), resolution)


def audience_rows(conn: Queryable, filters: Filters, resolution: str) -> list[list[Any]]:
    """``[label, new, returning]`` of each period with a viewer under ``filters`` (not zero-filled)."""
    active = active_by_period(conn, filters, resolution)
    if not active:
        return []
    firsts = first_by_period(conn, resolution, min(active), None if filters.end is None else filters.end.isoformat())
    return _split(active, firsts)


def _split(active: dict[str, BitMap], firsts: dict[str, BitMap]) -> list[list[Any]]:
    """``[label, new, returning]`` of each period of ``active``: its users first seen in it, and the others."""
    out = []
    for label in sorted(active):
        users = active[label]
        fresh = users.intersection_cardinality(firsts[label]) if label in firsts else 0
        out.append([label, fresh, len(users) - fresh])
    return out


def cohort_rows(conn: Queryable, filters: Filters, resolution: str, first: str,
                last: str) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    """Each cohort first seen from the period of ``first`` to ``last`` (days) with its size, and per
    (cohort, period) with one its viewers under ``filters`` (sparse: no entry for none)."""
    return _retention(first_by_period(conn, resolution, first, last), active_by_period(conn, filters, resolution))


def _retention(cohorts: dict[str, BitMap],
               active: dict[str, BitMap]) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    """Each non-empty cohort's size, and its members active in each period from its own (sparse)."""
    sizes = {cohort: len(members) for cohort, members in cohorts.items() if members}
    hits: dict[tuple[str, str], int] = {}
    for cohort in sizes:
        members = cohorts[cohort]
        for label, users in active.items():
            if label >= cohort:
                n = members.intersection_cardinality(users)
                if n:
                    hits[cohort, label] = n
    return sizes, hits


#: The cohort resolutions (``week``, ``month``) and the most periods a stored default triangle spans.
COHORT_RESOLUTIONS: tuple[str, ...] = ("weekly", "monthly")
MAX_STORED_PERIODS = 520


def stored_result(conn: Queryable, name: str) -> Any:
    """An answer :func:`default_results` stored at load (``md_results``), or ``None``."""
    return _stored(conn, name)


def default_results(conn: Queryable, day_rows: Sequence[tuple[str, BitMap]]) -> dict[str, Any]:
    """The unfiltered new/returning rows of every resolution (``audience:<resolution>``) and cohort sizes
    and hits of each cohort resolution (``cohorts:<resolution>``), stored at load (``md_results``).

    ``day_rows``: every ``(day, users bitmap)`` of ``md_day``, ordered by day (read once by the caller):
    each day's union is taken once, and each coarser period's from those (a load pays no second read).
    """
    out: dict[str, Any] = {}
    active_days = _by_period(day_rows, "daily")
    first_days = _by_period(conn.execute("SELECT day, users FROM md_first_day"), "daily")
    active = {r: _by_period(active_days.items(), r) for r in RESOLUTIONS}
    firsts = {r: _by_period(first_days.items(), r) for r in RESOLUTIONS}
    for resolution in RESOLUTIONS:
        out[f"audience:{resolution}"] = _split(active[resolution], firsts[resolution])
    first, last = (min(active_days), max(active_days)) if active_days else (None, None)
    for resolution in COHORT_RESOLUTIONS:
        if first is not None and last is not None and period_count(
            period_start(dt.date.fromisoformat(first), resolution),
            period_start(dt.date.fromisoformat(last), resolution), resolution,
        ) > MAX_STORED_PERIODS:
            continue  # too wide to serve (a 400): nothing to store
        sizes, hits = _retention(firsts[resolution], active[resolution])
        out[f"cohorts:{resolution}"] = {
            "sizes": sorted(sizes.items()), "hits": sorted([c, p, n] for (c, p), n in hits.items()),
        }
    return out
