"""The application factory: Flask server + JSON routes + Dash app + callbacks."""
from __future__ import annotations

import gc
import os
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import dash
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import auth, charts, foreign
from .dashboard import callbacks, firstpaint, layout
from .errors import MoviedashError
from .params import parse_timeout
from .store import check_exists
from .web import context, dashguard, delivery, openapi, routes, security
from .web.errors import register_error_handlers


def assets_folder() -> Path:
    """The dashboard's CSS and JavaScript: the package ``moviedash.assets``.

    The project's top-level ``assets/`` folder is that package (the build maps
    it into ``moviedash/assets``), so this is the source folder in a checkout
    or an editable install, and the installed copy in a wheel install.
    """
    folder = resources.files("moviedash.assets")
    if not isinstance(folder, Path):  # Dash serves the folder from the file system
        raise RuntimeError(f"moviedash's assets are not a folder on disk ({folder!r}): install moviedash unzipped")
    return folder


#: How the boolean environment variables may be spelled.
_FLAGS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}


def _flag(environ: Mapping[str, str], name: str) -> bool | None:
    """The boolean environment variable ``name`` (None when unset or empty)."""
    value = environ.get(name, "").strip().lower()
    if not value:
        return None
    if value not in _FLAGS:
        raise MoviedashError(f"{name} must be 1 or 0 (true/false, yes/no), not {environ[name]!r}")
    return _FLAGS[value]


def settings_from_env(environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """Serving options from the environment, for ``gunicorn app:server``.

    ``MOVIEDASH_QUERY_TIMEOUT`` (seconds), ``MOVIEDASH_FRAME_ANCESTORS``
    (space-separated origins allowed to embed the dashboard) and
    ``MOVIEDASH_POOL_SIZE`` (PostgreSQL connections per process, default 8).
    Sign-in (:mod:`moviedash.auth`): ``MOVIEDASH_AUTH_FILE``, ``MOVIEDASH_NO_AUTH``,
    ``MOVIEDASH_SESSION_HOURS``, ``MOVIEDASH_SECURE_COOKIES`` and ``MOVIEDASH_BEHIND_PROXY``
    (``MOVIEDASH_SECRET_KEY`` is read by :mod:`moviedash.auth.web` itself).
    """
    config: dict[str, Any] = {}
    if environ.get("MOVIEDASH_QUERY_TIMEOUT"):
        config["MOVIEDASH_QUERY_TIMEOUT"] = parse_timeout(environ["MOVIEDASH_QUERY_TIMEOUT"])
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
    if environ.get("MOVIEDASH_AUTH_FILE"):
        config["MOVIEDASH_AUTH_FILE"] = environ["MOVIEDASH_AUTH_FILE"]
    if environ.get("MOVIEDASH_SESSION_HOURS"):
        config["MOVIEDASH_SESSION_HOURS"] = environ["MOVIEDASH_SESSION_HOURS"]  # checked by auth
    if _flag(environ, "MOVIEDASH_NO_AUTH"):
        config["MOVIEDASH_AUTH"] = "off"  # as moviedash serve --no-auth
    for name in ("MOVIEDASH_SECURE_COOKIES", "MOVIEDASH_BEHIND_PROXY"):
        value = _flag(environ, name)
        if value is not None:
            config[name] = value
    return config


def create_app(db: str | os.PathLike[str] = "moviedb", **config: Any) -> dash.Dash:
    """Build the dashboard over the database ``db``: a SQLite path or a PostgreSQL URL.

    The database must exist (it is opened read-only per request; nothing is
    created); a PostgreSQL server is connected to once here, so a wrong URL,
    password or database fails now with a clear :class:`MoviedashError`, and
    so does a ``movies`` table not in the form moviedash serves (:mod:`moviedash.foreign`).
    Extra keyword arguments go into the Flask config.  Returns the
    Dash app; ``app.server`` is the Flask server that also serves ``/data/...``.
    """
    if "MOVIEDASH_QUERY_TIMEOUT" in config:
        # Every way in (environment, --query-timeout, a script) is checked here: nan, inf
        # and negative limits would silently disable the limit.
        config["MOVIEDASH_QUERY_TIMEOUT"] = parse_timeout(config["MOVIEDASH_QUERY_TIMEOUT"], "query timeout")
    path = check_exists(db)
    foreign.check_database(db)
    server = Flask("moviedash")
    server.config.update(MOVIEDASH_DB=str(path), JSON_SORT_KEYS=False, MAX_CONTENT_LENGTH=dashguard.MAX_BODY_BYTES)
    server.config.update(config)
    if server.config.get("MOVIEDASH_BEHIND_PROXY"):
        # One trusted proxy: its X-Forwarded-For and -Proto give the client address
        # (rate limits) and the scheme (Secure cookies).
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=1, x_proto=1)  # type: ignore[method-assign]
    register_error_handlers(server)
    security.init_app(server)
    delivery.init_app(server)
    context.init_app(server)
    auth.init_app(server)  # before Dash's routes: nothing is served before the gate
    server.register_blueprint(routes.bp)
    server.register_blueprint(routes.figures_bp)
    server.register_blueprint(openapi.bp)

    app = firstpaint.FirstPaintDash(
        "moviedash",
        server=server,
        title="moviedash",
        index_string=layout.INDEX_STRING,
        assets_folder=str(assets_folder()),
        update_title=None,
    )
    app.layout = layout.serve_layout
    callbacks.register_callbacks(app)
    dashguard.guard_callbacks(app)
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
