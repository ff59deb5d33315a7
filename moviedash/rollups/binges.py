"""The binge rollups (issue 15): every episode in compact form, the sessions, and minutes per (day, values).

The rule is :mod:`moviedash.binge`'s; this module holds its pure core (:func:`runs`,
:func:`sessions_of`), used by the raw path and by these rollups alike, so both
give the same numbers.  Three tables:

- ``md_binge_episodes``: each episode (a series play of a viewer, under the
  settings the rollups embody): viewer, show, start (seconds), minutes, day and
  values; indexed by (viewer, show);
- ``md_binges``: each binge session: viewer, show, its first episode's start,
  day and values, and its episodes;
- ``md_binge_day``: per (day, session type, device, market), the series minutes
  (every series event) and the binge minutes (of its events in a session).

(Their DDL is in :func:`.tables.schema`, with the other rollups'.)

**Incremental, at each load** (:class:`BingeParts`, fed by the
:class:`~.aggregator.Aggregator`): the load's series minutes are added to
``md_binge_day``; for the (viewer, show) pairs the load has episodes of, the
pairs' stored episodes are read from ``md_binge_episodes`` (by its index, never
from ``movies``), their runs are found before and after adding the new ones,
the difference of binge minutes goes into ``md_binge_day`` and the pairs'
sessions are replaced.  So a load of old dates (events earlier than a pair's
last episode) is exact too: only the touched pairs' runs are recomputed.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import shows
from ..metrics import MeasureSettings
from ..store import Dialect
from .tables import DIMS, DIMS_PK, bulk_insert, exists

#: The episodes' and sessions' key columns (the day and the filter values of the event or first episode).
KEYS: tuple[str, ...] = ("day", *DIMS)
#: How many viewers one ``IN (...)`` reads at a time.
_CHUNK = 500


def runs(user: np.ndarray, show: np.ndarray, start: np.ndarray, minutes: np.ndarray,
         max_gap_minutes: int) -> tuple[np.ndarray, np.ndarray]:
    """The runs of episodes: ``(order, run)`` -- the episodes in run order and each one's run number.

    ``user`` and ``show`` are integer codes, ``start`` seconds, ``minutes``
    whole minutes (all int64 arrays of one length).  ``order`` sorts the
    episodes by (user, show, start, minutes); ``run[i]`` is the run of episode
    ``order[i]``, numbered from 0 in that order.  Vectorised: a new run starts
    where the (user, show) changes or the start is more than ``max_gap_minutes``
    after the latest end of the (user, show)'s earlier episodes (after a break
    every earlier episode ended before it, so that is also the run's latest end).
    """
    order = np.lexsort((minutes, start, show, user))
    u, s, t, m = user[order], show[order], start[order], minutes[order]
    end = t + 60 * m
    new = np.ones(len(order), dtype=bool)
    if len(order) > 1:
        new[1:] = (u[1:] != u[:-1]) | (s[1:] != s[:-1])
        group = np.cumsum(new)
        latest = pd.Series(end).groupby(group).cummax().to_numpy()
        follows = ~new[1:]
        new[1:] |= follows & (t[1:] - latest[:-1] > 60 * int(max_gap_minutes))
    return order, np.cumsum(new) - 1


def sessions_of(episodes: pd.DataFrame, settings: MeasureSettings) -> tuple[pd.DataFrame, np.ndarray]:
    """The binge sessions of ``episodes`` (columns ``userid``, ``show``, ``start``, ``minutes`` and
    :data:`KEYS`) and whether each episode (in the frame's order) is in one.

    The sessions: ``userid``, ``show``, ``start`` and :data:`KEYS` of the first episode, ``episodes``.
    """
    user_codes, _ = pd.factorize(episodes["userid"].to_numpy(dtype=object))
    show_codes, _ = pd.factorize(episodes["show"].to_numpy(dtype=object))
    order, run = runs(user_codes.astype("int64"), show_codes.astype("int64"),
                      episodes["start"].to_numpy(dtype="int64"), episodes["minutes"].to_numpy(dtype="int64"),
                      settings.binge_max_gap_minutes)
    sizes = np.bincount(run) if len(run) else np.zeros(0, dtype="int64")
    in_session = sizes[run] >= int(settings.binge_min_episodes)
    binged = np.zeros(len(episodes), dtype=bool)
    binged[order[in_session]] = True
    starts = np.ones(len(run), dtype=bool)
    starts[1:] = run[1:] != run[:-1]
    firsts = order[starts & in_session]
    sessions = episodes.iloc[firsts][["userid", "show", "start", *KEYS]].reset_index(drop=True)
    sessions["episodes"] = sizes[run[starts & in_session]].astype("int64")
    return sessions, binged


def named_shows(conn: Any, dialect: Dialect) -> dict[str, str]:
    """The shows a loaded CSV named (``moviedash_shows``: title -> show), when the database has the table."""
    if not exists(conn, "moviedash_shows", dialect):
        return {}
    return {str(t): str(s) for t, s in conn.execute("SELECT title, show FROM moviedash_shows").fetchall()}


def episode_mask(frame: pd.DataFrame, settings: MeasureSettings) -> np.ndarray:
    """Which series events of ``frame`` (``userid``, ``show``, ``minutes``) are episodes: plays with a show
    and a viewer (a user id not NULL and not in ``exclude_users``)."""
    return np.asarray(
        (frame["minutes"].to_numpy() >= int(settings.min_minutes))
        & frame["show"].notna().to_numpy()
        & frame["userid"].notna().to_numpy()
        & ~frame["userid"].isin(list(settings.exclude_users)).to_numpy(),
        dtype=bool,
    )


def _binge_minutes(episodes: pd.DataFrame, binged: np.ndarray) -> pd.Series:
    """The minutes of the binged episodes per :data:`KEYS`."""
    return episodes[binged].groupby(list(KEYS))["minutes"].sum()


def _rows(frame: pd.DataFrame, columns: tuple[str, ...]) -> list[tuple[Any, ...]]:
    """The rows of ``frame``'s ``columns`` as tuples of Python values (numpy integers as ``int``)."""
    return list(zip(*(frame[c].tolist() for c in columns), strict=True))


class BingeParts:
    """The series events of one load, batch by batch, folded into the binge rollups at :meth:`write`."""

    def __init__(self, settings: MeasureSettings) -> None:
        self.settings = settings
        self.parts: list[pd.DataFrame] = []

    def add(self, cols: dict[str, pa.Array | pa.ChunkedArray], minutes: np.ndarray) -> None:
        """Keep a batch's series events (``cols``: the aggregator's canonical columns; ``minutes``, NULL as 0)."""
        kinds = pc.unique(cols["sessiontype"]).to_pylist()
        series = [k for k in kinds if shows.is_series(k)]
        if not series:
            return
        keep = pc.fill_null(pc.is_in(cols["sessiontype"], value_set=pa.array(series, pa.string())), False)
        picked = np.flatnonzero(keep.to_numpy(zero_copy_only=False))
        if not len(picked):
            return
        index = pa.array(picked)
        # NULL values as '' (as the other rollups store them), in pyarrow rather than row by row.
        text = {c: pc.take(pc.fill_null(cols[c], "") if c in DIMS else cols[c], index).to_numpy(zero_copy_only=False)
                for c in ("event_date", "userid", "title", *DIMS)}
        dates = text["event_date"].astype(str)
        frame = pd.DataFrame({
            "userid": pd.Series(text["userid"], dtype=object),
            "title": pd.Series(text["title"], dtype=object),
            "start": dates.astype("datetime64[s]").astype("int64"),
            "minutes": minutes[picked].astype("int64"),
            "day": pd.Series(dates.astype("U10"), dtype=object),
        })
        for d in DIMS:
            frame[d] = pd.Series(text[d], dtype=object)
        self.parts.append(frame)

    def write(self, conn: Any, dialect: Dialect) -> None:
        """Fold the load's series events into the binge rollups (on the loading transaction)."""
        if not self.parts:
            return
        new = pd.concat(self.parts, ignore_index=True)
        self.parts = []
        named = named_shows(conn, dialect)
        by_title = {t: shows.show_of(t, "SERIES", named=named) for t in new["title"].dropna().unique()}
        new["show"] = new["title"].map(by_title).astype(object)
        series = new.groupby(list(KEYS))["minutes"].sum()
        delta = pd.Series(0, index=series.index, dtype="int64")
        episodes = new[episode_mask(new, self.settings)][["userid", "show", "start", "minutes", *KEYS]]
        if len(episodes):
            old = self._stored(conn, episodes)
            old_sessions, old_binged = sessions_of(old, self.settings)
            both = pd.concat([old, episodes], ignore_index=True)
            sessions, binged = sessions_of(both, self.settings)
            delta = delta.add(_binge_minutes(both, binged), fill_value=0).sub(
                _binge_minutes(old, old_binged), fill_value=0).astype("int64")
            # Only pairs with stored episodes can have stored sessions to replace (none on a first load).
            stale = list(old[["userid", "show"]].drop_duplicates().itertuples(index=False, name=None))
            if stale:
                conn.executemany("DELETE FROM md_binges WHERE userid = ? AND show = ?", stale)
            columns = ("userid", "show", "start", *KEYS, "episodes")
            bulk_insert(conn, dialect, "md_binges", columns, _rows(sessions, columns))
            columns = ("userid", "show", "start", "minutes", *KEYS)
            bulk_insert(conn, dialect, "md_binge_episodes", columns, _rows(episodes, columns))
        sums = pd.DataFrame({"series_minutes": series.reindex(delta.index, fill_value=0), "binge_minutes": delta})
        rows = [(*key, int(s), int(b)) for key, s, b in zip(
            sums.index, sums["series_minutes"], sums["binge_minutes"], strict=True)]
        bulk_insert(
            conn, dialect, "md_binge_day", (*KEYS, "series_minutes", "binge_minutes"), rows,
            on_conflict=(f"(day, {DIMS_PK}) DO UPDATE SET "
                         "series_minutes = md_binge_day.series_minutes + excluded.series_minutes, "
                         "binge_minutes = md_binge_day.binge_minutes + excluded.binge_minutes"),
        )

    @staticmethod
    def _stored(conn: Any, episodes: pd.DataFrame) -> pd.DataFrame:
        """The stored episodes of the (viewer, show) pairs of ``episodes`` (by the pairs' index)."""
        pairs = set(episodes[["userid", "show"]].drop_duplicates().itertuples(index=False, name=None))
        users = sorted({u for u, _ in pairs})
        found: list[tuple[Any, ...]] = []
        columns = ["userid", "show", "start", "minutes", *KEYS]
        for i in range(0, len(users), _CHUNK):
            chunk = users[i:i + _CHUNK]
            rows = conn.execute(
                f"SELECT {', '.join(columns)} FROM md_binge_episodes WHERE userid IN ({', '.join('?' * len(chunk))})",
                chunk,
            ).fetchall()
            found.extend(r for r in rows if (r[0], r[1]) in pairs)
        frame = pd.DataFrame.from_records(found, columns=columns)
        return frame.astype({c: object for c in ("userid", "show", *KEYS)} | {"start": "int64", "minutes": "int64"})
