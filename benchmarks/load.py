"""Load-rate benchmark: course-format CSV → ``moviedash load``, rows per second.

    python -m benchmarks.load --events 1000000 [--repeat 3] [--db postgresql://user@host/postgres]

Generates the demo events, exports them in the course's CSV format (no header,
``<e5>`` escapes), then times ``moviedash load`` into a fresh database, and
again into a database that already holds the same number of rows (a second
import while data exists).  Prints a Markdown table.

With ``--db`` a PostgreSQL URL, each run loads (``COPY``) into a new database
created on that server (``moviedash_bench_<n>``, dropped afterwards); the URL's
own database is only used to create and drop them.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from moviedash.store import redact

from .common import machine, write_course_csv


def time_load(csv_path: Path, db: Path | str, force: bool = False) -> float:
    command = [sys.executable, "-m", "moviedash.cli", "load", str(csv_path), "--db", str(db)]
    if force:
        command.append("--force")
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


class PostgresDatabases:
    """Fresh databases on a PostgreSQL server for the runs, dropped at the end."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.url = url
        self.admin = psycopg.connect(url, autocommit=True)
        self.names: list[str] = []

    def new(self, i: int | str) -> str:
        name = f"moviedash_bench_{i}"
        self.admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        self.admin.execute(f"CREATE DATABASE {name}")
        self.names.append(name)
        parts = urlsplit(self.url)
        return urlunsplit(parts._replace(path=f"/{name}"))

    def server_version(self) -> str:
        return str(self.admin.execute("SHOW server_version").fetchone()[0])

    def close(self) -> None:
        for name in self.names:
            self.admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        self.admin.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000, help="rows in the CSV (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=3, help="fresh-database runs (median reported)")
    parser.add_argument("--db", help="a PostgreSQL server URL: load into new databases there (default: SQLite files)")
    args = parser.parse_args(argv)
    postgres = PostgresDatabases(args.db) if args.db else None

    with tempfile.TemporaryDirectory(prefix="moviedash-bench-") as tmp:
        folder = Path(tmp)
        csv_path = folder / "events.csv"
        rows = write_course_csv(csv_path, args.events)
        size = csv_path.stat().st_size
        targets = [postgres.new(i) if postgres else folder / f"fresh{i}.db" for i in range(args.repeat)]
        try:
            fresh = [time_load(csv_path, target) for target in targets]
            second = time_load(csv_path, targets[0], force=True)
        finally:
            version = postgres.server_version() if postgres else ""
            if postgres:
                postgres.close()

    median = statistics.median(fresh)
    print(f"machine: {machine()}")
    if postgres:
        print(f"database: PostgreSQL {version} (COPY), server on the same machine")
    db_arg = f" --db {redact(args.db)}" if args.db else ""
    print(f"command: python -m benchmarks.load --events {args.events} --repeat {args.repeat}{db_arg}")
    print(f"CSV: {rows:,} rows, {size / 2**20:.0f} MiB (course format)")
    print()
    print("| load | wall time (whole command) | rows/s |")
    print("|---|---|---|")
    print(
        f"| into a new database (median of {args.repeat}: {', '.join(f'{t:.2f}' for t in fresh)} s) "
        f"| {median:.2f} s | {rows / median:,.0f} |"
    )
    print(f"| into a database already holding {rows:,} rows | {second:.2f} s | {rows / second:,.0f} |")


if __name__ == "__main__":
    main()
