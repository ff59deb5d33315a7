"""Serving latency on PostgreSQL, next to SQLite on the same generated events.

    python -m benchmarks.pg_serving --db postgresql://user@host/postgres --events 1000000 [--repeat 5]

Writes the demo events (``moviedash demo``, timed) into a new database on the
server (``moviedash_bench_serving``, dropped at the end) and into a temporary
SQLite file, starts ``moviedash serve`` on each (waitress, 127.0.0.1), and
times a few routes: cold (first request after start) and warm (median of
--repeat).  Also checks the two servers answer every URL with the same bytes.
Prints a Markdown table.
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

from .client import Client
from .common import machine
from .server import Server

URLS = [
    "/data/unique_users/?resolution=daily",
    "/data/unique_users/?resolution=weekly",
    "/data/minutes_watched/?resolution=monthly",
    "/data/toplist/?num=10",
    "/data/toplist/?num=10&rank=viewers",
    "/data/unique_users/?resolution=daily&start=2024-06-01&end=2024-06-30&device=TV",
    "/data/toplist/?num=10&start=2024-06-01&end=2024-06-30&market=SE",
    "/figures/heatmap.json",
    "/_dash-layout",
]


def demo(db: str, events: int) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "moviedash.cli", "demo", "--db", db, "--events", str(events), "--force"],
                   check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def measure(db: str, log: Path, repeat: int) -> dict[str, tuple[float, float, bytes]]:
    """``{url: (cold ms, warm median ms, body)}`` from a freshly started server."""
    out: dict[str, tuple[float, float, bytes]] = {}
    with Server(db, log) as server, Client(server.port, timeout=120) as client:  # type: ignore[arg-type]
        for url in URLS:
            first = client.request("GET", url)
            assert first.status == 200, (url, first.status, first.body[:200])
            warm = [client.request("GET", url).ms for _ in range(repeat)]
            out[url] = (first.ms, statistics.median(warm), first.body)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, help="a PostgreSQL server URL (its database is used to create ours)")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    import psycopg

    name = "moviedash_bench_serving"
    admin = psycopg.connect(args.db, autocommit=True)
    admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.execute(f"CREATE DATABASE {name}")
    version = admin.execute("SHOW server_version").fetchone()[0]
    url = urlunsplit(urlsplit(args.db)._replace(path=f"/{name}"))
    try:
        with tempfile.TemporaryDirectory(prefix="moviedash-bench-") as tmp:
            sqlite_db = str(Path(tmp) / "demo.db")
            demo_pg = demo(url, args.events)
            demo_sqlite = demo(sqlite_db, args.events)
            # Planner statistics, as autovacuum would have gathered them by now.
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE movies")
            pg_times = measure(url, Path(tmp) / "pg.log", args.repeat)
            sqlite_times = measure(sqlite_db, Path(tmp) / "sqlite.log", args.repeat)
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()

    same = all(pg_times[u][2] == sqlite_times[u][2] for u in URLS)
    print(f"machine: {machine()}")
    print(f"database: PostgreSQL {version} on the same machine (default settings), SQLite with derived data")
    print(
        f"command: python -m benchmarks.pg_serving --db {redact(args.db)} --events {args.events} --repeat {args.repeat}"
    )
    print(f"demo: {args.events:,} events written in {demo_pg:.1f} s (PostgreSQL, COPY) / {demo_sqlite:.1f} s (SQLite)")
    print(f"identical bytes on both backends for every URL: {'yes' if same else 'NO'}")
    print()
    print("| URL | PostgreSQL cold | PostgreSQL warm | SQLite cold | SQLite warm |")
    print("|---|---|---|---|---|")
    for u in URLS:
        p, s = pg_times[u], sqlite_times[u]
        print(f"| `{u}` | {p[0]:,.0f} ms | {p[1]:,.0f} ms | {s[0]:,.0f} ms | {s[1]:,.0f} ms |")


if __name__ == "__main__":
    main()
