"""Run the dashboard: ``python app.py`` (http://127.0.0.1:8050), or ``gunicorn app:server``.

The database is ``$MOVIEDASH_DB`` or ``./moviedb``; when neither names an
existing file and no database was named, a demo database is generated first so
a new user sees the product at once.  ``MOVIEDASH_DB`` may be a PostgreSQL URL.
``MOVIEDASH_QUERY_TIMEOUT``, ``MOVIEDASH_FRAME_ANCESTORS`` and (PostgreSQL)
``MOVIEDASH_POOL_SIZE`` set the serving options; ``MOVIEDASH_CONNECTION_LIMIT``,
``MOVIEDASH_CHANNEL_TIMEOUT`` and ``MOVIEDASH_SHUTDOWN_TIMEOUT`` the server's
limits for ``python app.py`` (see README, Deploying).
"""
import os
import sys

from moviedash import create_app
from moviedash.cli import DEFAULT_DB, ensure_demo_database, run_server
from moviedash.errors import MoviedashError
from moviedash.factory import freeze_startup_objects, settings_from_env
from moviedash.server import options_from_env

DB = os.environ.get("MOVIEDASH_DB") or DEFAULT_DB

try:
    ensure_demo_database(DB, named=bool(os.environ.get("MOVIEDASH_DB")))
    app = create_app(db=DB, **settings_from_env())
except MoviedashError as exc:
    sys.exit(f"moviedash: {exc.message}")
server = app.server
freeze_startup_objects()  # also for gunicorn app:server (see the function)

if __name__ == "__main__":
    try:
        run_server(app, host="127.0.0.1", port=8050, threads=8, debug=False, options=options_from_env())
    except MoviedashError as exc:
        sys.exit(f"moviedash: {exc.message}")
