"""``gunicorn app:server`` serves the dashboard and the routes, with the security headers."""
from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.helpers import build_db, event, free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]


def test_gunicorn_app_server(db_target):
    db = build_db(db_target("g.db"), [event("2013-01-07 10:00:00", "a", title="Argo")])
    port = free_port()
    env = {**os.environ, "MOVIEDASH_DB": str(db), "MOVIEDASH_FRAME_ANCESTORS": "https://intranet.example.com",
           "MOVIEDASH_NO_AUTH": "1"}  # no users: gunicorn requires sign-in unless told (test_auth_cli)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "app:server", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        assert wait_for(f"http://127.0.0.1:{port}/data/toplist/", process) == b'[{"title":"Argo","values":1}]'
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
            assert response.status == 200
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert response.headers["Server"] == "gunicorn"  # no version
            assert response.headers["Content-Security-Policy"] == "frame-ancestors 'self' https://intranet.example.com"
    finally:
        process.terminate()
        process.communicate(timeout=10)


def test_settings_from_env():
    from moviedash.errors import MoviedashError
    from moviedash.factory import settings_from_env

    assert settings_from_env({}) == {}
    assert settings_from_env(
        {"MOVIEDASH_QUERY_TIMEOUT": "2.5", "MOVIEDASH_FRAME_ANCESTORS": "https://a.org http://b:8"}
    ) == {
        "MOVIEDASH_QUERY_TIMEOUT": 2.5,
        "MOVIEDASH_FRAME_ANCESTORS": ["https://a.org", "http://b:8"],
    }
    assert settings_from_env({"MOVIEDASH_POOL_SIZE": "3"}) == {"MOVIEDASH_POOL_SIZE": 3}
    for bad in ("0", "many"):
        try:
            settings_from_env({"MOVIEDASH_POOL_SIZE": bad})
        except MoviedashError as exc:
            assert "MOVIEDASH_POOL_SIZE" in exc.message
        else:
            raise AssertionError("a bad pool size was accepted")
    try:
        settings_from_env({"MOVIEDASH_QUERY_TIMEOUT": "soon"})
    except MoviedashError as exc:
        assert "MOVIEDASH_QUERY_TIMEOUT" in exc.message
    else:
        raise AssertionError("a bad timeout was accepted")
