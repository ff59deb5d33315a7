"""A small keep-alive HTTP client that times each request (``time.perf_counter``).

One :class:`Client` holds one persistent HTTP/1.1 connection to the server on
127.0.0.1, as a browser tab does.  The connection is opened before the first
timed request, so TCP set-up is never part of a latency.  Every request has a
timeout; a connection the server closed while idle is reopened once (and the
retry is flagged, never hidden).
"""
from __future__ import annotations

import gzip
import http.client
import json
import math
import statistics
import time
from dataclasses import dataclass, field
from typing import Any


class BenchmarkError(RuntimeError):
    """The product answered something the harness cannot accept (fails the run loudly)."""


@dataclass
class Response:
    status: int
    body: bytes
    ms: float
    content_type: str
    retried: bool = False

    def json(self) -> Any:
        return json.loads(self.body)


class Client:
    """Sequential requests over one keep-alive connection to ``127.0.0.1:port``."""

    def __init__(self, port: int, timeout: float) -> None:
        self.port = port
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None
        self._used = False

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            self._conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            self._conn.connect()  # outside the timed part
            self._used = False
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, body: Any = None) -> Response:
        """Send one request and read the whole answer; ``ms`` is request sent -> last byte read."""
        headers = {"Accept-Encoding": "gzip", "Accept": "*/*"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        conn = self._connection()
        reused = self._used
        started = time.perf_counter()
        try:
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            if not reused:
                raise
            # The server closed the idle keep-alive connection: reconnect and time again.
            self.close()
            conn = self._connection()
            started = time.perf_counter()
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
            ms = (time.perf_counter() - started) * 1000
            return self._finish(resp, raw, ms, retried=True)
        ms = (time.perf_counter() - started) * 1000
        return self._finish(resp, raw, ms, retried=False)

    def _finish(self, resp: http.client.HTTPResponse, raw: bytes, ms: float, retried: bool) -> Response:
        self._used = True
        if resp.will_close:
            self.close()
        if resp.getheader("Content-Encoding", "") == "gzip":
            raw = gzip.decompress(raw)
        return Response(resp.status, raw, ms, resp.getheader("Content-Type", ""), retried)

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post_json(self, path: str, body: Any) -> Response:
        return self.request("POST", path, body)


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0 < q <= 100), nearest-rank: a value of the sample, never interpolated.

    NaN for no values.  Nearest-rank: of 20 samples, p95 is the 19th smallest; of 5, the largest.
    """
    if not 0 < q <= 100:
        raise ValueError(f"percentile must be in (0, 100], not {q}")
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def p95(values: list[float]) -> float:
    """95th percentile, nearest-rank (with 5 samples: the largest)."""
    return percentile(values, 95)


@dataclass
class Timing:
    """Cold (first request for this exact URL/body since server start) and warm latencies, in ms."""

    kind: str          # "route" or "callback"
    selection: str     # selection name, e.g. "default", "device=iPad"
    name: str          # URL, or callback name
    cold_ms: float
    warm_ms: list[float] = field(default_factory=list)
    bytes: int = 0
    unfiltered: bool = False
    note: str = ""

    @property
    def warm_median(self) -> float:
        return statistics.median(self.warm_ms) if self.warm_ms else float("nan")

    @property
    def warm_p95(self) -> float:
        return p95(self.warm_ms) if self.warm_ms else float("nan")

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "selection": self.selection, "name": self.name, "cold_ms": self.cold_ms,
            "warm_ms": self.warm_ms, "warm_median_ms": self.warm_median, "warm_p95_ms": self.warm_p95,
            "bytes": self.bytes, "unfiltered": self.unfiltered, "note": self.note,
        }
