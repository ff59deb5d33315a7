"""The engagement routes on SQLite, from the rollups (``md_engagement``, ``md_engagement_bins``, per-title) and raw.

    python -m benchmarks.engagement --events 1000000 [--repeat 20] [--baseline-src DIR] [--out FILE]

Writes ``--events`` demo events (``moviedash demo``, timed: the load with the
new rollups; with ``--baseline-src``, a directory holding an older checkout of
the ``moviedash`` package, the same load by that code, for the A/B of the load
time) into a temporary SQLite file, and a copy of it without rollups (its
``md_meta`` dropped: every answer from the raw table).  Then, in process
(Flask's test client, no network), times every engagement route:

- cold: the first request with the answer cache empty (median of 5, the cache
  cleared before each; the file is in the OS page cache),
- warm: the 95th percentile of ``--repeat`` requests (answers cached per data version);
  the raw database has no data version, so nothing is cached: one request each.

Also checks both databases answer every URL with the same bytes, and gives the
rollups' share of the file (SQLite's ``dbstat``).  Prints a Markdown table
(and writes it to ``--out``).
"""
from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from moviedash import analysis, create_app

from .common import machine

#: The query time limit while timing (the served default, 5 s, stops some raw answers at 1M on a busy machine).
TIMEOUT = "120"

URLS = [
    *(f"/data/{m}/?resolution={r}" for m in ("completion", "completion_rate", "full_watches", "quality",
                                               "poor_quality") for r in ("daily", "weekly", "monthly")),
    *(f"/data/quality_p90/?resolution={r}" for r in ("daily", "weekly", "monthly")),
    "/data/quality_p90/?resolution=daily&start=2024-06-01&end=2024-06-30&device=TV",
    "/data/completion/?resolution=daily&start=2024-06-01&end=2024-06-30&device=TV",
    "/data/poor_quality/?resolution=weekly&market=SE",
    *(f"/data/{m}/breakdown/?by={b}" for m in ("completion", "completion_rate", "full_watches", "quality",
                                                 "poor_quality", "quality_p90") for b in ("device", "market")),
    "/data/completion_rate/breakdown/?by=sessiontype&start=2024-01-01&end=2024-03-31",
    "/data/quality/worst_segments/?resolution=daily",
    "/data/quality/worst_segments/?resolution=weekly&device=TV",
    "/data/toplist/?num=10&rank=completion",
    "/data/toplist/?num=10&rank=full_watches",
    "/data/toplist/?num=10&rank=completion&min_plays=20&start=2024-03-10&end=2024-06-20&device=TV",
    # The demo's most played title (seed 7), whole range and a filtered span with edge days.
    "/data/completion/stops/?title=The%20Bitter%20Engine",
    "/data/completion/stops/?title=The%20Bitter%20Engine&start=2024-03-10&end=2024-06-20&market=SE",
    "/data/completion/distribution/",
    "/data/completion/distribution/?start=2024-01-01&end=2024-03-31&market=SE",
    "/data/quality/completion/",
    "/data/quality/completion/?start=2024-04-01&end=2024-06-30&device=TV",
]


def demo(db: Path, events: int, src: str | None = None) -> float:
    """Seconds ``moviedash demo`` takes to write ``events`` events to ``db`` (with ``src`` first on the path)."""
    # Run from the database's directory: ``-c`` puts the working directory first on the path,
    # before PYTHONPATH, so running from a checkout would import that checkout's package.
    env = {**os.environ, "PYTHONPATH": src or str(Path(__file__).resolve().parents[1])}
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", "from moviedash.cli import main; main()", "demo", "--db", str(db),
         "--events", str(events), "--seed", "7", "--force"],
        check=True, env=env, stdout=subprocess.DEVNULL, cwd=db.parent,
    )
    return time.perf_counter() - started


def sizes(db: Path) -> tuple[int, int, int, int, int]:
    """Bytes of the whole file, of every rollup table (``md_*``), of ``md_engagement``, of ``md_engagement_bins``
    (each with its indexes) and of the per-title engagement blobs (``engagement`` and ``deciles`` of
    ``md_title_day`` and ``md_title_month``)."""
    conn = sqlite3.connect(db)
    try:
        total = db.stat().st_size
        rows = conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall()
        titles = sum(
            conn.execute(f"SELECT COALESCE(SUM(length(engagement) + length(deciles)), 0) FROM {table}").fetchone()[0]
            for table in ("md_title_day", "md_title_month")
        )
    except sqlite3.OperationalError:  # SQLite without dbstat
        return db.stat().st_size, 0, 0, 0, 0
    finally:
        conn.close()
    rollups = sum(n for name, n in rows if name.startswith("md_") or name.startswith("sqlite_autoindex_md_"))

    def table(name: str) -> int:
        return sum(n for found, n in rows if found in (name, f"sqlite_autoindex_{name}_1"))

    return total, rollups, table("md_engagement"), table("md_engagement_bins"), titles


def time_urls(db: Path, repeat: int, cold: int = 5) -> dict[str, tuple[float, float, bytes]]:
    """``{url: (cold ms (median of ``cold``), warm p95 ms (of ``repeat``), body)}``."""
    client = create_app(db=str(db), MOVIEDASH_QUERY_TIMEOUT=TIMEOUT).server.test_client()
    out = {}
    for url in URLS:
        colds = []
        body = b""
        for _ in range(cold):
            analysis.CACHE.clear()
            started = time.perf_counter()
            response = client.get(url)
            colds.append(1000 * (time.perf_counter() - started))
            # the raw path may pass the query deadline on a busy machine: recorded, not fatal
            body = response.get_data() if response.status_code == 200 else b"(error %d)" % response.status_code
        warms = []
        for _ in range(repeat):
            started = time.perf_counter()
            client.get(url)
            warms.append(1000 * (time.perf_counter() - started))
        warms.sort()
        out[url] = (statistics.median(colds), warms[min(len(warms) - 1, int(0.95 * len(warms)))], body)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--baseline-src", default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db, raw = Path(tmp) / "moviedb", Path(tmp) / "moviedb-raw"
        baseline = demo(Path(tmp) / "baseline", args.events, args.baseline_src) if args.baseline_src else None
        load = demo(db, args.events)
        shutil.copy(db, raw)
        conn = sqlite3.connect(raw)
        conn.execute("DROP TABLE md_meta")
        conn.commit()
        conn.close()
        total, rollup_bytes, engagement_bytes, bins_bytes, title_bytes = sizes(db)
        from_rollups = time_urls(db, args.repeat)
        from_raw = time_urls(raw, 1, 1)  # never cached (no rollups, no data version): warm is cold
    lines = [
        f"# Engagement routes, SQLite, {args.events:,} demo events",
        "",
        f"`python -m benchmarks.engagement --events {args.events} --repeat {args.repeat}"
        + (" --baseline-src DIR" if args.baseline_src else "") + f"` on {machine()}.",
        "",
        f"- load (`moviedash demo`, with the engagement rollups): {load:.1f} s"
        + (f"; the same load by the baseline code: {baseline:.1f} s ({100 * (load / baseline - 1):+.1f} %)"
           if baseline else ""),
        f"- database {total / 2**20:.1f} MiB; every rollup table {rollup_bytes / 2**20:.1f} MiB "
        f"({100 * rollup_bytes / total:.1f} %); `md_engagement` {engagement_bytes / 2**20:.2f} MiB "
        f"({100 * engagement_bytes / total:.2f} %); `md_engagement_bins` {bins_bytes / 2**20:.2f} MiB "
        f"({100 * bins_bytes / total:.2f} %); the per-title engagement (`engagement` and `deciles` of "
        f"`md_title_day`/`md_title_month`, payload) {title_bytes / 2**20:.2f} MiB ({100 * title_bytes / total:.2f} %)",
        "- cold: median of 5 first requests with the answer cache emptied; warm: p95 of "
        f"{args.repeat} requests (raw: nothing is cached without rollups; 1 and 1 request). "
        f"Same bytes from both databases for every URL answered by both: "
        f"{all(from_rollups[u][2] == from_raw[u][2] for u in URLS if not from_raw[u][2].startswith(b'(error'))}; "
        f"raw answers past the query deadline: {sum(from_raw[u][2].startswith(b'(error') for u in URLS)}.",
        "",
        "| URL | rollups cold ms | rollups warm p95 ms | raw cold ms | raw warm p95 ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for url in URLS:
        r, w = from_rollups[url], from_raw[url]
        lines.append(f"| `{url}` | {r[0]:.1f} | {r[1]:.1f} | {w[0]:.1f} | {w[1]:.1f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
