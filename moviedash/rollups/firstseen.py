"""First-seen days: each viewer's first day over all data, kept incrementally by every load.

Two tables (schema 9):

- ``md_first_seen``: ``user_id`` (``md_users.id``) -> ``day``, the day of the user's first event
  that makes them a viewer (a play under ``min_minutes``, not one of ``exclude_users``: the rule of
  every viewer count, so new + returning is exactly ``unique_users``);
- ``md_first_day``: per ``day``, a roaring bitmap of the users first seen that day.

A load hands each batch's (user, day) pairs to :class:`FirstSeen` (one call in
:meth:`moviedash.rollups.Aggregator.add`), which keeps each user's earliest day of the batch;
:meth:`FirstSeen.finish` merges the batches and :meth:`FirstSeen.write` compares them with the
stored days of the users the load met: a user never seen is inserted; a user whose new event is
earlier than the stored day (a load of old events) moves -- removed from the old day's bitmap,
added to the new one -- so the tables stay exact whatever order events arrive in.  Only users
already in ``md_users`` before the load can have a stored day, so a first load reads nothing back,
and no load reads ``movies``.

Serving (:mod:`.firstseen_serve`): a period's new viewers are
``|active ∩ first-seen-in-period|``, where the active users are the union of the period's ``md_day``
bitmaps under the filters and the first-seen users the union of the period's ``md_first_day``
bitmaps (all data, no filter); a cohort is the union of its period's ``md_first_day`` bitmaps, and
its active users in a later period an intersection of bitmaps.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
from pyroaring import BitMap

from ..store import Dialect
from .tables import bulk_insert, insert_columns, upsert


def _earliest(users: np.ndarray, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct ``users`` (sorted) and each one's smallest day ordinal (one sort of ``user << 24 | day``)."""
    if not len(users):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    combined = np.sort((users.astype(np.int64) << 24) | days.astype(np.int64))
    user = combined >> 24
    first = np.empty(len(combined), dtype=bool)
    first[0] = True
    np.not_equal(user[1:], user[:-1], out=first[1:])
    return user[first], combined[first] & ((1 << 24) - 1)


class FirstSeen:
    """One load's first days per viewer, merged into ``md_first_seen`` / ``md_first_day`` at write.

    ``known``: the first user id this load encoded (ids below it may have a stored day).
    """

    def __init__(self, known: int) -> None:
        self.known = known
        self._ordinals = np.zeros(0, dtype=np.int64)  # per day code of the aggregator, its date ordinal
        self._parts: list[tuple[np.ndarray, np.ndarray]] = []
        self.users = np.zeros(0, dtype=np.int64)
        self.days = np.zeros(0, dtype=np.int64)

    def add(self, user: np.ndarray, day: np.ndarray, day_names: Sequence[str]) -> None:
        """A batch: each event's user code (-1: not a viewer) and day code (into ``day_names``)."""
        if len(day_names) > len(self._ordinals):  # day codes only grow: ordinals of the new ones
            new = [dt.date.fromisoformat(d).toordinal() for d in day_names[len(self._ordinals):]]
            self._ordinals = np.concatenate([self._ordinals, np.asarray(new, dtype=np.int64)])
        viewer = user >= 0
        self._parts.append(_earliest(user[viewer], self._ordinals[day[viewer]]))

    def finish(self) -> None:
        """Merge the batches: each user's earliest day of the load (pure computation)."""
        if self._parts:
            self.users, self.days = _earliest(
                np.concatenate([p[0] for p in self._parts]), np.concatenate([p[1] for p in self._parts]))
            self._parts = []

    def write(self, conn: Any, dialect: Dialect) -> None:
        """Insert new users, move users whose day is earlier than the stored one, and fix the day bitmaps."""
        self.finish()
        users, days = self.users, self.days
        if not len(users):
            return
        stored = np.full(len(users), -1, dtype=np.int64)
        old = users < self.known
        if old.any():  # only users encoded before this load can have a stored day
            stored_users, stored_days = _read_first_seen(conn)
            at = np.searchsorted(stored_users, users[old])
            at = np.minimum(at, max(len(stored_users) - 1, 0))
            if len(stored_users):
                hit = stored_users[at] == users[old]
                stored[np.flatnonzero(old)[hit]] = stored_days[at[hit]]
        fresh = stored < 0
        moved = (stored >= 0) & (days < stored)
        if not fresh.any() and not moved.any():
            return
        texts = {o: dt.date.fromordinal(o).isoformat() for o in np.unique(
            np.concatenate([days[fresh | moved], stored[moved]])).tolist()}
        if fresh.any():
            insert_columns(conn, dialect, "md_first_seen", {
                "user_id": users[fresh], "day": [texts[o] for o in days[fresh].tolist()]})
        if moved.any():
            bulk_insert(conn, dialect, "md_first_seen", ("user_id", "day"),
                        [(u, texts[o]) for u, o in zip(users[moved].tolist(), days[moved].tolist(), strict=True)],
                        on_conflict="(user_id) DO UPDATE SET day = excluded.day")
        changed = fresh | moved
        added = _by_day(users[changed], days[changed], texts)
        removed = _by_day(users[moved], stored[moved], texts)
        touched = sorted(set(added) | set(removed))
        held = {
            day: BitMap.deserialize(blob) for day, blob in conn.execute(
                "SELECT day, users FROM md_first_day WHERE day BETWEEN ? AND ?", (touched[0], touched[-1]))
            if day in added or day in removed
        }
        rows = []
        for day in touched:
            bitmap = held.get(day, BitMap())
            if day in added:
                bitmap |= added[day]
            if day in removed:
                bitmap -= removed[day]
            rows.append((day, bitmap.serialize()))
        upsert(conn, dialect, "md_first_day", ("day", "users"), rows, stored={(d,) for d in held}, key_columns=1,
               on_conflict="(day) DO UPDATE SET users = excluded.users")


def _by_day(users: np.ndarray, days: np.ndarray, texts: dict[int, str]) -> dict[str, BitMap]:
    """``users`` grouped by their day ordinal (one sort, no loop over users), as a bitmap per day text."""
    if not len(users):
        return {}
    order = np.argsort(days, kind="stable")
    days, users = days[order], users[order].astype(np.uint32)
    cuts = np.flatnonzero(days[1:] != days[:-1]) + 1
    starts, ends = np.concatenate(([0], cuts)), np.concatenate((cuts, [len(days)]))
    return {texts[int(days[a])]: BitMap(users[a:b]) for a, b in zip(starts.tolist(), ends.tolist(), strict=True)}


def _read_first_seen(conn: Any) -> tuple[np.ndarray, np.ndarray]:
    """Every stored (user, day ordinal), sorted by user."""
    rows = conn.execute("SELECT user_id, day FROM md_first_seen ORDER BY user_id").fetchall()
    if not rows:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    users, texts = zip(*rows, strict=True)
    ordinal = {t: dt.date.fromisoformat(str(t)[:10]).toordinal() for t in set(texts)}
    return np.asarray(users, dtype=np.int64), np.fromiter((ordinal[t] for t in texts), dtype=np.int64, count=len(texts))
