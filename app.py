"""Run the dashboard: ``python app.py`` (http://127.0.0.1:8050), or ``gunicorn app:server``.

The database is ``$MOVIEDASH_DB`` or ``./moviedb``; when neither names an
existing file and no database was named, a demo database is generated first so
a new user sees the product at once.  ``MOVIEDASH_DB`` may be a PostgreSQL URL.
``MOVIEDASH_QUERY_TIMEOUT``, ``MOVIEDASH_FRAME_ANCESTORS`` and (PostgreSQL)
``MOVIEDASH_POOL_SIZE`` set the serving options; ``MOVIEDASH_CONNECTION_LIMIT``,
``MOVIEDASH_CHANNEL_TIMEOUT`` and ``MOVIEDASH_SHUTDOWN_TIMEOUT`` the server's
limits for ``python app.py`` (see README, Deploying).

Sign-in: ``python app.py`` serves on 127.0.0.1, open until a user exists.
Under gunicorn the address it binds is not known here, so sign-in is
required: without a user or token the app refuses to start, unless
``MOVIEDASH_NO_AUTH=1`` (e.g. behind a proxy that authenticates).
"""
import os
import sys

from moviedash import auth, create_app
from moviedash.cli import DEFAULT_DB, ensure_demo_database, run_server
from moviedash.errors import MoviedashError
from moviedash.factory import freeze_startup_objects, settings_from_env
from moviedash.server import options_from_env

DB = os.environ.get("MOVIEDASH_DB") or DEFAULT_DB
HOST = "127.0.0.1" if __name__ == "__main__" else None  # None: gunicorn's bind address, unknown here

try:
    ensure_demo_database(DB, named=bool(os.environ.get("MOVIEDASH_DB")))
    settings = settings_from_env()
    if HOST is None:
        settings.setdefault("MOVIEDASH_AUTH", "required")
    app = create_app(db=DB, **settings)
    sign_in = auth.check_serving(app.server, HOST, "MOVIEDASH_NO_AUTH=1")
except MoviedashError as exc:
    if HOST is None:
        # gunicorn restarts a worker that exits with 1 forever; 3 (its WORKER_BOOT_ERROR) stops the master.
        print(f"moviedash: {exc.message}", file=sys.stderr, flush=True)
        sys.exit(3)
    sys.exit(f"moviedash: {exc.message}")
server = app.server
if HOST is None:  # gunicorn: there is no bind step of ours to wait for
    print(f"moviedash: {sign_in}", file=sys.stderr)
freeze_startup_objects()  # also for gunicorn app:server (see the function)

if __name__ == "__main__":
    try:
        run_server(app, host="127.0.0.1", port=8050, threads=8, debug=False, options=options_from_env(),
                   notes=(sign_in,))
    except MoviedashError as exc:
        sys.exit(f"moviedash: {exc.message}")
