"""Serving the show page from the rollups: the show's per-title entries, their numbers and their viewers.

The show's titles are those whose show ids (``md_title_shows``, :mod:`.showmap`) name it, ``split``
on rows of a series session type and ``own`` on the others, as the top list by show maps them.  Of
those, the per-title rollups give per (title, series or not) entry the plays, minutes and
completion sums of a selection (``md_title_month`` for its whole months, ``md_title_day`` for the
other days) and ``md_title_viewers`` the distinct (title, user) pairs of its plays by counted viewers; each
title's season and episode are its row of ``md_title_numbers`` (:mod:`.title_numbers`).  The whole
data's page (no filter) takes its titles' all-time viewers from ``md_title_users`` instead (one bitmap
per title, where the pairs of every (day, dims) row would cost seconds at 10M events) when none of
the titles has events of the other kind of session type (whose viewers the bitmap would hold too).  When a
title of the show is mixed (its events carry several pairs), :func:`show_entries` answers
``None`` and the caller uses the raw table.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from pyroaring import BitMap

from .. import shows
from ..params import Filters
from ..store import Queryable
from . import title_numbers
from .aggregator import distinct, group_sum
from .packing import unpack_column_rows, unpack_pairs
from .serve import _dim_values, _title_queries, title_names, where
from .tables import TITLE_ENGAGEMENT_COLUMNS

#: The engagement sums an entry carries after its plays and minutes (the show page's completion).
_ENGAGEMENT = ("completion_units", "completion_plays")


class ShowEntries(NamedTuple):
    """One show's per-title entries in a selection (all arrays int64 unless said)."""

    titles: np.ndarray  # per entry: its title id
    series: np.ndarray  # per entry: 1 on rollup rows of a series session type, else 0
    sums: list[np.ndarray]  # per entry: plays, minutes, completion units, plays with a percentage
    pairs: np.ndarray  # distinct ``title id << 32 | user id`` of the show's plays by counted viewers
    names: dict[int, str]  # the show's titles by id, as stored
    numbers: dict[int, title_numbers.Numbers]  # the show's titles' (season, episode) by id


def _empty() -> ShowEntries:
    empty = np.zeros(0, dtype=np.int64)
    return ShowEntries(empty, empty, [empty] * (2 + len(_ENGAGEMENT)), empty, {}, {})


def _sessiontypes(conn: Queryable) -> list[str]:
    """The stored session types (``''`` for none), as a load stored them in ``md_results``."""
    stored = _dim_values(conn)
    if stored is not None:
        return sorted(stored["sessiontype"])
    return [str(v) for (v,) in conn.execute("SELECT DISTINCT sessiontype FROM md_day")]


def show_entries(conn: Queryable, name: str, filters: Filters) -> ShowEntries | None:
    """Show ``name``'s entries in the selection ``filters``; ``None`` when a title of the show is mixed."""
    found = conn.execute("SELECT id FROM md_shows WHERE show = ?", (name,)).fetchone()
    if found is None:  # no title's show: no entry
        return _empty()
    show = int(found[0])
    members = conn.execute("SELECT title, own, split FROM md_title_shows WHERE own = ? OR split = ?",
                           (show, show)).fetchall()
    if not members:
        return _empty()
    ids = [int(t) for t, _, _ in members]
    stored = title_numbers.read(conn, ids)
    if len(stored) < len(ids) or any(mixed for _, _, mixed in stored.values()):
        return None  # the rollups cannot split such a title's sums by number
    # Membership by title id, for rows of another session type (``own``) and of a series (``split``);
    # the last slot, never a member, stands for every id beyond the show's titles.
    last = max(ids) + 1
    member = np.zeros((2, last + 1), dtype=bool)
    for title, own, split in members:
        member[0, int(title)] = int(own) == show
        member[1, int(title)] = int(split) == show
    kind_params: list[str]
    series_of: dict[object, int] = {}  # per stored session type: 1 for a series (few distinct values)

    def flag(sessiontype: object) -> int:
        found = series_of.get(sessiontype)
        if found is None:
            found = series_of[sessiontype] = int(shows.is_series(sessiontype))
        return found

    # A show whose titles count for it under one kind of session type only (a series' episodes, a
    # movie) reads only the rollup rows of the stored session types of that kind -- but for the whole
    # data, whose rows of either kind tell whether the titles' all-time viewers are the show's.
    kind, kind_params = "", []
    everything = filters.is_default()
    if not everything and not (member[0].any() and member[1].any()):
        types = [v for v in _sessiontypes(conn) if flag(v) == int(member[1].any())]
        if not types:
            return _empty()
        kind, kind_params = f" AND sessiontype IN ({', '.join('?' * len(types))})", types
    # The rows' packed arrays are concatenated and filtered at once: a selection of two years reads
    # some 20,000 (day, dims) rows of pairs, where a numpy call per row would cost more than the data.
    rows = [row for sql, params in _title_queries(filters, "sessiontype, plays, minutes, engagement")
            for row in conn.execute(sql + kind, [*params, *kind_params]).fetchall()]  # (not row by row: slower)
    if not rows:
        return _empty()
    lengths = np.fromiter((len(row[0]) // 4 for row in rows), dtype=np.int64, count=len(rows))
    titles = np.frombuffer(b"".join(row[0] for row in rows), dtype="<i4").astype(np.int64)
    series = np.repeat(np.fromiter((flag(row[1]) for row in rows), dtype=np.int64, count=len(rows)), lengths)
    chosen = member[series, np.minimum(titles, last)]
    # An entry of a show's title under the other kind (e.g. an episode's title watched as a movie).
    foreign = (member[0] | member[1])[np.minimum(titles, last)] & ~chosen
    # Only the rows holding an entry of the show have their packed sums unpacked.
    row_of = np.repeat(np.arange(len(rows)), lengths)
    hit = np.bincount(row_of[chosen], minlength=len(rows)) > 0
    if not hit.any():
        return _empty()
    held = [rows[r] for r in np.flatnonzero(hit).tolist()]
    mine = chosen[hit[row_of]]
    count = len(TITLE_ENGAGEMENT_COLUMNS)
    plays, minutes, *engagement = (
        column[mine] for i, width in ((2, 1), (3, 1), (4, count))
        for column in unpack_column_rows([row[i] for row in held], width, lengths[hit])
    )
    values = [plays, minutes, *(engagement[TITLE_ENGAGEMENT_COLUMNS.index(c)] for c in _ENGAGEMENT)]
    entries, sums = group_sum(titles[chosen] * 2 + series[chosen], values)
    titles = entries >> 1
    wanted = sorted(set(titles.tolist()))
    numbers: dict[int, title_numbers.Numbers] = {t: stored[t][:2] for t in wanted}
    names = title_names(conn, wanted)
    if everything and not foreign.any():
        seen = _all_time_pairs(conn, wanted, names)
    else:
        seen = _selection_pairs(conn, filters, member, kind, kind_params, flag)
    return ShowEntries(titles, entries & 1, sums, seen, names, numbers)


def _all_time_pairs(conn: Queryable, wanted: list[int], names: dict[int, str]) -> np.ndarray:
    """The ``title id << 32 | user id`` pairs of the titles' all-time viewers (``md_title_users``): a whole
    data's show page reads one bitmap per title, not every (day, dims) row's pairs."""
    ids = {names[t]: t for t in wanted}
    parts: list[np.ndarray] = []
    for at in range(0, len(wanted), 900):  # a safe number of bound parameters per statement
        chunk = [names[t] for t in wanted[at:at + 900]]
        for title, blob in conn.execute(
                f"SELECT title, users FROM md_title_users WHERE title IN ({', '.join('?' * len(chunk))})", chunk):
            users = np.frombuffer(BitMap.deserialize(bytes(blob)).to_array(), dtype=np.uint32).astype(np.int64)
            parts.append((np.int64(ids[str(title)]) << 32) | users)
    return np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)


def _selection_pairs(conn: Queryable, filters: Filters, member: np.ndarray, kind: str, kind_params: list[str],
                     flag: Callable[[object], int]) -> np.ndarray:
    """The distinct ``title id << 32 | user id`` pairs of the show's entries in a selection (``md_title_viewers``)."""
    last = member.shape[1] - 1
    clause, params = where(filters)
    viewer_rows = conn.execute(f"SELECT sessiontype, pairs FROM md_title_viewers WHERE {clause}{kind}",
                               [*params, *kind_params]).fetchall()
    pairs, sizes = unpack_pairs([bytes(blob) for _, blob in viewer_rows])
    pair_series = np.repeat(np.fromiter((flag(t) for t, _ in viewer_rows), dtype=np.int64, count=len(viewer_rows)),
                            sizes)
    return distinct(pairs[member[pair_series, np.minimum(pairs >> 32, last)]])
