"""A private, throwaway PostgreSQL cluster for tests that stop and start the server.

Listens only on a Unix socket in its own temporary folder, with password
authentication (so a wrong password can be tested).  Run as the ``postgres``
OS user when the tests run as root (the server refuses to run as root).
"""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

PASSWORD = "s3cret-Pw"


def find_bin(name: str) -> str | None:
    """A PostgreSQL server program from PATH or Debian's /usr/lib/postgresql/<version>/bin."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    return candidates[-1] if candidates else None


class Cluster:
    """``initdb`` + ``pg_ctl`` in a temporary folder; :meth:`stop`/:meth:`start` at will."""

    def __init__(self) -> None:
        initdb = find_bin("initdb")
        if initdb is None:
            raise RuntimeError("PostgreSQL server programs (initdb, pg_ctl) not found")
        self.bin = Path(initdb).parent
        # Under /tmp: a Unix socket path must stay short (about 100 bytes), whatever TMPDIR is.
        self.dir = Path(tempfile.mkdtemp(prefix="moviedash-pg-", dir="/tmp" if os.path.isdir("/tmp") else None))
        self.data = self.dir / "data"
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            shutil.chown(self.dir, "postgres")
        pwfile = self.dir / "pw"
        pwfile.write_text(PASSWORD + "\n")
        if self.as_postgres:
            shutil.chown(pwfile, "postgres")
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "-A", "scram-sha-256",
            f"--pwfile={pwfile}", "--no-sync", "--no-instructions",
        )

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin / program), *args]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def url(self, password: str = PASSWORD, dbname: str = "postgres") -> str:
        return f"postgresql://postgres:{password}@/{dbname}?host={self.dir}"

    def start(self) -> None:
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.dir / "log"), "-w", "-t", "60", "start",
            "-o", f"-k {self.dir} -c listen_addresses='' -c fsync=off -c max_connections=30",
        )

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-w", "-t", "60", "-m", "fast", "stop")

    def remove(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(self.dir, ignore_errors=True)
