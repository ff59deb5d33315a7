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
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import dimensions, shows
from ..metrics import MINUTES, MeasureSettings
from ..params import DATE_MAX, DATE_MIN
from ..store import Dialect, check_deadline
from .tables import DIMS, DIMS_PK, bulk_insert, exists, insert_columns, upsert

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


def _group_cummax(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """The running maximum of ``values`` within each run of equal ``group`` numbers (ascending, from 1).

    One ``maximum.accumulate`` over ``group * span + (value - low)``: each group's values lie above
    every earlier group's, so the running maximum restarts at each group (no per-group loop, no pandas).
    """
    if not len(values):
        return values
    low = int(values.min())
    span = int(values.max()) - low + 1
    if int(group[-1]) * span >= 2**62:  # not in 63 bits (absurd spans): pandas' grouped cummax
        return pd.Series(values).groupby(group).cummax().to_numpy()
    shift = group.astype(np.int64) * span
    return np.maximum.accumulate(shift + (values - low)) - shift + low


def _bits(values: np.ndarray) -> tuple[int, int]:
    """The smallest value and how many bits ``value - smallest`` needs (non-empty ``values``)."""
    low = int(values.min())
    return low, (int(values.max()) - low).bit_length()


def _run_order(user: np.ndarray, show: np.ndarray, start: np.ndarray, minutes: np.ndarray) -> np.ndarray:
    """The order of episodes by (user, show, start, minutes), ties as given.

    Where the four fit one int64 (offsets from their smallest values, each in the bits its range
    needs: a load's ids, two years of seconds and a few hundred minutes do), one stable sort of that
    key, the same order as ``np.lexsort`` of the four, at a third of its cost.
    """
    if not len(user):
        return np.zeros(0, dtype=np.intp)
    columns = (user, show, start, minutes)
    ranges = [_bits(c) for c in columns]
    if sum(bits for _, bits in ranges) > 62:
        return np.lexsort((minutes, start, show, user))
    key = np.zeros(len(user), dtype=np.int64)
    for column, (low, bits) in zip(columns, ranges, strict=True):
        key = (key << bits) | (column - low)
    return np.argsort(key, kind="stable")


def runs(user: np.ndarray, show: np.ndarray, start: np.ndarray, minutes: np.ndarray,
         max_gap_minutes: int) -> tuple[np.ndarray, np.ndarray]:
    """The runs of episodes: ``(order, run)`` -- the episodes in run order and each one's run number.

    ``user`` and ``show`` are integer codes, ``start`` seconds, ``minutes``
    whole minutes (all int64 arrays of one length).  ``order`` sorts the
    episodes by (user, show, start, minutes), ties in the given order; ``run[i]``
    is the run of episode ``order[i]``, numbered from 0 in that order.
    Vectorised: a new run starts where the (user, show) changes or the start is
    more than ``max_gap_minutes`` after the latest end of the (user, show)'s
    earlier episodes (after a break every earlier episode ended before it, so
    that is also the run's latest end).
    """
    order = _run_order(user, show, start, minutes)
    u, s, t, m = user[order], show[order], start[order], minutes[order]
    end = t + 60 * m
    new = np.ones(len(order), dtype=bool)
    if len(order) > 1:
        new[1:] = (u[1:] != u[:-1]) | (s[1:] != s[:-1])
        latest = _group_cummax(end, np.cumsum(new))
        follows = ~new[1:]
        new[1:] |= follows & (t[1:] - latest[:-1] > 60 * int(max_gap_minutes))
    return order, np.cumsum(new) - 1


def _codes(column: pd.Series) -> np.ndarray:
    """Integer codes of a viewer or show column: integer ids as they are, texts factorized."""
    if pd.api.types.is_integer_dtype(column.dtype):
        return column.to_numpy(dtype="int64")
    codes, _ = pd.factorize(column.to_numpy(dtype=object))
    return codes.astype("int64")


class Runs(NamedTuple):
    """The binge runs of some episodes (:func:`session_runs`), by episode position in the given order."""

    binged: np.ndarray  # per episode: in a session
    opened: np.ndarray  # per episode: in its (viewer, show)'s last run (its open run)
    firsts: np.ndarray  # each session's first episode (positions), in run order
    sizes: np.ndarray  # each session's episodes


def session_runs(user: np.ndarray, show: np.ndarray, start: np.ndarray, minutes: np.ndarray,
                 settings: MeasureSettings) -> Runs:
    """The sessions of episodes given as int64 arrays (``user`` and ``show`` integer codes), and which
    episodes are in one and in their pair's open run: :func:`runs`, then a few vectorised passes."""
    order, run = runs(user, show, start, minutes, settings.binge_max_gap_minutes)
    sizes = np.bincount(run) if len(run) else np.zeros(0, dtype="int64")
    in_session = sizes[run] >= int(settings.binge_min_episodes)
    binged = np.zeros(len(user), dtype=bool)
    binged[order[in_session]] = True
    starts = np.ones(len(run), dtype=bool)
    starts[1:] = run[1:] != run[:-1]
    firsts = order[starts & in_session]
    # Each position's pair's last run: the run at the pair's last position.
    opened = np.zeros(len(user), dtype=bool)
    if len(order):
        pair = user[order], show[order]
        last = np.ones(len(order), dtype=bool)
        last[:-1] = (pair[0][1:] != pair[0][:-1]) | (pair[1][1:] != pair[1][:-1])
        pair_of = np.cumsum(np.r_[0, last[:-1]])
        opened[order[run == run[np.flatnonzero(last)][pair_of]]] = True
    return Runs(binged, opened, firsts, sizes[run[starts & in_session]].astype("int64"))


def sessions_and_open(episodes: pd.DataFrame, settings: MeasureSettings) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """:func:`sessions_of` and which episodes are in their (viewer, show)'s last run (its open run)."""
    found = session_runs(_codes(episodes["userid"]), _codes(episodes["show"]),
                         episodes["start"].to_numpy(dtype="int64"), episodes["minutes"].to_numpy(dtype="int64"),
                         settings)
    sessions = episodes.iloc[found.firsts][["userid", "show", "start", *KEYS]].reset_index(drop=True)
    sessions["episodes"] = found.sizes
    return sessions, found.binged, found.opened


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


def day_of(start: np.ndarray) -> pd.Series:
    """The days (``YYYY-MM-DD`` text) of starts in seconds."""
    return pd.Series(np.asarray(start, dtype="int64").astype("datetime64[s]").astype("datetime64[D]").astype(str),
                     dtype=object)


# --------------------------------------------------------------------------- #
# The load's side: integer arrays throughout (the aggregator's codes), text only
# for the few distinct (day, dims) keys and the rows written.
# --------------------------------------------------------------------------- #

#: Bits per dims code in a batch's combined dims code (the aggregator's codes stay below 2**14).
_DIM_BITS = 21
_DIM_MASK = (1 << _DIM_BITS) - 1
_DAY_SECONDS = 86_400
#: The ordinal (:meth:`datetime.date.toordinal`) of 1970-01-01: a start's day is ``start // 86400`` after it.
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
#: A :class:`_Keys` key: day ordinal << 32 | dims id.
_KEY_BITS = 32
#: Above this many viewers in a load, the whole ``md_binge_tail`` is read at once.
_WHOLE_TAIL = 20_000


class _Episodes(NamedTuple):
    """Episodes as parallel int64 arrays: viewer (``md_users`` id), show (``md_binge_shows`` id), start
    (seconds), minutes and (day, dims) key (:class:`_Keys`)."""

    user: np.ndarray
    show: np.ndarray
    start: np.ndarray
    minutes: np.ndarray
    key: np.ndarray

    def take(self, which: np.ndarray) -> _Episodes:
        """The episodes at ``which`` (a mask or positions), in that order."""
        return _Episodes(*(a[which] for a in self))

    @classmethod
    def concat(cls, parts: Sequence[_Episodes]) -> _Episodes:
        """``parts`` one after the other (a single non-empty part as it is, not copied)."""
        filled = [p for p in parts if len(p.user)]
        if len(filled) == 1:
            return filled[0]
        return cls(*(np.concatenate([p[i] for p in parts]).astype(np.int64, copy=False)
                     for i in range(len(cls._fields))))

    @classmethod
    def empty(cls) -> _Episodes:
        """No episodes."""
        return cls(*(np.zeros(0, dtype=np.int64) for _ in cls._fields))

    def runs(self, settings: MeasureSettings) -> Runs:
        """:func:`session_runs` of these episodes."""
        return session_runs(self.user, self.show, self.start, self.minutes, settings)


class _Keys:
    """The (day, dims) keys of one write as integers: day ordinal << 32 | dims id, ``dims[id]`` the dims'
    texts.  Built from the aggregator's codes (per distinct code) and from stored rows' texts alike."""

    def __init__(self) -> None:
        self.index: dict[tuple[Any, ...], int] = {}

    def dims_ids(self, texts: Iterable[tuple[Any, ...]]) -> np.ndarray:
        """Each dims tuple's id (new tuples numbered on)."""
        index = self.index
        return np.fromiter((index.setdefault(t, len(index)) for t in texts), dtype=np.int64)

    @staticmethod
    def of(start: np.ndarray, dims_id: np.ndarray) -> np.ndarray:
        """The keys of events starting at ``start`` (seconds) with these dims ids."""
        return ((start // _DAY_SECONDS + _EPOCH_ORDINAL) << _KEY_BITS) | dims_id

    def columns(self, keys: np.ndarray) -> list[list[Any]]:
        """The keys' :data:`KEYS` columns (day, then the dims): gathered from the texts of each distinct
        day and dims tuple (no per-key Python)."""
        if not len(keys):
            return [[] for _ in KEYS]
        days, day_of = np.unique(keys >> _KEY_BITS, return_inverse=True)
        day_texts = np.array([dt.date.fromordinal(d).isoformat() for d in days.tolist()], dtype=object)
        dims = np.empty((len(self.index), len(DIMS)), dtype=object)
        dims[:] = list(self.index)
        dims_id = keys & ((1 << _KEY_BITS) - 1)
        return [day_texts[day_of.reshape(-1)].tolist(), *(dims[dims_id, j].tolist() for j in range(len(DIMS)))]


#: What :func:`_group` starts each key's slot with, per reduction.
_IDENTITY: dict[Any, int] = {np.add: 0, np.maximum: np.iinfo(np.int64).min, np.minimum: np.iinfo(np.int64).max}


def _group(keys: np.ndarray, values: Sequence[np.ndarray], how: np.ufunc = np.add,
           ) -> tuple[np.ndarray, list[np.ndarray]]:
    """Distinct ``keys`` (sorted) and ``how`` (add: sums, maximum, minimum) of ``values`` per key.

    Keys in a range not much wider than their number (user ids: small dense integers) are reduced
    into one slot per value of the range (``ufunc.at``: no sort); others by one sort.
    """
    if not len(keys):
        return keys, [np.zeros(0, dtype=np.int64) for _ in values]
    low, high = int(keys.min()), int(keys.max())
    if high - low < max(2 * len(keys), 1 << 16):
        slots = keys - low
        at = np.flatnonzero(np.bincount(slots, minlength=high - low + 1))
        out = []
        for v in values:
            reduced = np.full(high - low + 1, _IDENTITY[how], dtype=np.int64)
            how.at(reduced, slots, np.asarray(v, dtype=np.int64))
            out.append(reduced[at])
        return at + low, out
    order = np.argsort(keys)  # any order of equal keys: the reductions do not depend on it
    ordered = keys[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    return ordered[starts], [how.reduceat(np.asarray(v, dtype=np.int64)[order], starts) for v in values]


def _group_by_key(keys: np.ndarray, values: Sequence[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """:func:`_group` (sums) of :class:`_Keys` keys, through dense numbers (day offset * dims + dims id):
    the few (day, dims) keys of many events are summed without a sort."""
    if not len(keys):
        return _group(keys, values)
    day, dims = keys >> _KEY_BITS, keys & ((1 << _KEY_BITS) - 1)
    first, width = int(day.min()), int(dims.max()) + 1
    dense, sums = _group((day - first) * width + dims, values)
    return ((dense // width + first) << _KEY_BITS) | (dense % width), sums


def _among(values: np.ndarray, distinct: np.ndarray) -> np.ndarray:
    """Which ``values`` are in ``distinct`` (sorted, no repeats): a binary search, no sort of ``values``."""
    if not len(distinct):
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(distinct, values), len(distinct) - 1)
    return distinct[at] == values


def _without(every: _Episodes, some: _Episodes) -> _Episodes:
    """The episodes of ``every`` less those of ``some`` (as multisets), in the order of their first
    occurrence in ``every``, equal ones together (the order pandas' unsorted grouping gave)."""
    both = _Episodes.concat([every, some])
    counts = np.concatenate([np.ones(len(every.user), dtype=np.int64), -np.ones(len(some.user), dtype=np.int64)])
    if not len(counts):
        return both
    order = np.lexsort(tuple(reversed(both)))  # stable: each group's first position is its first occurrence
    columns = [a[order] for a in both]
    starts = np.ones(len(order), dtype=bool)
    starts[1:] = np.logical_or.reduce([c[1:] != c[:-1] for c in columns])
    at = np.flatnonzero(starts)
    left = np.add.reduceat(counts[order], at)
    firsts = order[at]
    kept = left > 0
    firsts, left = firsts[kept], left[kept]
    by_occurrence = np.argsort(firsts, kind="stable")
    return every.take(np.repeat(firsts[by_occurrence], left[by_occurrence]))


class _Dictionary:
    """A growing text -> code dictionary (batches handed over without the aggregator's codes)."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def encode(self, array: pa.Array | pa.ChunkedArray, left_out: Iterable[str] = ()) -> np.ndarray:
        """Each value's code; NULL and the values ``left_out`` -1."""
        encoded = pc.dictionary_encode(array)
        if isinstance(encoded, pa.ChunkedArray):
            encoded = encoded.combine_chunks()
        skip = set(left_out)
        index = self.index
        mapping = np.array([-1 if v is None or v in skip else index.setdefault(v, len(index))
                            for v in encoded.dictionary.to_pylist()] + [-1], dtype=np.int64)
        return mapping[pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)]

    @property
    def names(self) -> list[str]:
        """The values in code order."""
        return list(self.index)


class BingeParts:
    """The series events of one load, batch by batch, folded into the binge rollups at :meth:`write`.

    Each batch is kept as integer arrays: the :class:`~.aggregator.Aggregator`'s codes of its series
    events (viewers, titles, dims), their starts and minutes.  :meth:`write` maps titles to shows once
    per distinct title and works on integer keys throughout (numpy sorts, no grouping on text).
    """

    def __init__(self, settings: MeasureSettings) -> None:
        self.settings = settings
        # Per batch: user, title, dims code, start, minutes of its series events.
        self.parts: list[tuple[np.ndarray, ...]] = []
        # Codes of batches handed over without the aggregator's (users, titles, each dims column).
        self._own: list[_Dictionary] | None = None

    def add(self, cols: dict[str, pa.Array | pa.ChunkedArray], minutes: np.ndarray, user: np.ndarray | None = None,
            *, title: np.ndarray | None = None, dims: Sequence[np.ndarray] | None = None) -> None:
        """Keep a batch's series events.

        ``cols``: the aggregator's canonical columns; ``minutes``: NULL as 0.  ``user``, ``title`` and
        ``dims``: the aggregator's codes of every event of the batch (``md_users`` ids, -1 for no viewer's
        play; ``md_titles`` ids, -1 for none; each dims column's code), named at :meth:`write`.  Without
        them (all three), the texts are coded here and the user ids looked up at :meth:`write`.
        """
        kinds = pc.unique(cols["sessiontype"]).to_pylist()
        series = [k for k in kinds if shows.is_series(k)]
        if not series:
            return
        keep = pc.fill_null(pc.is_in(cols["sessiontype"], value_set=pa.array(series, pa.string())), False)
        picked = np.flatnonzero(keep.to_numpy(zero_copy_only=False))
        if not len(picked):
            return
        if user is None or title is None or dims is None:
            if self.parts and self._own is None:
                raise ValueError("a batch without the aggregator's codes after batches with them")
            own = self._own = self._own or [_Dictionary() for _ in range(2 + len(DIMS))]
            user = own[0].encode(cols["userid"], self.settings.exclude_users)
            title = own[1].encode(cols["title"], ("",))
            dims = [codes.encode(pc.fill_null(cols[d], "")) for codes, d in zip(own[2:], DIMS, strict=True)]
        elif self._own is not None:
            raise ValueError("a batch with the aggregator's codes after batches without them")
        index = pa.array(picked)
        start = pc.cast(pc.cast(pc.take(cols["event_date"], index), pa.timestamp("s")), pa.int64())
        code = np.zeros(len(picked), dtype=np.int64)
        for values in dims:
            chosen = np.asarray(values)[picked].astype(np.int64)
            if len(chosen) and int(chosen.max()) > _DIM_MASK:
                raise ValueError("too many distinct dimension values for the binge rollups")
            code = (code << _DIM_BITS) | chosen
        self.parts.append((np.asarray(user)[picked].astype(np.int64), np.asarray(title)[picked].astype(np.int64),
                           code, start.to_numpy(zero_copy_only=False), minutes[picked].astype(np.int64)))

    def write(self, conn: Any, dialect: Dialect, *, dims: Sequence[Sequence[str]] | None = None,
              titles: Mapping[int, str] | None = None) -> None:
        """Fold the load's series events into the binge rollups (on the loading transaction, after its inserts).

        ``dims``: each dims column's values by code, ``titles``: each title id's title (the aggregator's
        dictionaries, as they stand after the load; not needed for batches added without codes).
        """
        if not self.parts:
            return
        user, title, code, start, minutes = (np.concatenate([p[i] for p in self.parts]) for i in range(5))
        self.parts = []
        if self._own is not None:
            user = self._user_ids(conn, self._own[0].names, user)
            titles = dict(enumerate(self._own[1].names))
            dims = [d.names for d in self._own[2:]]
        if dims is None or titles is None:
            raise ValueError("BingeParts.write needs the dims and titles the codes stand for")
        keys = _Keys()
        # Each distinct dims code's texts, then every event's (day, dims) key.
        codes, inverse = np.unique(code, return_inverse=True)
        shifts = [_DIM_BITS * (len(DIMS) - 1 - i) for i in range(len(DIMS))]
        dims_id = keys.dims_ids(
            tuple(names[(c >> shift) & _DIM_MASK] for names, shift in zip(dims, shifts, strict=True))
            for c in codes.tolist())
        key = _Keys.of(start, dims_id[inverse.reshape(-1)])
        # Every series event's minutes count in md_binge_day; episodes are plays with a title and a viewer.
        series_keys, (series_minutes,) = _group_by_key(key, [minutes])
        picked = np.flatnonzero((user >= 0) & (title >= 0) & (minutes >= int(self.settings.min_minutes)))
        parts: list[tuple[np.ndarray, ...]] = [(series_keys, series_minutes, np.zeros(len(series_keys), dtype=np.int64),
                  np.zeros(len(series_keys), dtype=np.int64))]
        if len(picked):
            named = named_shows(conn, dialect)
            show_ids, show = self._shows(conn, dialect, title[picked], titles, named)
            episodes = _Episodes(user[picked], show, start[picked], minutes[picked], key[picked])
            parts += self._fold(conn, dialect, episodes, keys, show_ids, named)
        day_keys, (series_sum, binge_sum, sessions) = _group_by_key(
            np.concatenate([p[0] for p in parts]), [np.concatenate([p[i] for p in parts]) for i in (1, 2, 3)])
        bulk_insert(
            conn, dialect, "md_binge_day", (*KEYS, "series_minutes", "binge_minutes", "sessions"),
            list(zip(*keys.columns(day_keys), series_sum.tolist(), binge_sum.tolist(), sessions.tolist(),
                     strict=True)),
            on_conflict=(f"(day, {DIMS_PK}) DO UPDATE SET "
                         "series_minutes = md_binge_day.series_minutes + excluded.series_minutes, "
                         "binge_minutes = md_binge_day.binge_minutes + excluded.binge_minutes, "
                         "sessions = md_binge_day.sessions + excluded.sessions"),
        )

    def _shows(self, conn: Any, dialect: Dialect, title: np.ndarray, titles: Mapping[int, str],
               named: dict[str, str]) -> tuple[dict[str, int], np.ndarray]:
        """Every show's id, and each episode's (by its title id): the rule applied once per distinct title,
        then a lookup table indexed by title id (title ids are small dense integers: no sort)."""
        first = np.full(int(title.max()) + 1, len(title), dtype=np.int64)
        np.minimum.at(first, title, np.arange(len(title), dtype=np.int64))
        distinct = np.flatnonzero(first < len(title))
        names = [shows.show_of(titles[t], shows.SERIES, named=named) for t in distinct.tolist()]
        # New shows are numbered in the order the episodes first name them.
        appearing = sorted(zip(first[distinct].tolist(), names, strict=True))
        ids = self._show_ids(conn, dialect, list(dict.fromkeys(n for _, n in appearing)))
        by_title = np.zeros(len(first), dtype=np.int64)
        by_title[distinct] = [ids[n] for n in names]
        return ids, by_title[title]

    def _fold(self, conn: Any, dialect: Dialect, episodes: _Episodes, keys: _Keys, show_ids: dict[Any, int],
              named: dict[str, str]) -> list[tuple[np.ndarray, ...]]:
        """Fold the load's episodes into ``md_binges``, ``md_binge_viewers`` and ``md_binge_tail``; returns
        ``md_binge_day``'s differences as (keys, series minutes, binge minutes, sessions) parts."""
        pair = (episodes.user << 32) | episodes.show
        # The load's viewers and each one's latest episode (one sort of the episodes by viewer).
        viewers, (newest,) = _group(episodes.user, [episodes.start], np.maximum)
        stored_tails = self._tails(conn, viewers, keys)
        horizon_users, horizons = self._horizons(conn, viewers)
        # Pairs with an episode of this load not after their last stored one (their open run's, or
        # without one, the viewer's latest episode of any show): re-read from movies.
        pairs, (first,) = _group(pair, [episodes.start], np.minimum)
        stored_pair = (stored_tails.user << 32) | stored_tails.show
        touched = _among(stored_pair, pairs)
        tails, tail_pair = stored_tails.take(touched), stored_pair[touched]
        bound = np.zeros(len(pairs), dtype=np.int64)
        has = np.zeros(len(pairs), dtype=bool)
        if len(horizon_users):
            at = np.minimum(np.searchsorted(horizon_users, pairs >> 32), len(horizon_users) - 1)
            has = horizon_users[at] == pairs >> 32
            bound[has] = horizons[at[has]]
        tailed, (last,) = _group(tail_pair, [tails.start], np.maximum)
        at = np.searchsorted(pairs, tailed)
        bound[at], has[at] = last, True
        older = pairs[has & (first <= bound)]
        slow = _among(pair, older)
        old = tails.take(~_among(tail_pair, older)) if len(older) else tails
        both = _Episodes.concat([old, episodes.take(~slow) if slow.any() else episodes])
        if len(older):
            every = self._history(conn, self._user_texts(conn, np.unique(older >> 32)), older, show_ids, named, keys)
            old = _Episodes.concat([old, _without(every, episodes.take(slow))])
            both = _Episodes.concat([both, every])
        old_runs, runs_ = old.runs(self.settings), both.runs(self.settings)
        # The sessions the old episodes made (the open runs' sessions; every session of a re-read pair)
        # make way for those of all the episodes.
        old_firsts = old.take(old_runs.firsts)
        if len(old_firsts.user):
            conn.executemany("DELETE FROM md_binges WHERE user_id = ? AND show_id = ? AND start = ?",
                             list(zip(old_firsts.user.tolist(), old_firsts.show.tolist(), old_firsts.start.tolist(),
                                      strict=True)))
        # New sessions and tails never conflict: written as columns (PostgreSQL: one CSV COPY, no Python rows).
        firsts = both.take(runs_.firsts)
        if len(firsts.user):
            insert_columns(conn, dialect, "md_binges", {
                "user_id": firsts.user, "show_id": firsts.show, "start": firsts.start,
                **dict(zip(KEYS, keys.columns(firsts.key), strict=True)), "episodes": runs_.sizes})
        # Each viewer's latest episode; each touched pair's open run is its new tail, kept (as the
        # viewer's other tails) while a later episode could still continue it.
        latest_users, latest = viewers, newest
        if len(horizon_users):  # every stored one is a viewer's of this load
            at = np.searchsorted(latest_users, horizon_users)
            latest[at] = np.maximum(latest[at], horizons)
        # Only the viewers with a stored row (the horizons read) can conflict: the others are copied straight in.
        upsert(conn, dialect, "md_binge_viewers", ("user_id", "latest"),
               list(zip(latest_users.tolist(), latest.tolist(), strict=True)),
               on_conflict="(user_id) DO UPDATE SET latest = excluded.latest",
               stored={(u,) for u in horizon_users.tolist()}, key_columns=1)
        if len(stored_tails.user):
            conn.executemany("DELETE FROM md_binge_tail WHERE user_id = ?",
                             [(u,) for u in np.unique(stored_tails.user).tolist()])
        # In (viewer, show, start, minutes) order, ties as they were: each pair's rows together (its run's
        # end is one reduction), the index takes the rows in order (cheaper than scattered), and a later
        # load reads equal episodes back in the same order.
        tail = _Episodes.concat([stored_tails.take(~touched), both.take(runs_.opened)])
        tail = tail.take(_run_order(tail.user, tail.show, tail.start, tail.minutes))
        if len(tail.user):
            tail_pair = (tail.user << 32) | tail.show
            firsts_of_pair = np.flatnonzero(np.concatenate(([True], tail_pair[1:] != tail_pair[:-1])))
            run_end = np.repeat(np.maximum.reduceat(tail.start + 60 * tail.minutes, firsts_of_pair),
                                np.diff(np.append(firsts_of_pair, len(tail_pair))))
            latest_of = np.zeros(int(latest_users[-1]) + 1, dtype=np.int64)  # user ids: small dense integers
            latest_of[latest_users] = latest
            tail = tail.take(run_end + 60 * int(self.settings.binge_max_gap_minutes) >= latest_of[tail.user])
        if len(tail.user):
            insert_columns(conn, dialect, "md_binge_tail", {
                "user_id": tail.user, "show_id": tail.show, "start": tail.start, "minutes": tail.minutes,
                **dict(zip(DIMS, keys.columns(tail.key)[1:], strict=True))})
        binged, old_binged = both.take(runs_.binged), old.take(old_runs.binged)
        zeros = [np.zeros(n, dtype=np.int64) for n in (len(binged.key), len(old_binged.key), len(firsts.key),
                                                        len(old_firsts.key))]
        ones = [np.ones(len(firsts.key), dtype=np.int64), -np.ones(len(old_firsts.key), dtype=np.int64)]
        return [(binged.key, zeros[0], binged.minutes, zeros[0]),
                (old_binged.key, zeros[1], -old_binged.minutes, zeros[1]),
                (firsts.key, zeros[2], zeros[2], ones[0]),
                (old_firsts.key, zeros[3], zeros[3], ones[1])]

    @staticmethod
    def _user_ids(conn: Any, names: list[str], codes: np.ndarray) -> np.ndarray:
        """The ``md_users`` ids of viewers coded here (``names`` by code; -1 stays -1), for batches added
        without the aggregator's codes."""
        used = sorted({names[c] for c in np.unique(codes[codes >= 0]).tolist()})
        ids: dict[str, int] = {}
        for i in range(0, len(used), _CHUNK):
            chunk = used[i:i + _CHUNK]
            ids.update((str(n), int(u)) for u, n in conn.execute(
                f"SELECT id, userid FROM md_users WHERE userid IN ({', '.join('?' * len(chunk))})", chunk).fetchall())
        missing = set(used) - ids.keys()
        if missing:
            raise ValueError(f"viewers without an md_users id: {sorted(missing)[:5]}")
        table = np.array([ids.get(n, -1) for n in names] + [-1], dtype=np.int64)
        return table[codes]

    @staticmethod
    def _user_texts(conn: Any, users: np.ndarray) -> dict[int, Any]:
        """The user ids (text) of ``md_users`` ids."""
        found: dict[int, Any] = {}
        ids = users.tolist()
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i:i + _CHUNK]
            found.update((int(u), n) for u, n in conn.execute(
                f"SELECT id, userid FROM md_users WHERE id IN ({', '.join('?' * len(chunk))})", chunk).fetchall())
        return found

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

    def _tails(self, conn: Any, users: np.ndarray, keys: _Keys) -> _Episodes:
        """The stored open runs (``md_binge_tail``) of ``users``' pairs (sorted), in the table's order."""
        found = self._select_users(
            conn, f"SELECT user_id, show_id, start, minutes, {DIMS_PK} FROM md_binge_tail", users)
        if not found:
            return _Episodes.empty()
        columns = list(zip(*found, strict=True))
        user, show, start, minutes = (np.asarray(c, dtype=np.int64) for c in columns[:4])
        tails = _Episodes(user, show, start, minutes, _Keys.of(start, keys.dims_ids(zip(*columns[4:], strict=True))))
        return tails.take(_among(user, users))

    def _horizons(self, conn: Any, users: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Of ``users`` (sorted), those with a stored latest episode (``md_binge_viewers``), sorted, and its start."""
        found = self._select_users(conn, "SELECT user_id, latest FROM md_binge_viewers", users)
        ids = np.array([int(u) for u, _ in found], dtype=np.int64)
        latest = np.array([int(v) for _, v in found], dtype=np.int64)
        order = np.argsort(ids, kind="stable")
        ids, latest = ids[order], latest[order]
        wanted = _among(ids, users)
        return ids[wanted], latest[wanted]

    def _history(self, conn: Any, users: dict[int, Any], pairs: np.ndarray, ids: dict[Any, int],
                 named: dict[str, str], keys: _Keys) -> _Episodes:
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
        start = frame["start"].to_numpy(dtype="int64")[keep]
        dims = zip(*(frame[d].to_numpy(dtype=object)[keep].tolist() for d in DIMS), strict=True)
        return _Episodes(frame["user_id"].to_numpy(dtype="int64")[keep], show_ids[keep], start,
                         frame["minutes"].to_numpy(dtype="int64")[keep], _Keys.of(start, keys.dims_ids(dims)))
