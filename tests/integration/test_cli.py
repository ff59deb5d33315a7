"""The command line, through click's CliRunner and (for app.py) a subprocess."""
from __future__ import annotations

import os
import re
import shlex
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from moviedash.cli import main
from tests.helpers import event, free_port, wait_for

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
    assert sorted(main.commands) == ["demo", "load", "report", "serve", "settings", "tokens", "users"]


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


def test_serve_runs_the_production_server(tmp_path):
    db = tmp_path / "m.db"
    (tmp_path / "ok.csv").write_text(GOOD)
    subprocess.run(
        [sys.executable, "-m", "moviedash.cli", "load", str(tmp_path / "ok.csv"), "--db", str(db)], check=True
    )
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moviedash.cli", "serve", "--db", str(db), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
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
        "cli.run_server = lambda app, host, port, threads, debug, options, notes=(): "
        f"__import__('waitress').serve(app.server, host=host, port={port})\n"
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
    import gc

    import dash

    from moviedash import server

    calls: list[tuple[str, dict]] = []
    monkeypatch.setattr(gc, "freeze", lambda: calls.append(("gc.freeze", {})))
    monkeypatch.setattr(dash.Dash, "run", lambda self, **kw: calls.append(("dash", kw)))

    def run(self: server.Serving) -> None:
        calls.append(("waitress", {"addresses": self.addresses, "threads": len(self.dispatcher.threads)}))
        self.dispatcher.shutdown()
        server.wasyncore.close_all(self.map)

    monkeypatch.setattr(server.Serving, "run", run)
    db = make_db([event("2013-01-07 10:00:00")])

    result = runner.invoke(main, ["serve", "--db", str(db), "--host", "0.0.0.0", "--port", "8123", "--debug"])
    assert result.exit_code == 0, result.output
    assert calls == [("dash", {"host": "127.0.0.1", "port": 8123, "debug": True})]
    assert "--debug serves on 127.0.0.1 only, not 0.0.0.0" in result.output
    assert "never expose this server to a network" in result.output

    calls.clear()
    port = free_port()  # the production server binds: a free port, on loopback (the tests stay off the network)
    result = runner.invoke(
        main, ["serve", "--db", str(db), "--host", "127.0.0.1", "--port", str(port), "--threads", "3"]
    )
    assert result.exit_code == 0, result.output
    # Production serving freezes the start-up objects first (no 70 ms collections in requests).
    assert [name for name, _ in calls] == ["gc.freeze", "waitress"]
    assert calls[1][1] == {"addresses": [("127.0.0.1", port)], "threads": 3}
    assert "warning" not in result.output


# --------------------------------------------------------------------------- #
# Mistakes a new user makes: one clear line, a non-zero exit, nothing served.
# --------------------------------------------------------------------------- #


def bad_db(kind: str, tmp_path: Path) -> tuple[str, str]:
    """A ``--db`` value of ``kind`` and the message it must give."""
    if kind == "folder":
        (tmp_path / "data").mkdir()
        return str(tmp_path / "data"), f"{tmp_path / 'data'} is a folder, not a database file"
    if kind == "not-sqlite":
        (tmp_path / "notes.txt").write_text("not a database\n" * 200)
        return str(
            tmp_path / "notes.txt"
        ), f"cannot read database {tmp_path / 'notes.txt'}: it is not a SQLite database"
    return "postgresql://bob:secret@[::1/movies", "--db: the PostgreSQL URL is malformed (Invalid IPv6 URL)"


@pytest.mark.parametrize("kind", ["folder", "not-sqlite", "malformed-url"])
@pytest.mark.parametrize("command", ["serve", "load", "report"])
def test_a_db_that_cannot_be_used_is_one_line_and_nothing_is_served(runner, tmp_path, monkeypatch, command, kind):
    import waitress

    served: list[object] = []
    monkeypatch.setattr(waitress, "serve", lambda *a, **kw: served.append(a))
    db, message = bad_db(kind, tmp_path)
    (tmp_path / "ok.csv").write_text(GOOD)
    args = {
        "serve": ["serve"],
        "load": ["load", str(tmp_path / "ok.csv")],
        "report": ["report", "--out", str(tmp_path / "r.html")],
    }
    before = sorted(tmp_path.iterdir())
    result = runner.invoke(main, [*args[command], "--db", db])
    assert result.exit_code == 1, result.output
    assert result.output.startswith(f"Error: {message}") and result.output.count("\n") == 1, result.output
    assert "serving" not in result.output and "secret" not in result.output
    assert isinstance(result.exception, SystemExit)  # no traceback behind the message
    assert served == [] and sorted(tmp_path.iterdir()) == before


def test_a_malformed_postgresql_url_is_refused_by_every_command(runner, tmp_path):
    for args in (["serve"], ["demo"], ["report"], ["load", __file__]):
        result = runner.invoke(main, [*args, "--db", "postgresql://[::1"])
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit), (args, result.output)
        assert result.output == (
            "Error: --db: the PostgreSQL URL is malformed (Invalid IPv6 URL); "
            "expected postgresql://user:pass@host:5432/dbname\n"
        )


@pytest.mark.sqlite_only
def test_report_out_through_a_file_or_to_a_full_disk_is_one_line(runner, make_db, tmp_path):
    db = make_db([event("2013-01-07 10:00:00")])
    (tmp_path / "somefile").write_text("x")
    for fmt, out in (("html", "somefile/report.html"), ("svg", "somefile/charts"), ("html", "somefile/sub/r.html")):
        result = runner.invoke(main, ["report", "--db", str(db), "--format", fmt, "--out", str(tmp_path / out)])
        assert result.exit_code == 2, result.output
        assert f"Invalid value for --out: {tmp_path / 'somefile'} is a file, not a folder" in result.output
        assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    result = runner.invoke(main, ["report", "--db", str(db), "--out", "/dev/full"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert result.output == "Error: cannot write the report to /dev/full: No space left on device\n"


@pytest.mark.sqlite_only
def test_operating_system_errors_of_any_command_are_one_line(runner, make_db, tmp_path):
    """What no specific check foresees (here: an image folder under /proc) still gives no traceback."""
    db = make_db([event("2013-01-07 10:00:00")])
    result = runner.invoke(main, ["report", "--db", str(db), "--format", "svg", "--out", "/proc/moviedash-report"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1
    assert "/proc/moviedash-report: No such file or directory" in result.output


def test_demo_events_has_a_documented_maximum(runner, tmp_path):
    from moviedash.ingest.demo import MAX_EVENTS

    assert f"at most {MAX_EVENTS:,}" in runner.invoke(main, ["demo", "--help"]).output.replace("\n", " ").replace(
        "  ", " "
    )
    started = time.monotonic()
    result = runner.invoke(main, ["demo", "--db", str(tmp_path / "d.db"), "--events", "1000000000000"])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert f"1,000,000,000,000 is more than the maximum of {MAX_EVENTS:,} events" in result.output
    assert time.monotonic() - started < 5 and not (tmp_path / "d.db").exists()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2024-02-30", "2024-02-30 is not a real date (expected YYYY-MM-DD, e.g. 2024-02-29)"),
        ("2023-02-29", "2023-02-29 is not a real date (expected YYYY-MM-DD, e.g. 2023-02-28)"),
        ("2024-13-01", "2024-13-01 is not a real date (expected YYYY-MM-DD, e.g. 2024-02-29)"),
        ("01/02/2024", "'01/02/2024' is not a date (expected YYYY-MM-DD, e.g. 2024-02-29)"),
    ],
)
@pytest.mark.parametrize("option", ["--start", "--end"])
def test_report_dates_that_are_not_real_say_so_with_an_example(runner, tmp_path, option, value, message):
    result = runner.invoke(main, ["report", "--db", str(tmp_path / "none.db"), option, value])
    assert result.exit_code == 2
    assert f"Invalid value for '{option}': {message}" in result.output
    assert "does not match the format" not in result.output


# --------------------------------------------------------------------------- #
# The load summary.
# --------------------------------------------------------------------------- #


def test_an_empty_file_loads_nothing_exits_1_and_can_be_loaded_again(runner, tmp_path):
    assert "1 rows rejected or nothing loaded" in " ".join(runner.invoke(main, ["load", "--help"]).output.split())
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    db = tmp_path / "m.db"
    for _ in range(2):  # the second try is not "already loaded": nothing was recorded
        result = runner.invoke(main, ["load", str(empty), "--db", str(db)])
        assert result.exit_code == 1, result.output
        assert result.output == f"{empty}: 0 valid, 0 rejected\nno rows in the file, nothing loaded into {db}\n"
    assert not db.exists()


def test_strict_reports_the_real_count_of_valid_rows(runner, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(GOOD + "oops\n")
    db = tmp_path / "m.db"
    result = runner.invoke(main, ["load", str(bad), "--db", str(db), "--strict"])
    assert result.exit_code == 1
    assert f"{bad}: 1 valid, 1 rejected" in result.output
    assert f"--strict: 1 invalid row, nothing loaded into {db}\n" in result.output
    assert not db.exists()


def test_a_small_load_shows_no_rate(runner, tmp_path):
    csv_path = tmp_path / "ok.csv"
    csv_path.write_text(GOOD)
    result = runner.invoke(main, ["load", str(csv_path), "--db", str(tmp_path / "m.db")])
    assert result.exit_code == 0
    assert "rows/s" not in result.output and "loaded 1, rejected 0" in result.output


def test_the_rate_is_shown_only_for_loads_it_means_something_for():
    from moviedash.cli import load_rate

    assert load_rate(1, 0.2) == "" and load_rate(1, 30.0) == "" and load_rate(500_000, 0.5) == ""
    assert load_rate(10_000, 1.0) == " (10,000 rows/s)"
    assert load_rate(2_000_000, 8.0) == " (250,000 rows/s)"


# --------------------------------------------------------------------------- #
# Help: every command ends with an example; no list entry is cut short.
# --------------------------------------------------------------------------- #


def walk(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    """Every command below ``group`` (subgroups too), with the words that run it."""
    found: list[tuple[tuple[str, ...], click.Command]] = []
    for name, command in sorted(group.commands.items()):
        found.append(((*path, name), command))
        if isinstance(command, click.Group):
            found.extend(walk(command, (*path, name)))
    return found


def test_every_help_ends_with_an_example_and_no_command_list_is_cut_short(runner):
    commands = walk(main)
    assert {p for p, _ in commands} >= {("serve",), ("load",), ("demo",), ("report",)}
    for path, command in [((), main), *commands]:
        result = runner.invoke(main, [*path, "--help"], terminal_width=80)
        assert result.exit_code == 0, path
        # The help's last paragraph: "Example...:" then command lines as written (not re-wrapped).
        heading, *lines = result.output.rstrip().rsplit("\n\n", 1)[-1].splitlines()
        assert heading.startswith("  Example"), (path, result.output)
        assert lines and all(line.startswith("    moviedash ") and len(line) <= 80 for line in lines), (
            path,
            result.output,
        )
        if isinstance(command, click.Group):
            listed = result.output.split("\nCommands:\n", 1)[1]
            assert "..." not in listed, (path, listed)
