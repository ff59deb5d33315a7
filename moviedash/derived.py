"""Derived data: small pre-aggregated tables kept current inside every load.

Why: at 10M events a ``GROUP BY`` over ``movies`` takes seconds, and
``COUNT(DISTINCT userid)`` cannot be pre-summed.  So each load adds its new
rows (``movies.rowid > covered``) to

- ``md_users``: a dictionary of user ids (``userid`` -> small integer),
- ``md_day``: plays, minutes and a roaring bitmap of the users per
  (day, sessiontype, device, market) -- distinct users of any selection and
  resolution are the size of a union of bitmaps,
- ``md_hour``: plays per (day, hour, dims), for the heatmap,
- ``md_title_day`` / ``md_title_month``: plays and minutes per title and dims,
- ``md_title_users``: each title's all-time viewers (bitmap and count), for
  the default top list by viewers,
- ``md_results``: the rows behind the default (unfiltered) views, recomputed
  at load so the first view after an import is as fast as the next one,
- ``md_meta``: the ``movies`` rowid covered, a data ``version`` counter and
  whether the data are ``exact`` (every event date is a canonical date).

All of it is written in the loading transaction, so readers see new events and
what is derived from them at the same instant.  A database made elsewhere (the
course's ``.import``), or one with rows appended behind moviedash's back, has
no or stale derived data: :func:`status` says so and :mod:`moviedash.analysis`
uses its raw-table SQL instead.  Dimension values NULL and ``''`` are both
stored as ``''`` (filters only ever match non-empty values).

The functions here return plain rows; :mod:`moviedash.analysis` shapes them
exactly like the raw-table results.
"""
from __future__ import annotations

import datetime as dt
import json
import secrets
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pyroaring import BitMap

from .db import DIALECT, SQLiteDialect
from .params import RESOLUTIONS, Filters, SeriesQuery, TopQuery

DIMS: tuple[str, ...] = ("sessiontype", "device", "market")
#: Bumped when the derived tables change: a database with another version is rebuilt at its next load.
SCHEMA_VERSION = 1
TABLES: tuple[str, ...] = (
    "md_users", "md_day", "md_hour", "md_title_day", "md_title_month", "md_title_users", "md_results",
)
#: Stored default top lists hold this many titles (the largest N a query may ask).
TOP_STORED = 1000

MINUTES = "CAST(totalminuteswatched AS integer)"

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
CREATE TABLE IF NOT EXISTS md_hour (
    day text NOT NULL, hour integer NOT NULL, {dims}, plays integer NOT NULL,
    PRIMARY KEY (day, hour, {_DIMS_PK})){clustered};
CREATE TABLE IF NOT EXISTS md_title_day (
    day text NOT NULL, title text NOT NULL, {dims}, plays integer NOT NULL, minutes integer NOT NULL,
    PRIMARY KEY (day, title, {_DIMS_PK})){clustered};
CREATE TABLE IF NOT EXISTS md_title_month (
    month text NOT NULL, title text NOT NULL, {dims}, plays integer NOT NULL, minutes integer NOT NULL,
    PRIMARY KEY (month, title, {_DIMS_PK})){clustered};
CREATE TABLE IF NOT EXISTS md_title_users (
    title text PRIMARY KEY, viewers integer NOT NULL, users blob NOT NULL){clustered};
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
       (SELECT max(rowid) FROM movies)
"""


def status(conn: sqlite3.Connection) -> Status | None:
    """One cheap query: ``None`` without derived data, else its version and whether it is current.

    Current means every row of ``movies`` is covered (``max(rowid)`` equals the
    covered rowid: rows appended behind moviedash's back make it stale) and
    every covered event date was canonical.
    """
    try:
        path, version, instance, covered, exact, top = conn.execute(_STATUS_SQL).fetchone()
    except sqlite3.OperationalError:  # no md_meta: a database made the course's way
        return None
    if version is None:
        return None
    usable = bool(exact) and (top or 0) == (covered or 0)
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


def _dims_select(prefix: str = "") -> str:
    return ", ".join(f"COALESCE({prefix}{d}, '') AS {d}" for d in DIMS)


def _add_rows(conn: sqlite3.Connection, covered: int, dialect: SQLiteDialect) -> bool:
    """Fold ``movies.rowid > covered`` into every derived table; False if a date is not canonical."""
    day = dialect.bucket("daily")
    mday = dialect.bucket("daily", "m.event_date")
    conn.execute(
        "INSERT OR IGNORE INTO md_users (userid) SELECT userid FROM movies WHERE rowid > ? AND userid IS NOT NULL",
        (covered,),
    )
    # Plays, minutes and the users of each (day, dims); a NULL or non-canonical
    # date makes the whole derived data inexact (the raw SQL then answers).
    rows = conn.execute(
        f"""
        SELECT {mday} AS d, {_dims_select('m.')}, COUNT(*), COALESCE(SUM(CAST(m.totalminuteswatched AS integer)), 0),
               group_concat(u.id),
               MAX(m.event_date IS NULL OR {mday} IS NULL OR {mday} <> substr(m.event_date, 1, 10))
        FROM movies AS m LEFT JOIN md_users AS u ON u.userid = m.userid
        WHERE m.rowid > ? GROUP BY 1, 2, 3, 4
        """,
        (covered,),
    ).fetchall()
    if any(r[7] for r in rows):
        return False  # the raw SQL answers from now on: building the rest would be wasted
    keys = [r[:4] for r in rows]
    old: dict[tuple, bytes] = {}
    if keys:
        # The stored bitmaps of the touched keys: one range scan over the new days.
        wanted = set(keys)
        days = [k[0] for k in keys]
        for *key, blob in conn.execute(
            f"SELECT day, {_DIMS_PK}, users FROM md_day WHERE day BETWEEN ? AND ?", (min(days), max(days))
        ).fetchall():
            if tuple(key) in wanted:
                old[tuple(key)] = blob
    upserts = []
    for d, st, dev, mkt, plays, minutes, ids, _odd in rows:
        users = BitMap(map(int, ids.split(","))) if ids else BitMap()
        blob = old.get((d, st, dev, mkt))
        if blob is not None:
            users |= BitMap.deserialize(blob)
        upserts.append((d, st, dev, mkt, plays, minutes, users.serialize()))
    conn.executemany(
        f"INSERT INTO md_day (day, {_DIMS_PK}, plays, minutes, users) VALUES (?, ?, ?, ?, ?, ?, ?) "
        f"ON CONFLICT (day, {_DIMS_PK}) DO UPDATE SET plays = plays + excluded.plays, "
        "minutes = minutes + excluded.minutes, users = excluded.users",
        upserts,
    )
    _add_title_users(conn, covered)
    conn.execute(
        f"""
        INSERT INTO md_hour (day, hour, {_DIMS_PK}, plays)
        SELECT {day}, {dialect.hour()}, {_dims_select()}, COUNT(*) FROM movies
        WHERE rowid > ? AND {day} IS NOT NULL GROUP BY 1, 2, 3, 4, 5
        ON CONFLICT (day, hour, {_DIMS_PK}) DO UPDATE SET plays = plays + excluded.plays
        """,
        (covered,),
    )
    conn.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS md_new_titles (day, title, {_DIMS_PK}, plays, minutes)"
    )
    conn.execute("DELETE FROM temp.md_new_titles")
    conn.execute(
        f"""
        INSERT INTO temp.md_new_titles
        SELECT {day} AS day, title, {_dims_select()}, COUNT(*) AS plays,
               COALESCE(SUM({MINUTES}), 0) AS minutes
        FROM movies WHERE rowid > ? AND {day} IS NOT NULL AND title IS NOT NULL AND title <> ''
        GROUP BY 1, 2, 3, 4, 5
        """,
        (covered,),
    )
    conn.execute(
        f"""
        INSERT INTO md_title_day (day, title, {_DIMS_PK}, plays, minutes)
        SELECT day, title, {_DIMS_PK}, plays, minutes FROM temp.md_new_titles WHERE true
        ON CONFLICT (day, title, {_DIMS_PK}) DO UPDATE
        SET plays = plays + excluded.plays, minutes = minutes + excluded.minutes
        """
    )
    conn.execute(
        f"""
        INSERT INTO md_title_month (month, title, {_DIMS_PK}, plays, minutes)
        SELECT {dialect.bucket('monthly', 'day')}, title, {_DIMS_PK}, SUM(plays), SUM(minutes)
        FROM temp.md_new_titles WHERE true GROUP BY 1, 2, 3, 4, 5
        ON CONFLICT (month, title, {_DIMS_PK}) DO UPDATE
        SET plays = plays + excluded.plays, minutes = minutes + excluded.minutes
        """
    )
    conn.execute("DROP TABLE temp.md_new_titles")
    return True


def _add_title_users(conn: sqlite3.Connection, covered: int) -> None:
    """OR the new rows' users into each title's all-time bitmap (the default viewers top list)."""
    rows = conn.execute(
        f"SELECT m.title, group_concat(u.id) FROM movies AS m JOIN md_users AS u ON u.userid = m.userid "
        f"WHERE m.rowid > ? AND m.title IS NOT NULL AND m.title <> '' GROUP BY m.title",
        (covered,),
    ).fetchall()
    upserts = []
    for title, ids in rows:
        users = BitMap(map(int, ids.split(",")))
        old = conn.execute("SELECT users FROM md_title_users WHERE title = ?", (title,)).fetchall()
        if old:
            users |= BitMap.deserialize(old[0][0])
        upserts.append((title, len(users), users.serialize()))
    conn.executemany(
        "INSERT INTO md_title_users (title, viewers, users) VALUES (?, ?, ?) ON CONFLICT (title) "
        "DO UPDATE SET viewers = excluded.viewers, users = excluded.users",
        upserts,
    )


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
    results["top:viewers"] = [
        list(r)
        for r in conn.execute(
            "SELECT title, viewers FROM md_title_users ORDER BY viewers DESC, title ASC LIMIT ?", (TOP_STORED,)
        )
    ]
    results["heatmap"] = _heatmap_rows(conn, everything, dialect)
    results["totals"] = list(_totals_from_tables(conn, everything, day_rows))
    results["span"] = list(_span_from_tables(conn))
    results["options"] = _options_from_tables(conn)
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
            clauses.append(f"{column} IN ({', '.join('?' * len(values))})")
            params.extend(values)
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
    parts: list[str] = []
    params: list[Any] = []
    if not whole:
        clause, p = where(query.filters)
        parts.append(f"SELECT title, {column} AS x FROM md_title_day WHERE {clause}")
        params += p
    else:
        month_clause = [dims_clause]
        month_params = list(dims_params)
        if first is not None:
            month_clause.append("month >= ?")
            month_params.append(first)
        if last is not None:
            month_clause.append("month <= ?")
            month_params.append(last)
        parts.append(f"SELECT title, {column} AS x FROM md_title_month WHERE {' AND '.join(month_clause)}")
        params += month_params
        if start is not None and first is not None and start < first:  # days before the first whole month
            parts.append(f"SELECT title, {column} AS x FROM md_title_day WHERE {dims_clause} AND day >= ? AND day < ?")
            params += [*dims_params, start, first]
        if end is not None and last is not None:
            after = (dt.date.fromisoformat(last).replace(day=28) + dt.timedelta(days=4)).replace(day=1).isoformat()
            if end >= after:  # days after the last whole month
                parts.append(f"SELECT title, {column} AS x FROM md_title_day WHERE {dims_clause} AND day >= ? AND day <= ?")
                params += [*dims_params, after, end]
    sql = (
        f"SELECT title, SUM(x) AS n FROM ({' UNION ALL '.join(parts)}) GROUP BY title "
        "ORDER BY n DESC, title ASC LIMIT ?"
    )
    return [list(r) for r in conn.execute(sql, [*params, query.num])]


def top_rows(conn: sqlite3.Connection, query: TopQuery) -> list[list[Any]] | None:
    """``[raw title, value]`` rows of the top list, or ``None`` when only ``movies`` can answer.

    Distinct viewers per title of a filtered selection are not in the derived
    tables (a per-title bitmap per day would be as large as the events).
    """
    if query.filters.is_default():
        stored = _stored(conn, f"top:{query.rank}")
        if stored is not None:
            return stored[: query.num]
    if query.rank == "viewers":
        return None
    return _top_from_tables(conn, query)


def _heatmap_rows(conn: sqlite3.Connection, filters: Filters, dialect: SQLiteDialect) -> list[list[Any]]:
    clause, params = where(filters)
    return [
        list(r)
        for r in conn.execute(
            f"SELECT {dialect.weekday('day')} AS weekday, hour, SUM(plays) FROM md_hour "
            f"WHERE {clause} GROUP BY 1, 2",
            params,
        )
    ]


def heatmap_rows(conn: sqlite3.Connection, filters: Filters, dialect: SQLiteDialect = DIALECT) -> list[list[Any]]:
    """``[weekday, hour, plays]`` rows (weekday 0 = Monday)."""
    if filters.is_default():
        stored = _stored(conn, "heatmap")
        if stored is not None:
            return stored
    return _heatmap_rows(conn, filters, dialect)


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


def _options_from_tables(conn: sqlite3.Connection) -> dict[str, list[str]]:
    return {
        column: [str(r[0]) for r in conn.execute(f"SELECT DISTINCT {column} FROM md_day WHERE {column} <> '' ORDER BY 1")]
        for column in DIMS
    }


def options(conn: sqlite3.Connection) -> dict[str, list[str]]:
    """The distinct non-empty values of each filter column."""
    stored = _stored(conn, "options")
    return stored if stored is not None else _options_from_tables(conn)


def has_value(conn: sqlite3.Connection, column: str, value: str) -> bool:
    """Whether ``value`` occurs in filter column ``column``."""
    if column not in DIMS:
        raise ValueError(column)
    return bool(conn.execute(f"SELECT EXISTS (SELECT 1 FROM md_day WHERE {column} = ?)", (value,)).fetchone()[0])


# --------------------------------------------------------------------------- #
# Streaming aggregation: the loader and the demo hand over their new rows'
# columns batch by batch; only the (far fewer) aggregated rows reach SQLite.
# --------------------------------------------------------------------------- #

#: The columns a batch must hand to :meth:`Aggregator.add`.
FED_COLUMNS: tuple[str, ...] = ("event_date", "userid", *DIMS, "title", "totalminuteswatched")
_DAY_BITS, _DIM_BITS = 21, 14  # key = day << 42 | sessiontype << 28 | device << 14 | market


class _Codes:
    """A growing dictionary encoding of strings as 0, 1, 2, ... (vectorised per batch)."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.names: list[str] = []

    def encode(self, array: pa.Array) -> np.ndarray:
        enc = pc.dictionary_encode(array)
        local = enc.dictionary.to_pylist()
        index, names = self.index, self.names
        mapping = np.empty(len(local), dtype=np.int64)
        for i, value in enumerate(local):
            code = index.get(value)
            if code is None:
                code = index[value] = len(names)
                names.append(value)
            mapping[i] = code
        return mapping[enc.indices.to_numpy(zero_copy_only=False)] if len(local) else np.zeros(len(array), np.int64)


def _segments(keys: np.ndarray, values: np.ndarray) -> Iterable[tuple[int, np.ndarray]]:
    """``(key, values of that key)`` for each distinct key (values as uint32)."""
    if not len(keys):
        return
    order = np.lexsort((values, keys))
    keys, values = keys[order], values[order].astype(np.uint32)
    cuts = np.flatnonzero(keys[1:] != keys[:-1]) + 1
    starts = np.concatenate(([0], cuts))
    ends = np.concatenate((cuts, [len(keys)]))
    for key, a, b in zip(keys[starts].tolist(), starts.tolist(), ends.tolist()):
        yield key, values[a:b]


class Aggregator:
    """Partial aggregates of the rows one load inserts, merged into the derived tables at :func:`refresh`.

    Create it on the loading transaction *before* the inserts, :meth:`add` the
    columns of exactly the rows inserted (in any batches, from any one thread),
    and pass it to :func:`refresh` (``db.refresh_derived``).  Per batch it
    dictionary-encodes users, days, dims and titles (pyarrow), groups with
    pandas on integer codes and ORs roaring bitmaps per key; the derived tables
    then get one bulk upsert each.  When it cannot vouch for the result (rows
    it did not see, a schema rebuild, a non-canonical date, a missing user id,
    codes out of range) :func:`refresh` uses the SQL path instead, so the
    derived data are the same either way.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.start = conn.execute("SELECT max(rowid) FROM movies").fetchone()[0] or 0
        self.rows = 0
        self.ok = True
        self.users = _Codes()
        try:
            if _meta(conn, "schema", 0) == SCHEMA_VERSION:
                for uid, name in conn.execute("SELECT id, userid FROM md_users ORDER BY id"):
                    self.users.index[name] = uid
            self.schema_ok = _meta(conn, "schema", 0) == SCHEMA_VERSION
        except sqlite3.OperationalError:  # no derived tables yet
            self.schema_ok = True
        self.first_new_user = max(self.users.index.values(), default=0) + 1
        self.users.names = []  # only the new ones, coded from first_new_user on
        self._user_offset = self.first_new_user
        self.days, self.titles = _Codes(), _Codes()
        self.dims = [_Codes() for _ in DIMS]
        self.day_users: dict[int, BitMap] = {}
        self.title_users: dict[int, BitMap] = {}
        self.day_parts: list[pd.DataFrame] = []
        self.hour_parts: list[pd.DataFrame] = []
        self.title_parts: list[pd.DataFrame] = []

    def _encode_users(self, array: pa.Array) -> np.ndarray:
        enc = pc.dictionary_encode(array)
        local = enc.dictionary.to_pylist()
        index, names = self.users.index, self.users.names
        mapping = np.empty(len(local), dtype=np.int64)
        for i, value in enumerate(local):
            code = index.get(value)
            if code is None:
                code = index[value] = self._user_offset + len(names)
                names.append(value)
            mapping[i] = code
        return mapping[enc.indices.to_numpy(zero_copy_only=False)]

    def add(self, columns: dict[str, Any]) -> None:
        """Aggregate one batch: ``columns`` maps :data:`FED_COLUMNS` to pyarrow arrays (or sequences)."""
        if not self.ok:
            return
        cols = {c: v if isinstance(v, (pa.Array, pa.ChunkedArray)) else pa.array(v, type=pa.string() if c != "totalminuteswatched" else pa.int64())
                for c, v in columns.items()}
        dates, users = cols["event_date"], cols["userid"]
        n = len(dates)
        if n == 0:
            return
        self.rows += n
        # Rows the loader or demo wrote are canonical 'YYYY-MM-DD HH:MM:SS' text with a user id;
        # anything else goes through the SQL path, which knows how SQLite reads it.
        lengths = pc.utf8_length(dates)
        if dates.null_count or users.null_count or pc.min(lengths).as_py() != 19 or pc.max(lengths).as_py() != 19:
            self.ok = False
            return
        day = self.days.encode(pc.utf8_slice_codeunits(dates, 0, 10))
        hour = pc.cast(pc.utf8_slice_codeunits(dates, 11, 13), pa.int64()).to_numpy(zero_copy_only=False)
        dims = [codes.encode(pc.fill_null(cols[d], "")) for codes, d in zip(self.dims, DIMS)]
        if len(self.days.names) >= 1 << _DAY_BITS or any(len(c.names) >= 1 << _DIM_BITS for c in self.dims):
            self.ok = False
            return
        key = (day << 42) | (dims[0] << 28) | (dims[1] << 14) | dims[2]
        user = self._encode_users(users)
        if self._user_offset + len(self.users.names) >= 1 << 32:
            self.ok = False
            return
        title = self.titles.encode(pc.fill_null(cols["title"], ""))
        minutes = pc.fill_null(pc.cast(cols["totalminuteswatched"], pa.int64()), 0).to_numpy(zero_copy_only=False)
        frame = pd.DataFrame({"k": key, "h": hour, "t": title, "x": minutes})
        self.day_parts.append(frame.groupby("k", sort=False)["x"].agg(["size", "sum"]))
        self.hour_parts.append(frame.groupby(["k", "h"], sort=False).size().rename("size").to_frame())
        empty = self.titles.index.get("")
        titled = title != empty if empty is not None else np.ones(n, dtype=bool)
        tf = frame[titled]
        self.title_parts.append(tf.groupby(["k", "t"], sort=False)["x"].agg(["size", "sum"]))
        for k, ids in _segments(key, user):
            bm = self.day_users.get(k)
            if bm is None:
                self.day_users[k] = BitMap(ids)
            else:
                bm.update(ids)
        for t, ids in _segments(title[titled], user[titled]):
            bm = self.title_users.get(t)
            if bm is None:
                self.title_users[t] = BitMap(ids)
            else:
                bm.update(ids)

    # ------------------------------------------------------------------ #

    def _dims_of(self, keys: np.ndarray) -> tuple[list, list, list, list]:
        mask = (1 << _DIM_BITS) - 1
        day = np.asarray(self.days.names, dtype=object)[keys >> 42]
        dims = [np.asarray(c.names, dtype=object)[(keys >> shift) & mask] for c, shift in zip(self.dims, (28, 14, 0))]
        return day.tolist(), dims[0].tolist(), dims[1].tolist(), dims[2].tolist()

    def write(self, conn: sqlite3.Connection, dialect: SQLiteDialect) -> None:
        """Upsert the aggregates into the derived tables (on the loading transaction)."""
        if self.users.names:
            conn.executemany(
                "INSERT INTO md_users (id, userid) VALUES (?, ?)",
                zip(range(self._user_offset, self._user_offset + len(self.users.names)), self.users.names),
            )
        if not self.day_parts:
            return
        # md_day: plays, minutes and the users bitmap (ORed into the stored one).
        day = pd.concat(self.day_parts).groupby(level=0).sum()
        keys = day.index.to_numpy()
        d, st, dev, mkt = self._dims_of(keys)
        old: dict[tuple, bytes] = {}
        wanted = set(zip(d, st, dev, mkt))
        for *k, blob in conn.execute(
            f"SELECT day, {_DIMS_PK}, users FROM md_day WHERE day BETWEEN ? AND ?", (min(d), max(d))
        ):
            if tuple(k) in wanted:
                old[tuple(k)] = blob
        blobs = []
        for k, key in zip(keys.tolist(), zip(d, st, dev, mkt)):
            users = self.day_users[k]
            blob = old.get(key)
            if blob is not None:
                users |= BitMap.deserialize(blob)
            blobs.append(users.serialize())
        conn.executemany(
            f"INSERT INTO md_day (day, {_DIMS_PK}, plays, minutes, users) VALUES (?, ?, ?, ?, ?, ?, ?) "
            f"ON CONFLICT (day, {_DIMS_PK}) DO UPDATE SET plays = plays + excluded.plays, "
            "minutes = minutes + excluded.minutes, users = excluded.users",
            zip(d, st, dev, mkt, day["size"].tolist(), day["sum"].tolist(), blobs),
        )
        # md_hour.
        hour = pd.concat(self.hour_parts).groupby(level=[0, 1]).sum().reset_index()
        hour = hour.iloc[self._order(hour["k"].to_numpy(), hour["h"].to_numpy())]
        d, st, dev, mkt = self._dims_of(hour["k"].to_numpy())
        conn.executemany(
            f"INSERT INTO md_hour (day, hour, {_DIMS_PK}, plays) VALUES (?, ?, ?, ?, ?, ?) "
            f"ON CONFLICT (day, hour, {_DIMS_PK}) DO UPDATE SET plays = plays + excluded.plays",
            zip(d, hour["h"].tolist(), st, dev, mkt, hour["size"].tolist()),
        )
        # md_title_day and md_title_month, in primary-key order (cheaper b-tree inserts).
        titles = pd.concat(self.title_parts).groupby(level=[0, 1]).sum().reset_index()
        if len(titles):
            title_names = np.asarray(self.titles.names, dtype=object)
            keys, tcodes = titles["k"].to_numpy(), titles["t"].to_numpy()
            title_rank = _ranks(self.titles.names)
            order = self._order(keys, title_rank[tcodes])
            titles = titles.iloc[order]
            keys, tcodes = keys[order], tcodes[order]
            d, st, dev, mkt = self._dims_of(keys)
            conn.executemany(
                f"INSERT INTO md_title_day (day, title, {_DIMS_PK}, plays, minutes) VALUES (?, ?, ?, ?, ?, ?, ?) "
                f"ON CONFLICT (day, title, {_DIMS_PK}) DO UPDATE "
                "SET plays = plays + excluded.plays, minutes = minutes + excluded.minutes",
                zip(d, title_names[tcodes].tolist(), st, dev, mkt, titles["size"].tolist(), titles["sum"].tolist()),
            )
            month_of_day = self.days.names
            months = _Codes()
            mcode = months.encode(pa.array([m[:7] + "-01" for m in month_of_day]))
            day_mask = (1 << 42) - 1
            mkeys = (mcode[keys >> 42] << 42) | (keys & day_mask)
            monthly = (
                pd.DataFrame({"k": mkeys, "t": tcodes, "size": titles["size"].to_numpy(), "sum": titles["sum"].to_numpy()})
                .groupby(["k", "t"], sort=False).sum().reset_index()
            )
            mk, mt = monthly["k"].to_numpy(), monthly["t"].to_numpy()
            saved = self.days
            self.days = months
            try:
                order = self._order(mk, title_rank[mt])
                monthly, mk, mt = monthly.iloc[order], mk[order], mt[order]
                m, st, dev, mkt = self._dims_of(mk)
            finally:
                self.days = saved
            conn.executemany(
                f"INSERT INTO md_title_month (month, title, {_DIMS_PK}, plays, minutes) VALUES (?, ?, ?, ?, ?, ?, ?) "
                f"ON CONFLICT (month, title, {_DIMS_PK}) DO UPDATE "
                "SET plays = plays + excluded.plays, minutes = minutes + excluded.minutes",
                zip(m, title_names[mt].tolist(), st, dev, mkt, monthly["size"].tolist(), monthly["sum"].tolist()),
            )
        # md_title_users: each title's all-time viewers.
        if self.title_users:
            names = self.titles.names
            old_t = {
                title: blob
                for title, blob in conn.execute("SELECT title, users FROM md_title_users")
                if title in self.titles.index
            }
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

    def _order(self, keys: np.ndarray, second: np.ndarray) -> np.ndarray:
        """Row order by (day text, ``second`` (ranks), dims text): the tables' primary-key order (insert speed only)."""
        mask = (1 << _DIM_BITS) - 1
        day_rank = _ranks(self.days.names)[keys >> 42]
        dims = [_ranks(c.names)[(keys >> shift) & mask] for c, shift in zip(self.dims, (28, 14, 0))]
        return np.lexsort((dims[2], dims[1], dims[0], second, day_rank))


def _ranks(names: list[str]) -> np.ndarray:
    """Each name's position in sorted order."""
    arr = np.asarray(names, dtype=object)
    r = np.empty(len(arr), dtype=np.int64)
    r[np.argsort(arr, kind="stable")] = np.arange(len(arr))
    return r
