"""A throwaway PostgreSQL cluster with **default settings** for a benchmark, or a named server.

:class:`Cluster` runs Debian's server programs (``initdb``, ``pg_ctl`` from
``/usr/lib/postgresql/<version>/bin``) as ``scripts/test.sh`` does, but leaves
every setting at its default (``fsync`` on, ``shared_buffers`` 128 MB, autovacuum
on): the issue's targets are for PostgreSQL with default settings.  It listens on
a Unix socket in its own temporary folder only (no TCP), trusts local
connections (nobody else can reach the socket), runs as the ``postgres`` OS user
when the harness runs as root (the server refuses root), and is stopped and
removed afterwards.

:func:`server_cpu_seconds` reads the CPU time of the server's processes from
``/proc``: the postmaster, its live children (checkpointer, WAL writer, ...) and
the children it has reaped (each session's backend adds its CPU to the
postmaster's ``cutime``/``cstime`` when it ends), so the CPU a ``COPY`` costs the
server is counted, not only the client's.
"""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path


class ClusterError(RuntimeError):
    pass


def find_bin(name: str) -> str | None:
    """A PostgreSQL server program from PATH or Debian's /usr/lib/postgresql/<version>/bin (newest)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    return candidates[-1] if candidates else None


def _ticks(pid: int) -> tuple[int, int, int]:
    """(parent pid, own utime+stime, reaped children's cutime+cstime) of a process, in clock ticks."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2:].split()  # after "pid (comm) "
    return int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])


def server_cpu_seconds(postmaster: int) -> float:
    """CPU seconds used so far by a PostgreSQL server: the postmaster, its live and its reaped children."""
    hz = os.sysconf("SC_CLK_TCK")
    _, own, reaped = _ticks(postmaster)
    total = own + reaped
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == postmaster:
            continue
        try:
            parent, used, _ = _ticks(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue  # ended meanwhile (its time is then in the postmaster's reaped figure)
        if parent == postmaster:
            total += used
    return total / hz


class Cluster:
    """``with Cluster() as cluster: cluster.url()``: initdb, start, and at the end stop and remove."""

    def __init__(self, start_timeout: int = 120) -> None:
        initdb = find_bin("initdb")
        if initdb is None:
            raise ClusterError("PostgreSQL server programs (initdb, pg_ctl) not found: install Debian's postgresql")
        self.bin = Path(initdb).parent
        self.start_timeout = start_timeout
        # Under /tmp: a Unix socket path must stay short (about 100 bytes), whatever TMPDIR is.
        self.dir = Path(tempfile.mkdtemp(prefix="moviedash-bench-pg-", dir="/tmp" if os.path.isdir("/tmp") else None))
        self.data = self.dir / "data"
        self.as_postgres = os.geteuid() == 0
        self.started = False

    def _run(self, program: str, *args: str) -> str:
        command = [str(self.bin / program), *args]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=self.start_timeout + 60)
        if done.returncode != 0:
            raise ClusterError(f"{program} failed (exit {done.returncode}): {done.stdout}{done.stderr}")
        return done.stdout

    def start(self) -> Cluster:
        if self.as_postgres:
            if subprocess.run(["id", "postgres"], capture_output=True).returncode != 0:
                subprocess.run(["useradd", "--system", "--no-create-home", "postgres"], check=True)
            shutil.chown(self.dir, "postgres")
        # --no-sync only skips initdb's own fsync of the new files; the server runs with its defaults.
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync", "--no-instructions")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "server.log"), "-w", "-t",
                  str(self.start_timeout), "start", "-o", f"-k {self.dir} -c listen_addresses=''")
        self.started = True
        return self

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@/{dbname}?host={self.dir}"

    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def version(self) -> str:
        return subprocess.run([str(self.bin / "postgres"), "--version"], capture_output=True, text=True,
                              timeout=30).stdout.strip()

    def remove(self) -> None:
        if self.started:
            try:
                self._run("pg_ctl", "-D", str(self.data), "-w", "-t", "60", "-m", "fast", "stop")
            except (ClusterError, subprocess.TimeoutExpired):
                pass  # removed below either way
            self.started = False
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Cluster:
        try:
            return self.start()
        except BaseException:
            self.remove()
            raise

    def __exit__(self, *exc: object) -> None:
        self.remove()
