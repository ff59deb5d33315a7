"""A load killed with SIGKILL at several points leaves the database exactly as it was."""
from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from moviedash import create_app
from moviedash.ingest.demo import generate_events
from moviedash.ingest.loader import load_files

ROWS = 600_000


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("crash") / "big.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        for frame in generate_events(ROWS, seed=5):
            frame.to_csv(fh, header=False, index=False)
    return path


def state(db: Path) -> tuple[int, int, str]:
    conn = sqlite3.connect(db)
    try:
        return (
            conn.execute("SELECT count(*) FROM movies").fetchone()[0],
            conn.execute("SELECT count(*) FROM moviedash_loads").fetchone()[0],
            conn.execute("PRAGMA integrity_check").fetchone()[0],
        )
    finally:
        conn.close()


def kill_load_after(csv_path: Path, db: Path, delay: float) -> None:
    """Start ``moviedash load`` and SIGKILL it after ``delay`` seconds, before it can finish."""
    process = subprocess.Popen(
        [sys.executable, "-m", "moviedash.cli", "load", str(csv_path), "--db", str(db)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL, "the load finished before it could be killed"


def test_sigkill_during_load_leaves_the_database_unchanged(tmp_path, big_csv):
    db = tmp_path / "m.db"
    first = tmp_path / "first.csv"
    first.write_text("2013-01-01 10:00:00,u1,c,Computer,NO,5,,,,MOVIE,Argo,,\n")
    load_files(db, [first])
    before = state(db)
    assert before == (1, 1, "ok")

    # Kill the loader at several points of its work: reading, inserting, near the end.
    for delay in (0.4, 1.0, 1.6):
        kill_load_after(big_csv, db, delay)
        assert state(db) == before
        client = create_app(db=db).server.test_client()
        assert client.get("/data/toplist/").get_json() == [{"title": "Argo", "values": 1}]

    # The file was never recorded as loaded, so loading it again just works.
    report = load_files(db, [big_csv])
    assert report.loaded == ROWS and report.rejected == 0
    assert state(db) == (ROWS + 1, 2, "ok")


def test_sigkill_during_a_load_into_a_new_database_leaves_no_database(tmp_path, big_csv):
    """A new database is built in a temporary file: killed, the load leaves no half-written database."""
    db = tmp_path / "new.db"
    for delay in (0.4, 1.2):
        kill_load_after(big_csv, db, delay)
        assert not db.exists()
        assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")] == []  # only the hidden temp file
    report = load_files(db, [big_csv])
    assert report.committed and state(db) == (ROWS, 1, "ok")
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # served like any other database
    finally:
        conn.close()


def test_a_rejected_strict_load_into_a_new_database_creates_nothing(tmp_path):
    db = tmp_path / "new.db"
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "2013-01-01 10:00:00,u1,c,Computer,NO,5,,,,MOVIE,Argo,,\nnot a date,u2,c,Computer,NO,5,,,,MOVIE,Argo,,\n"
    )
    report = load_files(db, [bad], strict=True)
    assert not report.committed and report.rejected == 1
    assert not db.exists() and not any(p.name.endswith(".tmp") for p in tmp_path.iterdir())
