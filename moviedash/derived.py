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
- ``md_title_users``: each title's all-time viewers (bitmap and count), for
  the default top list by viewers,
- ``md_title_viewers``: per (day, dims) the ``title id << 32 | user id`` pair
  of every titled event, packed: distinct viewers per title of any selection
  are the distinct pairs of the matching rows (8 bytes per event, ~6% of ``movies``),
- ``md_results``: the rows behind the default (unfiltered) views, recomputed
  at load so the first view after an import is as fast as the next one,
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
"""
from __future__ import annotations

import datetime as dt
import itertools
import json
import secrets
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyroaring import BitMap

from . import dimensions
from .db import DIALECT, SQLiteDialect
from .escapes import decode_escapes
from .params import DATE_MAX, DATE_MIN, RESOLUTIONS, Filters, SeriesQuery, TopQuery

DIMS: tuple[str, ...] = dimensions.DIMS
#: Bumped when the derived tables change: a database with another version is rebuilt at its next load.
SCHEMA_VERSION = 3
TABLES: tuple[str, ...] = (
    "md_users", "md_titles", "md_day", "md_hour", "md_title_day", "md_title_month", "md_title_users",
    "md_title_viewers", "md_results",
)
#: Stored default top lists hold this many titles (the largest N a query may ask).
TOP_STORED = 1000

#: Minutes as SQL reads them (a course-made database stores text).
MINUTES = "CAST(totalminuteswatched AS integer)"
#: The most minutes one event may hold (the loader's limit): sums of them cannot overflow.
MAX_MINUTES = 10**7

_DIMS_PK = ", ".join(DIMS)


def schema(dialect: SQLiteDialect = DIALECT) -> str:
    """The derived tables (``WITHOUT ROWID`` is SQLite's clustered primary key)."""
    clustered = dialect.clustered_suffix
    dims = ", ".join(f"{d} text NOT NULL" for d in DIMS)
    return f"""
CREATE TABLE IF NOT EXISTS md_meta (key text PRIMARY KEY, value integer NOT NULL);
CREATE TABLE IF NOT EXISTS md_users (id integer PRIMARY KEY, userid text NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS md_day (
    day text NOT NULL, {dims}, plays integer NOT NULL, minutes integer NOT NULL, users blob NOT NULL,
    PRIMARY KEY (day, {_DIMS_PK})){clustered};
CREATE TABLE IF NOT EXISTS md_titles (id integer PRIMARY KEY, title text NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS md_hour (
    day text NOT NULL, {dims}, hours blob NOT NULL, PRIMARY KEY (day, {_DIMS_PK}));
CREATE TABLE IF NOT EXISTS md_title_day (
    day text NOT NULL, {dims}, titles blob NOT NULL, plays blob NOT NULL, minutes blob NOT NULL,
    PRIMARY KEY (day, {_DIMS_PK}));
CREATE TABLE IF NOT EXISTS md_title_month (
    month text NOT NULL, {dims}, titles blob NOT NULL, plays blob NOT NULL, minutes blob NOT NULL,
    PRIMARY KEY (month, {_DIMS_PK}));
CREATE TABLE IF NOT EXISTS md_title_users (
    title text PRIMARY KEY, viewers integer NOT NULL, users blob NOT NULL){clustered};
CREATE TABLE IF NOT EXISTS md_title_viewers (
    day text NOT NULL, {dims}, pairs blob NOT NULL, PRIMARY KEY (day, {_DIMS_PK}));
CREATE TABLE IF NOT EXISTS md_results (name text PRIMARY KEY, value text NOT NULL);
"""


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
SELECT (SELECT file FROM pragma_database_list WHERE name = 'main'),
       (SELECT value FROM md_meta WHERE key = 'version'),
       (SELECT value FROM md_meta WHERE key = 'instance'),
       (SELECT value FROM md_meta WHERE key = 'covered'),
       (SELECT value FROM md_meta WHERE key = 'exact'),
       (SELECT value FROM md_meta WHERE key = 'schema'),
       (SELECT max(rowid) FROM movies),
       (SELECT min(day) FROM md_day),
       (SELECT max(day) FROM md_day)
"""


def status(conn: sqlite3.Connection) -> Status | None:
    """One cheap query: ``None`` without derived data, else its version and whether it is current.

    Current means every row of ``movies`` is covered (``max(rowid)`` equals the
    covered rowid: rows appended behind moviedash's back make it stale), every
    covered event date was canonical and within the served dates (derived
    data built before the loader checked that), and the tables are of this
    version's schema.
    """
    if not isinstance(conn, sqlite3.Connection):
        return None  # PostgreSQL aggregates in the server: no derived data, no cache
    try:
        path, version, instance, covered, exact, schema_version, top, first, last = conn.execute(_STATUS_SQL).fetchone()
    except sqlite3.OperationalError:  # no md_meta: a database made the course's way
        return None
    if version is None:
        return None
    in_range = first is None or (str(first) >= DATE_MIN.isoformat() and str(last) <= DATE_MAX.isoformat())
    # Derived data of another moviedash version are rebuilt at the next load; until then, raw SQL.
    usable = bool(exact) and in_range and (top or 0) == (covered or 0) and schema_version == SCHEMA_VERSION
    return Status(str(path or ""), int(instance or 0), int(version), usable)


# --------------------------------------------------------------------------- #
# Maintenance, inside the loading transaction.
# --------------------------------------------------------------------------- #


def _meta(conn: sqlite3.Connection, key: str, default: int) -> int:
    row = conn.execute("SELECT value FROM md_meta WHERE key = ?", (key,)).fetchone()
    return default if row is None else int(row[0])


def _set_meta(conn: sqlite3.Connection, key: str, value: int) -> None:
    conn.execute(
        "INSERT INTO md_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def refresh(conn: sqlite3.Connection, dialect: SQLiteDialect = DIALECT, aggregator: Aggregator | None = None) -> None:
    """Add the rows of ``movies`` not covered yet to the derived tables; bump the version.

    Must run on an open write transaction (the loader's), after the inserts.
    With an ``aggregator`` that saw exactly the rows added since the derived
    data were last current, its aggregates are written; otherwise SQL
    ``GROUP BY`` passes over the new rows build the same data.
    """
    _create(conn, dialect)
    if _meta(conn, "schema", 0) != SCHEMA_VERSION:  # also: derived data of an older moviedash
        for table in TABLES:
            conn.execute(f"DROP TABLE {table}")
        conn.execute("DELETE FROM md_meta WHERE key IN ('covered', 'exact')")
        _create(conn, dialect)
    _set_meta(conn, "schema", SCHEMA_VERSION)
    if _meta(conn, "instance", 0) == 0:
        _set_meta(conn, "instance", secrets.randbits(62) + 1)
    covered = _meta(conn, "covered", 0)
    exact = _meta(conn, "exact", 1)
    top = conn.execute("SELECT max(rowid) FROM movies").fetchone()[0] or 0
    if top > covered and exact:  # inexact data are never used again: stop maintaining them
        if (
            aggregator is not None and aggregator.ok and aggregator.schema_ok
            and aggregator.start == covered and aggregator.rows == top - covered
        ):
            aggregator.write(conn, dialect)
        else:
            exact = _add_rows(conn, covered, dialect)
    elif top < covered:  # rows were deleted behind our back: derived data cannot be trusted
        exact = 0
    _set_meta(conn, "covered", top)
    _set_meta(conn, "exact", int(bool(exact)))
    _set_meta(conn, "version", _meta(conn, "version", 0) + 1)
    conn.execute("DELETE FROM md_results")
    if exact:
        store_defaults(conn, dialect)


def _create(conn: sqlite3.Connection, dialect: SQLiteDialect) -> None:
    # executescript() would COMMIT the open transaction: run statement by statement.
    for statement in schema(dialect).split(";"):
        if statement.strip():
            conn.execute(statement)


def _add_rows(conn: sqlite3.Connection, covered: int, dialect: SQLiteDialect) -> bool:
    """Fold ``movies.rowid > covered`` into every derived table; False if a date is not canonical.

    The path for rows no :class:`Aggregator` saw (a course-made database, rows
    appended behind moviedash's back, a schema rebuild): SQLite reads the rows
    as it would for the raw-table SQL, and an aggregator folds them in.
    """
    day = dialect.bucket("daily")
    # Not canonical, outside the served dates, or minutes whose sums could overflow
    # (numpy wraps silently): the raw SQL answers such data (and reports an overflow).
    odd = conn.execute(
        f"SELECT EXISTS (SELECT 1 FROM movies WHERE rowid > ? AND "
        f"(event_date IS NULL OR {day} IS NULL OR {day} <> substr(event_date, 1, 10) "
        f"OR event_date < ? OR event_date >= ? OR {MINUTES} NOT BETWEEN 0 AND ?))",
        (covered, DATE_MIN.isoformat(), (DATE_MAX + dt.timedelta(days=1)).isoformat(), MAX_MINUTES),
    ).fetchone()[0]
    if odd:
        return False  # the raw SQL answers from now on: building the rest would be wasted
    aggregator = Aggregator(conn, start=covered)
    dims = ", ".join(f"COALESCE(CAST({d} AS text), '')" for d in DIMS)
    cursor = conn.execute(
        f"SELECT {day} || ' ' || strftime('%H:%M:%S', event_date), CAST(userid AS text), {dims}, "
        f"CAST(title AS text), {MINUTES} FROM movies WHERE rowid > ?",
        (covered,),
    )
    while rows := cursor.fetchmany(200_000):
        aggregator.add(dict(zip(FED_COLUMNS, (list(c) for c in zip(*rows)))), checked=False)
    aggregator.write(conn, dialect)
    return True


def store_defaults(conn: sqlite3.Connection, dialect: SQLiteDialect = DIALECT) -> None:
    """Compute the rows behind every default view from the derived tables and store them."""
    results: dict[str, Any] = {}
    everything = Filters()
    day_rows = [(day, BitMap.deserialize(blob)) for day, blob in conn.execute("SELECT day, users FROM md_day ORDER BY day")]
    for resolution in RESOLUTIONS:
        results[f"unique_users:{resolution}"] = _users_by_bucket(day_rows, resolution)
        results[f"minutes_watched:{resolution}"] = _minutes_rows(conn, SeriesQuery(resolution, everything), dialect)
    for rank in ("plays", "minutes"):
        results[f"top:{rank}"] = _top_from_tables(conn, TopQuery(TOP_STORED, rank, everything))
    # Every title tied with the TOP_STORED-th is read: the shown title decides among them.
    results["top:viewers"] = rank_by_shown_title(
        conn.execute(
            "SELECT title, viewers FROM md_title_users WHERE viewers >= coalesce("
            "(SELECT viewers FROM md_title_users ORDER BY viewers DESC LIMIT 1 OFFSET ?), 0)",
            (TOP_STORED - 1,),
        ),
        TOP_STORED,
    )
    results["heatmap"] = _heatmap_rows(conn, everything)
    results["totals"] = list(_totals_from_tables(conn, everything, day_rows))
    results["span"] = list(_span_from_tables(conn))
    results["dim_values"] = _dim_values_from_tables(conn)
    conn.executemany(
        "INSERT INTO md_results (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        [(name, json.dumps(value)) for name, value in results.items()],
    )


def _stored(conn: sqlite3.Connection, name: str) -> Any:
    row = conn.execute("SELECT value FROM md_results WHERE name = ?", (name,)).fetchone()
    return None if row is None else json.loads(row[0])


# --------------------------------------------------------------------------- #
# Serving: the same answers as the raw-table SQL, from the derived tables.
# --------------------------------------------------------------------------- #


def where(filters: Filters, day_column: str = "day") -> tuple[str, list[Any]]:
    """WHERE clause over a derived table (day-level range, dims exactly as in ``analysis.where``)."""
    clauses: list[str] = ["1 = 1"]
    params: list[Any] = []
    if filters.start is not None:
        clauses.append(f"{day_column} >= ?")
        params.append(filters.start.isoformat())
    if filters.end is not None:
        clauses.append(f"{day_column} <= ?")
        params.append(filters.end.isoformat())
    for column in DIMS:
        values = getattr(filters, column)
        if values:
            clause, values_params = dimensions.condition(column, values, nullable=False)
            clauses.append(clause)
            params.extend(values_params)
    return " AND ".join(clauses), params


def _users_by_bucket(rows: Iterable[Sequence[Any]], resolution: str) -> list[list[Any]]:
    """``(day, bitmap or its serialization)`` rows, ordered by day, into ``[label, distinct users]`` per period."""
    from .analysis import period_start  # shaping helpers live in analysis

    out: list[list[Any]] = []
    label: str | None = None
    maps: list[BitMap] = []
    cache: dict[str, str] = {}
    for day, blob in rows:
        bucket = cache.get(day)
        if bucket is None:
            bucket = cache[day] = period_start(dt.date.fromisoformat(day), resolution).isoformat()
        if bucket != label:
            if maps:
                out.append([label, len(BitMap.union(*maps))])
            label, maps = bucket, []
        maps.append(blob if isinstance(blob, BitMap) else BitMap.deserialize(blob))
    if maps:
        out.append([label, len(BitMap.union(*maps))])
    return out


def _minutes_rows(conn: sqlite3.Connection, query: SeriesQuery, dialect: SQLiteDialect) -> list[list[Any]]:
    clause, params = where(query.filters)
    return [
        list(r)
        for r in conn.execute(
            f"SELECT {dialect.bucket(query.resolution, 'day')} AS date, SUM(minutes) FROM md_day "
            f"WHERE {clause} GROUP BY 1 ORDER BY 1",
            params,
        )
    ]


def series_rows(conn: sqlite3.Connection, metric: str, query: SeriesQuery, dialect: SQLiteDialect = DIALECT) -> list[list[Any]]:
    """``[period label, value]`` rows of ``unique_users`` or ``minutes_watched`` (not zero-filled)."""
    if query.filters.is_default():
        stored = _stored(conn, f"{metric}:{query.resolution}")
        if stored is not None:
            return stored
    if metric == "minutes_watched":
        return _minutes_rows(conn, query, dialect)
    clause, params = where(query.filters)
    rows = conn.execute(f"SELECT day, users FROM md_day WHERE {clause} ORDER BY day", params)
    return _users_by_bucket(rows, query.resolution)


def _month_bounds(filters: Filters) -> tuple[str | None, str | None, str | None, str | None, bool]:
    """Split a date range into whole months (monthly table) and edge days (daily table).

    Returns ``(first_month, last_month, start_day, end_day, whole_months)``: the
    monthly table answers months ``first_month..last_month`` (either may be
    open: ``None``) and the daily table the days of ``start_day..end_day``
    outside them.  ``whole_months`` is False when the range holds no whole month.
    """
    start, end = filters.start, filters.end
    first = None
    if start is not None:
        first = start if start.day == 1 else (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    last = None
    if end is not None:
        next_day = end + dt.timedelta(days=1)
        last = end.replace(day=1) if next_day.day == 1 else (end.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    whole = first is None or last is None or first <= last
    iso = lambda d: d.isoformat() if d else None  # noqa: E731
    return iso(first), iso(last), iso(start), iso(end), whole


def _top_from_tables(conn: sqlite3.Connection, query: TopQuery) -> list[list[Any]]:
    column = {"plays": "plays", "minutes": "minutes"}[query.rank]
    dims_clause, dims_params = where(Filters(**{d: getattr(query.filters, d) for d in DIMS}))
    first, last, start, end, whole = _month_bounds(query.filters)
    parts: list[tuple[str, list[Any]]] = []
    if not whole:
        clause, p = where(query.filters)
        parts.append((f"SELECT titles, {column} FROM md_title_day WHERE {clause}", p))
    else:
        month_clause = [dims_clause]
        month_params = list(dims_params)
        if first is not None:
            month_clause.append("month >= ?")
            month_params.append(first)
        if last is not None:
            month_clause.append("month <= ?")
            month_params.append(last)
        parts.append((f"SELECT titles, {column} FROM md_title_month WHERE {' AND '.join(month_clause)}", month_params))
        if start is not None and first is not None and start < first:  # days before the first whole month
            parts.append((f"SELECT titles, {column} FROM md_title_day WHERE {dims_clause} AND day >= ? AND day < ?",
                          [*dims_params, start, first]))
        if end is not None and last is not None:
            after = (dt.date.fromisoformat(last).replace(day=28) + dt.timedelta(days=4)).replace(day=1).isoformat()
            if end >= after:  # days after the last whole month
                parts.append((f"SELECT titles, {column} FROM md_title_day WHERE {dims_clause} AND day >= ? AND day <= ?",
                              [*dims_params, after, end]))
    ids: list[np.ndarray] = []
    values: list[np.ndarray] = []
    for sql, params in parts:
        for blob_ids, blob_values in conn.execute(sql, params):
            ids.append(np.frombuffer(blob_ids, dtype="<i4"))
            values.append(np.frombuffer(blob_values, dtype="<i8"))
    if not ids:
        return []
    title_ids, (totals,) = _group_sum(np.concatenate(ids), [np.concatenate(values)])
    return _rank_titles(conn, title_ids, totals, query.num)


def rank_by_shown_title(rows: Iterable[tuple[str, int]], num: int) -> list[list[Any]]:
    """The ``num`` best ``[stored title, total]`` of ``rows``: most first, ties by the title as shown.

    Shown is with the course file's ``<e5>`` escapes decoded, compared by code
    point (as SQLite's binary collation and PostgreSQL's "C" compare): the
    same order whether the database holds ``<d8>isteins Blyant`` (made the
    course's way) or ``Øisteins Blyant`` (loaded).
    """
    ranked = sorted(rows, key=lambda r: (-r[1], decode_escapes(r[0]), r[0]))
    return [[title, int(n)] for title, n in ranked[:num]]


def _rank_titles(conn: sqlite3.Connection, ids: np.ndarray, totals: np.ndarray, num: int) -> list[list[Any]]:
    """The ``num`` best ``[title, total]``: most first, ties by the title as shown (:func:`rank_by_shown_title`)."""
    if len(ids) > num:
        threshold = np.partition(totals, len(totals) - num)[len(totals) - num]
        keep = totals >= threshold
        ids, totals = ids[keep], totals[keep]
    wanted = ids.tolist()
    if len(wanted) > 900:
        names = dict(conn.execute("SELECT id, title FROM md_titles"))
    else:
        names = dict(conn.execute(f"SELECT id, title FROM md_titles WHERE id IN ({', '.join('?' * len(wanted))})", wanted))
    return rank_by_shown_title(zip((names[i] for i in wanted), totals.tolist()), num)


def top_rows(conn: sqlite3.Connection, query: TopQuery) -> list[list[Any]]:
    """``[raw title, value]`` rows of the top list.

    Distinct viewers per title of a filtered selection come from
    ``md_title_viewers``: the (title, user) pairs of the selected days and dims.
    """
    if query.filters.is_default():
        stored = _stored(conn, f"top:{query.rank}")
        if stored is not None:
            return stored[: query.num]
    if query.rank == "viewers":
        return _top_viewers_from_tables(conn, query)
    return _top_from_tables(conn, query)


def _top_viewers_from_tables(conn: sqlite3.Connection, query: TopQuery) -> list[list[Any]]:
    """Distinct viewers per title of a selection: the distinct (title, user) pairs of its (day, dims) rows."""
    clause, params = where(query.filters)
    parts = [np.frombuffer(blob, dtype="<i8") for (blob,) in conn.execute(
        f"SELECT pairs FROM md_title_viewers WHERE {clause}", params)]
    if not parts:
        return []
    pairs = _distinct(np.concatenate(parts))
    viewers = np.bincount(pairs >> 32)
    ids = np.flatnonzero(viewers)
    return _rank_titles(conn, ids, viewers[ids], query.num)


def _heatmap_rows(conn: sqlite3.Connection, filters: Filters) -> list[list[Any]]:
    clause, params = where(filters)
    grid = np.zeros((7, 24), dtype=np.int64)
    weekdays: dict[str, int] = {}
    for day, blob in conn.execute(f"SELECT day, hours FROM md_hour WHERE {clause}", params):
        weekday = weekdays.get(day)
        if weekday is None:
            weekday = weekdays[day] = dt.date.fromisoformat(day).weekday()
        grid[weekday] += np.frombuffer(blob, dtype="<i8")
    return [[w, h, int(grid[w, h])] for w in range(7) for h in range(24) if grid[w, h]]


def heatmap_rows(conn: sqlite3.Connection, filters: Filters) -> list[list[Any]]:
    """``[weekday, hour, plays]`` rows (weekday 0 = Monday)."""
    if filters.is_default():
        stored = _stored(conn, "heatmap")
        if stored is not None:
            return stored
    return _heatmap_rows(conn, filters)


def _totals_from_tables(
    conn: sqlite3.Connection, filters: Filters, day_rows: Iterable[Sequence[Any]] | None = None
) -> tuple[int, int, int]:
    clause, params = where(filters)
    if day_rows is None:
        day_rows = conn.execute(f"SELECT day, users FROM md_day WHERE {clause}", params)
    maps = [blob if isinstance(blob, BitMap) else BitMap.deserialize(blob) for _day, blob in day_rows]
    viewers = len(BitMap.union(*maps)) if maps else 0
    plays, minutes = conn.execute(
        f"SELECT COALESCE(SUM(plays), 0), COALESCE(SUM(minutes), 0) FROM md_day WHERE {clause}", params
    ).fetchone()
    return viewers, int(plays), int(minutes)


def totals_row(conn: sqlite3.Connection, filters: Filters) -> tuple[int, int, int]:
    """``(viewers, plays, minutes)`` of a selection."""
    if filters.is_default():
        stored = _stored(conn, "totals")
        if stored is not None:
            return tuple(stored)  # type: ignore[return-value]
    return _totals_from_tables(conn, filters)


def _span_from_tables(conn: sqlite3.Connection) -> tuple[str | None, str | None, int]:
    first, last, events = conn.execute("SELECT MIN(day), MAX(day), COALESCE(SUM(plays), 0) FROM md_day").fetchone()
    return first, last, int(events)


def span_row(conn: sqlite3.Connection) -> tuple[str | None, str | None, int]:
    """``(first day, last day, events)``."""
    stored = _stored(conn, "span")
    return tuple(stored) if stored is not None else _span_from_tables(conn)  # type: ignore[return-value]


def _dim_values_from_tables(conn: sqlite3.Connection) -> dict[str, list[str]]:
    """The distinct stored values of each dimension, ``''`` (NULL) included."""
    return {
        column: [str(r[0]) for r in conn.execute(f"SELECT DISTINCT {column} FROM md_day ORDER BY 1")]
        for column in DIMS
    }


def options(conn: sqlite3.Connection) -> dict[str, list[str]]:
    """The filter values of each dimension (``unknown`` last when some events lack it, see :mod:`.dimensions`)."""
    # Stored under a name older databases do not have: theirs left out the missing values.
    stored = _stored(conn, "dim_values")
    raw = stored if stored is not None else _dim_values_from_tables(conn)
    return {column: dimensions.known_values(raw[column]) for column in DIMS}


def has_value(conn: sqlite3.Connection, column: str, value: str) -> bool:
    """Whether filter value ``value`` (``unknown`` for its bucket) matches an event in dimension ``column``."""
    if column not in DIMS:
        raise ValueError(column)
    clause, params = dimensions.condition(column, [value], nullable=False)
    return bool(conn.execute(f"SELECT EXISTS (SELECT 1 FROM md_day WHERE {clause})", params).fetchone()[0])


# --------------------------------------------------------------------------- #
# Streaming aggregation: the loader and the demo hand over their new rows'
# columns batch by batch; only the (far fewer) aggregated rows reach SQLite.
# --------------------------------------------------------------------------- #

#: The columns a batch must hand to :meth:`Aggregator.add`.
FED_COLUMNS: tuple[str, ...] = ("event_date", "userid", *DIMS, "title", "totalminuteswatched")
_DAY_BITS, _DIM_BITS = 21, 14  # key = day << 42 | sessiontype << 28 | device << 14 | market


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


def _distinct(values: np.ndarray, runs: bool = False) -> np.ndarray:
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
    merged = _distinct(np.concatenate(pairs), runs=True)
    if not len(merged):
        return {}
    keys = merged >> 32
    users = (merged & 0xFFFFFFFF).astype(np.uint32)
    starts, ends = _bounds(keys)
    return {k: BitMap(users[a:b]) for k, a, b in zip(keys[starts].tolist(), starts.tolist(), ends.tolist())}


def _bounds(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end positions of the runs of equal values in sorted ``keys``."""
    cuts = np.flatnonzero(keys[1:] != keys[:-1]) + 1
    return np.concatenate(([0], cuts)), np.concatenate((cuts, [len(keys)]))


def _group_sum(keys: np.ndarray, values: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Distinct ``keys`` (sorted) and the int64 sums of ``values`` per key.

    pyarrow's hash aggregation: it releases the GIL, so in the loader it does
    not hold up the inserts running in the other thread (:func:`_sum_runs`
    is the numpy version, for keys that are already sorted runs).
    """
    table = pa.table({"k": keys, **{f"v{i}": v for i, v in enumerate(values)}})
    grouped = table.group_by("k", use_threads=False).aggregate([(f"v{i}", "sum") for i in range(len(values))])
    grouped = grouped.sort_by("k")
    return grouped["k"].to_numpy(), [grouped[f"v{i}_sum"].to_numpy().astype(np.int64, copy=False) for i in range(len(values))]


def _sum_runs(keys: np.ndarray, values: list[np.ndarray], runs: bool = False) -> tuple[np.ndarray, list[np.ndarray]]:
    """Distinct ``keys`` (sorted) and the int64 sums of ``values`` per key.

    ``runs``: ``keys`` is a concatenation of sorted runs (per-batch partials),
    which timsort (``kind="stable"``) merges rather than sorting anew.
    """
    order = np.argsort(keys, kind="stable" if runs else None)
    keys = keys[order]
    if not len(keys):
        return keys, [v[order] for v in values]
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    return keys[starts], [np.add.reduceat(v[order].astype(np.int64, copy=False), starts) for v in values]


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

    def __init__(self, conn: sqlite3.Connection, start: int | None = None) -> None:
        self.start = conn.execute("SELECT max(rowid) FROM movies").fetchone()[0] or 0 if start is None else start
        self.rows = 0
        self.ok = True
        self.title_name: dict[int, str] = {}
        users: dict[str, int] = {}
        titles: dict[str, int] = {}
        try:
            self.schema_ok = _meta(conn, "schema", 0) == SCHEMA_VERSION
            if self.schema_ok:
                users = {name: uid for uid, name in conn.execute("SELECT id, userid FROM md_users")}
                titles = {name: tid for tid, name in conn.execute("SELECT id, title FROM md_titles")}
        except sqlite3.OperationalError:  # no derived tables yet
            self.schema_ok = True
        self.users = _Codes(max(users.values(), default=0) + 1)
        self.users.index = users
        self.titles = _Codes(max(titles.values(), default=0) + 1)
        self.titles.index = titles
        self.title_name = {tid: name for name, tid in titles.items()}
        self.days = _Codes()
        self.dims = [_Codes() for _ in DIMS]
        # Each (day, dims) key seen gets a dense id; plays, minutes and hours are
        # running totals per dense id, titles and users per-batch partials.
        self.dense: dict[int, int] = {}
        self.dense_keys: list[int] = []
        self.plays = np.zeros(0, dtype=np.int64)
        self.minutes = np.zeros(0, dtype=np.int64)
        self.hours = np.zeros((0, 24), dtype=np.int64)
        self.title_parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (dense id << 31 | title), plays, minutes
        self.day_pairs: list[np.ndarray] = []  # dense id << 32 | user id, distinct per batch
        self.title_pairs: list[np.ndarray] = []  # title id << 32 | user id
        self.viewer_parts: list[tuple[np.ndarray, np.ndarray]] = []  # (dense id, title id << 32 | user id) per event
        self._finished: dict[str, Any] | None = None  # set by finish()

    #: The columns :meth:`add` needs.
    columns = FED_COLUMNS

    def add(self, columns: dict[str, Any], checked: bool = True) -> None:
        """Aggregate one batch: ``columns`` maps :data:`FED_COLUMNS` to pyarrow arrays or sequences.

        ``checked`` (the loader, the demo): every ``event_date`` is canonical
        ``YYYY-MM-DD HH:MM:SS`` text and every row has a user id, else the
        aggregator steps aside (``ok`` False).
        """
        if self._finished is not None:
            raise RuntimeError("Aggregator.add() after finish()")
        if not self.ok:
            return
        cols = {
            c: v if isinstance(v, (pa.Array, pa.ChunkedArray))
            else pa.array(v, type=pa.int64() if c == "totalminuteswatched" else pa.string())
            for c, v in columns.items()
        }
        dates, users = cols["event_date"], cols["userid"]
        n = len(dates)
        if n == 0:
            return
        self.rows += n
        lengths = pc.utf8_length(dates)
        if dates.null_count or (checked and users.null_count) or pc.min(lengths).as_py() != 19 or pc.max(lengths).as_py() != 19:
            self.ok = False
            return
        day = self.days.encode(pc.utf8_slice_codeunits(dates, 0, 10))
        hour = pc.cast(pc.utf8_slice_codeunits(dates, 11, 13), pa.int64()).to_numpy(zero_copy_only=False)
        dims = [codes.encode(pc.fill_null(cols[d], "")) for codes, d in zip(self.dims, DIMS)]
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
        if nd > len(self.plays):
            size = max(nd, 2 * len(self.plays))
            self.plays = np.concatenate([self.plays, np.zeros(size - len(self.plays), dtype=np.int64)])
            self.minutes = np.concatenate([self.minutes, np.zeros(size - len(self.minutes), dtype=np.int64)])
            self.hours = np.concatenate([self.hours, np.zeros((size - len(self.hours), 24), dtype=np.int64)])
        self.plays[:nd] += np.bincount(dk, minlength=nd)
        np.add.at(self.minutes, dk, minutes)
        self.hours[:nd] += np.bincount(dk * 24 + hour, minlength=nd * 24).reshape(nd, 24)
        titled = title >= 0
        title_keys, (title_plays, title_minutes) = _group_sum(
            (dk[titled] << 31) | title[titled], [np.ones(int(titled.sum()), dtype=np.int64), minutes[titled]]
        )
        self.title_parts.append((title_keys, title_plays, title_minutes))
        known = user >= 0
        self.day_pairs.append(_distinct((dk[known] << 32) | user[known]))
        both = known & titled
        pairs = (title[both] << 32) | user[both]
        # Sorted by key per batch, so that finish() merges sorted runs.
        keys = dk[both].astype(np.int32)
        order = np.argsort(keys, kind="stable")
        self.viewer_parts.append((keys[order], pairs[order]))
        self.title_pairs.append(_distinct(pairs))

    # ------------------------------------------------------------------ #

    def _key_text(self, keys: np.ndarray, days: list[str] | None = None) -> tuple[list, list, list, list]:
        mask = (1 << _DIM_BITS) - 1
        day = np.asarray(days if days is not None else self.days.names, dtype=object)[keys >> 42]
        dims = [np.asarray(c.names, dtype=object)[(keys >> shift) & mask] for c, shift in zip(self.dims, (28, 14, 0))]
        return day.tolist(), dims[0].tolist(), dims[1].tolist(), dims[2].tolist()

    def _old(self, conn: sqlite3.Connection, sql: str, keys: list[tuple]) -> dict[tuple, tuple]:
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
        if nd:
            done["texts"] = list(zip(*self._key_text(all_keys)))
        if self.title_parts:  # each part sorted by (dense id, title): merge the runs
            c, (plays, minutes) = _sum_runs(
                np.concatenate([part[0] for part in self.title_parts]),
                [np.concatenate([part[1] for part in self.title_parts]), np.concatenate([part[2] for part in self.title_parts])],
                runs=True,
            )
            self.title_parts = []
        else:
            c = np.zeros(0, dtype=np.int64)
        if len(c):
            tk, tt = all_keys[c >> 31], c & ((1 << 31) - 1)
            months = _Codes()
            month_code = months.encode(pa.array([d[:7] + "-01" for d in self.days.names], type=pa.string()))
            mk = (month_code[tk >> 42] << 42) | (tk & ((1 << 42) - 1))
            # (month, dims) keys get dense ids so that key and title fit one int64.
            month_keys, month_ids = np.unique(mk, return_inverse=True)
            monthly, (month_plays, month_minutes) = _sum_runs((month_ids.reshape(-1) << 31) | tt, [plays, minutes])
            done["titles"] = (tk, tt, plays, minutes)
            done["monthly"] = (month_keys[monthly >> 31], monthly & ((1 << 31) - 1), month_plays, month_minutes, months.names)
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

    def write(self, conn: sqlite3.Connection, dialect: SQLiteDialect) -> None:
        """Upsert the aggregates into the derived tables (on the loading transaction)."""
        self.finish()
        done = self._finished
        assert done is not None
        if self.users.names:
            conn.executemany(
                "INSERT INTO md_users (id, userid) VALUES (?, ?)",
                zip(range(self.users.offset, self.users.offset + len(self.users.names)), self.users.names),
            )
        if self.titles.names:
            conn.executemany(
                "INSERT INTO md_titles (id, title) VALUES (?, ?)",
                zip(range(self.titles.offset, self.titles.offset + len(self.titles.names)), self.titles.names),
            )
            for i, name in enumerate(self.titles.names):
                self.title_name[self.titles.offset + i] = name
        nd = len(self.dense_keys)
        if not nd:
            return
        # md_day: plays, minutes and the users bitmap (ORed into the stored one).
        day_users = done["day_users"]
        texts = done["texts"]
        old = self._old(conn, f"SELECT day, {_DIMS_PK}, users FROM md_day WHERE day BETWEEN ? AND ?", texts)
        blobs = []
        for d, text in enumerate(texts):
            users = day_users.get(d) or BitMap()
            stored = old.get(text)
            if stored is not None:
                users |= BitMap.deserialize(stored[0])
            blobs.append(users.serialize())
        conn.executemany(
            f"INSERT INTO md_day (day, {_DIMS_PK}, plays, minutes, users) VALUES (?, ?, ?, ?, ?, ?, ?) "
            f"ON CONFLICT (day, {_DIMS_PK}) DO UPDATE SET plays = plays + excluded.plays, "
            "minutes = minutes + excluded.minutes, users = excluded.users",
            [(*t, p, m, b) for t, p, m, b in zip(texts, self.plays[:nd].tolist(), self.minutes[:nd].tolist(), blobs)],
        )
        # md_hour: 24 plays counts per (day, dims).
        old = self._old(conn, f"SELECT day, {_DIMS_PK}, hours FROM md_hour WHERE day BETWEEN ? AND ?", texts)
        rows = []
        for d, text in enumerate(texts):
            counts = self.hours[d]
            stored = old.get(text)
            if stored is not None:
                counts = counts + np.frombuffer(stored[0], dtype="<i8")
            rows.append((*text, counts.astype("<i8").tobytes()))
        conn.executemany(
            f"INSERT INTO md_hour (day, {_DIMS_PK}, hours) VALUES (?, ?, ?, ?, ?) "
            f"ON CONFLICT (day, {_DIMS_PK}) DO UPDATE SET hours = excluded.hours",
            rows,
        )
        # md_title_day and md_title_month: per key, the titles' ids, plays and minutes as packed arrays.
        if done["titles"] is not None:
            self._write_titles(conn, "md_title_day", "day", *done["titles"], None)
            self._write_titles(conn, "md_title_month", "month", *done["monthly"])
        if done["viewers"] is not None:
            self._write_viewers(conn, texts, *done["viewers"])
        self.title_users = done["title_users"]
        # md_title_users: each title's all-time viewers.
        if self.title_users:
            names = self.title_name
            wanted = {names[t] for t in self.title_users}
            old_t = {title: blob for title, blob in conn.execute("SELECT title, users FROM md_title_users") if title in wanted}
            upserts = []
            for t, users in self.title_users.items():
                blob = old_t.get(names[t])
                if blob is not None:
                    users |= BitMap.deserialize(blob)
                upserts.append((names[t], len(users), users.serialize()))
            conn.executemany(
                "INSERT INTO md_title_users (title, viewers, users) VALUES (?, ?, ?) ON CONFLICT (title) "
                "DO UPDATE SET viewers = excluded.viewers, users = excluded.users",
                upserts,
            )

    def _write_viewers(self, conn: sqlite3.Connection, texts: list[tuple], dense_ids: np.ndarray, pairs: np.ndarray) -> None:
        """Append each (day, dims) key's new pairs to its stored ones (``dense_ids`` sorted)."""
        starts, ends = _bounds(dense_ids)
        keys = [texts[d] for d in dense_ids[starts].tolist()]
        old = self._old(conn, f"SELECT day, {_DIMS_PK}, pairs FROM md_title_viewers WHERE day BETWEEN ? AND ?", keys)
        rows = []
        for key, a, b in zip(keys, starts.tolist(), ends.tolist()):
            blob = pairs[a:b].astype("<i8").tobytes()
            stored = old.get(key)
            rows.append((*key, blob if stored is None else stored[0] + blob))
        conn.executemany(
            f"INSERT INTO md_title_viewers (day, {_DIMS_PK}, pairs) VALUES (?, ?, ?, ?, ?) "
            f"ON CONFLICT (day, {_DIMS_PK}) DO UPDATE SET pairs = excluded.pairs",
            rows,
        )

    def _write_titles(
        self, conn: sqlite3.Connection, table: str, period: str, keys: np.ndarray, ids: np.ndarray,
        plays: np.ndarray, minutes: np.ndarray, periods: list[str] | None,
    ) -> None:
        """Upsert one packed row per key; ``keys`` sorted, ``ids`` sorted within a key."""
        starts, ends = _bounds(keys)
        texts = list(zip(*self._key_text(keys[starts], periods)))
        old = self._old(
            conn, f"SELECT {period}, {_DIMS_PK}, titles, plays, minutes FROM {table} WHERE {period} BETWEEN ? AND ?", texts
        )
        if old:
            # Merge the stored arrays of every touched key in one pass: key
            # position << 31 | title id, summed over the new and stored entries.
            position = {text: k for k, text in enumerate(texts)}
            key_pos = [np.repeat(np.arange(len(texts), dtype=np.int64), ends - starts)]
            all_ids, all_plays, all_minutes = [ids.astype(np.int64)], [plays], [minutes]
            for text, (blob_ids, blob_plays, blob_minutes) in old.items():
                stored_ids = np.frombuffer(blob_ids, dtype="<i4").astype(np.int64)
                key_pos.append(np.full(len(stored_ids), position[text], dtype=np.int64))
                all_ids.append(stored_ids)
                all_plays.append(np.frombuffer(blob_plays, dtype="<i8"))
                all_minutes.append(np.frombuffer(blob_minutes, dtype="<i8"))
            merged, (plays, minutes) = _sum_runs(
                (np.concatenate(key_pos) << 31) | np.concatenate(all_ids),
                [np.concatenate(all_plays), np.concatenate(all_minutes)],
            )
            ids = merged & ((1 << 31) - 1)
            starts, ends = _bounds(merged >> 31)
        rows = [
            (*text, ids[a:b].astype("<i4").tobytes(), plays[a:b].astype("<i8").tobytes(),
             minutes[a:b].astype("<i8").tobytes())
            for text, a, b in zip(texts, starts.tolist(), ends.tolist())
        ]
        conn.executemany(
            f"INSERT INTO {table} ({period}, {_DIMS_PK}, titles, plays, minutes) VALUES (?, ?, ?, ?, ?, ?, ?) "
            f"ON CONFLICT ({period}, {_DIMS_PK}) DO UPDATE "
            "SET titles = excluded.titles, plays = excluded.plays, minutes = excluded.minutes",
            rows,
        )
