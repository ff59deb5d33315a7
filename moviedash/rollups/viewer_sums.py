"""Per-viewer sums for concentration and heavy viewers (issue 15): ``md_viewer_day`` and ``md_viewer_month``.

Why: the Lorenz curve, the Gini and the plays/minutes-per-viewer histograms need every viewer's
total in the selection, and a ``GROUP BY userid`` over ``movies`` takes seconds at 10M events.
So each load keeps, per (day, dims) key -- and summed again per (month, dims) key, so that a
two-year selection reads ~24 rows per dims instead of ~730 -- one row whose ``viewers`` blob packs three equal-length
arrays: the viewers' ``md_users`` ids (ascending), each one's plays and each one's minutes there
(:func:`pack_viewers`: the ids as gaps, each array at its narrowest width -- ~5 bytes per entry
instead of 12, as most entries hold a play or two and a few hundred minutes).  Any selection's
per-viewer totals are a group-sum by user id of its rows' arrays (``np.bincount`` with weights:
user ids are small dense integers).

Who is a viewer (as :mod:`moviedash.viewers` defines it): a user id of a play (``min_minutes``),
not in ``exclude_users`` (the :class:`~.aggregator.Aggregator` marks those -1 already), not the
anonymous id and not empty; a viewer's minutes are their plays' minutes, a negative value as 0.
The rows embody the settings in force at the load, as every rollup: a settings change rebuilds them.

Maintained incrementally: :meth:`ViewerSums.add` group-sums each batch's ``(key, user)`` entries
(numpy), :meth:`ViewerSums.finish` merges the batches and sums per month, :meth:`ViewerSums.write`
adds them to the stored rows of the keys the load touched (a load of old dates merges with what is
there: exact), and copies the other keys' rows straight in.  Nothing reads ``movies``.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from .. import settings as data_settings
from ..store import Dialect
from .packing import pack_id_rows, unpack_id_rows
from .tables import DIMS, DIMS_PK, upsert

#: The tables (also in :data:`.tables.TABLES`; their DDL is in :func:`.tables.schema`).
TABLES: tuple[str, ...] = ("md_viewer_day", "md_viewer_month")
#: The arrays a ``viewers`` blob packs, in order.
ARRAYS: tuple[str, ...] = ("users", "plays", "minutes")
_USER_BITS = 32
_USER_MASK = (1 << _USER_BITS) - 1

#: Reads the stored rows of some keys: ``(conn, sql, keys) -> {key: rest of the row}`` (:meth:`Aggregator._old`).
OldRows = Callable[[Any, str, list[tuple]], dict[tuple, tuple]]


def pack_viewers(users: np.ndarray, plays: np.ndarray, minutes: np.ndarray, starts: np.ndarray,
                 ends: np.ndarray) -> list[bytes]:
    """One blob per non-empty row ``[starts[i], ends[i])`` of the arrays (``users`` ascending within a row):
    :func:`.packing.pack_id_rows` of the user ids with their plays and minutes."""
    return pack_id_rows(users, [plays, minutes], starts, ends)


def unpack_viewers(blobs: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The entries of :func:`pack_viewers` blobs, concatenated: user ids, plays, minutes (int64)."""
    users, (plays, minutes), _ = unpack_id_rows(blobs, 2)
    return users, plays, minutes


class Sums(NamedTuple):
    """Distinct ``key << 32 | user`` entries (sorted) and each one's plays and minutes."""

    entries: np.ndarray
    plays: np.ndarray
    minutes: np.ndarray


def _group(entries: np.ndarray, plays: np.ndarray, minutes: np.ndarray) -> Sums:
    """The entries' sums per distinct entry: one sort, then two reductions over the runs."""
    if not len(entries):
        empty = np.zeros(0, dtype=np.int64)
        return Sums(empty, empty, empty)
    order = np.argsort(entries, kind="stable")  # stable: merges the batches' sorted runs in linear time
    ordered = entries[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    return Sums(ordered[starts], np.add.reduceat(plays[order], starts), np.add.reduceat(minutes[order], starts))


def left_out_codes(index: dict[str, int]) -> list[int]:
    """The user codes that are never viewers whatever the settings: the anonymous id and the empty id."""
    return [code for code in (index.get(data_settings.ANONYMOUS_USER), index.get("")) if code is not None]


class ViewerSums:
    """A load's per-viewer sums, fed by :class:`~.aggregator.Aggregator` (one call per batch, one at finish)."""

    def __init__(self) -> None:
        self.parts: list[Sums] = []
        self.days: Sums | None = None
        self.months: Sums | None = None

    def add(self, dense: np.ndarray, user: np.ndarray, minutes: np.ndarray, users: dict[str, int]) -> None:
        """One batch: each event's dense (day, dims) key, user code (-1: not a viewer's play) and minutes
        (NULL as 0); ``users``: the user dictionary, for the codes left out (:func:`left_out_codes`)."""
        keep = user >= 0
        for code in left_out_codes(users):
            keep &= user != code
        entries = (dense[keep].astype(np.int64) << _USER_BITS) | user[keep]
        self.parts.append(_group(entries, np.ones(len(entries), dtype=np.int64), np.maximum(minutes[keep], 0)))

    def finish(self, month_of: np.ndarray) -> None:
        """Merge the batches' sums, and sum them again per (month, dims) key (``month_of``: each dense
        key's month key number)."""
        if not self.parts:
            return
        days = _group(*(np.concatenate([getattr(p, f) for p in self.parts]) for f in Sums._fields))
        self.parts = []
        self.days = days
        monthly = (month_of[days.entries >> _USER_BITS].astype(np.int64) << _USER_BITS) | (days.entries & _USER_MASK)
        self.months = _group(monthly, days.plays, days.minutes)

    def write(self, conn: Any, dialect: Dialect, old: OldRows, texts: Sequence[tuple],
              month_texts: Sequence[tuple]) -> None:
        """Add the load's sums to ``md_viewer_day`` and ``md_viewer_month`` (``texts``: each key number's
        (period, dims) values)."""
        if self.days is None or self.months is None:
            return
        _write(conn, dialect, old, "md_viewer_day", "day", texts, self.days)
        _write(conn, dialect, old, "md_viewer_month", "month", month_texts, self.months)


def _write(conn: Any, dialect: Dialect, old: OldRows, table: str, period: str, texts: Sequence[tuple],
           sums: Sums) -> None:
    """One packed row per key with sums: new keys' as they are, stored keys' merged with the stored arrays."""
    if len(sums.entries) == 0:  # every play of the load was left out (excluded or anonymous users)
        return
    keys = sums.entries >> _USER_BITS
    users = sums.entries & _USER_MASK
    cuts = np.flatnonzero(keys[1:] != keys[:-1]) + 1
    starts, ends = np.concatenate(([0], cuts)), np.concatenate((cuts, [len(keys)]))
    touched = [texts[k] for k in keys[starts].tolist()]
    blobs = pack_viewers(users, sums.plays, sums.minutes, starts, ends)
    stored = old(conn, f"SELECT {period}, {DIMS_PK}, viewers FROM {table} WHERE {period} BETWEEN ? AND ?", touched)
    if stored:
        for i, text in enumerate(touched):
            found = stored.get(text)
            if found is None:
                continue
            before = unpack_viewers([bytes(found[0])])
            a, b = int(starts[i]), int(ends[i])
            merged = _group(np.concatenate([before[0], users[a:b]]), np.concatenate([before[1], sums.plays[a:b]]),
                            np.concatenate([before[2], sums.minutes[a:b]]))
            one = np.zeros(1, dtype=np.int64)
            blobs[i] = pack_viewers(merged.entries, merged.plays, merged.minutes, one, one + len(merged.entries))[0]
    upsert(
        conn, dialect, table, (period, *DIMS, "viewers"), stored=stored,
        on_conflict=f"({period}, {DIMS_PK}) DO UPDATE SET viewers = excluded.viewers",
        rows=[(*text, blob) for text, blob in zip(touched, blobs, strict=True)],
    )
