"""Either engine behind one face: open a database named by a path or URL, and request deadlines.

A read-only connection of either backend offers ``execute(sql, params)`` with
``?`` placeholders, ``close()`` and the per-request ``memo`` (see
:class:`Connection`).
"""
from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import psycopg

from ..errors import DatabaseFault, query_timeout_error
from . import postgres, sqlite, target


class Cursor(Protocol):
    """What serving code reads from a statement's result (sqlite3's and psycopg's cursors both fit)."""

    @property
    def description(self) -> Any: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Queryable(Protocol):
    """Anything that runs SQL with ``?`` placeholders: a serving connection, or a loading one.

    Code shared by serving and loading (the rollups' queries) takes this; a
    plain ``sqlite3.Connection`` fits.
    """

    def execute(self, sql: str, params: Sequence[Any] = ..., /) -> Cursor: ...

    def close(self) -> None: ...


class Connection(Queryable, Protocol):
    """A read-only serving connection of either backend.

    :class:`moviedash.store.sqlite.ServingConnection` and
    :class:`moviedash.store.postgres.PgConnection` fit it: ``execute`` takes SQL
    with ``?`` placeholders, ``close`` ends the request's use, and ``memo``
    keeps what cannot change while the connection lives (the data's span, the
    request's deadline).
    """

    memo: dict[str, object]


def set_deadline(conn: Connection, seconds: float) -> None:
    """Give the request owning ``conn`` a deadline ``seconds`` from now (see :func:`check_deadline`)."""
    conn.memo["deadline"] = (time.monotonic() + seconds, seconds)


def check_deadline(conn: object) -> None:
    """Raise the query-timeout 503 when the request owning ``conn`` is past its deadline.

    Called between the stages of an answer (after the query, before shaping,
    before drawing a figure), so the time limit covers the whole request and
    not only the database's work.  No deadline (reports, scripts): nothing to check.
    """
    memo = getattr(conn, "memo", None)
    limit = memo.get("deadline") if memo else None
    if limit is not None and time.monotonic() > limit[0]:
        raise query_timeout_error(limit[1])


def database_fault(exc: BaseException) -> DatabaseFault | None:
    """The 503 for an engine's database error met while answering, else ``None``.

    Databases not made by ``moviedash load`` can lack columns, hold sums that
    overflow 64 bits or values the driver cannot convert, and can be swapped
    under a running server.  Serving code lets such errors rise (some are
    expected and caught below, e.g. a missing rollup table); the web error
    handler asks this function, so only the store knows the engines' error types.
    """
    if isinstance(exc, sqlite3.DatabaseError | psycopg.Error):
        return DatabaseFault(f"cannot answer from the database: {exc}")
    return None


def connect_readonly(path: str | os.PathLike[str]) -> Connection:
    """Open an existing database read-only, for serving (reports, figures API).

    A SQLite path gives a :class:`moviedash.store.sqlite.ServingConnection`; a
    PostgreSQL URL a :class:`moviedash.store.postgres.PgConnection` in
    read-only transactions, with the same ``execute`` interface.
    """
    if target.is_postgres(path):
        return postgres.connect_readonly(os.fspath(path))
    return sqlite.connect_readonly(path)


def check_exists(path: str | os.PathLike[str]) -> Path | str:
    """Return the resolved path, or raise :class:`DatabaseNotFound` (missing) or
    :class:`MoviedashError` (a folder, not a SQLite file, no ``movies`` table).

    A PostgreSQL URL is returned as given after one connection that checks the
    server, the credentials, the database and its ``movies`` table.
    """
    if target.is_postgres(path):
        postgres.check(os.fspath(path))
        return os.fspath(path)
    db_path = sqlite.resolve_path(path)
    # Open it once now: a file that is not a moviedash database is refused at
    # start, not with a 503 on every request.
    sqlite.connect_readonly(path).close()
    return db_path


@contextmanager
def write_transaction(path: str | os.PathLike[str]) -> Iterator[Queryable]:
    """One write transaction on an existing database: committed when the block ends, rolled back if it raises.

    Yields a connection with the same ``execute(sql, params)`` interface as
    :func:`connect_readonly`.  SQLite takes the write lock at once
    (``BEGIN IMMEDIATE``), as a load does; on PostgreSQL the transaction
    serialises with loads through the ledger's advisory lock.
    """
    check_exists(path)
    if target.is_postgres(path):
        url = os.fspath(path)
        raw = postgres.connect_readwrite(url)
        pg = postgres.PgConnection(raw, target.parse(url).location)
        try:
            postgres.lock_ledger(raw)
            yield pg
            raw.commit()
        finally:
            pg.close()  # rolls back whatever was not committed
        return
    conn = sqlite.connect_readwrite(path)
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.rollback()
            raise
        conn.commit()
    finally:
        conn.close()
