"""Maintenance of the rollups, inside the loading transaction."""
from __future__ import annotations

import datetime as dt
import json
import secrets
from typing import Any

from pyroaring import BitMap

from .. import settings as data_settings
from ..params import DATE_MAX, DATE_MIN, Filters, TopQuery
from ..store import DIALECT, Dialect, dialect_of
from . import firstseen_serve
from .aggregator import FED_COLUMNS, Aggregator
from .serve import (
    default_binned,
    default_engagement,
    default_series,
    default_viewers,
    dim_values_from_tables,
    heatmap_from_tables,
    rank_by_shown_title,
    span_from_tables,
    top_from_tables,
    totals_from_tables,
)
from .tables import (
    DIMS,
    MAX_MINUTES,
    MINUTES,
    SCHEMA_VERSION,
    TABLES,
    TOP_STORED,
    bulk_insert,
    exists,
    meta,
    position,
    record_range,
    schema,
    set_meta,
)

# --------------------------------------------------------------------------- #
# Maintenance, inside the loading transaction.
# --------------------------------------------------------------------------- #


def refresh(conn: Any, dialect: Dialect | None = None, aggregator: Aggregator | None = None) -> None:
    """Add the rows of ``movies`` not covered yet to the derived tables; bump the version.

    Must run on an open write transaction (the loader's), after the inserts.
    With an ``aggregator`` that saw exactly the rows added since the derived
    data were last current, its aggregates are written; otherwise SQL
    ``GROUP BY`` passes over the new rows build the same data (on PostgreSQL,
    which has no rowid to tell new rows by, over all rows, from scratch).
    """
    dialect = dialect or dialect_of(conn)
    _create(conn, dialect)
    if meta(conn, "schema", 0) != SCHEMA_VERSION:  # also: derived data of an older moviedash
        for table in TABLES:
            conn.execute(f"DROP TABLE IF EXISTS {table}")
        conn.execute("DELETE FROM md_meta WHERE key IN ('covered', 'exact')")
        _create(conn, dialect)
    set_meta(conn, "schema", SCHEMA_VERSION)
    if meta(conn, "instance", 0) == 0:
        set_meta(conn, "instance", secrets.randbits(62) + 1)
    if dialect.position_counts_rows:
        covered = meta(conn, "covered", 0)
        exact = meta(conn, "exact", 1)
        top = position(conn, dialect)
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
    else:
        top = position(conn, dialect)
        if (
            aggregator is not None and aggregator.ok and aggregator.schema_ok
            and aggregator.current and aggregator.start == top
        ):
            aggregator.write(conn, dialect)
            exact = meta(conn, "exact", 1)
        else:  # stale, never built, or built by another version: from scratch
            for table in TABLES:
                conn.execute(f"DELETE FROM {table}")
            exact = _add_rows(conn, 0, dialect)
    set_meta(conn, "covered", top)
    set_meta(conn, "exact", int(bool(exact)))
    record_range(conn)
    set_meta(conn, "version", meta(conn, "version", 0) + 1)
    conn.execute("DELETE FROM md_results")
    if exact:
        store_defaults(conn, dialect)


def clear(conn: Any, dialect: Dialect | None = None) -> None:
    """Forget the rollups (``movies`` is being replaced): the next :func:`refresh` builds new ones (new instance)."""
    dialect = dialect or dialect_of(conn)
    if exists(conn, "md_meta", dialect):
        for table in TABLES:
            conn.execute(f"DELETE FROM {table}")
        conn.execute("DELETE FROM md_meta WHERE key NOT IN ('foreign_writes', 'schema')")


def rebuild(conn: Any, dialect: Dialect | None = None) -> bool:
    """Build the rollups again from the raw table, on the caller's open write transaction.

    For a change of what they embody (the data-quality settings of
    :mod:`moviedash.settings`, read by the :class:`Aggregator` in this
    transaction): the caller commits the change and the rebuilt rollups
    together, or neither.  False, and nothing done, when the database has no
    rollups (one made the course's way is answered by the raw SQL, which reads
    the settings itself).
    """
    dialect = dialect or dialect_of(conn)
    if not exists(conn, "md_meta", dialect):
        return False
    for table in TABLES:
        conn.execute(f"DELETE FROM {table}")
    conn.execute("DELETE FROM md_meta WHERE key IN ('covered', 'exact')")
    refresh(conn, dialect)
    return True


def _create(conn: Any, dialect: Dialect) -> None:
    # executescript() would COMMIT the open transaction: run statement by statement.
    # Checked first: on PostgreSQL even CREATE ... IF NOT EXISTS locks the parent of a partitioned table.
    if not exists(conn, "md_results", dialect):
        for statement in schema(dialect).split(";\n"):
            if statement.strip():
                conn.execute(statement)
    if dialect.rollup_setup_check and not conn.execute(dialect.rollup_setup_check).fetchone()[0]:
        for statement in dialect.rollup_setup:
            conn.execute(statement)
    if not dialect.position_counts_rows:
        conn.execute("INSERT INTO md_meta (key, value) VALUES ('foreign_writes', 0) ON CONFLICT (key) DO NOTHING")


def _add_rows(conn: Any, covered: int, dialect: Dialect) -> bool:
    """Fold ``movies.rowid > covered`` into every derived table; False if a date is not canonical.

    The path for rows no :class:`Aggregator` saw (a course-made database, rows
    appended behind moviedash's back, a schema rebuild): the database reads
    the rows as it would for the raw-table SQL, and an aggregator folds them in.
    """
    day = dialect.bucket("daily")
    new = dialect.new_rows_condition
    odd_date = dialect.odd_date.format(day=day)
    # Not canonical, outside the served dates, or minutes whose sums could overflow
    # (numpy wraps silently): the raw SQL answers such data (and reports an overflow).
    odd = conn.execute(
        f"SELECT EXISTS (SELECT 1 FROM movies WHERE {new} AND "
        f"({odd_date} OR event_date < ? OR event_date >= ? OR {MINUTES} NOT BETWEEN 0 AND ?))",
        (covered, DATE_MIN.isoformat(), (DATE_MAX + dt.timedelta(days=1)).isoformat(), MAX_MINUTES),
    ).fetchone()[0]
    if odd:
        return False  # the raw SQL answers from now on: building the rest would be wasted
    aggregator = Aggregator(conn, start=covered)
    dims = ", ".join(f"COALESCE(CAST({d} AS text), '')" for d in DIMS)
    cursor = conn.execute(
        f"SELECT {dialect.event_text}, CAST(userid AS text), {dims}, "
        f"CAST(title AS text), {MINUTES}, {dialect.units('viewpercentage')}, {dialect.integer('runningtime')}, "
        f"{dialect.units('errorperception')}, {dialect.integer('seasonnumber')}, {dialect.integer('episodenumber')} "
        f"FROM movies WHERE {new}",
        (covered,),
    )
    while rows := cursor.fetchmany(200_000):
        # The reals come as the raw SQL's own 0.0001-unit integers (``quantised``).
        aggregator.add(dict(zip(FED_COLUMNS, (list(c) for c in zip(*rows, strict=False)), strict=False)),
                       checked=False, quantised=True)
    aggregator.write(conn, dialect)
    return True


def store_defaults(conn: Any, dialect: Dialect = DIALECT) -> None:
    """Compute the rows behind every default view from the derived tables and store them."""
    results: dict[str, Any] = {}
    everything = Filters()
    day_rows = [
        (day, BitMap.deserialize(blob)) for day, blob in conn.execute("SELECT day, users FROM md_day ORDER BY day")
    ]
    results.update(default_series(conn, day_rows, dialect))
    for rank in ("plays", "minutes"):
        results[f"top:{rank}"] = top_from_tables(conn, TopQuery(TOP_STORED, rank, everything))
    # Every title tied with the TOP_STORED-th is read: the shown title decides among them.
    results["top:viewers"] = rank_by_shown_title(
        conn.execute(
            "SELECT title, viewers FROM md_title_users WHERE viewers >= coalesce("
            "(SELECT viewers FROM md_title_users ORDER BY viewers DESC LIMIT 1 OFFSET ?), 0)",
            (TOP_STORED - 1,),
        ),
        TOP_STORED,
    )
    results["heatmap"] = heatmap_from_tables(conn, everything)
    results["totals"] = list(totals_from_tables(conn, everything, day_rows))
    results["span"] = list(span_from_tables(conn))
    results["dim_values"] = dim_values_from_tables(conn)
    # The binned engagement answers embody the settings the rollups were built with (read in this transaction).
    results.update(default_binned(conn, data_settings.load(conn), dialect))
    results.update(default_engagement(conn, dialect))
    results.update(firstseen_serve.default_results(conn, day_rows))
    results.update(default_viewers(conn))
    bulk_insert(
        conn, dialect, "md_results", ("name", "value"), [(name, json.dumps(value)) for name, value in results.items()],
        on_conflict="(name) DO UPDATE SET value = excluded.value",
    )




def refresh_derived(conn: Any, aggregator: Aggregator | None = None) -> None:
    """Bring the rollups and the planner statistics up to date after rows were added.

    ``aggregator`` holds the new rows' aggregates when the caller streamed
    them.  Called inside the loading transaction, so readers see new rows and
    what is derived from them at the same instant.
    """
    dialect = dialect_of(conn)
    refresh(conn, dialect, aggregator=aggregator)
    if dialect.after_load_sql:
        conn.execute(dialect.after_load_sql)
