"""Each title's season and episode numbers (``md_title_numbers``), kept by every load: the show page from the rollups.

The show page (:mod:`moviedash.showstats`) groups a show's events by their (``seasonnumber``,
``episodenumber``) pair.  The per-title rollups are keyed by title, not by numbers, but a title
nearly always carries one pair in all its events (an episode's title is its own), so one row per
title is enough: ``season`` and ``episode`` (NULL: none), and ``mixed`` = 1 when the title's
events do *not* all carry the same pair (then the rollups cannot split the title's sums by
number, and the show page of any show the title belongs to is answered from the raw table; its
``season`` and ``episode`` are then those of one of its events, never used).
Numbers are read as the raw SQL reads them (``Dialect.integer``: a course-made text database
gives the same pairs).

Maintenance costs a few numpy passes per batch and no sort: each batch's events are compared
with one event of the same title (:meth:`TitleNumbers.add`), the batches merged per title, and at
:meth:`TitleNumbers.write` the load's titles compared with their stored rows (only titles coded
before the load can have one).  A later load only adds titles or marks one mixed -- a title's
pair is the same whatever the dates of its events, so a load of old dates stays exact -- and a
rebuild (schema change, rows behind moviedash's back) empties the table with the others.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..store import Dialect
from .tables import bulk_insert

#: A title's numbers as stored: ``(season, episode)``, ``None`` for NULL.
Numbers = tuple[int | None, int | None]


def _integers(array: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """An integer column as int64 values (NULL as 0) and its validity, as int64 (compared like the values)."""
    values = pc.fill_null(pc.cast(array, pa.int64()), 0).to_numpy(zero_copy_only=False)
    return values, pc.is_valid(array).to_numpy(zero_copy_only=False).astype(np.int64)


class TitleNumbers:
    """One load's per-title numbers and mixed flags, merged into ``md_title_numbers`` at :meth:`write`.

    ``known``: the first title id the load encodes (smaller ids may have a stored row).
    """

    def __init__(self, known: int) -> None:
        self.known = known
        self.seen = np.zeros(0, dtype=bool)  # by title id: an event of this load carried it
        self.mixed = np.zeros(0, dtype=bool)
        # By title id: the season, its validity, the episode, its validity of one of the load's events.
        self.values = [np.zeros(0, dtype=np.int64) for _ in range(4)]

    def _grow(self, size: int) -> None:
        if size <= len(self.seen):
            return
        size = max(size, 2 * len(self.seen))
        extra = size - len(self.seen)
        self.seen = np.concatenate([self.seen, np.zeros(extra, dtype=bool)])
        self.mixed = np.concatenate([self.mixed, np.zeros(extra, dtype=bool)])
        self.values = [np.concatenate([v, np.zeros(extra, dtype=np.int64)]) for v in self.values]

    def add(self, title: np.ndarray, season: pa.Array | pa.ChunkedArray, episode: pa.Array | pa.ChunkedArray) -> None:
        """A batch: each event's title code (-1: no title) and its ``seasonnumber`` and ``episodenumber``."""
        if not len(title):
            return
        # Events without a title go to a spare slot past the batch's titles (no copy of the columns
        # without them), left out of what is kept.
        spare = max(int(title.max()), -1) + 1
        ids = np.where(title >= 0, title, spare)
        columns = [c for pair in (_integers(season), _integers(episode)) for c in pair]
        self._grow(spare)
        # One event of each title (any: duplicates in a fancy assignment keep one of them), then every
        # event compared with it: O(events), no sort.
        some = np.empty(spare + 1, dtype=np.int64)
        some[ids] = np.arange(len(ids))
        representative = some[ids]
        differs = np.zeros(len(ids), dtype=bool)
        for column in columns:
            differs |= column != column[representative]
        if differs.any():
            mixed = ids[differs]
            self.mixed[mixed[mixed != spare]] = True
        present = np.zeros(spare + 1, dtype=bool)
        present[ids] = True
        batch = np.flatnonzero(present[:spare])
        if not len(batch):
            return
        picked = [column[some[batch]] for column in columns]
        earlier = self.seen[batch]  # titles an earlier batch of this load carried: compared with it
        for stored, value in zip(self.values, picked, strict=True):
            self.mixed[batch[earlier][value[earlier] != stored[batch[earlier]]]] = True
            stored[batch[~earlier]] = value[~earlier]
        self.seen[batch] = True

    def write(self, conn: Any, dialect: Dialect) -> None:
        """Insert the load's new titles; mark mixed the stored ones whose events now carry another pair."""
        ids = np.flatnonzero(self.seen)
        if not len(ids):
            return
        season, season_valid, episode, episode_valid = (v[ids].tolist() for v in self.values)
        mixed = self.mixed[ids].tolist()
        stored: dict[int, tuple[Any, Any, Any]] = {}
        if int(ids[0]) < self.known:
            stored = {int(t): (s, e, m) for t, s, e, m in conn.execute(
                "SELECT title, season, episode, mixed FROM md_title_numbers WHERE title < ?", (self.known,))}
        rows: list[tuple[int, int | None, int | None, int]] = []
        for i, title in enumerate(ids.tolist()):  # per title of the load (thousands), not per event
            numbers = (season[i] if season_valid[i] else None, episode[i] if episode_valid[i] else None)
            old = stored.get(title)
            if old is None:
                rows.append((title, *numbers, int(mixed[i])))
            elif not old[2] and (mixed[i] or (old[0], old[1]) != numbers):
                rows.append((title, old[0], old[1], 1))
        bulk_insert(conn, dialect, "md_title_numbers", ("title", "season", "episode", "mixed"), rows,
                    on_conflict="(title) DO UPDATE SET mixed = excluded.mixed")


def read(conn: Any, titles: Iterable[int]) -> dict[int, tuple[int | None, int | None, bool]]:
    """The stored ``(season, episode, mixed)`` of title ids (a title without a row is left out)."""
    wanted = sorted({int(t) for t in titles})
    if not wanted:
        return {}
    if len(wanted) > 900:  # beyond a safe number of bound parameters: the whole (small) table
        rows = conn.execute("SELECT title, season, episode, mixed FROM md_title_numbers").fetchall()
    else:
        marks = ", ".join("?" * len(wanted))
        rows = conn.execute(
            f"SELECT title, season, episode, mixed FROM md_title_numbers WHERE title IN ({marks})", wanted).fetchall()
    chosen = set(wanted)
    return {
        int(t): (None if s is None else int(s), None if e is None else int(e), bool(m))
        for t, s, e, m in rows if int(t) in chosen
    }
