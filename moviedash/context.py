"""The per-request database connection used by the JSON routes and the Dash callbacks.

Dash callbacks run inside a Flask request (``/_dash-update-component``), so both
share one read-only connection per request, opened lazily and closed on teardown.
"""
from __future__ import annotations

import sqlite3

from flask import Flask, current_app, g

from .db import connect_readonly


def get_connection() -> sqlite3.Connection:
    """The current request's read-only connection to the configured database."""
    conn = g.get("_moviedash_conn")
    if conn is None:
        conn = g._moviedash_conn = connect_readonly(current_app.config["MOVIEDASH_DB"])
    return conn


def close_connection(_exc: BaseException | None = None) -> None:
    conn = g.pop("_moviedash_conn", None)
    if conn is not None:
        conn.close()


def init_app(server: Flask) -> None:
    """Close each request's connection when the request ends."""
    server.teardown_appcontext(close_connection)
