"""Large and odd request lines against the production server (waitress): 4xx, never 5xx."""
from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from tests.helpers import build_db, event, free_port, wait_for


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    db = build_db(tmp_path_factory.mktemp("odd") / "odd.db", [event("2013-01-07 10:00:00", "a", title="Argo")])
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moviedash.cli", "serve", "--db", str(db), "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/data/toplist/", process)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def raw_get(port: int, target: bytes) -> tuple[int, bytes]:
    """Send ``GET target`` as raw bytes (so nothing is re-encoded) and return status and body."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


ODD = [
    (b"/data/toplist/?num=" + b"9" * 10_000, 400),
    (b"/data/unique_users/?device=" + b"x" * 10_000, 400),
    (b"/data/unique_users/?" + b"&".join(b"market=m%d" % i for i in range(1500)), 400),
    (b"/data/unique_users/?resolution=daily&resolution=daily", 400),
    (b"/data/unique_users/?resolution=daily%00", 400),
    (b"/data/unique_users/?%00=1", 400),
    (b"/data/toplist/?num=%FF%FE", 400),
    (b"/data/toplist/?num=\xff\xfe", 400),
    (b"/data/unique_users/?device=\xc3\x28", 400),
    (b"/data/\xff/", 400),  # not UTF-8: a bad request before any route
    (b"/" + b"a" * 10_000, 404),
    (b"/data/toplist/?num=5&" + b"a=" * 4000, 400),
    (b"/figures/heatmap.json?theme=%00", 400),
]


@pytest.mark.parametrize(("target", "status"), ODD, ids=[str(i) for i in range(len(ODD))])
def test_odd_request_lines_get_4xx(server, target, status):
    got, body = raw_get(server, target)
    assert 400 <= got < 500, (got, body[:200])
    assert got == status
    assert b"Traceback" not in body


def test_the_server_still_answers_afterwards(server):
    got, body = raw_get(server, b"/data/toplist/")
    assert got == 200 and body == b'[{"title":"Argo","values":1}]'
