"""Reliability of ``moviedash serve`` (issue 6), small-scale versions of ``benchmarks/reliability.py``.

The same functions run in ``python -m benchmarks.reliability`` with 1M rows, 50
clients for 60 s and 10,000 requests (results in ``benchmarks/results-reliability.md``);
here they run with small, fixed sizes so CI proves the properties on every change:
an import while clients query gives each client the state before or after it
(never a partial import, never an error), concurrent clients get no failures,
and thousands of requests leak neither file descriptors nor threads.
"""
from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from benchmarks import reliability
from benchmarks.common import write_course_csv
from moviedash.ingest.loader import load_files
from moviedash.store import connect_readonly


@pytest.fixture(scope="module")
def served_db(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("reliability")
    db = folder / "demo.db"
    subprocess.run([sys.executable, "-m", "moviedash.cli", "demo", "--events", "20000", "--db", str(db)],
                   check=True, stdout=subprocess.DEVNULL)
    return db


def test_an_import_while_serving_is_seen_whole_or_not_at_all(served_db, tmp_path):
    csv_path = tmp_path / "import.csv"
    write_course_csv(csv_path, 30_000, seed=7)
    result = reliability.import_while_serving(served_db, csv_path, threads=6, log=tmp_path / "server.log")
    assert result["load_exit"] == 0, result["load_output"]
    assert result["error_count"] == 0, result["errors"]  # no "database is locked", no refused connection
    assert result["bad_status_count"] == 0, result["bad_status"]
    assert result["partial"] == 0  # every answer is the state before or after the import
    assert result["routes_changed"] > 0  # the import did change the answers...
    assert result["before_answers"] > 0 and result["after_answers"] > 0  # ...while clients were asking
    # The load emptied the WAL despite the readers: a large leftover WAL makes
    # every new read-only connection rebuild its index by reading all of it.
    wal = served_db.with_name(served_db.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0


def test_a_load_empties_the_wal_even_while_a_reader_holds_an_older_snapshot(tmp_path):
    db = tmp_path / "m.db"
    subprocess.run([sys.executable, "-m", "moviedash.cli", "demo", "--events", "2000", "--db", str(db)],
                   check=True, stdout=subprocess.DEVNULL)
    csv_path = tmp_path / "more.csv"
    write_course_csv(csv_path, 20_000, seed=3)
    reader = connect_readonly(db)
    reader.execute("BEGIN")
    before = reader.execute("SELECT count(*) FROM movies").fetchone()[0]  # holds this snapshot
    # The reader's snapshot blocks the commit's checkpoint; it ends half a second later,
    # as a dashboard request would, and the load's TRUNCATE checkpoint then completes.
    release = threading.Timer(0.5, reader.rollback)
    release.start()
    try:
        report = load_files(db, [csv_path])
    finally:
        release.join()
    assert report.committed and reader.execute("SELECT count(*) FROM movies").fetchone()[0] == before + 20_000
    reader.close()
    assert db.with_name(db.name + "-wal").stat().st_size == 0


def test_concurrent_clients_over_routes_and_callbacks_get_no_failures(served_db, tmp_path):
    result = reliability.load_test(served_db, clients=8, seconds=3.0, log=tmp_path / "server.log")
    assert result["callbacks_included"]
    assert result["requests"] > 50
    assert result["failures"] == 0, result["failure_examples"]


def test_many_requests_leak_no_file_descriptors_or_threads(served_db, tmp_path):
    result = reliability.leak_check(served_db, requests=1000, log=tmp_path / "server.log")
    fds_before, threads_before, _ = result["before"]
    fds_after, threads_after, _ = result["after"]
    assert fds_after - fds_before <= 2
    assert threads_after - threads_before <= 2
