"""Streaming aggregation: the loader and the demo hand over their new rows' columns as they insert them."""
from __future__ import annotations

import itertools
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyroaring import BitMap

from .. import metrics
from .. import settings as data_settings
from ..metrics import UNITS, MeasureSettings
from ..store import Dialect, add_month_partitions, dialect_of
from . import showmap
from .binges import BingeParts
from .firstseen import FirstSeen
from .packing import pack_code_runs, pack_column_rows, pack_pairs, unpack_codes, unpack_columns, unpack_pairs
from .tables import (
    ABOUT_COUNTS,
    BIN_ARRAYS,
    BIN_COLUMNS,
    DAY_TABLES,
    DECILE_UNITS,
    DECILES,
    DIMS,
    DIMS_PK,
    ENGAGEMENT_COLUMNS,
    SCHEMA_VERSION,
    TITLE_ENGAGEMENT_COLUMNS,
    exists,
    insert_columns,
    meta,
    pack,
    pack_rows,
    position,
    unpack,
    upsert,
)
from .title_numbers import TitleNumbers
from .viewer_sums import ViewerSums

# --------------------------------------------------------------------------- #
# Streaming aggregation: the loader and the demo hand over their new rows'
# columns batch by batch; only the (far fewer) aggregated rows reach SQLite.
# --------------------------------------------------------------------------- #

#: The columns a batch must hand to :meth:`Aggregator.add`.
FED_COLUMNS: tuple[str, ...] = (
    "event_date", "userid", *DIMS, "title", "totalminuteswatched", "viewpercentage", "runningtime", "errorperception",
    "seasonnumber", "episodenumber",
)
#: Fed columns that are integers and reals (the rest are text).
_INTEGER_COLUMNS = ("totalminuteswatched", "runningtime", "seasonnumber", "episodenumber")
_REAL_COLUMNS = ("viewpercentage", "errorperception")
_FULL = 100 * UNITS
_ANONYMOUS = data_settings.ANONYMOUS_USER
_DAY_BITS, _DIM_BITS = 21, 14  # key = day << 42 | sessiontype << 28 | device << 14 | market
_TITLE_BITS = 31  # a title entry = dense key << 31 | title id
_TITLE_MASK = (1 << _TITLE_BITS) - 1
_USER_MASK = (1 << 32) - 1  # a title viewer pair = title id << 32 | user id
_CODE_BITS = 4  # a decile entry = title entry << 4 | decile code
_DENSE_LIMIT = 1 << (63 - _TITLE_BITS - _CODE_BITS)
#: The per-title columns summed per (key, title): plays, minutes, then the engagement sums.
_TITLE_VALUES = ("plays", "minutes", *TITLE_ENGAGEMENT_COLUMNS)
_COMPLETION_PLAYS = TITLE_ENGAGEMENT_COLUMNS.index("completion_plays")


def _units(array: pa.Array | pa.ChunkedArray, quantised: bool) -> tuple[np.ndarray, np.ndarray]:
    """A real column taken to 4 decimals as integers (``floor(v * 10000 + 0.5)``, as the SQL does in
    double) and its validity; ``quantised``: the column already holds those integers."""
    if quantised:
        valid = pc.is_valid(array).to_numpy(zero_copy_only=False)
        return pc.fill_null(pc.cast(array, pa.int64()), 0).to_numpy(zero_copy_only=False), valid
    values = pc.fill_null(pc.cast(array, pa.float64()), np.nan).to_numpy(zero_copy_only=False)
    valid = ~np.isnan(values)
    return np.where(valid, np.floor(values * 10_000.0 + 0.5), 0).astype(np.int64), valid


def play_units(columns: dict[str, Any], quantised: bool = False) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each event's ``completion`` (capped at 100 %) and ``quality`` in 0.0001 units, with their
    validity (:data:`moviedash.metrics.PLAY_COLUMNS`, as the raw SQL's plays subquery computes them),
    and its uncapped ``percentage`` (the About counts tell the capped plays by it)."""
    percentage, has_completion = _units(columns["viewpercentage"], quantised)
    return {
        "completion": (np.minimum(percentage, _FULL), has_completion),
        "quality": _units(columns["errorperception"], quantised),
        "percentage": (percentage, has_completion),
    }


def engagement_sums(
    columns: dict[str, Any], minutes: np.ndarray, settings: MeasureSettings, quantised: bool = False,
    units: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
) -> dict[str, np.ndarray]:
    """Each event's contribution to :data:`~.tables.ENGAGEMENT_COLUMNS` (int64), as the raw SQL of
    :mod:`moviedash.engagement` computes it per play under ``settings``; 0 for an event that is no play.

    ``minutes``: the events' minutes, NULL as 0.  ``quantised``: ``viewpercentage`` and
    ``errorperception`` are already 0.0001-unit integers (read back with SQL).  ``units``:
    :func:`play_units` of ``columns`` when already computed.
    """
    units = units or play_units(columns, quantised)
    completion, has_completion = units["completion"]
    running = pc.fill_null(pc.cast(columns["runningtime"], pa.int64()), 0).to_numpy(zero_copy_only=False)
    has_running = running > 0
    safe = np.where(has_running, running, 1)
    # minutes / running time to 4 decimals, half away from zero, in integers (as the SQL).
    full_watch = np.where(has_running, (2 * minutes * UNITS + safe) // (2 * safe), 0)
    quality, has_quality = units["quality"]
    values = settings.sql_values()
    watched, poor = int(values["watched"]), int(values["poor"])
    beyond = quality > poor if settings.errorperception_higher_is_worse else quality < poor
    play = minutes >= int(settings.min_minutes)
    out = {
        "plays": play,
        "completion_units": np.where(has_completion, completion, 0),
        "completion_plays": has_completion,
        "completed": has_completion & (completion >= watched),
        "full_watch_units": full_watch,
        "full_watch_plays": has_running,
        "quality_units": np.where(has_quality, quality, 0),
        "quality_plays": has_quality,
        "poor_plays": has_quality & beyond,
    }
    return {c: np.where(play, out[c], 0).astype(np.int64) for c in ENGAGEMENT_COLUMNS}


#: The sparse binned columns of ``md_engagement_bins`` that count plays per bin of a distribution.
_DISTRIBUTIONS: tuple[tuple[str, metrics.Distribution], ...] = tuple(
    (m.aggregation.rollup, m.aggregation) for m in metrics.ENGAGEMENT
    if isinstance(m.aggregation, metrics.Distribution) and m.aggregation.rollup
)
_HISTOGRAM = str(metrics.COMPLETION_HISTOGRAM.rollup)
_BY_QUALITY = str(metrics.COMPLETION_BY_QUALITY.rollup)


def engagement_bins(
    keys: np.ndarray, units: dict[str, tuple[np.ndarray, np.ndarray]], play: np.ndarray,
) -> dict[str, tuple[np.ndarray, np.ndarray, list[np.ndarray]]]:
    """What one batch's plays (``play``) add to :data:`~.tables.BIN_COLUMNS`, as the raw SQL of
    :mod:`moviedash.engagement` bins them: per column ``(keys, bins, values)``, one entry per play
    counted, ``values`` what it adds beyond its count (completion by quality: its completion units)."""
    out: dict[str, tuple[np.ndarray, np.ndarray, list[np.ndarray]]] = {}
    completion, has_completion = units["completion"]
    for column, distribution in _DISTRIBUTIONS:
        values, valid = units[distribution.expression]
        counted = play & valid
        out[column] = (keys[counted], distribution.bin_of(values[counted]), [])
    counted = play & has_completion
    out[_HISTOGRAM] = (keys[counted], metrics.completion_bin(completion[counted]), [])
    by = metrics.COMPLETION_BY_QUALITY
    values, valid = units[by.expression]
    counted = play & valid & has_completion
    out[_BY_QUALITY] = (keys[counted], by.bin_of(values[counted]), [completion[counted]])
    return out


#: :func:`pair_sum` sums into a ``(key, bin)`` grid of up to 16 cells per entry (a cell costs far less
#: than an entry's share of a sort), or of this many whatever the entries, but never of more than
#: ``_LARGE_GRID`` cells (16 MiB per summed array; a daily series of two years by 0.01-wide bins
#: of 0-10 has 0.7M).
_SMALL_GRID = 1 << 16
_LARGE_GRID = 1 << 21


def pair_sum(keys: np.ndarray, bins: np.ndarray, values: list[np.ndarray], counted: bool = False,
             ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Distinct ``(key, bin)`` pairs, sorted, and per pair the int64 sums of ``values``; ``counted``:
    preceded by the number of entries of the pair.

    Where the ``(key, bin)`` grid is small next to the entries (a selection's groups by a
    distribution's bins, as served), sums into the grid (``bincount``, ``add.at``: no sort);
    else one sort of ``key * span + bin`` (numpy) where that fits 62 bits (always, but for absurd
    bins), else pyarrow's hash aggregation on the two columns.
    """
    if not len(keys):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, [empty] * (len(values) + counted)
    low, high, top = int(bins.min()), int(bins.max()), int(keys.max())
    span = high - low + 1
    cells = span * (top + 1)
    if int(keys.min()) >= 0 and cells <= min(max(16 * len(keys), _SMALL_GRID), _LARGE_GRID):
        places = keys.astype(np.int64) * span + (bins - low)
        present = np.bincount(places, minlength=cells)
        at = np.flatnonzero(present)
        grid_sums = [present[at]] if counted else []
        for v in values:
            grid = np.zeros(cells, dtype=np.int64)
            np.add.at(grid, places, v)
            grid_sums.append(grid[at])
        return at // span, at % span + low, grid_sums
    if int(keys.min()) < 0 or span * (top + 1) >= 2**62:
        ones = [np.ones(len(keys), dtype=np.int64)] if counted else []
        table = pa.table({"k": keys, "b": bins, **{f"v{i}": v for i, v in enumerate([*ones, *values])}})
        names = [f"v{i}" for i in range(len(values) + counted)]
        grouped = table.group_by(["k", "b"], use_threads=False).aggregate([(n, "sum") for n in names])
        grouped = grouped.sort_by([("k", "ascending"), ("b", "ascending")])
        return (grouped["k"].to_numpy().astype(np.int64, copy=False),
                grouped["b"].to_numpy().astype(np.int64, copy=False),
                [grouped[f"{n}_sum"].to_numpy().astype(np.int64, copy=False) for n in names])
    combined = keys.astype(np.int64) * span + (bins - low)
    order = None
    if values:
        order = np.argsort(combined, kind="stable")
        combined = combined[order]
    else:
        combined = np.sort(combined)
    starts = np.flatnonzero(np.concatenate(([True], combined[1:] != combined[:-1])))
    distinct_pairs = combined[starts]
    sums = [np.diff(np.append(starts, len(combined)))] if counted else []
    sums += [np.add.reduceat(v[order].astype(np.int64, copy=False), starts) for v in values]
    return distinct_pairs // span, distinct_pairs % span + low, sums


class _Codes:
    """A growing dictionary encoding of strings as integers (vectorised per batch).

    New values get ``offset``, ``offset + 1``, ...; ``names`` holds the new
    values in code order, ``index`` every value (including ones preloaded).
    A null maps to -1.
    """

    def __init__(self, offset: int = 0) -> None:
        self.index: dict[str, int] = {}
        self.names: list[str] = []
        self.offset = offset

    def encode(self, array: pa.Array) -> np.ndarray:
        enc = pc.dictionary_encode(array)
        local = enc.dictionary.to_pylist()
        index, names = self.index, self.names
        # Known values are looked up at C speed (map); only new ones take the Python loop.
        mapping = np.fromiter(map(index.get, local, itertools.repeat(-1)), dtype=np.int64, count=len(local))
        for i in np.flatnonzero(mapping == -1).tolist():
            value = local[i]
            code = index.get(value)  # a value can repeat in ``local`` only if it is None
            if code is None:
                code = index[value] = self.offset + len(names)
                names.append(value)
            mapping[i] = code
        mapping = np.append(mapping, -1)  # null
        return mapping[pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False)]


def distinct(values: np.ndarray, runs: bool = False) -> np.ndarray:
    """The distinct values, sorted (a sort: numpy's hash-based ``unique`` is slower here).

    ``runs``: ``values`` is a concatenation of sorted runs (the per-batch
    partials), which timsort (``kind="stable"``) merges instead of sorting anew.
    """
    values = np.sort(values, kind="stable" if runs else None)
    if len(values) < 2:
        return values
    keep = np.empty(len(values), dtype=bool)
    keep[0] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def _bitmaps(pairs: list[np.ndarray]) -> dict[int, BitMap]:
    """``key << 32 | user`` pairs (any order, repeats allowed) as one bitmap of users per key."""
    if not pairs:
        return {}
    merged = distinct(np.concatenate(pairs), runs=True)
    if not len(merged):
        return {}
    keys = merged >> 32
    users = (merged & 0xFFFFFFFF).astype(np.uint32)
    starts, ends = _bounds(keys)
    return {
        k: BitMap(users[a:b]) for k, a, b in zip(keys[starts].tolist(), starts.tolist(), ends.tolist(), strict=False)
    }


def _bounds(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end positions of the runs of equal values in sorted ``keys``."""
    cuts = np.flatnonzero(keys[1:] != keys[:-1]) + 1
    return np.concatenate(([0], cuts)), np.concatenate((cuts, [len(keys)]))


def _sorted_sums(keys: np.ndarray, values: list[np.ndarray], runs: bool) -> tuple[np.ndarray, list[np.ndarray]]:
    """Distinct ``keys`` (sorted; ``runs``: by timsort, see :func:`_sum_runs`) and the int64 sums of ``values`` per key.

    One sort of the keys, then per column a scatter-add (``np.add.at``) by each entry's group: no
    gather of the columns in key order, and far cheaper than pyarrow's grouping of a batch (its
    set-up cost per call dominates at the loader's batch sizes).
    """
    order = np.argsort(keys, kind="stable") if runs else np.argsort(keys)
    ordered = keys[order]
    if not len(ordered):
        return ordered, [np.zeros(0, dtype=np.int64) for _ in values]
    first = np.empty(len(ordered), dtype=bool)
    first[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    group = np.empty(len(ordered), dtype=np.intp)
    group[order] = np.cumsum(first) - 1
    distinct_keys = ordered[first]
    sums = []
    for v in values:
        total = np.zeros(len(distinct_keys), dtype=np.int64)
        np.add.at(total, group, np.asarray(v).astype(np.int64, copy=False))
        sums.append(total)
    return distinct_keys, sums


def group_sum(keys: np.ndarray, values: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Distinct ``keys`` (sorted) and the int64 sums of ``values`` per key (:func:`_sum_runs` for keys
    that are concatenated sorted runs)."""
    return _sorted_sums(keys, values, False)


def _sum_runs(keys: np.ndarray, values: list[np.ndarray], runs: bool = False) -> tuple[np.ndarray, list[np.ndarray]]:
    """Distinct ``keys`` (sorted) and the int64 sums of ``values`` per key.

    ``runs``: ``keys`` is a concatenation of sorted runs (per-batch partials),
    which timsort (``kind="stable"``) merges rather than sorting anew.
    """
    return _sorted_sums(keys, values, runs)


#: Per :data:`~.tables.BIN_COLUMNS` column: its arrays and each key's ``[start, end)`` in them, and its
#: packed blob per key (:func:`_bin_cells`).
_BinCells = tuple[dict[str, tuple[list[np.ndarray], np.ndarray, np.ndarray]], dict[str, list[bytes]]]


def _bin_cells(nd: int, bins: dict[str, tuple[np.ndarray, np.ndarray, list[np.ndarray]]],
               histogram: np.ndarray) -> _BinCells:
    """The ``md_engagement_bins`` cells of ``nd`` keys (``bins`` and ``histogram`` by key number), packed."""
    arrays: dict[str, tuple[list[np.ndarray], np.ndarray, np.ndarray]] = {}  # per column: arrays, starts, ends
    for column in BIN_COLUMNS:
        if column == _HISTOGRAM:  # dense: each key's 10 counts
            starts = np.arange(nd, dtype=np.int64) * metrics.COMPLETION_BINS
            arrays[column] = ([histogram.reshape(-1)], starts, starts + metrics.COMPLETION_BINS)
            continue
        empty = np.zeros(0, dtype=np.int64)
        keys, values, sums = bins.get(column) or (empty, empty, [empty] * (BIN_ARRAYS[column] - 1))
        ids = np.arange(nd)
        arrays[column] = ([values, *sums], np.searchsorted(keys, ids, side="left"),
                          np.searchsorted(keys, ids, side="right"))
    return arrays, {c: pack_rows(*arrays[c]) for c in BIN_COLUMNS}


class Aggregator:
    """Partial aggregates of the rows one load inserts, merged into the derived tables at :func:`refresh`.

    Create it on the loading transaction *before* the inserts, :meth:`add` the
    columns of exactly the rows inserted (in any batches, from one thread at a
    time), and pass it to :func:`refresh` (``db.refresh_derived``).  Per batch
    it dictionary-encodes users, days, dims and titles (pyarrow), sums on
    integer codes (numpy, pyarrow) and keeps the distinct (key, user) pairs;
    :meth:`finish` merges the partials and builds the bitmaps; at the end each
    derived table gets one bulk upsert of few rows: per (day, dims) key one
    row with packed arrays (hours, titles) instead of a row per hour or title.
    When it cannot vouch for the result (rows it did not see, a schema
    rebuild, a date that is not ``YYYY-MM-DD HH:MM:SS``, a missing user id,
    codes out of range) :func:`refresh` takes the SQL path, which reads the
    rows back and feeds them to a fresh aggregator: one code path builds the
    derived data.
    """

    def __init__(self, conn: Any, start: int | None = None) -> None:
        dialect = dialect_of(conn)
        if dialect.load_session_sql:
            conn.execute(dialect.load_session_sql)
        self.start = position(conn, dialect) if start is None else start
        self.rows = 0
        self.ok = True
        self.title_name: dict[int, str] = {}
        users: dict[str, int] = {}
        titles: dict[str, int] = {}
        if exists(conn, "md_meta", dialect) and exists(conn, "md_users", dialect):
            self.schema_ok = meta(conn, "schema", 0) == SCHEMA_VERSION
            if self.schema_ok:
                users = {name: uid for uid, name in conn.execute("SELECT id, userid FROM md_users")}
                titles = {name: tid for tid, name in conn.execute("SELECT id, title FROM md_titles")}
            # Where position does not count rows (PostgreSQL): the rollups covered every row before this load.
            self.current = meta(conn, "covered", -1) == self.start and bool(meta(conn, "exact", 1))
        else:  # no derived tables yet
            self.schema_ok = True
            self.current = False
        if not self.current and not dialect.position_counts_rows:
            self.current = not conn.execute("SELECT EXISTS (SELECT 1 FROM movies)").fetchone()[0]
        self.users = _Codes(max(users.values(), default=0) + 1)
        self.users.index = users
        # md_first_seen / md_first_day: each viewer's first day (only users coded before can have one stored).
        self.first_seen = FirstSeen(self.users.offset)
        self.titles = _Codes(max(titles.values(), default=0) + 1)
        self.titles.index = titles
        self.title_name = {tid: name for name, tid in titles.items()}
        # md_title_numbers: each title's season and episode (only titles coded before can have a stored row).
        self.numbers = TitleNumbers(self.titles.offset)
        # What counts as a play and who as a viewer (:mod:`moviedash.settings`), read in the writing transaction.
        self.settings = data_settings.load(conn)
        self._excluded = pa.array(sorted(self.settings.exclude_users), type=pa.string())
        # The load's series events, for the binge rollups (:mod:`.binges`).
        self.binges = BingeParts(self.settings)
        # md_about: the rows' About counts (ABOUT_COUNTS), under the same settings.
        self.about = np.zeros(len(ABOUT_COUNTS), dtype=np.int64)
        self.days = _Codes()
        self.dims = [_Codes() for _ in DIMS]
        # Each (day, dims) key seen gets a dense id; plays, minutes and hours are
        # running totals per dense id, titles and users per-batch partials.
        self.dense: dict[int, int] = {}
        self.dense_keys: list[int] = []
        self.plays = np.zeros(0, dtype=np.int64)
        self.minutes = np.zeros(0, dtype=np.int64)
        self.hours = np.zeros((0, 24), dtype=np.int64)
        self.completion_bins = np.zeros((0, metrics.COMPLETION_BINS), dtype=np.int64)
        self.engagement = np.zeros((0, len(ENGAGEMENT_COLUMNS)), dtype=np.int64)
        # (dense id << 31 | title) and its _TITLE_VALUES sums
        self.title_parts: list[tuple[np.ndarray, list[np.ndarray]]] = []
        # ((dense id << 31 | title) << 4 | completion decile) and its plays
        self.decile_parts: list[tuple[np.ndarray, np.ndarray]] = []
        # md_engagement_bins: the histogram as a running total per dense id (like the hours), the
        # sparse columns as per-batch (dense id, bin, [plays, *sums]) partials.
        self.bin_parts: dict[str, list[tuple[np.ndarray, np.ndarray, list[np.ndarray]]]] = {
            c: [] for c in BIN_COLUMNS if c != _HISTOGRAM
        }
        self.day_pairs: list[np.ndarray] = []  # dense id << 32 | user id, distinct per batch
        self.title_pairs: list[np.ndarray] = []  # title id << 32 | user id
        self.viewer_parts: list[tuple[np.ndarray, np.ndarray]] = []  # (dense id, title id << 32 | user id) per event
        self.viewer_sums = ViewerSums()  # md_viewer_day/_month: each viewer's plays and minutes per key
        self._finished: dict[str, Any] | None = None  # set by finish()

    #: The columns :meth:`add` needs.
    columns = FED_COLUMNS

    def add(self, columns: dict[str, Any], checked: bool = True, quantised: bool = False) -> None:
        """Aggregate one batch: ``columns`` maps :data:`FED_COLUMNS` to pyarrow arrays or sequences.

        ``checked`` (the loader, the demo): every ``event_date`` is canonical
        ``YYYY-MM-DD HH:MM:SS`` text and every row has a user id, else the
        aggregator steps aside (``ok`` False).  ``quantised``: ``viewpercentage`` and
        ``errorperception`` are 0.0001-unit integers already (:func:`engagement_sums`).
        """
        if self._finished is not None:
            raise RuntimeError("Aggregator.add() after finish()")
        if not self.ok:
            return
        cols = {
            c: v if isinstance(v, (pa.Array, pa.ChunkedArray))
            else pa.array(v, type=pa.int64() if c in _INTEGER_COLUMNS or (quantised and c in _REAL_COLUMNS)
                          else pa.float64() if c in _REAL_COLUMNS else pa.string())
            for c, v in columns.items()
        }
        dates, users = cols["event_date"], cols["userid"]
        n = len(dates)
        if n == 0:
            return
        self.rows += n
        lengths = pc.utf8_length(dates)
        if (dates.null_count or (checked and users.null_count)
                or pc.min(lengths).as_py() != 19 or pc.max(lengths).as_py() != 19):
            self.ok = False
            return
        day = self.days.encode(pc.utf8_slice_codeunits(dates, 0, 10))
        hour = pc.cast(pc.utf8_slice_codeunits(dates, 11, 13), pa.int64()).to_numpy(zero_copy_only=False)
        dims = [codes.encode(pc.fill_null(cols[d], "")) for codes, d in zip(self.dims, DIMS, strict=False)]
        user = self.users.encode(users)
        title_text = cols["title"]
        title = self.titles.encode(pc.if_else(pc.equal(title_text, ""), pa.scalar(None, pa.string()), title_text))
        if (
            len(self.days.names) >= 1 << _DAY_BITS
            or any(len(c.names) >= 1 << _DIM_BITS for c in self.dims)
            or self.users.offset + len(self.users.names) >= 1 << 32
            or self.titles.offset + len(self.titles.names) >= 1 << 31
        ):
            self.ok = False
            return
        key = (day << 42) | (dims[0] << 28) | (dims[1] << 14) | dims[2]
        minutes = pc.fill_null(pc.cast(cols["totalminuteswatched"], pa.int64()), 0).to_numpy(zero_copy_only=False)
        # Settings: an event shorter than min_minutes is no play (its minutes still count), and
        # neither it nor an excluded user makes a viewer.  The defaults skip this work entirely.
        play: np.ndarray | None = None
        if self.settings.min_minutes:
            play = minutes >= self.settings.min_minutes
            user = np.where(play, user, -1)
        anonymous_plays = 0
        if len(self._excluded):
            dropped = pc.fill_null(pc.is_in(users, value_set=self._excluded), False).to_numpy(zero_copy_only=False)
            anonymous_plays = int(np.count_nonzero(dropped if play is None else dropped & play))
            user = np.where(dropped, -1, user)
        unique, inverse = np.unique(key, return_inverse=True)
        local = np.empty(len(unique), dtype=np.int64)
        dense, dense_keys = self.dense, self.dense_keys
        for i, k in enumerate(unique.tolist()):
            d = dense.get(k)
            if d is None:
                d = dense[k] = len(dense_keys)
                dense_keys.append(k)
            local[i] = d
        dk = local[inverse.reshape(-1)]
        nd = len(dense_keys)
        if nd >= _DENSE_LIMIT:  # decile entries would not fit an int64
            self.ok = False
            return
        if nd > len(self.plays):
            size = max(nd, 2 * len(self.plays))
            self.plays = np.concatenate([self.plays, np.zeros(size - len(self.plays), dtype=np.int64)])
            self.minutes = np.concatenate([self.minutes, np.zeros(size - len(self.minutes), dtype=np.int64)])
            self.hours = np.concatenate([self.hours, np.zeros((size - len(self.hours), 24), dtype=np.int64)])
            self.completion_bins = np.concatenate([
                self.completion_bins,
                np.zeros((size - len(self.completion_bins), metrics.COMPLETION_BINS), dtype=np.int64),
            ])
            self.engagement = np.concatenate(
                [self.engagement, np.zeros((size - len(self.engagement), len(ENGAGEMENT_COLUMNS)), dtype=np.int64)]
            )
        played = dk if play is None else dk[play]
        self.plays[:nd] += np.bincount(played, minlength=nd)
        np.add.at(self.minutes, dk, minutes)
        units = play_units(cols, quantised)
        percentage, rated = units["percentage"]
        capped = rated & (percentage > _FULL)
        self.about += np.array([
            n, anonymous_plays, int(pc.sum(pc.equal(users, _ANONYMOUS)).as_py() or 0),
            int(np.count_nonzero(capped if play is None else capped & play)),
        ], dtype=np.int64)
        sums = engagement_sums(cols, minutes, self.settings, quantised, units)
        engaged, totals = group_sum(dk, [sums[c] for c in ENGAGEMENT_COLUMNS])
        self.engagement[engaged] += np.stack(totals, axis=1)
        counted = np.ones(n, dtype=bool) if play is None else play
        for column, (bin_keys, bins, values) in engagement_bins(dk, units, counted).items():
            if column == _HISTOGRAM:
                width = metrics.COMPLETION_BINS
                self.completion_bins[:nd] += np.bincount(
                    bin_keys * width + bins, minlength=nd * width).reshape(nd, width)
            else:
                self.bin_parts[column].append(pair_sum(bin_keys, bins, values, counted=True))
        hour_keys = dk * 24 + hour
        hour_keys = hour_keys if play is None else hour_keys[play]
        self.hours[:nd] += np.bincount(hour_keys, minlength=nd * 24).reshape(nd, 24)
        titled = title >= 0
        title_ones = np.ones(int(titled.sum()), dtype=np.int64) if play is None else play[titled].astype(np.int64)
        entries = (dk[titled] << _TITLE_BITS) | title[titled]
        self.title_parts.append(group_sum(
            entries, [title_ones, minutes[titled], *(sums[c][titled] for c in TITLE_ENGAGEMENT_COLUMNS)]
        ))
        # Each play with a percentage by its completion decile, for the stop curves.
        rated = sums["completion_plays"][titled] > 0
        codes = np.clip(sums["completion_units"][titled][rated] // DECILE_UNITS, 0, DECILES - 1)
        decile_keys, (decile_plays,) = group_sum(
            (entries[rated] << _CODE_BITS) | codes, [np.ones(len(codes), dtype=np.int64)]
        )
        self.decile_parts.append((decile_keys, decile_plays))
        known = user >= 0
        self.day_pairs.append(distinct((dk[known] << 32) | user[known]))
        self.first_seen.add(user, day, self.days.names)
        self.viewer_sums.add(dk, user, minutes, self.users.index)
        both = known & titled
        pairs = (title[both] << 32) | user[both]
        # Sorted by key per batch, so that finish() merges sorted runs.
        keys = dk[both].astype(np.int32)
        order = np.argsort(keys, kind="stable")
        self.viewer_parts.append((keys[order], pairs[order]))
        self.title_pairs.append(distinct(pairs))
        self.binges.add(cols, minutes, user, title=title, dims=dims)
        self.numbers.add(title, cols["seasonnumber"], cols["episodenumber"])

    # ------------------------------------------------------------------ #

    def _key_text(self, keys: np.ndarray, days: list[str] | None = None) -> tuple[list, list, list, list]:
        mask = (1 << _DIM_BITS) - 1
        day = np.asarray(days if days is not None else self.days.names, dtype=object)[keys >> 42]
        dims = [np.asarray(c.names, dtype=object)[(keys >> shift) & mask]
                for c, shift in zip(self.dims, (28, 14, 0), strict=False)]
        return day.tolist(), dims[0].tolist(), dims[1].tolist(), dims[2].tolist()

    def _old(self, conn: Any, sql: str, keys: list[tuple]) -> dict[tuple, tuple]:
        """Stored rows of the touched keys: one range scan (``sql`` takes the first and last key column value)."""
        if not keys:
            return {}
        wanted = set(keys)
        firsts = [k[0] for k in keys]
        out = {}
        for row in conn.execute(sql, (min(firsts), max(firsts))):
            key = tuple(row[:4])
            if key in wanted:
                out[key] = row[4:]
        return out

    def finish(self) -> None:
        """Turn the per-batch partials into final aggregates (pure computation, no database).

        Called by :meth:`write` if not called before; the loader calls it in its
        reading thread right after the last batch, so this work overlaps the
        last inserts instead of following them.
        """
        if self._finished is not None or not self.ok:
            return
        nd = len(self.dense_keys)
        all_keys = np.asarray(self.dense_keys, dtype=np.int64)
        done: dict[str, Any] = {"day_users": _bitmaps(self.day_pairs), "titles": None}
        self.day_pairs = []
        self.first_seen.finish()
        months = _Codes()
        month_keys = month_of = np.zeros(0, dtype=np.int64)
        if nd:
            done["texts"] = list(zip(*self._key_text(all_keys), strict=False))
            month_code = months.encode(pa.array([d[:7] + "-01" for d in self.days.names], type=pa.string()))
            # Each (day, dims) key's (month, dims) key, numbered densely (so that key and title fit one int64).
            dense_month = (month_code[all_keys >> 42] << 42) | (all_keys & ((1 << 42) - 1))
            month_keys, month_of = np.unique(dense_month, return_inverse=True)
            month_of = month_of.reshape(-1)
            done["month_texts"] = list(zip(*self._key_text(month_keys, months.names), strict=False))
        if self.title_parts:  # each part sorted by (dense id, title): merge the runs
            c, values = _sum_runs(
                np.concatenate([part[0] for part in self.title_parts]),
                [np.concatenate([part[1][i] for part in self.title_parts]) for i in range(len(_TITLE_VALUES))],
                runs=True,
            )
            d, (decile_plays,) = _sum_runs(
                np.concatenate([part[0] for part in self.decile_parts]),
                [np.concatenate([part[1] for part in self.decile_parts])],
                runs=True,
            )
            self.title_parts, self.decile_parts = [], []
        else:
            c = d = decile_plays = np.zeros(0, dtype=np.int64)
            values = []
        if len(c):
            tt = c & _TITLE_MASK
            monthly, month_values = _sum_runs((month_of[c >> _TITLE_BITS] << _TITLE_BITS) | tt, values)
            decile_entries = d >> _CODE_BITS
            month_deciles, (month_decile_plays,) = _sum_runs(
                (((month_of[decile_entries >> _TITLE_BITS] << _TITLE_BITS) | (decile_entries & _TITLE_MASK))
                 << _CODE_BITS) | (d & ((1 << _CODE_BITS) - 1)),
                [decile_plays],
            )
            # Packed here, while the loader's last rows are still being copied (merged with stored rows at write()).
            done["titles"] = self._prepare_titles(
                all_keys[c >> _TITLE_BITS], tt, values, _TitleDeciles.of(c, d, decile_plays), None)
            done["monthly"] = self._prepare_titles(
                month_keys[monthly >> _TITLE_BITS], monthly & _TITLE_MASK, month_values,
                _TitleDeciles.of(monthly, month_deciles, month_decile_plays), months.names)
        # md_engagement_bins per (day, dims) key and, summed again per (month, dims) key, its monthly companion.
        done["bins"], done["month_bins"] = {}, {}
        for column, parts in self.bin_parts.items():  # each part sorted by (dense id, bin): summed again
            if parts:
                keys, bins, sums = done["bins"][column] = pair_sum(
                    np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]),
                    [np.concatenate([p[2][i] for p in parts]) for i in range(len(parts[0][2]))],
                )
                done["month_bins"][column] = pair_sum(month_of[keys], bins, sums)
        self.bin_parts = {c: [] for c in self.bin_parts}
        done["month_histogram"] = np.zeros((len(month_keys), metrics.COMPLETION_BINS), dtype=np.int64)
        np.add.at(done["month_histogram"], month_of, self.completion_bins[:nd])
        # Packed here, while the loader's last rows are still being copied (merged with stored rows at write()).
        done["bin_cells"] = _bin_cells(nd, done["bins"], self.completion_bins[:nd])
        done["month_bin_cells"] = _bin_cells(len(month_keys), done["month_bins"], done["month_histogram"])
        self.viewer_sums.finish(month_of)
        done["title_users"] = _bitmaps(self.title_pairs)
        self.title_pairs = []
        if self.viewer_parts:  # every event's pair, grouped by (day, dims) key
            dense_ids = np.concatenate([part[0] for part in self.viewer_parts])
            pairs = np.concatenate([part[1] for part in self.viewer_parts])
            self.viewer_parts = []
            order = np.argsort(dense_ids, kind="stable")
            dense_ids, pairs = dense_ids[order], pairs[order]
            done["viewers"] = (dense_ids, pairs) if len(pairs) else None
        else:
            done["viewers"] = None
        self._finished = done

    def write(self, conn: Any, dialect: Dialect) -> None:
        """Upsert the aggregates into the derived tables (on the loading transaction)."""
        self.finish()
        done = self._finished
        assert done is not None
        # Added to the stored counts: after a rebuild (tables emptied first) they are the whole table's.
        conn.execute(
            f"INSERT INTO md_about (name, value) VALUES {', '.join(['(?, ?)'] * len(ABOUT_COUNTS))} "
            "ON CONFLICT (name) DO UPDATE SET value = md_about.value + excluded.value",
            [v for pair in zip(ABOUT_COUNTS, self.about.tolist(), strict=True) for v in pair],
        )
        if self.users.names:
            insert_columns(conn, dialect, "md_users", {
                "id": np.arange(self.users.offset, self.users.offset + len(self.users.names), dtype=np.int64),
                "userid": self.users.names,
            })
        if self.titles.names:
            insert_columns(conn, dialect, "md_titles", {
                "id": np.arange(self.titles.offset, self.titles.offset + len(self.titles.names), dtype=np.int64),
                "title": self.titles.names,
            })
            for i, name in enumerate(self.titles.names):
                self.title_name[self.titles.offset + i] = name
        # Each new title's show (and every CSV-named title's), for the top list by show.
        showmap.write(conn, dialect, self.titles.index, self.titles.names)
        self.numbers.write(conn, dialect)
        self.first_seen.write(conn, dialect)
        nd = len(self.dense_keys)
        if not nd:
            return
        months = {day[:7] for day in self.days.names}
        for table in DAY_TABLES:
            add_month_partitions(conn, dialect, table, "day", months)
        # md_day: plays, minutes and the users bitmap (ORed into the stored one).
        day_users = done["day_users"]
        texts = done["texts"]
        old = self._old(conn, f"SELECT day, {DIMS_PK}, users FROM md_day WHERE day BETWEEN ? AND ?", texts)
        blobs = []
        for d, text in enumerate(texts):
            users = day_users.get(d) or BitMap()
            stored = old.get(text)
            if stored is not None:
                users |= BitMap.deserialize(stored[0])
            blobs.append(users.serialize())
        upsert(
            conn, dialect, "md_day", ("day", *DIMS, "plays", "minutes", "users"), stored=old,
            on_conflict=f"(day, {DIMS_PK}) DO UPDATE SET plays = md_day.plays + excluded.plays, "
            "minutes = md_day.minutes + excluded.minutes, users = excluded.users",
            rows=[
                (*t, p, m, b)
                for t, p, m, b in zip(texts, self.plays[:nd].tolist(), self.minutes[:nd].tolist(), blobs, strict=False)
            ],
        )
        # md_engagement: the engagement sums, added to the stored ones.
        updates = ", ".join(f"{c} = md_engagement.{c} + excluded.{c}" for c in ENGAGEMENT_COLUMNS)
        engaged = {} if not dialect.bulk_copy else self._old(  # (only a bulk copy tells stored keys from new ones)
            conn, f"SELECT day, {DIMS_PK} FROM md_engagement WHERE day BETWEEN ? AND ?", texts)
        upsert(
            conn, dialect, "md_engagement", ("day", *DIMS, *ENGAGEMENT_COLUMNS), stored=engaged,
            on_conflict=f"(day, {DIMS_PK}) DO UPDATE SET {updates}",
            rows=[(*t, *sums) for t, sums in zip(texts, self.engagement[:nd].tolist(), strict=True)],
        )
        self._write_bins(conn, dialect, "md_engagement_bins", "day", texts, done["bin_cells"])
        self._write_bins(conn, dialect, "md_engagement_bins_month", "month", done["month_texts"],
                         done["month_bin_cells"])
        # md_hour: 24 plays counts per (day, dims).
        old = self._old(conn, f"SELECT day, {DIMS_PK}, hours FROM md_hour WHERE day BETWEEN ? AND ?", texts)
        rows = []
        for d, text in enumerate(texts):
            counts = self.hours[d]
            stored = old.get(text)
            if stored is not None:
                counts = counts + np.frombuffer(stored[0], dtype="<i8")
            rows.append((*text, counts.astype("<i8").tobytes()))
        upsert(
            conn, dialect, "md_hour", ("day", *DIMS, "hours"), stored=old,
            on_conflict=f"(day, {DIMS_PK}) DO UPDATE SET hours = excluded.hours", rows=rows,
        )
        # md_title_day and md_title_month: per key, the titles' ids, plays, minutes and engagement, packed.
        if done["titles"] is not None:
            self._write_titles(conn, "md_title_day", "day", done["titles"])
            self._write_titles(conn, "md_title_month", "month", done["monthly"])
        if done["viewers"] is not None:
            self._write_viewers(conn, texts, *done["viewers"])
        self.viewer_sums.write(conn, dialect, self._old, texts, done["month_texts"])
        self.title_users = done["title_users"]
        # md_title_users: each title's all-time viewers.
        if self.title_users:
            names = self.title_name
            wanted = {names[t] for t in self.title_users}
            old_t = {title: blob for title, blob in conn.execute("SELECT title, users FROM md_title_users")
                     if title in wanted}
            upserts = []
            for t, users in self.title_users.items():
                blob = old_t.get(names[t])
                if blob is not None:
                    users |= BitMap.deserialize(blob)
                upserts.append((names[t], len(users), users.serialize()))
            upsert(
                conn, dialect, "md_title_users", ("title", "viewers", "users"), stored={(title,) for title in old_t},
                key_columns=1,
                on_conflict="(title) DO UPDATE SET viewers = excluded.viewers, users = excluded.users", rows=upserts,
            )
        self.binges.write(conn, dialect, dims=[c.names for c in self.dims], titles=self.title_name)

    def _write_bins(self, conn: Any, dialect: Dialect, table: str, period: str, texts: list[tuple],
                    cells: _BinCells) -> None:
        """md_engagement_bins or its monthly companion: one packed row per (``period``, dims) key (``texts``;
        ``cells`` by key number), added to the stored one."""
        arrays, blobs = cells
        old = self._old(
            conn, f"SELECT {period}, {DIMS_PK}, {', '.join(BIN_COLUMNS)} FROM {table} WHERE {period} BETWEEN ? AND ?",
            texts,
        )
        if old:
            for d, text in enumerate(texts):
                stored = old.get(text)
                if stored is None:
                    continue
                for column, blob in zip(BIN_COLUMNS, stored, strict=True):
                    parts, starts, ends = arrays[column]
                    cell = [p[starts[d]:ends[d]] for p in parts]
                    previous = unpack(blob, BIN_ARRAYS[column])
                    if column == _HISTOGRAM:
                        merged = [cell[0] + previous[0]]
                    else:
                        distinct_bins, summed = _sum_runs(
                            np.concatenate([cell[0], previous[0]]),
                            [np.concatenate([a, b]) for a, b in zip(cell[1:], previous[1:], strict=True)],
                        )
                        merged = [distinct_bins, *summed]
                    blobs[column][d] = pack(merged)
        updates = ", ".join(f"{c} = excluded.{c}" for c in BIN_COLUMNS)
        upsert(
            conn, dialect, table, (period, *DIMS, *BIN_COLUMNS), stored=old,
            on_conflict=f"({period}, {DIMS_PK}) DO UPDATE SET {updates}",
            rows=[(*text, *row) for text, *row in zip(texts, *(blobs[c] for c in BIN_COLUMNS), strict=True)],
        )

    def _write_viewers(self, conn: Any, texts: list[tuple], dense_ids: np.ndarray, pairs: np.ndarray) -> None:
        """Append each (day, dims) key's new pairs to its stored ones (``dense_ids`` sorted)."""
        starts, ends = _bounds(dense_ids)
        keys = [texts[d] for d in dense_ids[starts].tolist()]
        old = self._old(conn, f"SELECT day, {DIMS_PK}, pairs FROM md_title_viewers WHERE day BETWEEN ? AND ?", keys)
        # Each key's distinct pairs ordered by (user, title), with the stored ones of a key stored already.
        parts: list[np.ndarray] = []
        for key, a, b in zip(keys, starts.tolist(), ends.tolist(), strict=False):
            stored = old.get(key)
            mine = pairs[a:b] if stored is None else np.concatenate([unpack_pairs([bytes(stored[0])])[0], pairs[a:b]])
            parts.append(np.unique(((mine & _USER_MASK) << _TITLE_BITS) | (mine >> 32)))
        by_user = np.concatenate(parts)
        lengths = np.array([len(p) for p in parts], dtype=np.int64)
        cuts = np.cumsum(lengths)
        blobs = pack_pairs(by_user >> _TITLE_BITS, by_user & _TITLE_MASK, cuts - lengths, cuts)
        rows = [(*key, blob) for key, blob in zip(keys, blobs, strict=True)]
        upsert(
            conn, dialect_of(conn), "md_title_viewers", ("day", *DIMS, "pairs"), stored=old,
            on_conflict=f"(day, {DIMS_PK}) DO UPDATE SET pairs = excluded.pairs", rows=rows,
        )

    def _prepare_titles(
        self, keys: np.ndarray, ids: np.ndarray, values: list[np.ndarray], deciles: _TitleDeciles,
        periods: list[str] | None,
    ) -> _Titles:
        """One packed row per key, for :meth:`_write_titles`; ``keys`` sorted, ``ids`` sorted within a key,
        ``values`` (:data:`_TITLE_VALUES`) and ``deciles`` per entry."""
        starts, ends = _bounds(keys)
        texts = list(zip(*self._key_text(keys[starts], periods), strict=False))
        # Entries as key position << 31 | title id (sorted), decile entries as entry << 4 | code.
        entries = (np.repeat(np.arange(len(texts), dtype=np.int64), ends - starts) << _TITLE_BITS) | ids
        coded = (entries[deciles.entry] << _CODE_BITS) | deciles.code
        return _Titles(texts, entries, values, coded, deciles.plays,
                       _title_rows(texts, entries, values, coded, deciles.plays))

    def _write_titles(self, conn: Any, table: str, period: str, titles: _Titles) -> None:
        """Upsert one packed row per key: the prepared ones, or for keys stored already, new ones merged."""
        texts, entries, values, coded, plays, rows = titles
        old = self._old(
            conn,
            f"SELECT {period}, {DIMS_PK}, titles, plays, minutes, engagement, deciles FROM {table} "
            f"WHERE {period} BETWEEN ? AND ?",
            texts
        )
        if old:
            # Merge the stored arrays of every touched key in one pass, summed per entry with the new ones.
            position = {text: k for k, text in enumerate(texts)}
            all_entries, all_values = [entries], [[v] for v in values]
            all_coded, all_plays = [coded], [plays]
            for text, (blob_ids, blob_plays, blob_minutes, blob_engagement, blob_deciles) in old.items():
                stored_ids = np.frombuffer(blob_ids, dtype="<i4").astype(np.int64)
                stored = (np.int64(position[text]) << _TITLE_BITS) | stored_ids
                sums = unpack_columns(blob_engagement, len(TITLE_ENGAGEMENT_COLUMNS), len(stored))
                all_entries.append(stored)
                counts = [unpack_columns(blob, 1, len(stored))[0] for blob in (blob_plays, blob_minutes)]
                for column, array in zip(all_values, [*counts, *sums], strict=True):
                    column.append(array)
                rated = sums[_COMPLETION_PLAYS]
                codes = unpack_codes(blob_deciles, int(rated.sum())).astype(np.int64)
                all_coded.append((np.repeat(stored, rated) << _CODE_BITS) | codes)  # one per play
                all_plays.append(np.ones(len(codes), dtype=np.int64))
            entries, values = _sum_runs(np.concatenate(all_entries), [np.concatenate(v) for v in all_values])
            coded, (plays,) = _sum_runs(np.concatenate(all_coded), [np.concatenate(all_plays)])
            rows = _title_rows(texts, entries, values, coded, plays)
        upsert(
            conn, dialect_of(conn), table, (period, *DIMS, "titles", "plays", "minutes", "engagement", "deciles"),
            stored=old,
            on_conflict=f"({period}, {DIMS_PK}) DO UPDATE SET titles = excluded.titles, plays = excluded.plays, "
            "minutes = excluded.minutes, engagement = excluded.engagement, deciles = excluded.deciles",
            rows=rows,
        )


class _Titles(NamedTuple):
    """A load's per-title rows of ``md_title_day`` or ``md_title_month`` (:meth:`Aggregator._prepare_titles`)."""

    texts: list[tuple]  # the keys, as text
    entries: np.ndarray  # key position << 31 | title id, sorted
    values: list[np.ndarray]  # per entry, :data:`_TITLE_VALUES`
    coded: np.ndarray  # entry << 4 | completion decile code, sorted
    plays: np.ndarray  # per ``coded``
    rows: list[tuple]  # packed, one per key (as written where no key is stored yet)


def _title_rows(texts: list[tuple], entries: np.ndarray, values: list[np.ndarray], coded: np.ndarray,
                plays: np.ndarray) -> list[tuple]:
    """One row per key of ``texts``: its entries' title ids, plays, minutes, engagement and deciles, packed."""
    ids = entries & _TITLE_MASK
    starts, ends = _bounds(entries >> _TITLE_BITS)
    # Each entry's plays with a percentage as their decile codes, ascending (one code per play).
    codes = np.repeat(coded & ((1 << _CODE_BITS) - 1), plays)
    first_code = np.concatenate(([0], np.cumsum(plays)))[np.searchsorted(coded >> _CODE_BITS, entries[starts])]
    code_runs = np.diff(np.concatenate((first_code, [len(codes)])))
    ids_bytes = ids.astype("<i4").tobytes()
    return [
        (*text, ids_bytes[4 * a:4 * b], plays, minutes, engagement, deciles_blob)
        for text, a, b, plays, minutes, engagement, deciles_blob in zip(
            texts, starts.tolist(), ends.tolist(), pack_column_rows(values[:1], starts, ends),
            pack_column_rows(values[1:2], starts, ends), pack_column_rows(values[2:], starts, ends),
            pack_code_runs(codes, code_runs), strict=True)
    ]


class _TitleDeciles(NamedTuple):
    """The completion deciles of title entries: per (entry, code) pair, sorted, the plays."""

    entry: np.ndarray  # index into the entries
    code: np.ndarray
    plays: np.ndarray

    @classmethod
    def of(cls, entries: np.ndarray, coded: np.ndarray, plays: np.ndarray) -> _TitleDeciles:
        """From sorted ``entries`` and sorted ``entry << 4 | code`` keys (each entry among ``entries``)."""
        return cls(np.searchsorted(entries, coded >> _CODE_BITS), coded & ((1 << _CODE_BITS) - 1), plays)
