"""Load-rate benchmark: course-format CSV → ``moviedash load``, rows per second.

    python -m benchmarks.load --events 1000000 [--repeat 3]

Generates the demo events, exports them in the course's CSV format (no header,
``<e5>`` escapes), then times ``moviedash load`` into a fresh database, and
again into a database that already holds the same number of rows (a second
import while data exists).  Prints a Markdown table.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import machine, write_course_csv


def time_load(csv_path: Path, db: Path, force: bool = False) -> float:
    command = [sys.executable, "-m", "moviedash.cli", "load", str(csv_path), "--db", str(db)]
    if force:
        command.append("--force")
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000, help="rows in the CSV (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=3, help="fresh-database runs (median reported)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="moviedash-bench-") as tmp:
        folder = Path(tmp)
        csv_path = folder / "events.csv"
        rows = write_course_csv(csv_path, args.events)
        size = csv_path.stat().st_size
        fresh = []
        for i in range(args.repeat):
            fresh.append(time_load(csv_path, folder / f"fresh{i}.db"))
        second = time_load(csv_path, folder / "fresh0.db", force=True)

    median = statistics.median(fresh)
    print(f"machine: {machine()}")
    print(f"command: python -m benchmarks.load --events {args.events} --repeat {args.repeat}")
    print(f"CSV: {rows:,} rows, {size / 2**20:.0f} MiB (course format)")
    print()
    print("| load | wall time (whole command) | rows/s |")
    print("|---|---|---|")
    print(f"| into a new database (median of {args.repeat}: {', '.join(f'{t:.2f}' for t in fresh)} s) | {median:.2f} s | {rows / median:,.0f} |")
    print(f"| into a database already holding {rows:,} rows | {second:.2f} s | {rows / second:,.0f} |")


if __name__ == "__main__":
    main()
