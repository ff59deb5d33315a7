"""The per-request database connection used by the JSON routes and the Dash callbacks.

Dash callbacks run inside a Flask request (``/_dash-update-component``), so both
share one read-only connection per request, opened lazily and closed on teardown.

Each request has a time limit (``MOVIEDASH_QUERY_TIMEOUT`` seconds, default
5): the SQLite connection interrupts a query past the deadline
(:meth:`moviedash.store.sqlite.ServingConnection.limit_time`), and the
stages after the queries (shaping, drawing figures) check it too
(:func:`moviedash.store.check_deadline`); both raise
:class:`moviedash.errors.QueryTimeout`, which the error handler answers 503 in the
standard JSON shape, so one expensive request cannot hold a server thread for minutes.

On PostgreSQL a request borrows a connection of the app's pool
(:func:`moviedash.store.postgres.make_pool`, read-only transactions) and gives it back on
teardown; the limit is the transaction's ``statement_timeout`` (per statement).
"""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from flask import Flask, current_app, g

from ..store import Connection, is_postgres, postgres, set_deadline, sqlite

if TYPE_CHECKING:
    from psycopg_pool import ConnectionPool

DEFAULT_QUERY_TIMEOUT = 5.0


def get_connection() -> Connection:
    """The current request's read-only connection to the configured database."""
    conn: Connection | None = g.get("_moviedash_conn")
    if conn is None:
        db = current_app.config["MOVIEDASH_DB"]
        timeout = float(current_app.config.get("MOVIEDASH_QUERY_TIMEOUT", DEFAULT_QUERY_TIMEOUT))
        if is_postgres(db):
            conn = g._moviedash_conn = postgres.checkout(_pool(current_app, db), db, timeout)
        else:
            serving = g._moviedash_conn = sqlite.connect_readonly(db)
            if timeout > 0:
                serving.limit_time(timeout)
            conn = serving
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


def init_app(server: Flask) -> None:
    """Close each request's connection when the request ends; answer timeouts with 503."""
    server.teardown_appcontext(close_connection)
