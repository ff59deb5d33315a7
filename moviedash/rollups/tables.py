"""Derived data: small pre-aggregated tables kept current inside every load.

Why: at 10M events a ``GROUP BY`` over ``movies`` takes seconds, and
``COUNT(DISTINCT userid)`` cannot be pre-summed.  So each load adds its new
rows (``movies.rowid > covered``) to

- ``md_users``: a dictionary of user ids (``userid`` -> small integer),
- ``md_day``: plays, minutes and a roaring bitmap of the users per
  (day, sessiontype, device, market) -- distinct users of any selection and
  resolution are the size of a union of bitmaps,
- ``md_hour``: plays per hour 0-23 per (day, dims), packed in one blob, for the heatmap,
- ``md_titles``: a dictionary of titles,
- ``md_title_day`` / ``md_title_month``: per (day or month, dims) the titles'
  ids, plays and minutes as packed arrays (one row per key, not per title),
  and the titles' engagement under the settings in force: ``engagement``, the
  per-title sums of the top list's ratios (:data:`TITLE_ENGAGEMENT_COLUMNS`,
  derived from :data:`moviedash.metrics.TITLE_RANKS`: capped completion units,
  plays with a percentage, full-watch units, plays with a running time), and
  ``deciles``, each such play's completion decile (:data:`DECILES` codes, the
  "where people stop" histogram), both compactly packed
  (:mod:`.packing`): any selection's ``rank=completion|full_watches`` top list
  and stop curve are exact sums of them,
- ``md_title_users``: each title's all-time viewers (bitmap and count), for
  the default top list by viewers,
- ``md_title_viewers``: per (day, dims) the distinct (user id, title id) pairs
  of its titled plays' viewers, ordered by user (:func:`.packing.pack_pairs`: the users as
  gaps, ~4 bytes a pair): distinct viewers per title of any selection are the distinct
  pairs of the matching rows,
- ``md_engagement``: per (day, dims) the integer sums of the engagement
  ratios (:data:`moviedash.metrics.ENGAGEMENT_ROLLUPS`, one column per
  declared numerator, denominator and play count, in 0.0001 units or plays)
  and ``plays`` (events that are plays under ``min_minutes``), computed under
  the data-quality settings in force (a settings change rebuilds them): any
  selection's completion, completion rate, full watches, quality and
  poor-quality share are the exact ratio of its summed columns,
- ``md_engagement_bins``: per (day, dims) the binned counts of the same plays under the same
  settings, as packed integer arrays (:func:`pack`): ``completion_bins``, the plays per 10 %
  bin of capped completion (:data:`moviedash.metrics.COMPLETION_HISTOGRAM`; a row's session
  type is one of its dims, so movies and series are its rows of either type);
  ``quality_bins``, the plays per non-empty 0.01-wide bin of ``errorperception`` (the bin width
  of the ``quality_p90`` :class:`~moviedash.metrics.Distribution`), sparse; and
  ``quality_completion``, per non-empty one-unit bin of ``errorperception``
  (:data:`~moviedash.metrics.COMPLETION_BY_QUALITY`) the plays with both values and the sum of
  their capped completion: any selection's 90th percentile, completion histogram and completion
  by quality are read off its summed bins, exactly as the raw SQL's,
- ``md_engagement_bins_month``: the same bins summed per (month, dims), so that a grouping of
  whole months (a monthly series, a breakdown, the histogram, completion by quality) reads one
  row per (month, dims) of a range's whole months instead of ~30 (the days at either edge come
  from ``md_engagement_bins``, as ``md_title_month`` and ``md_title_day`` share a top list),
- ``md_shows`` / ``md_title_shows``: a dictionary of shows, and each title's show ids as an event
  of a series (``split``) or of any other session type (``own``) under :mod:`moviedash.shows`'
  rule (:mod:`.showmap`): the top list by show (``group=shows``) maps the per-title rollups'
  entries to shows by their row's session type,
- ``md_title_numbers``: each title's ``season`` and ``episode`` (NULL: none) and ``mixed``, 1 when its
  events do not all carry the same pair (:mod:`.title_numbers`): the show page (per season and
  episode, its grid) maps the per-title rollups' entries of the show to their numbers, and is
  answered from the raw table when a title of the show is mixed,
- ``md_viewer_day`` / ``md_viewer_month``: per (day or month, dims) the viewers' user ids, plays and
  minutes, packed (:mod:`.viewer_sums`): any selection's per-viewer totals (concentration, heavy
  viewers) are a group-sum by user id of its rows,
- ``md_results``: the rows behind the default (unfiltered) views, recomputed
  at load so the first view after an import is as fast as the next one; with
  the binned engagement answers (the 90th percentile's series and breakdowns,
  the completion histogram, completion by quality), computed under the settings
  the rollups embody, so a settings change (a rebuild) recomputes them too,
- ``md_about``: the whole table's counts behind "About this data" (:data:`ABOUT_COUNTS`: events,
  plays of ``exclude_users``, events of the anonymous user id, plays above 100 %), under the
  settings the rollups embody, added to at each load: the panel reads four numbers, not ``movies``,
- ``md_first_seen`` / ``md_first_day``: each viewer's first day and per day the bitmap of the
  users first seen then, for new vs returning viewers and cohorts (:mod:`.firstseen`),
- ``md_meta``: the ``movies`` rowid covered, a data ``version`` counter and
  whether the data are ``exact`` (every event date is a canonical date).

The loader and the demo stream their new rows through an :class:`Aggregator`
(no scan of ``movies`` after the inserts); other rows are read back with SQL
and aggregated the same way.  All of it is written in the loading transaction, so readers see new events and
what is derived from them at the same instant.  A database made elsewhere (the
course's ``.import``), or one with rows appended behind moviedash's back, has
no or stale derived data: :func:`status` says so and :mod:`moviedash.analysis`
uses its raw-table SQL instead.  Dimension values NULL and ``''`` are both
stored as ``''`` (the filter value ``unknown`` matches them, and the other
placeholders of :mod:`moviedash.dimensions`).

The functions here return plain rows; :mod:`moviedash.analysis` shapes them
exactly like the raw-table results.

Both backends, one code path: the SQL is written once with ``?`` placeholders
and the differences are data of :mod:`moviedash.store.dialects` (types
``blob``/``bytea``, ``WITHOUT ROWID``, monthly range partitions of the per-day
tables on PostgreSQL, bulk writes by ``COPY``).  How staleness is detected:

- SQLite: ``md_meta.covered`` is the largest ``movies`` rowid the rollups
  cover; ``max(rowid)`` (a B-tree lookup) differs once rows are appended
  behind moviedash's back, and the next load folds in ``rowid > covered``.
- PostgreSQL has no rowid.  A statement-level trigger on ``movies``
  (``AFTER INSERT OR UPDATE OR DELETE``, and ``TRUNCATE``) adds one to
  ``md_meta.foreign_writes`` for every write statement *not* made by a
  moviedash load (a load marks its transaction with the setting
  ``moviedash.loading``).  The rollups are current while ``foreign_writes``
  equals ``covered``: exact (any foreign write, even one that changes no
  row's aggregate, counts), and cheap (one row updated per statement, not
  per row; one primary-key lookup per status check).  Rows of unknown
  provenance cannot be told apart without a rowid, so the next load rebuilds
  the rollups from every row of ``movies``, in its transaction.  A database
  made by an older moviedash (no ``md_`` tables) is served raw until its
  next load builds them; its ``movies`` stays unpartitioned.
"""
from __future__ import annotations

from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from .. import dimensions, metrics
from ..params import DATE_MAX, DATE_MIN
from ..store import DIALECT, Dialect, dialect_of

DIMS: tuple[str, ...] = dimensions.DIMS
#: Bumped when the derived tables change: a database with another version is rebuilt at its next load.
SCHEMA_VERSION = 12
TABLES: tuple[str, ...] = (
    "md_users", "md_titles", "md_day", "md_hour", "md_title_day", "md_title_month", "md_title_users",
    "md_title_viewers", "md_engagement", "md_engagement_bins", "md_engagement_bins_month", "md_about", "md_results",
    "md_shows", "md_title_shows", "md_title_numbers",
    # Binge sessions (issue 15, :mod:`.binges`).
    "md_binge_shows", "md_binge_viewers", "md_binge_tail", "md_binges", "md_binge_day",
    "md_first_seen", "md_first_day",
    "md_viewer_day", "md_viewer_month",
)
#: ``md_about``'s counts (its ``name`` column), in :class:`moviedash.dataquality.About`'s order.
ABOUT_COUNTS: tuple[str, ...] = ("events", "anonymous_plays", "anonymous_id_events", "capped_rows")
#: ``md_engagement``'s additive columns: the plays, then the declared engagement sums.
ENGAGEMENT_COLUMNS: tuple[str, ...] = ("plays", *metrics.ENGAGEMENT_ROLLUPS)
#: The per-title engagement sums of ``md_title_day``/``md_title_month`` (their ``engagement`` blob, packed
#: by :func:`.packing.pack_columns` in this order): the ratio parts of the top list's engagement ranks.
TITLE_ENGAGEMENT_COLUMNS: tuple[str, ...] = metrics.TITLE_ROLLUPS
#: A play's completion decile (its ``deciles`` code): ``capped completion // DECILE_UNITS``, 0-10 (10: exactly
#: 100 %; below 0 counts as 0), so the plays at or above a stop point ``at`` % have codes ``>= at // 10``.
DECILE_UNITS = 10 * metrics.UNITS
DECILES = 100 * metrics.UNITS // DECILE_UNITS + 1
if any(at * metrics.UNITS % DECILE_UNITS for at in metrics.STOP_POINTS):
    raise ValueError("every stop point must be a decile edge")
#: ``md_engagement_bins``' packed columns (:data:`moviedash.metrics.BIN_ROLLUPS`).
BIN_COLUMNS: tuple[str, ...] = metrics.BIN_ROLLUPS
#: How many equal-length arrays each of them packs (:func:`pack`): a distribution's bins and plays;
#: the completion histogram's plays of its bins 0-9 (dense); completion by quality's bins, plays
#: with both values and their capped completion in 0.0001 units.
BIN_ARRAYS: dict[str, int] = {
    **{c: 2 for c in BIN_COLUMNS},
    str(metrics.COMPLETION_HISTOGRAM.rollup): 1,
    str(metrics.COMPLETION_BY_QUALITY.rollup): 3,
}
#: Stored default top lists hold this many titles (the largest N a query may ask).
TOP_STORED = 1000

#: Minutes as SQL reads them (a course-made database stores text).
MINUTES = "CAST(totalminuteswatched AS integer)"
#: The most minutes one event may hold (the loader's limit): sums of them cannot overflow.
MAX_MINUTES = 10**7

DIMS_PK = ", ".join(DIMS)


#: Rollups keyed by day, range partitioned by month where the dialect partitions.
DAY_TABLES: tuple[str, ...] = (
    "md_day", "md_hour", "md_title_day", "md_title_viewers", "md_engagement", "md_engagement_bins", "md_viewer_day",
)


def schema(dialect: Dialect = DIALECT) -> str:
    """The derived tables, in ``dialect`` (types, clustering and partitioning are the dialect's data)."""
    clustered = dialect.clustered_suffix
    text, blob, big = dialect.text_type, dialect.blob_type, dialect.int64_type
    dims = ", ".join(f"{d} {text} NOT NULL" for d in DIMS)
    by_day = dialect.partition_suffix.format(column="day")
    day_clustered = by_day or clustered
    sums = ", ".join(f"{c} {big} NOT NULL" for c in ENGAGEMENT_COLUMNS)
    bins = ", ".join(f"{c} {blob} NOT NULL" for c in BIN_COLUMNS)
    sql = f"""
CREATE TABLE IF NOT EXISTS md_meta (key {text} PRIMARY KEY, value {big} NOT NULL);
CREATE TABLE IF NOT EXISTS md_users (id integer PRIMARY KEY, userid {text} NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS md_day (
    day {text} NOT NULL, {dims}, plays {big} NOT NULL, minutes {big} NOT NULL, users {blob} NOT NULL,
    PRIMARY KEY (day, {DIMS_PK})){day_clustered};
CREATE TABLE IF NOT EXISTS md_titles (id integer PRIMARY KEY, title {text} NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS md_hour (
    day {text} NOT NULL, {dims}, hours {blob} NOT NULL, PRIMARY KEY (day, {DIMS_PK})){by_day};
CREATE TABLE IF NOT EXISTS md_title_day (
    day {text} NOT NULL, {dims}, titles {blob} NOT NULL, plays {blob} NOT NULL, minutes {blob} NOT NULL,
    engagement {blob} NOT NULL, deciles {blob} NOT NULL, PRIMARY KEY (day, {DIMS_PK})){by_day};
CREATE TABLE IF NOT EXISTS md_title_month (
    month {text} NOT NULL, {dims}, titles {blob} NOT NULL, plays {blob} NOT NULL, minutes {blob} NOT NULL,
    engagement {blob} NOT NULL, deciles {blob} NOT NULL, PRIMARY KEY (month, {DIMS_PK}));
CREATE TABLE IF NOT EXISTS md_title_users (
    title {text} PRIMARY KEY, viewers {big} NOT NULL, users {blob} NOT NULL){clustered};
CREATE TABLE IF NOT EXISTS md_title_viewers (
    day {text} NOT NULL, {dims}, pairs {blob} NOT NULL, PRIMARY KEY (day, {DIMS_PK})){by_day};
CREATE TABLE IF NOT EXISTS md_engagement (
    day {text} NOT NULL, {dims}, {sums}, PRIMARY KEY (day, {DIMS_PK})){day_clustered};
CREATE TABLE IF NOT EXISTS md_engagement_bins (
    day {text} NOT NULL, {dims}, {bins}, PRIMARY KEY (day, {DIMS_PK})){by_day};
CREATE TABLE IF NOT EXISTS md_engagement_bins_month (
    month {text} NOT NULL, {dims}, {bins}, PRIMARY KEY (month, {DIMS_PK}));
CREATE TABLE IF NOT EXISTS md_viewer_day (
    day {text} NOT NULL, {dims}, viewers {blob} NOT NULL, PRIMARY KEY (day, {DIMS_PK})){by_day};
CREATE TABLE IF NOT EXISTS md_viewer_month (
    month {text} NOT NULL, {dims}, viewers {blob} NOT NULL, PRIMARY KEY (month, {DIMS_PK}));
CREATE TABLE IF NOT EXISTS md_about (name {text} PRIMARY KEY, value {big} NOT NULL){clustered};
CREATE TABLE IF NOT EXISTS md_results (name {text} PRIMARY KEY, value {text} NOT NULL);
CREATE TABLE IF NOT EXISTS md_shows (id integer PRIMARY KEY, show {text} NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS md_title_shows (title integer PRIMARY KEY, own integer NOT NULL, split integer NOT NULL);
CREATE TABLE IF NOT EXISTS md_title_numbers (
    title integer PRIMARY KEY, season {big}, episode {big}, mixed integer NOT NULL);
CREATE TABLE IF NOT EXISTS md_binge_shows (id {big} PRIMARY KEY, show {text} NOT NULL);
CREATE TABLE IF NOT EXISTS md_binge_viewers (user_id {big} PRIMARY KEY, latest {big} NOT NULL);
CREATE TABLE IF NOT EXISTS md_binge_tail (
    user_id {big} NOT NULL, show_id {big} NOT NULL, start {big} NOT NULL, minutes {big} NOT NULL, {dims});
CREATE INDEX IF NOT EXISTS md_binge_tail_pair ON md_binge_tail (user_id, show_id);
CREATE TABLE IF NOT EXISTS md_binges (
    user_id {big} NOT NULL, show_id {big} NOT NULL, start {big} NOT NULL, day {text} NOT NULL, {dims},
    episodes {big} NOT NULL, PRIMARY KEY (user_id, show_id, start));
CREATE TABLE IF NOT EXISTS md_binge_day (
    day {text} NOT NULL, {dims}, series_minutes {big} NOT NULL, binge_minutes {big} NOT NULL,
    sessions {big} NOT NULL, PRIMARY KEY (day, {DIMS_PK}));
"""
    # Each viewer's first day and the users first seen per day (:mod:`.firstseen`).
    sql += f"""CREATE TABLE IF NOT EXISTS md_first_seen (user_id integer PRIMARY KEY, day {text} NOT NULL);
CREATE TABLE IF NOT EXISTS md_first_day (day {text} PRIMARY KEY, users {blob} NOT NULL){clustered};
"""
    if dialect.partitioned:  # rows of a day no month partition holds (none, as loads create them first)
        sql += "".join(f"CREATE TABLE IF NOT EXISTS {t}_default PARTITION OF {t} DEFAULT;\n" for t in DAY_TABLES)
    return sql


def item_size(arrays: Sequence[np.ndarray]) -> int:
    """4 when every value of ``arrays`` fits a signed 32-bit integer, else 8."""
    for array in arrays:
        if len(array) and (int(array.min()) < -(2**31) or int(array.max()) >= 2**31):
            return 8
    return 4


def pack(arrays: Sequence[np.ndarray], size: int | None = None) -> bytes:
    """Equal-length integer arrays as one blob: a byte giving the item size, then each array in turn.

    The item size is 4 (little-endian int32) when every value fits, else 8 (int64): the
    common counts and bins take half the room, and no value is ever cut.  ``size``: one
    already known to fit (:func:`item_size` of arrays holding these).
    """
    size = size or item_size(arrays)
    kind = f"<i{size}"
    return bytes([size]) + b"".join(np.asarray(a).astype(kind, copy=False).tobytes() for a in arrays)


def pack_rows(arrays: Sequence[np.ndarray], starts: np.ndarray, ends: np.ndarray) -> list[bytes]:
    """``pack([a[start:end] for a in arrays])`` of every ``(start, end)`` row, at once (one gather, one
    byte string, sliced): a load packs a row per (day, dims) key.  One item size for all the rows."""
    size = item_size(arrays)
    header = bytes([size])
    lengths = (np.asarray(ends) - np.asarray(starts)).astype(np.int64)
    count = len(arrays)
    if not len(lengths):
        return []
    if not len(arrays[0]) or not lengths.sum():
        return [header] * len(lengths)
    flat = np.stack([np.asarray(a, dtype=np.int64) for a in arrays]).astype(f"<i{size}").reshape(-1)
    # Row r's entries, array by array: flat[j * n + starts[r] + t] for j < count, t < lengths[r].
    spans = lengths * count
    total = int(spans.sum())
    offsets = np.concatenate(([0], np.cumsum(spans)))
    row = np.repeat(np.arange(len(lengths)), spans)
    within = np.arange(total, dtype=np.int64) - offsets[:-1][row]
    safe = np.maximum(lengths, 1)[row]
    index = (within // safe) * len(arrays[0]) + np.asarray(starts, dtype=np.int64)[row] + within % safe
    data = flat[index].tobytes()
    edges = (offsets * size).tolist()
    return [header + data[a:b] for a, b in zip(edges[:-1], edges[1:], strict=True)]


def unpack(blob: bytes, count: int) -> list[np.ndarray]:
    """The ``count`` int64 arrays of a :func:`pack` blob."""
    data = memoryview(blob)
    size = data[0]
    if size not in (4, 8) or (len(data) - 1) % (size * count):
        raise ValueError("not a packed blob of that many arrays")
    values = np.frombuffer(data[1:], dtype=f"<i{size}").astype(np.int64)
    return list(values.reshape(count, -1))


def unpack_rows(blobs: Sequence[bytes], count: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """:func:`unpack` of many blobs at once: each blob's entries per array (``lengths``) and the
    ``count`` int64 arrays of every blob's entries, concatenated in blob order."""
    lengths = np.zeros(len(blobs), dtype=np.int64)
    out: list[list[np.ndarray]] = [[] for _ in range(count)]
    kinds: list[tuple[np.ndarray, np.ndarray]] = []  # per item size: its blobs' numbers and lengths
    item_sizes = np.fromiter((blob[0] if len(blob) else 0 for blob in blobs), dtype=np.int64, count=len(blobs))
    if not np.isin(item_sizes, (4, 8)).all():
        raise ValueError("not packed blobs")
    for size in (4, 8):  # blobs of either item size, each kind gathered at once
        chosen = np.flatnonzero(item_sizes == size)
        if not len(chosen):
            continue
        picked = blobs if len(chosen) == len(blobs) else [blobs[i] for i in chosen.tolist()]
        sizes = np.fromiter(map(len, picked), dtype=np.int64, count=len(picked)) - 1
        if (sizes % (size * count)).any():
            raise ValueError("not packed blobs of that many arrays")
        values = np.frombuffer(b"".join([blob[1:] for blob in picked]), dtype=f"<i{size}")
        n = sizes // (size * count)
        lengths[chosen] = n
        if count == 1:
            out[0].append(values.astype(np.int64))
        else:  # a blob's arrays follow each other: mark each value with its array's number
            arrays = np.repeat(np.tile(np.arange(count, dtype=np.int8), len(picked)), np.repeat(n, count))
            for j in range(count):
                out[j].append(values[arrays == j].astype(np.int64))
        kinds.append((chosen, n))
    if len(kinds) < 2:
        return lengths, [parts[0] if parts else np.zeros(0, dtype=np.int64) for parts in out]
    # Both item sizes: back into blob order.
    back = np.argsort(np.concatenate([np.repeat(chosen, n) for chosen, n in kinds]), kind="stable")
    return lengths, [np.concatenate(parts)[back] for parts in out]


def exists(conn: Any, table: str, dialect: Dialect | None = None) -> bool:
    """Whether ``table`` exists (asked, not tried: a failed statement aborts a PostgreSQL transaction)."""
    dialect = dialect or dialect_of(conn)
    return bool(conn.execute(dialect.table_exists_sql, (table,)).fetchone()[0])


def bulk_insert(
    conn: Any, dialect: Dialect, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]],
    on_conflict: str = "",
) -> None:
    """Insert (``on_conflict``: upsert, ``(key) DO UPDATE SET ...``) many rows into a rollup table.

    Where the dialect copies in bulk (PostgreSQL), the rows go by ``COPY`` into
    a temporary table and on by one ``INSERT ... SELECT``: ~20x faster than
    one statement per row, even pipelined.
    """
    names = ", ".join(columns)
    suffix = f" ON CONFLICT {on_conflict}" if on_conflict else ""
    if not dialect.bulk_copy:
        marks = ", ".join("?" * len(columns))
        conn.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks}){suffix}", rows)
        return
    if not on_conflict:  # nothing to merge: straight in
        conn.copy_rows(table, columns, rows)
        return
    stage = f"md_stage_{table}"
    conn.execute(f"CREATE TEMPORARY TABLE {stage} (LIKE {table}) ON COMMIT DROP")
    conn.copy_rows(stage, columns, rows)
    conn.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {stage}{suffix}")
    conn.execute(f"DROP TABLE {stage}")


def insert_columns(conn: Any, dialect: Dialect, table: str, data: dict[str, np.ndarray | Sequence[Any]]) -> None:
    """Insert rows given as columns (text and integers, no NULL) into a rollup table, where no row can conflict.

    Where the dialect copies in bulk, as one CSV ``COPY`` that pyarrow writes (a load adds a row per new
    user id: Python-level rows would cost more than the copy itself).
    """
    if dialect.bulk_copy:
        conn.copy_table(table, pa.table({name: pa.array(values) for name, values in data.items()}))
        return
    columns = [v.tolist() if isinstance(v, np.ndarray) else list(v) for v in data.values()]  # numpy ints: int
    bulk_insert(conn, dialect, table, tuple(data), zip(*columns, strict=True))


def upsert(
    conn: Any, dialect: Dialect, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]],
    on_conflict: str, stored: Container[tuple], key_columns: int = 4,
) -> None:
    """:func:`bulk_insert` with ``on_conflict`` of ``rows`` whose key (their first ``key_columns`` values)
    is among ``stored``, every key the table holds that a row could meet.

    Where the dialect copies in bulk, the other rows, whose keys the table does not hold, cannot
    conflict: they are copied straight into the table, without the staging table and the upsert
    (on a first load, every row).  SQLite upserts every row, as its upsert costs no more than an insert.
    """
    if not dialect.bulk_copy:
        bulk_insert(conn, dialect, table, columns, rows, on_conflict)
        return
    fresh: list[Sequence[Any]] = []
    known: list[Sequence[Any]] = []
    for row in rows:
        (known if tuple(row[:key_columns]) in stored else fresh).append(row)
    if fresh:
        bulk_insert(conn, dialect, table, columns, fresh)
    if known:
        bulk_insert(conn, dialect, table, columns, known, on_conflict)


def position(conn: Any, dialect: Dialect | None = None) -> int:
    """Where ``movies`` stands (:attr:`Dialect.position_sql`): rollups cover it when ``covered`` equals it."""
    dialect = dialect or dialect_of(conn)
    if not dialect.position_counts_rows and not exists(conn, "md_meta", dialect):
        return 0
    return int(conn.execute(dialect.position_sql).fetchone()[0] or 0)


# --------------------------------------------------------------------------- #
# Status: may the derived data answer, and under which version?
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Status:
    """The derived data's state as seen by one connection."""

    database: str
    #: A random id given to the derived data when first built: a file replaced
    #: at the same path (``demo --force``) never shares a cache key with its predecessor.
    instance: int
    version: int
    usable: bool


_STATUS_SQL = """
SELECT ({database}),
       (SELECT value FROM md_meta WHERE key = 'version'),
       (SELECT value FROM md_meta WHERE key = 'instance'),
       (SELECT value FROM md_meta WHERE key = 'covered'),
       (SELECT value FROM md_meta WHERE key = 'exact'),
       (SELECT value FROM md_meta WHERE key = 'schema'),
       ({position}),
       (SELECT value FROM md_meta WHERE key = 'in_range')
"""
#: Whether every day of ``md_day`` is within the served dates, for rollups built before
#: :func:`record_range` kept the answer in ``md_meta`` (a scan of the per-day table's index).
_RANGE_SQL = "SELECT min(day), max(day) FROM md_day"
#: Where a serving connection keeps :func:`status` for the rest of its request.
_MEMO_KEY = "rollups.status"


def status(conn: Any) -> Status | None:
    """One cheap query: ``None`` without derived data, else its version and whether it is current.

    Current means every row of ``movies`` is covered (``max(rowid)`` equals the
    covered rowid: rows appended behind moviedash's back make it stale), every
    covered event date was canonical and within the served dates (derived
    data built before the loader checked that), and the tables are of this
    version's schema.
    """
    memo = _status_memo(conn)
    if memo is not None and _MEMO_KEY in memo:
        return memo[_MEMO_KEY]  # type: ignore[return-value]
    result = _read_status(conn)
    if memo is not None:
        # Every answer of a request asks (some 60 for the engagement page's first layout); one
        # answer per request also keys all its cached answers to the same version.
        memo[_MEMO_KEY] = result
    return result


def _status_memo(conn: Any) -> dict[str, object] | None:
    """Where a serving connection keeps :func:`status`: a PostgreSQL one for its snapshot (until the
    transaction ends), a SQLite one for its request (it lives for one); ``None`` for any other."""
    if hasattr(conn, "snapshot_memo"):
        return conn.snapshot_memo
    return getattr(conn, "memo", None)


def _read_status(conn: Any) -> Status | None:
    dialect = dialect_of(conn)
    if not exists(conn, "md_meta", dialect):  # a database made the course's way, or by an older moviedash
        return None
    sql = _STATUS_SQL.format(database=dialect.database_name_sql, position=dialect.position_sql)
    path, version, instance, covered, exact, schema_version, top, in_range = conn.execute(sql).fetchone()
    if version is None:
        return None
    if in_range is None:
        in_range = _in_range(*conn.execute(_RANGE_SQL).fetchone())
    # Derived data of another moviedash version are rebuilt at the next load; until then, raw SQL.
    usable = bool(exact) and bool(in_range) and (top or 0) == (covered or 0) and schema_version == SCHEMA_VERSION
    return Status(str(path or ""), int(instance or 0), int(version), usable)


def _in_range(first: Any, last: Any) -> bool:
    return first is None or (str(first) >= DATE_MIN.isoformat() and str(last) <= DATE_MAX.isoformat())


def record_range(conn: Any) -> None:
    """Keep in ``md_meta`` whether every day of the rollups is within the served dates.

    :func:`status` reads it with the other keys instead of the per-day table's
    first and last day: on PostgreSQL, planning that over every partition of
    ``md_day`` would cost each request more than the rest of the status.
    """
    set_meta(conn, "in_range", int(_in_range(*conn.execute(_RANGE_SQL).fetchone())))




def meta(conn: Any, key: str, default: int) -> int:
    row = conn.execute("SELECT value FROM md_meta WHERE key = ?", (key,)).fetchone()
    return default if row is None else int(row[0])


def set_meta(conn: Any, key: str, value: int) -> None:
    conn.execute(
        "INSERT INTO md_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )
