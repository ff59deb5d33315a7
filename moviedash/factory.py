"""The application factory: Flask server + JSON routes + Dash app + callbacks."""
from __future__ import annotations

import gc
import os
from pathlib import Path
from collections.abc import Mapping
from typing import Any

import dash
from flask import Flask

from . import api, context, openapi, security
from .db import check_exists
from .errors import MoviedashError, register_error_handlers

#: The project's top-level ``assets/`` folder (CSS served by Dash).
ASSETS = Path(__file__).resolve().parent.parent / "assets"


def settings_from_env(environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """Serving options from the environment, for ``gunicorn app:server``.

    ``MOVIEDASH_QUERY_TIMEOUT`` (seconds), ``MOVIEDASH_FRAME_ANCESTORS``
    (space-separated origins allowed to embed the dashboard) and
    ``MOVIEDASH_POOL_SIZE`` (PostgreSQL connections per process, default 8).
    """
    config: dict[str, Any] = {}
    if environ.get("MOVIEDASH_QUERY_TIMEOUT"):
        try:
            config["MOVIEDASH_QUERY_TIMEOUT"] = float(environ["MOVIEDASH_QUERY_TIMEOUT"])
        except ValueError:
            raise MoviedashError("MOVIEDASH_QUERY_TIMEOUT must be a number of seconds") from None
    if environ.get("MOVIEDASH_FRAME_ANCESTORS"):
        config["MOVIEDASH_FRAME_ANCESTORS"] = environ["MOVIEDASH_FRAME_ANCESTORS"].split()
    if environ.get("MOVIEDASH_POOL_SIZE"):
        try:
            size = int(environ["MOVIEDASH_POOL_SIZE"])
        except ValueError:
            size = 0
        if size < 1:
            raise MoviedashError("MOVIEDASH_POOL_SIZE must be a whole number of connections, at least 1")
        config["MOVIEDASH_POOL_SIZE"] = size
    return config


def create_app(db: str | os.PathLike[str] = "moviedb", **config: Any) -> dash.Dash:
    """Build the dashboard over the database ``db``: a SQLite path or a PostgreSQL URL.

    The database must exist (it is opened read-only per request; nothing is
    created); a PostgreSQL server is connected to once here, so a wrong URL,
    password or database fails now with a clear :class:`MoviedashError`.  Extra keyword arguments go into the Flask config.  Returns the
    Dash app; ``app.server`` is the Flask server that also serves ``/data/...``.
    """
    path = check_exists(db)
    server = Flask("moviedash")
    server.config.update(MOVIEDASH_DB=str(path), JSON_SORT_KEYS=False)
    server.config.update(config)
    register_error_handlers(server)
    security.init_app(server)
    context.init_app(server)
    server.register_blueprint(api.bp)
    server.register_blueprint(api.figures_bp)
    server.register_blueprint(openapi.bp)

    from . import charts
    from .dashboard import (  # Dash parts import plotly: load them only here
        callbacks,
        layout,
    )

    app = dash.Dash(
        "moviedash",
        server=server,
        title="moviedash",
        index_string=layout.INDEX_STRING,
        assets_folder=str(ASSETS),
        update_title=None,
    )
    app.layout = layout.serve_layout
    callbacks.register_callbacks(app)
    security.guard_callbacks(app)
    charts.warm_up()  # the first request should not pay for Plotly's lazy set-up
    return app


def freeze_startup_objects() -> None:
    """Move every object built so far out of the garbage collector's way (a serving process, after ``create_app``).

    Why: Dash and Plotly's validators leave ~130,000 long-lived objects; each
    full collection walks them all (70 ms here), and whichever request it
    lands on takes that much longer. Frozen, they are never walked again.
    Not for processes that build many apps (tests): frozen objects are never
    freed.  Once per process (``python app.py`` reaches it twice).
    """
    if gc.get_freeze_count():
        return
    gc.collect()
    gc.freeze()

