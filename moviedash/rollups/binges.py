"""The binge rollups (issue 15): each (viewer, show)'s open run, the sessions, and sums per (day, values).

The rule is :mod:`moviedash.binge`'s; this module holds its pure core (:func:`runs`,
:func:`sessions_of`), used by the raw path and by these rollups alike, so both
give the same numbers.  Four tables, keyed by integer ids (viewers: ``md_users``
ids, the aggregator's user dictionary; shows: ``md_binge_shows``):

- ``md_binge_shows``: each show's id and name;
- ``md_binge_viewers``: each viewer's latest episode start (any show);
- ``md_binge_tail``: per (viewer, show), only the episodes of its *open run* (the
  last one, which a later episode may still extend): start (seconds; the day is
  its date), minutes and values; indexed by (viewer, show).  Earlier runs are
  closed: nothing later can change them.  An open run is dropped once it ended
  more than ``binge_max_gap_minutes`` before its viewer's latest episode: an
  episode after that latest one starts a run of its own, and one before it is
  an older event (below);
- ``md_binges``: each binge session: viewer, show, its first episode's start,
  day and values, and its episodes (for the viewers and the top shows);
- ``md_binge_day``: per (day, session type, device, market), the series minutes
  (every series event), the binge minutes (of its events in a session) and the
  sessions started -- all additive, so a per-period answer sums these rows alone.

(Their DDL is in :func:`.tables.schema`, with the other rollups'.)

**Incremental, at each load** (:class:`BingeParts`, fed by the
:class:`~.aggregator.Aggregator`): the load's series minutes are added to
``md_binge_day``; for the (viewer, show) pairs the load has episodes of, the
pairs' open runs are read from ``md_binge_tail``.  A pair whose new episodes all
start after its last stored episode continues from its open run alone: its runs
are found over the open run and the new episodes, the differences of binge
minutes and sessions go into ``md_binge_day``, the open run's session (if it was
one) is replaced by the sessions found and the pair's last run is its new tail.
So **a load of new events never rescans history**.  A load with events older
than a viewer's last stored episode of that show (its open run's, or without a
stored open run, the viewer's latest episode of any show) re-reads that viewer's
episodes of the show from ``movies`` (one pass over the series events for all such pairs
of the load, this load's rows included): the pair's old episodes are those less
the load's, every session of the pair is replaced and the differences are
exact, as for the others.  A settings change rebuilds every rollup (these too).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import dimensions, shows
from ..metrics import MINUTES, MeasureSettings
from ..params import DATE_MAX, DATE_MIN
from ..store import Dialect, check_deadline
from .tables import DIMS, DIMS_PK, bulk_insert, exists

#: The episodes' and sessions' key columns (the day and the filter values of the event or first episode).
KEYS: tuple[str, ...] = ("day", *DIMS)
#: How many viewers one ``IN (...)`` reads at a time.
_CHUNK = 500


_SERIES_LIKE = "%SERIES%"


def _timestamps(values: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Seconds since 1970 (int64) and whether each stored ``event_date`` is a date at all.

    SQLite stores ``YYYY-MM-DD HH:MM:SS`` text and PostgreSQL a timestamp; both
    are read as the same text first (``str`` of a timestamp is that text), so both
    backends give the same seconds.  numpy parses a whole column of such text at
    once; only a column holding something else is parsed value by value.
    """
    text = np.array([str(v)[:19] for v in values], dtype=object)
    try:
        seconds = text.astype("datetime64[s]").astype("int64")
        return seconds, np.ones(len(text), dtype=bool)
    except ValueError:
        parsed = pd.to_datetime(pd.Series(text, dtype=object), format="ISO8601", errors="coerce")
        ok = parsed.notna().to_numpy()
        seconds = np.zeros(len(text), dtype="int64")
        seconds[ok] = parsed[ok].to_numpy(dtype="datetime64[s]").astype("int64")
        return seconds, ok


def read_series(conn: Any) -> tuple[pd.DataFrame, np.ndarray]:
    """The database's dated series events (``day``, the dimensions, ``userid``, ``title``, ``minutes``)
    and each one's start in seconds."""
    # The served dates only (as the raw answers' dated queries); the end day whole ("before the next day").
    params = [DATE_MIN.isoformat(), (DATE_MAX + dt.timedelta(days=1)).isoformat(), _SERIES_LIKE]
    # LIKE narrows the rows read; the exact rule (any case, surrounding spaces) is shows.is_series.
    sql = (f"SELECT event_date, userid, title, sessiontype, device, market, COALESCE({MINUTES}, 0) "
           "FROM movies WHERE event_date IS NOT NULL AND event_date >= ? AND event_date < ? "
           "AND UPPER(sessiontype) LIKE ?")
    rows = conn.execute(sql, params).fetchall()
    check_deadline(conn)
    names = ["event_date", "userid", "title", "sessiontype", "device", "market", "minutes"]
    columns = [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in names]
    del rows
    # Object columns (not pandas' Arrow strings), mapped through their few distinct values.
    data = {n: pd.Series(c, dtype="int64" if n == "minutes" else object) for n, c in zip(names, columns, strict=True)}
    kinds = data["sessiontype"]
    keep = np.array(kinds.map({k: shows.is_series(k) for k in kinds.unique()}), dtype=bool)
    seconds, dated = _timestamps(columns[0])
    keep &= dated
    frame = pd.DataFrame({n: data[n][keep].reset_index(drop=True) for n in names[1:]})
    frame["day"] = pd.Series(seconds[keep].astype("datetime64[s]").astype("datetime64[D]").astype(str), dtype=object)
    for column in dimensions.DIMS:  # '' for NULL, as the rollups store it: both are the unknown bucket
        values = frame[column]
        frame[column] = values.map({v: "" if v is None else str(v) for v in values.unique()}).astype(object)
    return frame, seconds[keep]


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


def _codes(column: pd.Series) -> np.ndarray:
    """Integer codes of a viewer or show column: integer ids as they are, texts factorized."""
    if pd.api.types.is_integer_dtype(column.dtype):
        return column.to_numpy(dtype="int64")
    codes, _ = pd.factorize(column.to_numpy(dtype=object))
    return codes.astype("int64")


def sessions_and_open(episodes: pd.DataFrame, settings: MeasureSettings) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """:func:`sessions_of` and which episodes are in their (viewer, show)'s last run (its open run)."""
    user_codes, show_codes = _codes(episodes["userid"]), _codes(episodes["show"])
    order, run = runs(user_codes, show_codes,
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
    # Each position's pair's last run: the run at the pair's last position.
    opened = np.zeros(len(episodes), dtype=bool)
    if len(order):
        pair = user_codes[order], show_codes[order]
        last = np.ones(len(order), dtype=bool)
        last[:-1] = (pair[0][1:] != pair[0][:-1]) | (pair[1][1:] != pair[1][:-1])
        pair_of = np.cumsum(np.r_[0, last[:-1]])
        opened[order[run == run[np.flatnonzero(last)][pair_of]]] = True
    return sessions, binged, opened


def sessions_of(episodes: pd.DataFrame, settings: MeasureSettings) -> tuple[pd.DataFrame, np.ndarray]:
    """The binge sessions of ``episodes`` (columns ``userid``, ``show``, ``start``, ``minutes`` and
    :data:`KEYS`) and whether each episode (in the frame's order) is in one.

    The sessions: ``userid``, ``show``, ``start`` and :data:`KEYS` of the first episode, ``episodes``.
    """
    sessions, binged, _ = sessions_and_open(episodes, settings)
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


def _per_key(frame: pd.DataFrame, column: str | None = None) -> pd.Series:
    """``column`` summed (or the rows counted) per :data:`KEYS`."""
    if column is None:
        return frame.groupby(list(KEYS)).size().astype("int64")
    return frame.groupby(list(KEYS))[column].sum().astype("int64")


def _rows(frame: pd.DataFrame, columns: tuple[str, ...]) -> list[tuple[Any, ...]]:
    """The rows of ``frame``'s ``columns`` as tuples of Python values (numpy integers as ``int``)."""
    return list(zip(*(frame[c].tolist() for c in columns), strict=True))


def day_of(start: np.ndarray) -> pd.Series:
    """The days (``YYYY-MM-DD`` text) of starts in seconds."""
    return pd.Series(np.asarray(start, dtype="int64").astype("datetime64[s]").astype("datetime64[D]").astype(str),
                     dtype=object)


def _without(every: pd.DataFrame, some: pd.DataFrame) -> pd.DataFrame:
    """The episodes of ``every`` less those of ``some`` (as multisets)."""
    columns = ["userid", "show", "start", "minutes", *DIMS]
    both = pd.concat([every[columns].assign(n=1), some[columns].assign(n=-1)], ignore_index=True)
    counts = both.groupby(columns, sort=False)["n"].sum()
    counts = counts[counts > 0]
    left = counts.index.to_frame(index=False)
    left = left.iloc[np.repeat(np.arange(len(counts)), counts.to_numpy())].reset_index(drop=True)
    left["day"] = day_of(left["start"].to_numpy())
    return left


#: Columns of an episodes frame of the rollups (``userid`` and ``show`` are integer ids).
_EPISODE_COLUMNS: tuple[str, ...] = ("userid", "show", "start", "minutes", *KEYS)
#: Above this many viewers in a load, the whole ``md_binge_tail`` is read at once.
_WHOLE_TAIL = 20_000


class BingeParts:
    """The series events of one load, batch by batch, folded into the binge rollups at :meth:`write`."""

    def __init__(self, settings: MeasureSettings) -> None:
        self.settings = settings
        self.parts: list[pd.DataFrame] = []

    def add(self, cols: dict[str, pa.Array | pa.ChunkedArray], minutes: np.ndarray,
            user: np.ndarray | None = None) -> None:
        """Keep a batch's series events (``cols``: the aggregator's canonical columns; ``minutes``, NULL as 0;
        ``user``: their ``md_users`` ids, the aggregator's codes; without them, looked up at :meth:`write`)."""
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
            "user_id": (np.full(len(picked), -1, dtype="int64") if user is None
                        else np.asarray(user)[picked].astype("int64")),
            "title": pd.Series(text["title"], dtype=object),
            "start": dates.astype("datetime64[s]").astype("int64"),
            "minutes": minutes[picked].astype("int64"),
            "day": pd.Series(dates.astype("U10"), dtype=object),
        })
        for d in DIMS:
            frame[d] = pd.Series(text[d], dtype=object)
        self.parts.append(frame)

    def write(self, conn: Any, dialect: Dialect) -> None:
        """Fold the load's series events into the binge rollups (on the loading transaction, after its inserts)."""
        if not self.parts:
            return
        new = pd.concat(self.parts, ignore_index=True)
        self.parts = []
        named = named_shows(conn, dialect)
        by_title = {t: shows.show_of(t, "SERIES", named=named) for t in new["title"].dropna().unique()}
        new["show"] = new["title"].map(by_title).astype(object)
        series = _per_key(new, "minutes")
        delta = pd.DataFrame({"binge_minutes": 0, "sessions": 0}, index=series.index, dtype="int64")
        picked = new[episode_mask(new, self.settings)]
        if len(picked) and (picked["user_id"] < 0).any():
            picked = picked.assign(user_id=self._user_ids(conn, picked))
        if len(picked):
            ids = self._show_ids(conn, dialect, picked["show"].unique().tolist())
            episodes = pd.DataFrame({
                "userid": picked["user_id"].to_numpy(dtype="int64"),
                "show": picked["show"].map(ids).to_numpy(dtype="int64"),
                "start": picked["start"].to_numpy(dtype="int64"),
                "minutes": picked["minutes"].to_numpy(dtype="int64"),
                # object columns (pandas would infer its Arrow strings from object arrays of text)
                **{k: pd.Series(picked[k].to_numpy(dtype=object), dtype=object) for k in KEYS},
            })
            pair = episodes["userid"].to_numpy() << 32 | episodes["show"].to_numpy()
            viewers = episodes["userid"].unique()
            stored_tails = self._tails(conn, viewers)
            horizons = self._horizons(conn, viewers)
            stored_pair = (stored_tails["userid"].to_numpy(dtype="int64") << 32
                           | stored_tails["show"].to_numpy(dtype="int64"))
            touched = np.isin(stored_pair, pair) if len(stored_pair) else np.zeros(0, dtype=bool)
            tails, tail_pair = stored_tails[touched], stored_pair[touched]
            # Pairs with an episode of this load not after their last stored one (their open run's, or
            # without one, the viewer's latest episode of any show): re-read from movies.
            first = pd.Series(episodes["start"].to_numpy(), index=pair).groupby(level=0).min()
            last = pd.Series(tails["start"].to_numpy(), index=tail_pair).groupby(level=0).max()
            bound = pd.Series(horizons.reindex(first.index.to_numpy() >> 32).to_numpy(), index=first.index)
            bound.loc[last.index] = last
            older = first.index[(first <= bound).to_numpy()].to_numpy(dtype="int64")
            slow = np.isin(pair, older) if len(older) else np.zeros(len(pair), dtype=bool)
            old = tails[~np.isin(tail_pair, older)] if len(older) else tails
            both = pd.concat([old, episodes[~slow]], ignore_index=True)
            if len(older):
                users = dict(zip(picked["user_id"].to_numpy()[slow].tolist(),
                                 picked["userid"].to_numpy()[slow].tolist(), strict=True))
                every = self._history(conn, dialect, users, older, ids, named)
                old = pd.concat([old, _without(every, episodes[slow])], ignore_index=True)
                both = pd.concat([both, every], ignore_index=True)
            old = old[list(_EPISODE_COLUMNS)].reset_index(drop=True)
            both = both[list(_EPISODE_COLUMNS)].reset_index(drop=True)
            old_sessions, old_binged = sessions_of(old, self.settings)
            sessions, binged, opened = sessions_and_open(both, self.settings)
            delta = delta.add(pd.DataFrame({
                "binge_minutes": _per_key(both[binged], "minutes"),
                "sessions": _per_key(sessions)}), fill_value=0)
            delta = delta.sub(pd.DataFrame({
                "binge_minutes": _per_key(old[old_binged], "minutes"),
                "sessions": _per_key(old_sessions)}), fill_value=0).fillna(0).astype("int64")
            # The sessions the old episodes made (the open runs' sessions; every session of a re-read pair)
            # make way for those of all the episodes.
            if len(old_sessions):
                conn.executemany("DELETE FROM md_binges WHERE user_id = ? AND show_id = ? AND start = ?",
                                 _rows(old_sessions, ("userid", "show", "start")))
            columns = ("userid", "show", "start", *KEYS, "episodes")
            bulk_insert(conn, dialect, "md_binges", ("user_id", "show_id", "start", *KEYS, "episodes"),
                        _rows(sessions, columns))
            # Each viewer's latest episode; each touched pair's open run is its new tail, kept (as the
            # viewer's other tails) while a later episode could still continue it.
            latest = pd.concat([horizons, pd.Series(episodes["start"].to_numpy(), index=episodes["userid"].to_numpy())
                                .groupby(level=0).max()]).groupby(level=0).max()
            bulk_insert(conn, dialect, "md_binge_viewers", ("user_id", "latest"),
                        list(zip(latest.index.tolist(), latest.tolist(), strict=True)),
                        on_conflict="(user_id) DO UPDATE SET latest = excluded.latest")
            if len(stored_tails):
                conn.executemany("DELETE FROM md_binge_tail WHERE user_id = ?",
                                 [(int(u),) for u in stored_tails["userid"].unique().tolist()])
            tail = pd.concat([stored_tails[~touched], both[opened]], ignore_index=True)
            tail_ends = (tail["start"] + 60 * tail["minutes"]).to_numpy(dtype="int64")
            tail_key = tail["userid"].to_numpy(dtype="int64") << 32 | tail["show"].to_numpy(dtype="int64")
            run_end = pd.Series(tail_ends).groupby(tail_key).transform("max").to_numpy(dtype="int64")
            keep = run_end + 60 * int(self.settings.binge_max_gap_minutes) >= latest.reindex(
                tail["userid"].to_numpy()).to_numpy(dtype="int64")
            bulk_insert(conn, dialect, "md_binge_tail", ("user_id", "show_id", "start", "minutes", *DIMS),
                        _rows(tail[keep], ("userid", "show", "start", "minutes", *DIMS)))
        sums = pd.DataFrame({"series_minutes": series}).join(delta, how="outer").fillna(0).astype("int64")
        rows = [(*key, s, b, n) for key, s, b, n in zip(
            sums.index, sums["series_minutes"].tolist(), sums["binge_minutes"].tolist(), sums["sessions"].tolist(),
            strict=True)]
        bulk_insert(
            conn, dialect, "md_binge_day", (*KEYS, "series_minutes", "binge_minutes", "sessions"), rows,
            on_conflict=(f"(day, {DIMS_PK}) DO UPDATE SET "
                         "series_minutes = md_binge_day.series_minutes + excluded.series_minutes, "
                         "binge_minutes = md_binge_day.binge_minutes + excluded.binge_minutes, "
                         "sessions = md_binge_day.sessions + excluded.sessions"),
        )

    @staticmethod
    def _user_ids(conn: Any, picked: pd.DataFrame) -> np.ndarray:
        """The ``md_users`` ids of ``picked``'s viewers (batches added without them)."""
        names = sorted({str(u) for u in picked["userid"]})
        ids: dict[str, int] = {}
        for i in range(0, len(names), _CHUNK):
            chunk = names[i:i + _CHUNK]
            ids.update((str(n), int(u)) for u, n in conn.execute(
                f"SELECT id, userid FROM md_users WHERE userid IN ({', '.join('?' * len(chunk))})", chunk).fetchall())
        missing = set(names) - ids.keys()
        if missing:
            raise ValueError(f"viewers without an md_users id: {sorted(missing)[:5]}")
        return np.array([ids[str(u)] for u in picked["userid"]], dtype="int64")

    @staticmethod
    def _show_ids(conn: Any, dialect: Dialect, names: list[Any]) -> dict[Any, int]:
        """Every show's id (``md_binge_shows``), ``names`` new to it added."""
        ids = {str(name): int(i) for i, name in conn.execute("SELECT id, show FROM md_binge_shows").fetchall()}
        added = [n for n in names if n not in ids]
        if added:
            top = max(ids.values(), default=-1) + 1
            rows = [(top + k, n) for k, n in enumerate(added)]
            bulk_insert(conn, dialect, "md_binge_shows", ("id", "show"), rows)
            ids.update({n: i for i, n in rows})
        return ids

    @staticmethod
    def _select_users(conn: Any, select: str, users: np.ndarray) -> list[tuple[Any, ...]]:
        """The rows of ``select`` (a ``SELECT`` with a ``user_id`` column) of ``users``: in chunks, or the
        whole (small) table for many users."""
        if len(users) > _WHOLE_TAIL:
            return list(conn.execute(select).fetchall())
        found: list[tuple[Any, ...]] = []
        ids = sorted(int(u) for u in users)
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i:i + _CHUNK]
            found.extend(conn.execute(f"{select} WHERE user_id IN ({', '.join('?' * len(chunk))})",
                                      chunk).fetchall())
        return found

    def _tails(self, conn: Any, users: np.ndarray) -> pd.DataFrame:
        """The stored open runs (``md_binge_tail``) of ``users``' pairs."""
        columns = ["user_id", "show_id", "start", "minutes", *DIMS]
        found = self._select_users(conn, f"SELECT {', '.join(columns)} FROM md_binge_tail", users)
        frame = pd.DataFrame.from_records(found, columns=["userid", "show", "start", "minutes", *DIMS])
        frame = frame.astype({"userid": "int64", "show": "int64", "start": "int64", "minutes": "int64"}
                             | {d: object for d in DIMS})
        frame = frame[np.isin(frame["userid"].to_numpy(), users)].reset_index(drop=True)
        frame["day"] = day_of(frame["start"].to_numpy())
        return frame

    def _horizons(self, conn: Any, users: np.ndarray) -> pd.Series:
        """Each of ``users``' latest episode start (``md_binge_viewers``), by user id."""
        found = self._select_users(conn, "SELECT user_id, latest FROM md_binge_viewers", users)
        latest = pd.Series([int(v) for _, v in found], index=[int(u) for u, _ in found], dtype="int64")
        return latest[np.isin(latest.index.to_numpy(), users)]

    def _history(self, conn: Any, dialect: Dialect, users: dict[int, Any], pairs: np.ndarray,
                 ids: dict[Any, int], named: dict[str, str]) -> pd.DataFrame:
        """Every episode in ``movies`` (this load's too) of ``pairs`` (user id << 32 | show id) of ``users``
        (id -> user id text): one pass over the series events."""
        frame, seconds = read_series(conn)
        frame["start"] = seconds
        texts = {str(t): i for i, t in users.items()}
        user_ids = frame["userid"].map(lambda u: texts.get(str(u), -1) if u is not None else -1)
        frame = frame[(user_ids >= 0).to_numpy()].copy()
        frame["user_id"] = user_ids[user_ids >= 0].to_numpy(dtype="int64")
        by_title = {t: shows.show_of(t, "SERIES", named=named) for t in frame["title"].dropna().unique()}
        frame["show"] = frame["title"].map(by_title).astype(object)
        frame = frame[episode_mask(frame, self.settings)]
        show_ids = frame["show"].map(lambda s: ids.get(s, -1)).to_numpy(dtype="int64")
        keep = np.isin(frame["user_id"].to_numpy(dtype="int64") << 32 | show_ids, pairs) & (show_ids >= 0)
        found = pd.DataFrame({
            "userid": frame["user_id"].to_numpy(dtype="int64")[keep], "show": show_ids[keep],
            "start": frame["start"].to_numpy(dtype="int64")[keep],
            "minutes": frame["minutes"].to_numpy(dtype="int64")[keep],
            **{k: pd.Series(frame[k].to_numpy(dtype=object)[keep], dtype=object) for k in KEYS},
        })
        return found
