"""The command line, through click's CliRunner and (for app.py) a subprocess."""
from __future__ import annotations

import os
import re
import shlex
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from moviedash.cli import main
from tests.conftest import event

ROOT = Path(__file__).resolve().parents[2]
GOOD = "2013-01-22 17:20:56,u1,c1,Computer,NO,29,90,32.2,,MOVIE,Argo,,\n"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def count(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT count(*) FROM movies").fetchone()[0]
    finally:
        conn.close()


def test_help_lists_every_command_and_option(runner):
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("serve", "load", "demo", "report"):
        assert command in result.output
        sub = runner.invoke(main, [command, "--help"])
        assert sub.exit_code == 0
        assert "--db" in sub.output and "MOVIEDASH_DB" in sub.output
    assert sorted(main.commands) == ["demo", "load", "report", "serve"]


def test_load_prints_summary_and_exit_status(runner, tmp_path):
    csv_path = tmp_path / "ok.csv"
    csv_path.write_text(GOOD * 3)
    db = tmp_path / "m.db"
    result = runner.invoke(main, ["load", str(csv_path), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "loaded 3, rejected 0" in result.output
    assert count(db) == 3

    bad = tmp_path / "bad.csv"
    bad.write_text(GOOD.replace("u1", "u2") + "not,a,row\n")
    result = runner.invoke(main, ["load", str(bad), "--db", str(db)])
    assert result.exit_code == 1
    assert "loaded 1, rejected 1" in result.output
    assert f"see {tmp_path / 'bad.rejects.csv'}" in result.output
    assert count(db) == 4


def test_load_refuses_a_repeat_with_a_clean_message(runner, tmp_path):
    csv_path = tmp_path / "ok.csv"
    csv_path.write_text(GOOD)
    db = tmp_path / "m.db"
    assert runner.invoke(main, ["load", str(csv_path), "--db", str(db)]).exit_code == 0
    result = runner.invoke(main, ["load", str(csv_path), "--db", str(db)])
    assert result.exit_code == 1
    assert "already loaded" in result.output and "Traceback" not in result.output
    assert count(db) == 1
    assert runner.invoke(main, ["load", str(csv_path), "--db", str(db), "--force"]).exit_code == 0
    assert count(db) == 2


def test_load_strict(runner, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(GOOD + "oops\n")
    db = tmp_path / "m.db"
    result = runner.invoke(main, ["load", str(bad), "--db", str(db), "--strict", "--rejects", str(tmp_path / "r.csv")])
    assert result.exit_code == 1
    assert "nothing loaded" in result.output
    assert not db.exists()  # a new database is only created by a load that commits
    assert (tmp_path / "r.csv").read_text().count("\n") == 2


def test_db_from_environment(runner, tmp_path):
    csv_path = tmp_path / "ok.csv"
    csv_path.write_text(GOOD)
    db = tmp_path / "env.db"
    result = runner.invoke(main, ["load", str(csv_path)], env={"MOVIEDASH_DB": str(db)})
    assert result.exit_code == 0 and count(db) == 1


def test_load_missing_file_is_a_usage_error(runner, tmp_path):
    result = runner.invoke(main, ["load", str(tmp_path / "nope.csv"), "--db", str(tmp_path / "m.db")])
    assert result.exit_code == 2
    assert not (tmp_path / "m.db").exists()


def test_demo_writes_and_refuses_to_overwrite(runner, tmp_path):
    db = tmp_path / "demo.db"
    result = runner.invoke(main, ["demo", "--db", str(db), "--events", "2000", "--seed", "7"])
    assert result.exit_code == 0, result.output
    assert count(db) == 2000
    again = runner.invoke(main, ["demo", "--db", str(db), "--events", "100"])
    assert again.exit_code == 1 and "--force" in again.output
    assert count(db) == 2000
    forced = runner.invoke(main, ["demo", "--db", str(db), "--events", "100", "--force"])
    assert forced.exit_code == 0 and count(db) == 100
    assert runner.invoke(main, ["demo", "--db", str(db), "--events", "0"]).exit_code == 2


def test_serve_named_missing_database_is_an_error_and_creates_nothing(runner, tmp_path):
    missing = tmp_path / "missing.db"
    result = runner.invoke(main, ["serve", "--db", str(missing)])
    assert result.exit_code == 1
    assert f"database not found: {missing}" in result.output
    assert not missing.exists()
    result = runner.invoke(main, ["serve"], env={"MOVIEDASH_DB": str(missing)})
    assert result.exit_code == 1 and not missing.exists()


def test_serve_default_missing_database_suggests_demo(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, ["serve"], env={"MOVIEDASH_DB": None})
    assert result.exit_code == 1
    assert "moviedash demo" in result.output
    assert not (tmp_path / "moviedb").exists()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, timeout: float = 60.0) -> bytes:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read()
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer in {timeout} s")


def test_serve_runs_the_production_server(tmp_path):
    db = tmp_path / "m.db"
    (tmp_path / "ok.csv").write_text(GOOD)
    subprocess.run([sys.executable, "-m", "moviedash.cli", "load", str(tmp_path / "ok.csv"), "--db", str(db)], check=True)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moviedash.cli", "serve", "--db", str(db), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        body = wait_for(f"http://127.0.0.1:{port}/data/toplist/", process)
        assert body == b'[{"title":"Argo","values":1}]'
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
            assert response.headers["Server"] == "moviedash"
            assert b"moviedash" in response.read()
    finally:
        process.terminate()
        process.communicate(timeout=10)


def test_python_app_py_generates_the_demo_database_when_none_is_named(tmp_path):
    port = free_port()
    script = (
        "import runpy, sys, moviedash.cli as cli\n"
        f"cli.run_server = lambda app, host, port, threads, debug: __import__('waitress').serve(app.server, host=host, port={port})\n"
        f"runpy.run_path({str(ROOT / 'app.py')!r}, run_name='__main__')\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "MOVIEDASH_DB"}
    process = subprocess.Popen(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        body = wait_for(f"http://127.0.0.1:{port}/data/unique_users/?resolution=monthly", process, timeout=120)
        assert body.startswith(b'[{"date":')
        assert (tmp_path / "moviedb").is_file() and count(tmp_path / "moviedb") == 100_000
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=10)
    assert b"generating a demo database" in out
    # The suggested load command runs as printed from a fresh shell in that folder (no venv on PATH).
    suggested = re.search(r"Load your own data with: (.+)", out.decode()).group(1)
    assert suggested.endswith(" load FILE.csv --db ./moviedb")
    (tmp_path / "FILE.csv").write_text(GOOD)
    fresh_shell = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path)}
    loaded = subprocess.run(shlex.split(suggested), cwd=tmp_path, env=fresh_shell, capture_output=True, text=True)
    assert loaded.returncode == 0, loaded.stderr
    assert count(tmp_path / "moviedb") == 100_001


def test_load_command_names_the_installed_script_and_a_path(tmp_path, monkeypatch):
    from moviedash.cli import load_command

    monkeypatch.chdir(tmp_path)
    venv_bin = tmp_path / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "moviedash").write_text("#!/bin/sh\n")
    monkeypatch.setattr(sys, "executable", str(venv_bin / "python"))
    assert load_command("moviedb") == ".venv/bin/moviedash load FILE.csv --db ./moviedb"
    assert load_command("/srv/my db") == ".venv/bin/moviedash load FILE.csv --db '/srv/my db'"
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")  # the script is not below this folder: its full path
    assert load_command("data/moviedb") == f"{venv_bin / 'moviedash'} load FILE.csv --db data/moviedb"


@pytest.mark.sqlite_only
def test_debug_binds_to_loopback_only_and_warns(runner, make_db, monkeypatch):
    """--debug runs Dash's development server on 127.0.0.1 whatever --host says; without it, never debug."""
    import dash
    import waitress

    import gc

    calls: list[tuple[str, dict]] = []
    monkeypatch.setattr(gc, "freeze", lambda: calls.append(("gc.freeze", {})))
    monkeypatch.setattr(dash.Dash, "run", lambda self, **kw: calls.append(("dash", kw)))
    monkeypatch.setattr(waitress, "serve", lambda app, **kw: calls.append(("waitress", kw)))
    db = make_db([event("2013-01-07 10:00:00")])

    result = runner.invoke(main, ["serve", "--db", str(db), "--host", "0.0.0.0", "--port", "8123", "--debug"])
    assert result.exit_code == 0, result.output
    assert calls == [("dash", {"host": "127.0.0.1", "port": 8123, "debug": True})]
    assert "--debug serves on 127.0.0.1 only, not 0.0.0.0" in result.output
    assert "never expose this server to a network" in result.output

    calls.clear()
    result = runner.invoke(main, ["serve", "--db", str(db), "--host", "0.0.0.0", "--port", "8123", "--threads", "3"])
    assert result.exit_code == 0, result.output
    # Production serving freezes the start-up objects first (no 70 ms collections in requests).
    assert [name for name, _ in calls] == ["gc.freeze", "waitress"]
    assert calls[1][1]["host"] == "0.0.0.0" and calls[1][1]["threads"] == 3
    assert "warning" not in result.output
