"""Reliability under load (issue 6): import while serving, a load test, and a leak check.

    python -m benchmarks.reliability --events 1000000 --import-rows 1000000 \
        --clients 50 --seconds 60 --requests 10000 [--out benchmarks/results-reliability.md]

Everything runs against ``moviedash serve`` (waitress) on 127.0.0.1, bounded in
count and time:

1. **Import while serving**: ``--import-threads`` client threads query every
   route while ``moviedash load`` adds ``--import-rows`` rows.  Every answer must
   be 200 and equal either the state before or the state after the import
   (never a partial import); any error ("database is locked" included) fails.
2. **Load test**: ``--clients`` threads for ``--seconds`` over all routes and the
   dashboard's chart callbacks: failed requests, p50/p95/p99, requests/s.
3. **Leak check**: ``--requests`` sequential requests; open file descriptors,
   threads and RSS of the server before and after.
"""
from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from .client import Client
from .common import machine, write_course_csv
from .selections import Page, callback_cases, find_callbacks, selections
from .server import Server, rss_mib

ROUTES = [
    *(
        f"/data/{m}/?resolution={r}"
        for m in ("unique_users", "minutes_watched")
        for r in ("daily", "weekly", "monthly")
    ),
    "/data/toplist/?num=10",
    "/data/toplist/?num=50&rank=minutes",
    "/data/toplist/?num=10&rank=viewers",
    "/data/unique_users/?resolution=weekly&device=iPad",
    "/data/toplist/?num=10&market=NO&sessiontype=MOVIE",
]
FIGURES = ["/figures/unique_users.json?users=weekly", "/figures/heatmap.json", "/figures/top_titles.json?top=20"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))] if ordered else float("nan")


def proc_counts(pid: int) -> tuple[int, int, int]:
    """Open file descriptors, threads and RSS (KiB) of a process."""
    fds = len(list(Path(f"/proc/{pid}/fd").iterdir()))
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return fds, int(status["Threads"]), int(status["VmRSS"].split()[0])


def snapshot(port: int, urls: list[str]) -> dict[str, bytes]:
    with Client(port, timeout=120) as client:
        out = {}
        for url in urls:
            response = client.get(url)
            if response.status != 200:
                raise RuntimeError(f"{url}: {response.status} {response.body[:200]!r}")
            out[url] = response.body
        return out


def import_while_serving(db: Path, csv_path: Path, threads: int, log: Path) -> dict[str, object]:
    with Server(db, log) as server:
        before = snapshot(server.port, ROUTES)
        stop = threading.Event()
        seen: list[tuple[str, int, bytes]] = []
        errors: list[str] = []
        lock = threading.Lock()

        def hammer(seed: int) -> None:
            rng = random.Random(seed)
            with Client(server.port, timeout=120) as client:
                while not stop.is_set():
                    url = rng.choice(ROUTES)
                    try:
                        response = client.get(url)
                    except OSError as exc:  # a refused or reset connection is an error too
                        with lock:
                            errors.append(f"{url}: {exc!r}")
                        continue
                    with lock:
                        seen.append((url, response.status, response.body))

        workers = [threading.Thread(target=hammer, args=(i,), daemon=True) for i in range(threads)]
        for worker in workers:
            worker.start()
        time.sleep(1.0)  # the clients are busy before the import starts
        started = time.perf_counter()
        load = subprocess.run(
            [sys.executable, "-m", "moviedash.cli", "load", str(csv_path), "--db", str(db)],
            capture_output=True,
            text=True,
            timeout=1800,
        )
        load_seconds = time.perf_counter() - started
        time.sleep(1.0)
        stop.set()
        for worker in workers:
            worker.join(timeout=300)
        after = snapshot(server.port, ROUTES)

    bad_status = [(u, s, b[:120]) for u, s, b in seen if s != 200]
    partial = [u for u, s, b in seen if s == 200 and b not in (before[u], after[u])]
    changed = sum(1 for u in ROUTES if before[u] != after[u])
    return {
        "load_exit": load.returncode,
        "load_output": load.stdout.strip().splitlines()[-1:],
        "load_seconds": load_seconds,
        "requests": len(seen),
        "errors": errors[:5],
        "error_count": len(errors),
        "bad_status": bad_status[:5],
        "bad_status_count": len(bad_status),
        "partial": len(partial),
        "before_answers": sum(1 for u, s, b in seen if s == 200 and b == before[u] and b != after[u]),
        "after_answers": sum(1 for u, s, b in seen if s == 200 and b == after[u] and b != before[u]),
        "routes_changed": changed,
    }


def chart_bodies(port: int) -> list[dict]:
    """Bodies of the chart and KPI callbacks for the fixed selections (as the browser sends them)."""
    with Client(port, timeout=120) as client:
        found = find_callbacks(client.get("/_dash-dependencies").json())
        page = Page.from_layout(client.get("/_dash-layout").json())
    return [case.body for case in callback_cases(page, found, selections(page.last_day))]


def load_test(db: Path, clients: int, seconds: float, log: Path) -> dict[str, object]:
    with Server(db, log) as server:
        bodies = chart_bodies(server.port)
        latencies: list[float] = []
        failures: list[str] = []
        lock = threading.Lock()
        deadline = time.perf_counter() + seconds

        def client_loop(seed: int) -> None:
            rng = random.Random(seed)
            with Client(server.port, timeout=120) as client:
                while time.perf_counter() < deadline:
                    pick = rng.random()
                    try:
                        if bodies and pick < 0.3:
                            response = client.post_json("/_dash-update-component", rng.choice(bodies))
                        else:
                            response = client.get(rng.choice(ROUTES + FIGURES))
                    except OSError as exc:
                        with lock:
                            failures.append(repr(exc))
                        continue
                    with lock:
                        latencies.append(response.ms)
                        if response.status != 200:
                            failures.append(f"{response.status} {response.body[:120]!r}")

        workers = [threading.Thread(target=client_loop, args=(i,), daemon=True) for i in range(clients)]
        started = time.perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=seconds + 300)
        elapsed = time.perf_counter() - started
    return {
        "clients": clients,
        "seconds": elapsed,
        "requests": len(latencies),
        "failures": len(failures),
        "failure_examples": failures[:5],
        "rps": len(latencies) / elapsed,
        "p50": percentile(latencies, 0.50),
        "p95": percentile(latencies, 0.95),
        "p99": percentile(latencies, 0.99),
        "callbacks_included": bool(bodies),
    }


def leak_check(db: Path, requests: int, log: Path) -> dict[str, object]:
    with Server(db, log) as server:
        urls = ROUTES + FIGURES
        with Client(server.port, timeout=120) as client:
            for url in urls * 3:  # warm up: imports, caches, thread pool
                client.get(url)
            before = proc_counts(server.pid)
            rss_samples = []
            for i in range(requests):
                response = client.get(urls[i % len(urls)])
                if response.status != 200:
                    raise RuntimeError(f"{urls[i % len(urls)]}: {response.status}")
                if i % max(1, requests // 10) == 0:
                    rss_samples.append(proc_counts(server.pid)[2])
            after = proc_counts(server.pid)
    return {"requests": requests, "before": before, "after": after, "rss_samples_kib": rss_samples}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000, help="events in the served demo database")
    parser.add_argument("--import-rows", type=int, default=1_000_000, help="rows imported while serving")
    parser.add_argument("--import-threads", type=int, default=20)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results-reliability.md"))
    args = parser.parse_args(argv)
    command = "python -m benchmarks.reliability " + " ".join(argv if argv is not None else sys.argv[1:])

    with tempfile.TemporaryDirectory(prefix="moviedash-rel-") as tmp:
        folder = Path(tmp)
        db, log = folder / "demo.db", folder / "server.log"
        subprocess.run(
            [sys.executable, "-m", "moviedash.cli", "demo", "--events", str(args.events), "--db", str(db)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        csv_path = folder / "import.csv"
        write_course_csv(csv_path, args.import_rows, seed=7)
        imported = import_while_serving(db, csv_path, args.import_threads, log)
        loaded = load_test(db, args.clients, args.seconds, log)
        leaks = leak_check(db, args.requests, log)

    fd0, th0, rss0 = leaks["before"]
    fd1, th1, rss1 = leaks["after"]
    lines = [
        f"# moviedash reliability: {args.events:,} events",
        "",
        f"- date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {machine()}",
        f"- command: `{command}`",
        "",
        "## Import while serving",
        "",
        f"{args.import_threads} client threads query {len(ROUTES)} routes while `moviedash load` imports "
        f"{args.import_rows:,} rows (exit {imported['load_exit']}, {imported['load_seconds']:.1f} s: "
        f"{imported['load_output']}).",
        "",
        "| requests | errors (any kind) | non-200 | answers neither before nor after (partial) "
        "| before-state answers | after-state answers | routes whose answer changed |",
        "|---|---|---|---|---|---|---|",
        f"| {imported['requests']:,} | {imported['error_count']} | {imported['bad_status_count']} "
        f"| {imported['partial']} | {imported['before_answers']:,} | {imported['after_answers']:,} "
        f"| {imported['routes_changed']} of {len(ROUTES)} |",
        "",
        f"Examples of errors: {imported['errors'] or 'none'}; non-200: {imported['bad_status'] or 'none'}.",
        "",
        "## Load test",
        "",
        f"{loaded['clients']} concurrent clients for {loaded['seconds']:.0f} s over {len(ROUTES) + len(FIGURES)} routes"
        + (" and the chart callbacks" if loaded["callbacks_included"] else "")
        + ".",
        "",
        "| requests | failed | requests/s | p50 ms | p95 ms | p99 ms |",
        "|---|---|---|---|---|---|",
        f"| {loaded['requests']:,} | {loaded['failures']} | {loaded['rps']:.1f} "
        f"| {loaded['p50']:.0f} | {loaded['p95']:.0f} | {loaded['p99']:.0f} |",
        "",
        f"Failure examples: {loaded['failure_examples'] or 'none'}.",
        "",
        "## Leak check",
        "",
        f"{leaks['requests']:,} sequential requests after a warm-up.",
        "",
        "| | open fds | threads | RSS MiB |",
        "|---|---|---|---|",
        f"| before | {fd0} | {th0} | {rss_mib(rss0):.0f} |",
        f"| after | {fd1} | {th1} | {rss_mib(rss1):.0f} |",
        f"| growth | {fd1 - fd0:+d} | {th1 - th0:+d} | {rss_mib(rss1 - rss0):+.1f} |",
        "",
        f"RSS samples during the run (MiB): {', '.join(f'{rss_mib(k):.0f}' for k in leaks['rss_samples_kib'])} "
        f"(median {rss_mib(statistics.median(leaks['rss_samples_kib'])):.0f}).",
        "",
    ]
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
