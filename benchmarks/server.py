"""Start and stop the production server (``python -m moviedash.cli serve``, waitress) for a benchmark.

The server listens on 127.0.0.1 only, on a free port.  Readiness is a plain TCP
connect (no HTTP request), so the first HTTP request the benchmark sends really
is the first one the server sees.  The server is always stopped (terminate,
then kill) within bounded time, and it is asked to die with the harness
(``PR_SET_PDEATHSIG``) should the harness itself be killed.
"""
from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


class ServerError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def proc_status(pid: int) -> dict[str, int]:
    """``VmRSS`` and ``VmHWM`` (peak RSS) of a process, in KiB."""
    out: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


class Server:
    """``with Server(db, log) as server: ... server.port ... server.memory()``; ``db`` a file or a PostgreSQL URL."""

    def __init__(self, db: Path | str, log: Path, start_timeout: float = 300.0,
                 env: dict[str, str] | None = None) -> None:
        self.db = db
        self.env = env
        self.log = log
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.start_seconds = 0.0

    def start(self) -> Server:
        for attempt in range(3):
            self.port = free_port()
            command = [sys.executable, "-m", "moviedash.cli", "serve", "--db", str(self.db),
                       "--host", "127.0.0.1", "--port", str(self.port)]
            with self.log.open("ab") as log:
                log.write(f"\n=== {' '.join(command)}\n".encode())
                log.flush()
                started = time.perf_counter()
                self.proc = subprocess.Popen(
                    command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    preexec_fn=_die_with_parent, env=self.env,
                )
            if self._wait_listening(started):
                self.start_seconds = time.perf_counter() - started
                return self
            # The process ended: port taken between free_port() and bind, or a real error.
            if "address already in use" not in self.log_tail().lower() or attempt == 2:
                raise ServerError(f"server exited with status {self.proc.returncode}:\n{self.log_tail()}")
        raise AssertionError("unreachable")

    def _wait_listening(self, started: float) -> bool:
        assert self.proc is not None
        while time.perf_counter() - started < self.start_timeout:
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1.0):
                    return True
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise ServerError(f"server not listening after {self.start_timeout:.0f} s:\n{self.log_tail()}")

    def memory(self) -> dict[str, int]:
        assert self.proc is not None and self.proc.poll() is None, "server is not running"
        return proc_status(self.proc.pid)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid


def rss_mib(kib: int) -> float:
    return kib / 1024


__all__ = ["Server", "ServerError", "free_port", "proc_status", "rss_mib"]

if os.name != "posix":  # pragma: no cover
    raise ImportError("the benchmark needs Linux (/proc)")
