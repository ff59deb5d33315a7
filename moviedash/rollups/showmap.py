"""Each title's show in the rollups: the show dictionary ``md_shows`` and the title -> show map ``md_title_shows``.

The rule (:mod:`moviedash.shows`) depends on the title *and* the session type
(only series titles are split), so every title keeps two show ids:
``own``, its show as an event of any other session type (the title itself,
unsplit), and ``split``, its show as a series event.  The per-title rollups
(``md_title_day``/``md_title_month``, ``md_title_viewers``) are keyed by
(day, dims) and ``sessiontype`` is one of the dims, so each of their entries
is mapped to its show exactly: ``split`` on a row whose session type is a
series, ``own`` otherwise.  No per-event work and no new per-day table: the
map grows with the title dictionary, at the end of each load (one call in
:meth:`.Aggregator.write`), from the load's new titles only, plus the titles a
CSV's ``show`` column names (``moviedash_shows``; a handful of rows), whose
show may have changed since they were first seen.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from .. import shows
from ..store import Dialect, dialect_of
from .tables import bulk_insert, exists, insert_columns


def named_shows(conn: Any) -> dict[str, str]:
    """The shows a loaded CSV's ``show`` column named (``title`` -> ``show``), empty without the table."""
    if not exists(conn, "moviedash_shows"):
        return {}
    return {str(t): str(s) for t, s in conn.execute("SELECT title, show FROM moviedash_shows")}


def write(conn: Any, dialect: Dialect, titles: Mapping[str, int], new: Iterable[str]) -> None:
    """Map the load's ``new`` titles (and every CSV-named title) to their shows.

    ``titles``: every title of the dictionary and its id (the aggregator's, stored and new).
    """
    named = named_shows(conn)
    wanted = {t for t in new}
    wanted.update(t for t in named if t in titles)
    if not wanted:
        return
    known = {str(s): int(i) for i, s in conn.execute("SELECT id, show FROM md_shows")}
    start = max(known.values(), default=-1) + 1
    fresh: list[str] = []

    def show_id(name: str) -> int:
        found = known.get(name)
        if found is None:
            found = known[name] = start + len(fresh)
            fresh.append(name)
        return found

    rows: list[tuple[int, int, int]] = []
    # In title id order (the order titles were first seen): loads of two files one after the other
    # number the shows as one load of both does.
    for title in sorted(wanted, key=titles.__getitem__):
        own = shows.show_of(title, None, named=named) or title
        split = shows.show_of(title, shows.SERIES, named=named) or title
        rows.append((titles[title], show_id(own), show_id(split)))
    if fresh:
        insert_columns(conn, dialect, "md_shows", {
            "id": np.arange(start, start + len(fresh), dtype=np.int64), "show": fresh,
        })
    bulk_insert(conn, dialect, "md_title_shows", ("title", "own", "split"), rows,
                on_conflict="(title) DO UPDATE SET own = excluded.own, split = excluded.split")


class ShowMap:
    """Title ids -> show ids, by session type, and the shows' names (read from the rollups once per answer)."""

    def __init__(self, conn: Any) -> None:
        rows = conn.execute("SELECT title, own, split FROM md_title_shows").fetchall()
        size = max((int(r[0]) for r in rows), default=-1) + 1
        self.own = np.full(size, -1, dtype=np.int64)
        self.split = np.full(size, -1, dtype=np.int64)
        if rows:
            title, own, split = (np.asarray(c, dtype=np.int64) for c in zip(*rows, strict=True))
            self.own[title], self.split[title] = own, split
        self._conn = conn

    def of(self, title_ids: np.ndarray, sessiontype: object) -> np.ndarray:
        """The show ids of ``title_ids`` on a rollup row of ``sessiontype`` (the rule's dependence on it)."""
        table = self.split if shows.is_series(sessiontype) else self.own
        return table[title_ids]

    def of_rows(self, title_ids: np.ndarray, series: np.ndarray) -> np.ndarray:
        """The show ids of ``title_ids``, each entry's own session type told by ``series`` (a series or not)."""
        return np.where(series, self.split[title_ids], self.own[title_ids])

    def names(self, ids: Iterable[int]) -> dict[int, str]:
        """The names of show ids."""
        wanted = sorted({int(i) for i in ids})
        if not wanted:
            return {}
        if len(wanted) > 900:  # beyond a safe number of bound parameters: the whole dictionary
            return {int(i): str(s) for i, s in self._conn.execute("SELECT id, show FROM md_shows")}
        marks = ", ".join("?" * len(wanted))
        return {int(i): str(s) for i, s in self._conn.execute(
            f"SELECT id, show FROM md_shows WHERE id IN ({marks})", wanted)}


def available(conn: Any) -> bool:
    """Whether the rollups hold the show map (rollups of this schema always do)."""
    return exists(conn, "md_title_shows", dialect_of(conn))
