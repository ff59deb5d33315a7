"""A database deleted or replaced under a running server: 503 JSON, then recovery."""
from __future__ import annotations

import shutil

from moviedash import create_app
from tests.conftest import build_db, event


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
        assert response.get_json() == {"error": f"database not found: {path}"}

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
    assert response.status_code == 503 and "cannot read database" in response.get_json()["error"]
    assert "Traceback" not in response.get_data(as_text=True)

    shutil.copy(other, path)  # replaced by another, valid database: served as it is now
    assert client.get("/data/toplist/").get_json() == [{"title": "Brave", "values": 2}]
