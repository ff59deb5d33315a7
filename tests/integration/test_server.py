"""The production server (``moviedash serve``) on a network: connection limits, time limits,
waitress's own answers, a busy port and a graceful stop.  Loopback only; every wait is bounded."""
from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from moviedash.cli import main
from moviedash.errors import MoviedashError
from moviedash.server import ServerOptions, options_from_env, parse_count, parse_seconds
from tests.helpers import ROOT, SECURITY, build_db, event, free_port, plotly_js, wait_for

TOPLIST = b'[{"title":"Argo","values":1}]'


class Server:
    """A ``moviedash serve`` subprocess on a free loopback port."""

    def __init__(self, db: Path, *options: str) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moviedash.cli", "serve", "--db", str(db), "--port", str(self.port), *options],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        wait_for(self.url("/data/toplist/"), self.process)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def connect(self, timeout: float = 10) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=timeout)

    def stop(self) -> bytes:
        if self.process.poll() is None:
            self.process.kill()
        out, _ = self.process.communicate(timeout=10)
        return out


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_db(tmp_path_factory.mktemp("server") / "s.db", [event("2013-01-07 10:00:00", "a", title="Argo")])


@pytest.fixture
def start(db: Path) -> Iterator:
    """``start(*options)``: a server with those options, killed at the end of the test."""
    started: list[Server] = []

    def make(*options: str) -> Server:
        server = Server(db, *options)
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def shared(db: Path) -> Iterator[Server]:
    """One server with the default options for the tests that do not change it."""
    server = Server(db)
    yield server
    server.stop()


def read_response(sock: socket.socket, deadline: float = 10) -> tuple[int, dict[str, str], bytes]:
    """Read until the server closes; status, headers and body (a reset fails the test)."""
    sock.settimeout(deadline)
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split(" ", 2)[1]), headers, body


def get(server: Server, timeout: float) -> bytes:
    with urllib.request.urlopen(server.url("/data/toplist/"), timeout=timeout) as response:
        return response.read()


# -- connections --------------------------------------------------------------------------------


def test_150_idle_connections_do_not_lock_out_a_client(shared):
    """waitress's default limit of 100 connections let 101 idle sockets lock every client out."""
    idle = [shared.connect() for _ in range(150)]
    try:
        assert get(shared, timeout=5) == TOPLIST
    finally:
        for sock in idle:
            sock.close()


def test_connection_limit_holds_clients_until_idle_connections_time_out(start):
    server = start("--connection-limit", "5", "--channel-timeout", "2")
    time.sleep(2.5)  # the start-up probe's connection has timed out
    idle = [server.connect() for _ in range(5)]
    try:
        started = time.monotonic()
        assert get(server, timeout=15) == TOPLIST
        waited = time.monotonic() - started
        # Held while the 5 idle connections were open, let in once they had been idle for 2 s.
        assert 1.0 <= waited < 12, waited
        for sock in idle:  # the server closed them (no answer: they never sent a request)
            sock.settimeout(5)
            assert sock.recv(100) == b""
    finally:
        for sock in idle:
            sock.close()


def test_a_slowloris_is_answered_408_and_dropped_within_the_channel_timeout(start):
    """One header line every half second kept a connection open forever (waitress only checks for idleness)."""
    server = start("--channel-timeout", "2")
    with server.connect() as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n")
        started = time.monotonic()
        while time.monotonic() - started < 15:
            readable, _, _ = select.select([sock], [], [], 0.5)
            if readable:
                break
            sock.sendall(b"X-Slow: 1\r\n")
        dropped_after = time.monotonic() - started
        status, headers, body = read_response(sock)
    assert dropped_after < 8, dropped_after  # 2 s plus the once-a-second check, with room for a busy machine
    assert status == 408
    assert json.loads(body) == {"error": "the request was not received in time"}
    assert {k: headers.get(k) for k in SECURITY} == SECURITY
    assert get(server, timeout=5) == TOPLIST


def test_options_are_validated():
    assert parse_seconds("2.5", "x") == 2.5 and parse_seconds("0", "x") == 0
    assert parse_count(" 12 ", "x") == 12
    for bad in ("nan", "NaN", "inf", "-5", "-0.1", "５", "+5", "1e3", "", "soon", "1_0"):
        with pytest.raises(MoviedashError, match="must be a number of seconds"):
            parse_seconds(bad, "x")
    with pytest.raises(MoviedashError, match="more than 0"):
        parse_seconds("0", "x", positive=True)
    for bad in ("0", "-1", "１０", "+5", "1.5", "many"):
        with pytest.raises(MoviedashError, match="whole number"):
            parse_count(bad, "x")

    assert options_from_env({}) == ServerOptions()
    assert ServerOptions().connection_limit >= 1000 and ServerOptions().channel_timeout <= 30
    assert options_from_env({"MOVIEDASH_CONNECTION_LIMIT": "2000", "MOVIEDASH_CHANNEL_TIMEOUT": "7.5",
                             "MOVIEDASH_SHUTDOWN_TIMEOUT": "3"}) == ServerOptions(2000, 7.5, 3.0)
    for name, value in [("MOVIEDASH_CHANNEL_TIMEOUT", "nan"), ("MOVIEDASH_CHANNEL_TIMEOUT", "-5"),
                        ("MOVIEDASH_SHUTDOWN_TIMEOUT", "inf"), ("MOVIEDASH_CONNECTION_LIMIT", "0")]:
        with pytest.raises(MoviedashError, match=name):
            options_from_env({name: value})


@pytest.mark.parametrize("option", ["--channel-timeout", "--shutdown-timeout"])
@pytest.mark.parametrize("value", ["nan", "-5", "inf", "５"])
def test_serve_refuses_bad_timeouts(db, option, value):
    result = CliRunner().invoke(main, ["serve", "--db", str(db), option, value])
    assert result.exit_code == 2
    assert f"Invalid value for '{option}'" in result.output and ": must be a number of seconds" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("value", ["0", "-1", "５", "+5", "many"])
def test_serve_refuses_bad_connection_limits(db, value):
    result = CliRunner().invoke(main, ["serve", "--db", str(db), "--connection-limit", value])
    assert result.exit_code == 2
    assert "Invalid value for '--connection-limit'" in result.output
    assert ": must be a whole number, at least 1" in result.output


def test_serve_refuses_bad_timeouts_from_the_environment(db):
    result = CliRunner().invoke(main, ["serve", "--db", str(db)], env={"MOVIEDASH_CHANNEL_TIMEOUT": "nan"})
    assert result.exit_code == 2 and "must be a number of seconds" in result.output


def test_python_app_py_refuses_bad_limits_from_the_environment(db):
    env = {**os.environ, "MOVIEDASH_DB": str(db), "MOVIEDASH_CHANNEL_TIMEOUT": "nan"}
    result = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "moviedash: MOVIEDASH_CHANNEL_TIMEOUT must be a number of seconds, more than 0 (got 'nan')"
    ]


def test_a_busy_port_is_one_line_and_nothing_claims_to_serve(db):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["serve", "--db", str(db), "--port", str(port)])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: port {port} on 127.0.0.1 is already in use (is another server running?); choose another with --port"
    ]


# -- waitress's own answers ---------------------------------------------------------------------

LONG_HEADERS = (
    b"GET / HTTP/1.1\r\nHost: localhost\r\n"
    + b"".join(b"X-Pad-%d: %s\r\n" % (i, b"p" * 1000) for i in range(300))
    + b"\r\n"
)
RAW = [
    pytest.param(b"GARBAGE\r\n\r\n", 400, "bad request", id="malformed-request-line"),
    pytest.param(b"GET / HTTP/1.1\r\nHost: localhost\r\nBad Header\r\n\r\n", 400, "bad request", id="malformed-header"),
    pytest.param(b"GET / HTTP/1.1\r\nHost: localhost\r\nX: a\rb\r\n\r\n", 400, "bad request", id="bare-cr"),
    pytest.param(
        b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: x\r\n\r\n", 400, "bad request", id="bad-length"
    ),
    pytest.param(
        b"GET / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "not implemented", id="gzip-te"
    ),
    pytest.param(
        b"POST /_dash-update-component HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5000000\r\n\r\n"
        + b"{" * 2_000_000,
        413,
        "request body too large",
        id="body-over-limit",
    ),
    pytest.param(LONG_HEADERS, 431, "request headers too large", id="300-KB-headers"),
    pytest.param(
        b"GET /data/toplist/?q=" + b"q" * 1_000_000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n",
        414,
        "request line too long",
        id="1-MB-query-string",
    ),
]


@pytest.mark.parametrize(("request_bytes", "status", "message"), RAW)
def test_waitress_errors_are_json_with_the_security_headers(shared, request_bytes, status, message):
    """The client reads the whole answer (no TCP reset), even when it sent far more than the server reads."""
    with shared.connect() as sock:
        sock.sendall(request_bytes)
        got, headers, body = read_response(sock)
    assert got == status, (got, body[:200])
    assert {k: headers.get(k) for k in SECURITY} == SECURITY
    assert headers["Content-Type"] == "application/json" and headers["Server"] == "moviedash"
    assert json.loads(body)["error"].startswith(message)
    assert b"Traceback" not in body


def test_the_server_still_answers_after_errors(shared):
    assert get(shared, timeout=5) == TOPLIST


# -- stopping -----------------------------------------------------------------------------------


def split_responses(data: bytes, count: int) -> list[tuple[bytes, bytes]]:
    """``count`` answers with Content-Length from one connection's bytes: (status line, body) each."""
    found = []
    for _ in range(count):
        head, _, data = data.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        length = int(next(line for line in lines if line.lower().startswith(b"content-length:")).split(b":")[1])
        found.append((lines[0], data[:length]))
        data = data[length:]
    assert data == b""
    return found


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_finishes_requests_in_progress_and_refuses_new_ones(start, signum):
    """A slow client is downloading plotly.min.js (4.8 MB) twice on one connection when the signal
    comes: it gets both whole, new connections are refused at once, and the server exits 0 within
    the shutdown timeout.  (9.6 MB: more than the kernel's socket buffers hold, so the answers are
    still in the server when the signal comes.)"""
    server = start("--shutdown-timeout", "20")
    expected = plotly_js()
    path = b"/_dash-component-suites/plotly/package_data/plotly.min.js"
    slow = socket.socket()
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)  # a slow reader: the answer waits in the server
    slow.settimeout(20)
    slow.connect(("127.0.0.1", server.port))
    try:
        slow.sendall(
            b"GET " + path + b" HTTP/1.1\r\nHost: localhost\r\n\r\n"
            b"GET " + path + b" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        )
        data = b""
        while len(data) < 200_000:
            data += slow.recv(8192)
            time.sleep(0.005)

        server.process.send_signal(signum)
        signalled = time.monotonic()
        refused = False
        while time.monotonic() - signalled < 10 and not refused:
            try:
                socket.create_connection(("127.0.0.1", server.port), timeout=2).close()
                time.sleep(0.05)
            except ConnectionRefusedError:
                refused = True
        assert refused, "new connections were still accepted 10 s after the signal"
        assert server.process.poll() is None, "the server exited with a response in progress"

        while chunk := slow.recv(65536):
            data += chunk
    finally:
        slow.close()
    for status, body in split_responses(data, 2):
        assert status == b"HTTP/1.1 200 OK"
        assert len(body) == len(expected) and body == expected
    assert server.process.wait(timeout=20) == 0
    assert time.monotonic() - signalled < 20
    out = server.stop().decode()
    assert "not accepting connections; finishing 1 request(s) in progress" in out
    assert "moviedash: stopped" in out and "Traceback" not in out


def test_a_stop_signal_with_nothing_in_progress_exits_at_once(start):
    server = start()
    idle = server.connect()  # an idle keep-alive connection does not hold the stop
    try:
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=5) == 0
    finally:
        idle.close()


def test_a_low_open_file_limit_is_raised_or_named(db):
    """1000 connections need 1000 descriptors: with a hard limit of 200 the server says how many it allows."""
    port = free_port()
    process = subprocess.Popen(
        ["bash", "-c", f'ulimit -n 200 && exec "$0" -m moviedash.cli serve --db {db} --port {port}', sys.executable],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        assert wait_for(f"http://127.0.0.1:{port}/data/toplist/", process) == TOPLIST
    finally:
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=20)
    assert process.returncode == 0
    assert (
        "warning: the open-file limit (200) allows 136 connections, not 1000; raise it (ulimit -n) for more"
        in out.decode()
    )
