"""The per-request database connection used by the JSON routes and the Dash callbacks.

Dash callbacks run inside a Flask request (``/_dash-update-component``), so both
share one read-only connection per request, opened lazily and closed on teardown.

Each request has a time limit (``MOVIEDASH_QUERY_TIMEOUT`` seconds, default
5): SQLite's progress handler interrupts a query past the deadline, and the
stages after the queries (shaping, drawing figures) check it too
(:func:`moviedash.db.check_deadline`); the error handler answers 503 in the
standard JSON shape, so one expensive request cannot hold a server thread for minutes.

On PostgreSQL a request borrows a connection of the app's pool
(:func:`moviedash.pg.make_pool`, read-only transactions) and gives it back on
teardown; the limit is the transaction's ``statement_timeout`` (per statement).
"""
from __future__ import annotations

import logging
import sqlite3
import sys
import threading
import time
from typing import TYPE_CHECKING

from flask import Flask, current_app, g

from ..errors import MoviedashError, query_timeout_error
from ..store import Connection, connect_readonly, is_postgres, postgres, set_deadline

if TYPE_CHECKING:
    from psycopg_pool import ConnectionPool

DEFAULT_QUERY_TIMEOUT = 5.0
#: SQLite virtual-machine instructions between deadline checks (cheap, ~ms granularity).
PROGRESS_STEPS = 10_000


def get_connection() -> Connection:
    """The current request's read-only connection to the configured database."""
    conn = g.get("_moviedash_conn")
    if conn is None:
        db = current_app.config["MOVIEDASH_DB"]
        timeout = float(current_app.config.get("MOVIEDASH_QUERY_TIMEOUT", DEFAULT_QUERY_TIMEOUT))
        if is_postgres(db):
            conn = g._moviedash_conn = postgres.checkout(_pool(current_app, db), db, timeout)
        else:
            conn = g._moviedash_conn = connect_readonly(db)
            if timeout > 0:
                deadline = time.monotonic() + timeout
                # A non-zero return interrupts the running statement ("interrupted").
                conn.set_progress_handler(lambda: time.monotonic() > deadline, PROGRESS_STEPS)
        if timeout > 0:
            set_deadline(conn, timeout)  # checked between stages: the limit covers the whole request
    return conn


_POOL_LOCK = threading.Lock()


def _pool(app: Flask, db: str) -> ConnectionPool:
    """The app's PostgreSQL pool, created on first use (so forked workers each make their own)."""
    pool = app.extensions.get("moviedash_pool")
    if pool is None or pool.closed:
        with _POOL_LOCK:
            pool = app.extensions.get("moviedash_pool")
            if pool is None or pool.closed:  # closed: by postgres.close_pools()
                pool = app.extensions["moviedash_pool"] = postgres.make_pool(
                    db, size=int(app.config.get("MOVIEDASH_POOL_SIZE", 8)),
                    wait=float(app.config.get("MOVIEDASH_CONNECT_TIMEOUT", 5.0)),
                )
    return pool


def close_connection(_exc: BaseException | None = None) -> None:
    conn = g.pop("_moviedash_conn", None)
    if conn is not None:
        conn.close()


def is_interrupted(exc: BaseException) -> bool:
    """True when ``exc``, or what it wraps (pandas re-raises as DatabaseError), is SQLite's interrupt."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, sqlite3.OperationalError) and str(seen) == "interrupted":
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def database_fault(exc: BaseException) -> MoviedashError | None:
    """The 503 for a database error met while answering, else ``None``.

    Databases not made by ``moviedash load`` can lack columns, hold sums that
    overflow 64 bits or values the driver cannot convert, and can be swapped
    under a running server: the client gets a 503 in the standard shape, the
    details go to the server log.
    """
    errors: tuple[type[BaseException], ...] = (sqlite3.DatabaseError,)
    psycopg = sys.modules.get("psycopg")
    if psycopg is not None:
        errors += (psycopg.Error,)
    if not isinstance(exc, errors):
        return None
    logging.getLogger("moviedash").warning("cannot answer from the database: %s", exc)
    return MoviedashError(
        "the database cannot be read: its movies table is not in the form moviedash serves "
        "(load the data with 'moviedash load')",
        status=503,
    )


def timeout_error() -> MoviedashError:
    """The 503 answered for a query stopped by the time limit."""
    return query_timeout_error(float(current_app.config.get("MOVIEDASH_QUERY_TIMEOUT", DEFAULT_QUERY_TIMEOUT)))


def init_app(server: Flask) -> None:
    """Close each request's connection when the request ends; answer timeouts with 503."""
    server.teardown_appcontext(close_connection)
