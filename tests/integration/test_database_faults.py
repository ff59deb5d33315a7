"""A database deleted or replaced under a running server: 503 JSON, then recovery.

The answers never name the database's path (that is for the server log).
"""
from __future__ import annotations

import json
import logging
import shutil

import pytest

from moviedash import create_app
from tests.helpers import build_db, callback_body, event, server_callbacks


def test_deleted_then_restored_database(tmp_path):
    path = build_db(tmp_path / "live.db", [event("2013-01-07 10:00:00", "a", title="Argo")])
    backup = tmp_path / "backup.db"
    shutil.copy(path, backup)
    app = create_app(db=path)
    app.server.testing = False
    client = app.server.test_client()
    assert client.get("/data/toplist/").get_json() == [{"title": "Argo", "values": 1}]

    for suffix in ("", "-wal", "-shm"):
        (tmp_path / f"live.db{suffix}").unlink(missing_ok=True)
    for url in ("/data/toplist/", "/data/unique_users/", "/figures/heatmap.json", "/_dash-layout"):
        response = client.get(url)
        assert response.status_code == 503, url
        assert response.get_json() == {"error": "the database cannot be read"}

    shutil.copy(backup, path)  # it comes back
    assert client.get("/data/toplist/").get_json() == [{"title": "Argo", "values": 1}]
    assert client.get("/").status_code == 200


def test_replaced_by_another_database_or_by_garbage(tmp_path):
    path = build_db(tmp_path / "live.db", [event("2013-01-07 10:00:00", "a", title="Argo")])
    other = build_db(tmp_path / "other.db", [event("2013-02-07 10:00:00", "b", title="Brave")] * 2)
    app = create_app(db=path)
    app.server.testing = False
    client = app.server.test_client()
    assert client.get("/data/toplist/").get_json() == [{"title": "Argo", "values": 1}]

    path.write_bytes(b"this is not a database" * 100)
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"live.db{suffix}").unlink(missing_ok=True)
    response = client.get("/data/toplist/")
    assert response.status_code == 503 and response.get_json() == {"error": "the database cannot be read"}
    assert "Traceback" not in response.get_data(as_text=True)

    shutil.copy(other, path)  # replaced by another, valid database: served as it is now
    assert client.get("/data/toplist/").get_json() == [{"title": "Brave", "values": 2}]


ROUTES = ["/", "/_dash-layout", "/data/toplist/", "/data/unique_users/?resolution=weekly", "/data/minutes_watched/",
          "/data/toplist/?format=csv", "/figures/unique_users.json", "/figures/minutes_watched.json",
          "/figures/top_titles.json", "/figures/heatmap.json"]


def break_database(path, how: str) -> None:
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    if how == "missing":
        path.unlink()
    else:
        path.write_bytes(b"this is not a database" * 100)


@pytest.mark.parametrize("how", ["missing", "garbage"])
def test_no_answer_names_the_database_path(tmp_path, caplog, how):
    folder = tmp_path / "secret-folder-name"
    folder.mkdir()
    path = build_db(folder / "private.db", [event("2013-01-07 10:00:00", "a", title="Argo")])
    app = create_app(db=path)
    app.server.testing = False
    client = app.server.test_client()
    callbacks = server_callbacks(client)
    break_database(path, how)
    caplog.set_level(logging.WARNING, logger="moviedash")
    secrets = (str(path), "secret-folder-name", "private.db", str(tmp_path))

    answers = [(route, client.get(route)) for route in ROUTES]
    for dep in callbacks:
        # Each callback with plausible values (a click, the default resolution), then with none.
        for values in ({0: 1}, {}):
            answers.append(
                (
                    dep["output"],
                    client.post(
                        "/_dash-update-component",
                        data=json.dumps(callback_body(dep, values)),
                        content_type="application/json",
                    ),
                )
            )
    statuses = set()
    for what, response in answers:
        text = response.get_data(as_text=True)
        statuses.add(response.status_code)
        assert response.status_code in (200, 204, 503), (what, response.status_code, text[:200])
        assert not any(s in text for s in secrets), (what, text[:300])
        if response.status_code == 503:
            assert response.get_json() == {"error": "the database cannot be read"}, what
        if response.status_code == 200 and "figure" in what:
            # A chart that cannot be drawn says so, without the path.
            assert "The database cannot be read" in text or "Invalid selection" in text, (what, text[:300])
    assert 503 in statuses
    # The details are in the server log, as one line each, without a traceback.
    logged = [r for r in caplog.records if r.name == "moviedash"]
    assert logged and all(str(path) in r.getMessage() for r in logged)
    assert not [r for r in caplog.records if r.exc_info or r.levelname in ("ERROR", "CRITICAL")]
