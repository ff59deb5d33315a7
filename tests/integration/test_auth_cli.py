"""Sign-in's command line: users and tokens round trips, clear errors, and when serve refuses to start."""
from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import moviedash.cli as cli
from moviedash.cli import main
from tests.helpers import event, free_port, query, wait_for

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def db(make_db):
    return str(make_db([event("2013-01-07 10:00:00", "a", title="Argo")]))


def run(runner, *args: str, input: str | None = None, code: int = 0):
    result = runner.invoke(main, list(args), input=input)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result


def test_users_round_trip(runner, db):
    run(runner, "users", "list", "--db", db)
    assert run(runner, "users", "list", "--db", db).stdout == ""
    assert "added user alice" in run(runner, "users", "add", "Alice", "--db", db, input=PASSWORD + "\n").output
    run(runner, "users", "add", "bob", "--db", db, input=PASSWORD + "\r\n")
    listed = run(runner, "users", "list", "--db", db).stdout.splitlines()
    assert [line.split("\t")[0] for line in listed] == ["alice", "bob"]
    assert all(line.split("\t")[1].endswith(" UTC") for line in listed)
    assert "removed user alice" in run(runner, "users", "remove", "ALICE", "--db", db).output
    assert [line.split("\t")[0] for line in run(runner, "users", "list", "--db", db).stdout.splitlines()] == ["bob"]


@pytest.mark.parametrize(("args", "input", "message"), [
    (["users", "add", "alice"], PASSWORD + "\n", "user 'alice' already exists"),
    (["users", "add", "carol"], "\n", "the password is empty"),
    (["users", "add", "carol"], "", "the password is empty"),
    (["users", "add", "carol"], "short\n", "the password is too short"),
    (["users", "add", "carol"], "x" * 1025 + "\n", "the password is too long"),
    (["users", "add", "bad name"], PASSWORD + "\n", "invalid user name 'bad name'"),
    (["users", "add", "<script>"], PASSWORD + "\n", "invalid user name"),
    (["users", "remove", "nobody"], None, "no user 'nobody'"),
    (["tokens", "create", "ci"], None, "token 'ci' already exists"),
    (["tokens", "revoke", "nope"], None, "no token 'nope'"),
    (["tokens", "create", "a b"], None, "invalid token name"),
])
def test_mistakes_are_one_clear_line(runner, db, args, input, message):
    run(runner, "users", "add", "alice", "--db", db, input=PASSWORD + "\n")
    run(runner, "tokens", "create", "ci", "--db", db)
    result = run(runner, *args, "--db", db, input=input, code=1)
    assert len(result.output.strip().splitlines()) == 1 and result.output.startswith("Error: ")
    assert message in result.output
    names = [line.split("\t")[0] for line in run(runner, "users", "list", "--db", db).stdout.splitlines()]
    assert names == ["alice"]  # nothing changed


def test_a_missing_database_is_not_created(runner, tmp_path):
    missing = tmp_path / "typo.db"
    result = run(runner, "users", "add", "alice", "--db", str(missing), input=PASSWORD + "\n", code=1)
    assert "database not found" in result.output and not missing.exists()


def test_tokens_round_trip_prints_the_token_once_and_keeps_its_hash(runner, db):
    from moviedash.auth.store import hash_token

    result = run(runner, "tokens", "create", "Grafana", "--db", db)
    token = result.stdout.strip()
    assert token.startswith("mdt_") and len(token) > 40 and "\n" not in token
    assert "shown only now" in result.stderr
    assert query(db, "SELECT name, token_hash FROM moviedash_tokens") == [("grafana", hash_token(token))]
    listed = run(runner, "tokens", "list", "--db", db).stdout
    assert listed.startswith("grafana\t") and token not in listed
    second = run(runner, "tokens", "create", "ci", "--db", db).stdout.strip()
    assert second != token
    assert "revoked token grafana" in run(runner, "tokens", "revoke", "grafana", "--db", db).output
    assert [line.split("\t")[0] for line in run(runner, "tokens", "list", "--db", db).stdout.splitlines()] == ["ci"]


@pytest.mark.sqlite_only
def test_auth_file_option_and_environment(runner, db, tmp_path, backend, monkeypatch):
    before = Path(db).read_bytes()
    auth_file = str(tmp_path / "auth.sqlite")
    run(runner, "users", "add", "alice", "--db", db, "--auth-file", auth_file, input=PASSWORD + "\n")
    monkeypatch.setenv("MOVIEDASH_AUTH_FILE", auth_file)
    run(runner, "tokens", "create", "ci", "--db", db)
    assert run(runner, "users", "list", "--db", db).stdout.startswith("alice\t")
    assert Path(db).read_bytes() == before
    assert query(auth_file, "SELECT name FROM moviedash_tokens") == [("ci",)]


def test_password_prompt_asks_twice_on_a_terminal(runner, db, monkeypatch):
    asked = []

    def prompt(text, **kwargs):
        asked.append((text, kwargs))
        return PASSWORD

    monkeypatch.setattr(cli.sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(click, "prompt", prompt)
    assert cli.read_password("alice") == PASSWORD
    assert asked == [("Password for alice", {"hide_input": True, "confirmation_prompt": True})]


@pytest.fixture
def served(monkeypatch):
    """Replace the WSGI server: record what ``serve`` would serve (no server on 0.0.0.0 in tests)."""
    calls: list[dict] = []

    def run_server(app, host, port, threads, debug, options=None, notes=()):
        calls.append({"host": host, "auth": app.server.config["MOVIEDASH_AUTH"]})
        for note in notes:  # what the real one prints once the port is bound
            click.echo(f"moviedash: {note}", err=True)

    monkeypatch.setattr(cli, "run_server", run_server)
    return calls


def test_serve_refuses_a_network_address_without_users(runner, db, served):
    result = run(runner, "serve", "--db", db, "--host", "0.0.0.0", code=1)
    assert result.output.strip().splitlines() == [
        "Error: refusing to serve on 0.0.0.0 without sign-in: no users exist. Add one with "
        "'moviedash users add NAME', or use --no-auth to serve without sign-in"
    ]
    assert served == []
    result = run(runner, "serve", "--db", db, "--host", "0.0.0.0", "--no-auth")
    assert "sign-in: off (--no-auth): anyone who can reach 0.0.0.0 sees everything" in result.output
    assert served == [{"host": "0.0.0.0", "auth": "off"}]
    for host in ("127.0.0.1", "localhost", "::1"):  # loopback stays open, so scripts/run.sh just works
        assert "sign-in: off until a user exists" in run(runner, "serve", "--db", db, "--host", host).output
    assert [call["auth"] for call in served[1:]] == ["auto", "auto", "auto"]
    run(runner, "users", "add", "alice", "--db", db, input=PASSWORD + "\n")
    result = run(runner, "serve", "--db", db, "--host", "0.0.0.0")
    assert "sign-in: on (1 user, 0 tokens)" in result.output
    assert served[-1] == {"host": "0.0.0.0", "auth": "required"}


def test_serve_with_a_token_only_on_a_network_address(runner, db, served):
    run(runner, "tokens", "create", "ci", "--db", db)
    assert "sign-in: on (0 users, 1 token)" in run(runner, "serve", "--db", db, "--host", "0.0.0.0").output


def test_serve_refuses_a_missing_auth_file(runner, db, served, tmp_path):
    result = run(runner, "serve", "--db", db, "--auth-file", str(tmp_path / "typo.sqlite"), code=1)
    assert "auth file not found" in result.output and served == []


def gunicorn(db, port: int, **env: str) -> subprocess.Popen:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MOVIEDASH_")}
    environ.update(MOVIEDASH_DB=str(db), **env)
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "app:server", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=ROOT, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )


@pytest.mark.sqlite_only
def test_gunicorn_requires_sign_in_or_no_auth(runner, db, backend):
    process = gunicorn(db, free_port())
    try:
        out, _ = process.communicate(timeout=60)  # gunicorn stops: the worker failed to boot
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode != 0
    assert b"moviedash: refusing to serve on this address without sign-in: no users exist" in out
    assert b"MOVIEDASH_NO_AUTH=1" in out

    token = run(runner, "tokens", "create", "ci", "--db", db).stdout.strip()
    port = free_port()
    process = gunicorn(db, port)
    try:
        assert wait_for(f"http://127.0.0.1:{port}/_favicon.ico", process)
        with pytest.raises(urllib.error.HTTPError) as denied:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/data/toplist/", timeout=5)
        denied.value.close()  # it holds the connection
        assert denied.value.code == 401
        request = urllib.request.Request(f"http://127.0.0.1:{port}/data/toplist/",
                                         headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.read() == b'[{"title":"Argo","values":1}]'
    finally:
        process.terminate()
        process.communicate(timeout=10)


def test_sign_in_settings_from_the_environment():
    from moviedash.errors import MoviedashError
    from moviedash.factory import settings_from_env

    assert settings_from_env({"MOVIEDASH_NO_AUTH": "1"}) == {"MOVIEDASH_AUTH": "off"}
    assert settings_from_env({"MOVIEDASH_NO_AUTH": "false"}) == {}
    assert settings_from_env({"MOVIEDASH_AUTH_FILE": "/srv/auth.sqlite", "MOVIEDASH_SECURE_COOKIES": "yes",
                              "MOVIEDASH_BEHIND_PROXY": "0", "MOVIEDASH_SESSION_HOURS": "8"}) == {
        "MOVIEDASH_AUTH_FILE": "/srv/auth.sqlite", "MOVIEDASH_SECURE_COOKIES": True,
        "MOVIEDASH_BEHIND_PROXY": False, "MOVIEDASH_SESSION_HOURS": "8",
    }
    with pytest.raises(MoviedashError, match="MOVIEDASH_NO_AUTH must be 1 or 0"):
        settings_from_env({"MOVIEDASH_NO_AUTH": "please"})


@pytest.mark.parametrize("hours", ["0", "-1", "nan", "soon", "9000"])
def test_a_bad_session_lifetime_is_refused(db, hours):
    from moviedash import create_app
    from moviedash.errors import MoviedashError

    with pytest.raises(MoviedashError, match="session lifetime"):
        create_app(db=db, MOVIEDASH_SESSION_HOURS=hours)
