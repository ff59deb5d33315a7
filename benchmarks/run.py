"""The performance benchmark of issue 5: data generation, load, HTTP latency of every
route and dashboard callback (cold and warm), first full render, server memory,
the course's approach and DuckDB on the same data, and the targets.

    python -m benchmarks.run --events 1000000 [--repeat 5] [--course-max 1000000]
                             [--no-duckdb] [--out benchmarks/results-1000000.md]

What one run does (everything in a temporary folder, removed at the end unless --keep):

1. ``moviedash demo --events N`` (timed: the "demo" figure); the same events
   exported to a course-format CSV and ``moviedash load`` into a fresh database
   (timed: the load rate).  The server serves the **demo** database.
2. DuckDB (if installed, see benchmarks/requirements.txt): the CSV loaded into a
   DuckDB file, the seven course results and the "all filters" selection as SQL.
3. The course's approach (benchmarks/course.py) on the same data, up to
   --course-max events; beyond that it runs on a --course-max database and its
   figure is extrapolated linearly (and labelled so).
4. The production server (``python -m moviedash.cli serve``, waitress, 127.0.0.1,
   a free port), started fresh three times so every "cold" figure really is the
   first request for that URL/body after a start:
   a. discovery: ``/_dash-dependencies`` and ``/_dash-layout`` (control defaults,
      filter options, the data's span);
   b. callbacks: first full render (the chart and KPI callbacks of the default
      view, issued concurrently as the browser does, before any other request),
      then every callback of every selection, cold and warm;
   c. routes: a browser-like first load (page, layout + dependencies, then the
      seven initial callbacks concurrently), then every route URL cold and warm,
      then every callback once more (so the process holds the whole workload's
      state), server memory, the check against the course's numbers, and finally
      an import into the served database followed by the default views again.
5. A Markdown report (also printed) with the targets table.

Cold = the first request for that exact URL (or callback body) after server start;
warm = the next --repeat requests; p95 is nearest-rank (of 5 samples: the largest).
All requests go over one keep-alive HTTP/1.1 connection (http.client), timed with
time.perf_counter from sending the request to reading the last byte.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import importlib.util
import json
import os
import re
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .client import BenchmarkError, Client, Response, Timing
from .common import machine, write_course_csv
from .selections import (
    CHART_CALLBACKS,
    PAGE_ROUTES,
    CallbackCase,
    Page,
    Selection,
    callback_cases,
    check_callback_answer,
    check_route_answer,
    course_urls,
    figure_urls,
    find_callbacks,
    route_urls,
    selections,
)
from .server import Server, proc_status

#: The /data URLs of the page's default view (the course's default parameters).
DEFAULT_URLS = {"/data/unique_users/?resolution=daily", "/data/minutes_watched/?resolution=daily",
                "/data/toplist/?num=10&rank=plays", *figure_urls(Selection("default"))}

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ONE_M, TEN_M = 1_000_000, 10_000_000


# --------------------------------------------------------------------------- #
# Small helpers
# --------------------------------------------------------------------------- #


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class LoadSampler(threading.Thread):
    """The 1-minute load average every few seconds during the run (other work on the machine skews figures)."""

    def __init__(self, every: float = 5.0) -> None:
        super().__init__(daemon=True)
        self.every = every
        self.samples: list[float] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.every):
            self.samples.append(os.getloadavg()[0])

    def stop(self) -> list[float]:
        self._stop_event.set()
        self.join(timeout=self.every + 1)
        return self.samples


def run_command(command: list[str], timeout: float, what: str) -> tuple[float, str]:
    """Run a command, return (wall seconds, stdout); fail loudly with its output otherwise."""
    started = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise BenchmarkError(f"{what} took longer than {timeout:.0f} s: {shlex.join(command)}") from None
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise BenchmarkError(
            f"{what} failed (exit {done.returncode}): {shlex.join(command)}\n{done.stdout}\n{done.stderr}"
        )
    return seconds, done.stdout + done.stderr


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "moviedash.cli", *args]


def readonly(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{quote(str(db.resolve()))}?mode=ro", uri=True)


def db_facts(db: Path) -> dict[str, Any]:
    conn = readonly(db)
    try:
        rows, first, last = conn.execute("SELECT COUNT(*), MIN(event_date), MAX(event_date) FROM movies").fetchone()
    finally:
        conn.close()
    return {"rows": int(rows), "first": str(first)[:10], "last": str(last)[:10], "bytes": db.stat().st_size}


def version(package: str) -> str:
    try:
        from importlib.metadata import version as v

        return v(package)
    except Exception:  # noqa: BLE001
        return "not installed"


def git(*args: str, cwd: Path = ROOT) -> str:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def product_source() -> str:
    """Which moviedash the server runs: its folder, and its git commit and uncommitted changes if any."""
    try:
        where = subprocess.run(
            [sys.executable, "-c", "import moviedash; print(moviedash.__file__)"],
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        where = ""
    if not where:
        return "moviedash: ?"
    package = Path(where).resolve().parent
    commit = git("rev-parse", "--short", "HEAD", cwd=package)
    if not commit:
        return f"moviedash from `{package}` (not a git checkout)"
    dirty = git("status", "--porcelain", "--", ".", cwd=package).splitlines()
    return f"moviedash from `{package}` at git {commit}" + (
        f" with uncommitted changes in {len(dirty)} file(s)" if dirty else ""
    )


def fmt_ms(value: float | None) -> str:
    if value is None or value != value:  # None or NaN
        return "—"
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def fmt_s(value: float | None) -> str:
    return "—" if value is None else (f"{value:,.1f} s" if value >= 10 else f"{value:.2f} s")


def fmt_ratio(value: float | None) -> str:
    if value is None or value != value:
        return "—"
    return f"{value:,.0f}×" if value >= 100 else (f"{value:.1f}×" if value >= 1 else f"{value:.2f}×")


def mib(kib: int | None) -> str:
    return "—" if kib is None else f"{kib / 1024:,.0f} MiB"


# --------------------------------------------------------------------------- #
# HTTP measurement
# --------------------------------------------------------------------------- #


def measure(client: Client, method: str, path: str, body: Any, repeat: int, check: Any) -> tuple[Response, list[float]]:
    """One cold request then ``repeat`` warm ones; every answer is checked."""
    first = client.request(method, path, body)
    check(first)
    warm = []
    for _ in range(repeat):
        resp = client.request(method, path, body)
        check(resp)
        warm.append(resp.ms)
    return first, warm


def concurrently(
    port: int, timeout: float, requests: list[tuple[str, str, Any]], workers: int
) -> tuple[float, list[Response]]:
    """Issue requests at once from ``workers`` threads, each over its own connection (as a browser does).

    Returns the wall time (ms) from the common start to the last answer, and each response.
    """
    clients = [Client(port, timeout) for _ in range(min(workers, len(requests)))]
    for c in clients:
        c._connection()  # connect before the clock starts
    queue = list(enumerate(requests))
    lock = threading.Lock()
    results: list[Response | None] = [None] * len(requests)
    start = threading.Barrier(len(clients) + 1)

    def worker(client: Client) -> None:
        start.wait()
        while True:
            with lock:
                if not queue:
                    return
                index, (method, path, body) = queue.pop(0)
            results[index] = client.request(method, path, body)

    with concurrent.futures.ThreadPoolExecutor(len(clients)) as pool:
        futures = [pool.submit(worker, c) for c in clients]
        start.wait()
        began = time.perf_counter()
        for f in futures:
            f.result(timeout=timeout * len(requests))
        wall = (time.perf_counter() - began) * 1000
    for c in clients:
        c.close()
    return wall, [r for r in results if r is not None]


def route_check(url: str, expect_rows: bool):
    def check(resp: Response) -> None:
        check_route_answer(resp.status, resp.body, resp.content_type, url, expect_rows)

    return check


def callback_check(what: str):
    def check(resp: Response) -> None:
        check_callback_answer(resp.status, resp.body, what)

    return check


# --------------------------------------------------------------------------- #
# Checks of the numbers (course / DuckDB vs the routes)
# --------------------------------------------------------------------------- #


def compare_series(ours: list[dict[str, Any]], theirs: list[dict[str, Any]]) -> str | None:
    if ours == theirs:
        return None
    if len(ours) != len(theirs):
        return f"{len(ours)} periods vs {len(theirs)}"
    for a, b in zip(ours, theirs, strict=False):
        if a != b:
            return f"first difference: moviedash {a} vs {b}"
    return "differs"


def compare_toplist(
    ours: list[dict[str, Any]], theirs: list[dict[str, Any]], counts: dict[str, int] | None
) -> str | None:
    """Equal values in order; equal titles except for the order of ties (moviedash breaks ties by title)."""
    a_values = [r["values"] for r in ours]
    b_values = [r["values"] for r in theirs]
    if a_values != b_values:
        return f"values differ: {a_values} vs {b_values}"
    last = a_values[-1] if a_values else None
    for value in set(a_values):
        a_titles = {r["title"] for r in ours if r["values"] == value}
        b_titles = {r["title"] for r in theirs if r["values"] == value}
        if value != last and a_titles != b_titles:
            return f"titles with {value}: {sorted(a_titles)} vs {sorted(b_titles)}"
    if counts is not None:
        for r in ours:
            if counts.get(r["title"]) != r["values"]:
                return f"{r['title']!r}: moviedash {r['values']}, course count {counts.get(r['title'])}"
    return None


# --------------------------------------------------------------------------- #
# The benchmark
# --------------------------------------------------------------------------- #


@dataclass
class Results:
    args: argparse.Namespace
    command: str
    started: dt.datetime
    load_before: tuple[float, float, float]
    facts: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    duck: dict[str, Any] | None = None
    duck_note: str = ""
    course: dict[str, Any] | None = None
    course_note: str = ""
    servers: dict[str, dict[str, Any]] = field(default_factory=dict)
    first_render: dict[str, Any] = field(default_factory=dict)
    browser_render: dict[str, Any] = field(default_factory=dict)
    callbacks: list[Timing] = field(default_factory=list)
    routes: list[Timing] = field(default_factory=list)
    after_routes: dict[str, Any] = field(default_factory=dict)
    after_import: dict[str, Any] = field(default_factory=dict)
    after_import_timings: list[Timing] = field(default_factory=list)
    checks: list[tuple[str, bool, str]] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)
    page: dict[str, Any] = field(default_factory=dict)
    total_s: float = 0.0
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_samples: list[float] = field(default_factory=list)
    product: str = ""
    harness_peak_kib: int | None = None


class Benchmark:
    def __init__(self, args: argparse.Namespace, work: Path, results: Results) -> None:
        self.args = args
        self.work = work
        self.r = results
        self.demo_db = work / "demo.db"
        self.loaded_db = work / "loaded.db"
        self.csv = work / "events.csv"
        self.server_log = work / "server.log"
        self.N = args.events
        self.timeout = args.request_timeout
        self.keep = args.keep or args.workdir is not None

    # ---- phases ---------------------------------------------------------- #

    def phase(self, name: str, func: Any) -> Any:
        log(f"{name} ...")
        started = time.perf_counter()
        try:
            return func()
        finally:
            self.r.phases[name] = time.perf_counter() - started
            log(f"{name}: {self.r.phases[name]:.1f} s")

    def run(self) -> None:
        self.phase("generate + load", self.generate_and_load)
        self.phase("duckdb", self.run_duckdb)
        self.phase("course approach", self.run_course)
        self.phase("server: discovery", self.discover)
        self.phase("server: first render + callbacks", self.measure_callbacks)
        self.phase("server: routes, memory, checks, import", self.measure_routes)

    def generate_and_load(self) -> None:
        N, d = self.N, self.r.data
        command = cli("demo", "--events", str(N), "--seed", str(self.args.seed), "--db", str(self.demo_db))
        d["demo_s"], out = run_command(command, self.args.step_timeout, "moviedash demo")
        match = re.search(r"in ([\d.]+) s", out)
        d["demo_reported_s"] = float(match.group(1)) if match else None
        self.r.facts = db_facts(self.demo_db)
        if self.r.facts["rows"] != N:
            raise BenchmarkError(f"moviedash demo wrote {self.r.facts['rows']:,} rows, not {N:,}")
        log(
            f"demo: {N:,} events in {d['demo_s']:.1f} s, {self.r.facts['bytes'] / 2**20:.0f} MiB, "
            f"{self.r.facts['first']} .. {self.r.facts['last']}"
        )

        started = time.perf_counter()
        written = write_course_csv(self.csv, N, self.args.seed)
        d["csv_s"] = time.perf_counter() - started
        d["csv_bytes"] = self.csv.stat().st_size
        if written != N:
            raise BenchmarkError(f"course CSV has {written:,} rows, not {N:,}")

        command = cli("load", str(self.csv), "--db", str(self.loaded_db))
        d["load_s"], out = run_command(command, self.args.step_timeout, "moviedash load")
        match = re.search(r"in ([\d.]+) s\b", out)  # the rate follows only for loads of 1 s and more
        d["load_reported_s"] = float(match.group(1)) if match else None
        d["load_output"] = out.strip().splitlines()[-1] if out.strip() else ""
        loaded = db_facts(self.loaded_db)
        d["loaded_rows"] = loaded["rows"]
        d["loaded_bytes"] = loaded["bytes"]
        if loaded["rows"] != N:
            raise BenchmarkError(f"moviedash load stored {loaded['rows']:,} rows, not {N:,}: {out}")
        if not self.keep:
            for path in self.work.glob("loaded.db*"):
                path.unlink()
        log(f"load: {N / d['load_s']:,.0f} rows/s (whole command)")

    def all_filters(self) -> Selection:
        return next(s for s in selections(dt.date.fromisoformat(self.r.facts["last"])) if s.name == "all filters")

    def run_duckdb(self) -> None:
        if self.args.no_duckdb:
            self.r.duck_note = "skipped (--no-duckdb)"
        elif importlib.util.find_spec("duckdb") is None:
            self.r.duck_note = "skipped: duckdb is not installed (pip install -r benchmarks/requirements.txt)"
        else:
            sel = self.all_filters()
            selection = {
                "start": sel.start.isoformat(),
                "end": sel.end.isoformat(),
                "sessiontype": [sel.sessiontype],
                "device": list(sel.device),
                "market": list(sel.market),
            }
            out = self.work / "duck.json"
            command = [
                sys.executable,
                "-m",
                "benchmarks.duck",
                "--csv",
                str(self.csv),
                "--db",
                str(self.work / "events.duckdb"),
                "--out",
                str(out),
                "--repeat",
                str(self.args.repeat),
                "--selection",
                json.dumps(selection),
            ]
            seconds, _ = run_command(command, self.args.step_timeout, "DuckDB benchmark")
            self.r.duck = json.loads(out.read_text())
            self.r.duck["process_s"] = seconds
            if self.r.duck["load"]["rows"] != self.N:
                raise BenchmarkError(f"DuckDB loaded {self.r.duck['load']['rows']:,} rows, not {self.N:,}")
            if not self.keep:
                (self.work / "events.duckdb").unlink(missing_ok=True)
        if not self.keep:
            self.csv.unlink(missing_ok=True)

    def run_course(self) -> None:
        limit = self.args.course_max
        if limit <= 0:
            self.r.course_note = "skipped (--course-max 0)"
            return
        db = self.demo_db
        self.r.course_note = f"run on the same {self.N:,} events"
        if self.N > limit:
            db = self.work / "course.db"
            command = cli("demo", "--events", str(limit), "--seed", str(self.args.seed), "--db", str(db))
            run_command(command, self.args.step_timeout, "moviedash demo (course-size database)")
            self.r.course_note = (
                f"not run at {self.N:,} events; run on {limit:,} demo events and "
                f"extrapolated linearly (×{self.N / limit:g}) from that figure"
            )
        out = self.work / "course.json"
        command = [sys.executable, "-m", "benchmarks.course", "--db", str(db), "--out", str(out)]
        seconds, _ = run_command(command, self.args.step_timeout, "course approach")
        self.r.course = json.loads(out.read_text())
        self.r.course["db"] = str(db)
        self.r.course["process_s"] = seconds

    def server(self, name: str, db: Path | None = None) -> Server:
        return Server(db or self.demo_db, self.server_log, self.args.start_timeout)

    def record_server(self, name: str, server: Server, **extra: Any) -> None:
        entry = self.r.servers.setdefault(name, {"start_s": server.start_seconds})
        entry.update(extra)

    def discover(self) -> None:
        with self.server("discovery") as server, Client(server.port, self.timeout) as client:
            self.record_server("discovery", server)
            deps = client.get("/_dash-dependencies")
            layout = client.get("/_dash-layout")
            for resp, what in ((deps, "/_dash-dependencies"), (layout, "/_dash-layout")):
                if resp.status != 200:
                    raise BenchmarkError(f"{what}: HTTP {resp.status}: {resp.body[:300]!r}")
            self.callbacks_found = find_callbacks(deps.json())
            self.page = Page.from_layout(layout.json())
            probe = client.get(figure_urls(Selection("default"))[0])
            self.figures = probe.status == 200
            if probe.status not in (200, 404):
                raise BenchmarkError(
                    f"{figure_urls(Selection('default'))[0]}: HTTP {probe.status}: {probe.body[:300]!r}"
                )
            self.record_server("discovery", server, memory=server.memory())
        facts = self.r.facts
        if (self.page.first_day.isoformat(), self.page.last_day.isoformat()) != (facts["first"], facts["last"]):
            raise BenchmarkError(
                f"the page's date range {self.page.first_day}..{self.page.last_day} is not the data's "
                f"{facts['first']}..{facts['last']}"
            )
        self.selections = selections(self.page.last_day)
        self.cases = callback_cases(self.page, self.callbacks_found, self.selections)
        self.r.page = {
            "first": facts["first"],
            "last": facts["last"],
            "options": self.page.options,
            "figures": self.figures,
            "callbacks": sorted(self.callbacks_found),
            "cases": len(self.cases),
        }

    def route_urls(self, selection: Selection) -> list[str]:
        """The /data URLs of a selection, and its /figures URLs when the product has that route."""
        return route_urls(selection) + (figure_urls(selection) if self.figures else [])

    def default_chart_cases(self) -> list[CallbackCase]:
        return [c for c in self.cases if c.default_view and c.callback in CHART_CALLBACKS]

    def post(self, case: CallbackCase) -> tuple[str, str, Any]:
        return ("POST", "/_dash-update-component", case.body)

    def measure_callbacks(self) -> None:
        repeat = self.args.repeat
        with self.server("callbacks") as server:
            self.record_server("callbacks", server)
            # First full render: before any other request, all chart + KPI callbacks at once.
            first = self.default_chart_cases()
            wall, responses = concurrently(server.port, self.timeout, [self.post(c) for c in first], self.args.threads)
            for case, resp in zip(first, responses, strict=False):
                check_callback_answer(resp.status, resp.body, f"first render: {case.label}")
            self.r.first_render = {
                "wall_ms": wall,
                "threads": self.args.threads,
                "each": {c.label: r.ms for c, r in zip(first, responses, strict=False)},
            }
            cold_from_render = {id(c): r for c, r in zip(first, responses, strict=False)}
            log(f"first full render: {wall:,.0f} ms")
            with Client(server.port, self.timeout) as client:
                for case in self.cases:
                    what = f"callback {case.label} [{case.selection}]"
                    check = callback_check(what)
                    if id(case) in cold_from_render:
                        cold = cold_from_render[id(case)]
                        warm = []
                        for _ in range(repeat):
                            resp = client.post_json("/_dash-update-component", case.body)
                            check(resp)
                            warm.append(resp.ms)
                        note = "cold = its latency within the concurrent first render"
                    else:
                        cold, warm = measure(client, "POST", "/_dash-update-component", case.body, repeat, check)
                        note = ""
                    self.r.callbacks.append(
                        Timing(
                            "callback", case.selection, case.label, cold.ms, warm, len(cold.body), case.unfiltered, note
                        )
                    )
            self.record_server("callbacks", server, memory=server.memory())

    def measure_routes(self) -> None:
        repeat = self.args.repeat
        with self.server("routes") as server:
            self.record_server("routes", server)
            # A browser's first load: the page, then layout + dependencies, then the initial callbacks.
            steps: dict[str, float] = {}
            began = time.perf_counter()
            page_wall, page = concurrently(server.port, self.timeout, [("GET", "/", None)], 1)
            steps["GET /"] = page_wall
            meta_wall, meta = concurrently(
                server.port,
                self.timeout,
                [("GET", "/_dash-layout", None), ("GET", "/_dash-dependencies", None)],
                self.args.threads,
            )
            steps["GET /_dash-layout + /_dash-dependencies"] = meta_wall
            initial = [c for c in self.cases if c.default_view]
            cb_wall, cb_resps = concurrently(
                server.port, self.timeout, [self.post(c) for c in initial], self.args.threads
            )
            steps[f"{len(initial)} initial callbacks"] = cb_wall
            total = (time.perf_counter() - began) * 1000
            for resp, what in ((page[0], "/"), (meta[0], "/_dash-layout"), (meta[1], "/_dash-dependencies")):
                if resp.status != 200:
                    raise BenchmarkError(f"{what}: HTTP {resp.status}")
            for case, resp in zip(initial, cb_resps, strict=False):
                if case.callback in CHART_CALLBACKS:
                    check_callback_answer(resp.status, resp.body, f"browser-like first load: {case.label}")
                elif resp.status not in (200, 204):
                    raise BenchmarkError(
                        f"browser-like first load: {case.label}: HTTP {resp.status}: {resp.body[:300]!r}"
                    )
            self.r.browser_render = {
                "total_ms": total,
                "steps": steps,
                "each": {c.label: r.ms for c, r in zip(initial, cb_resps, strict=False)},
                "pages": {"/": page[0].ms, "/_dash-layout": meta[0].ms, "/_dash-dependencies": meta[1].ms},
            }
            log(f"browser-like first load: {total:,.0f} ms")
            page_cold = {"/": page[0], "/_dash-layout": meta[0], "/_dash-dependencies": meta[1]}

            with Client(server.port, self.timeout) as client:
                for path in PAGE_ROUTES:
                    warm = []
                    for _ in range(repeat):
                        resp = client.get(path)
                        route_check(path, False)(resp)
                        warm.append(resp.ms)
                    self.r.routes.append(
                        Timing(
                            "route",
                            "default",
                            path,
                            page_cold[path].ms,
                            warm,
                            len(page_cold[path].body),
                            True,
                            "cold = within the browser-like first load",
                        )
                    )
                for selection in self.selections:
                    for url in self.route_urls(selection):
                        expect = selection.unfiltered or "/toplist/" not in url
                        cold, warm = measure(client, "GET", url, None, repeat, route_check(url, expect))
                        self.r.routes.append(
                            Timing("route", selection.name, url, cold.ms, warm, len(cold.body), selection.unfiltered)
                        )
                # Every callback once more: the process now holds the state of the whole workload.
                started = time.perf_counter()
                for case in self.cases:
                    resp = client.post_json("/_dash-update-component", case.body)
                    check_callback_answer(
                        resp.status, resp.body, f"callback {case.label} [{case.selection}] (after routes)"
                    )
                self.r.after_routes = {"requests": len(self.cases), "seconds": time.perf_counter() - started}
                self.record_server("routes", server, memory=server.memory())

                self.check_numbers(client)
                self.after_import(server, client)
            self.record_server("routes", server, memory_end=server.memory())

    def check_numbers(self, client: Client) -> None:
        """The course's and DuckDB's results must equal the routes' (default view)."""
        urls = course_urls()

        def route_answers(c: Client) -> dict[str, Any]:
            out = {}
            for name, url in urls.items():
                resp = c.get(url)
                if resp.status != 200:
                    raise BenchmarkError(f"{url}: HTTP {resp.status}")
                out[name] = resp.json()
            return out

        ours = route_answers(client)
        if self.r.course is not None:
            if Path(self.r.course["db"]) == self.demo_db:
                theirs_db, served = ours, "this run's server"
            else:  # the course ran on a smaller database: ask a server on that one
                with self.server("course check", Path(self.r.course["db"])) as s2, Client(s2.port, self.timeout) as c2:
                    theirs_db, served = route_answers(c2), f"a server on the {self.args.course_max:,}-event database"
            for name in urls:
                course_answer = self.r.course["answers"][name]
                if name.startswith("toplist"):
                    problem = compare_toplist(theirs_db[name], course_answer, self.r.course["title_counts"])
                else:
                    problem = compare_series(theirs_db[name], course_answer)
                self.r.checks.append(
                    (f"course approach = moviedash route ({served}): {name}", problem is None, problem or "")
                )
        if self.r.duck is not None:
            for name in urls:
                duck_answer = self.r.duck["answers"].get(name)
                if duck_answer is None:
                    continue
                if name.startswith("toplist"):
                    problem = compare_toplist(ours[name], duck_answer, None)
                else:
                    problem = compare_series(ours[name], duck_answer)
                self.r.checks.append((f"DuckDB SQL = moviedash route: {name}", problem is None, problem or ""))

    def after_import(self, server: Server, client: Client) -> None:
        """Import more events into the served database, then the default views again."""
        extra_rows = max(1_000, min(100_000, self.N // 100))
        extra_csv = self.work / "extra.csv"
        write_course_csv(extra_csv, extra_rows, self.args.seed + 1)
        seconds, out = run_command(
            cli("load", str(extra_csv), "--db", str(self.demo_db)),
            self.args.step_timeout,
            "moviedash load (import while serving)",
        )
        self.r.after_import = {"rows": extra_rows, "load_s": seconds, "output": out.strip().splitlines()[-1]}
        repeat = self.args.repeat
        default = Selection("default")
        for case in self.default_chart_cases():
            cold, warm = measure(
                client,
                "POST",
                "/_dash-update-component",
                case.body,
                repeat,
                callback_check(f"after import: {case.label}"),
            )
            self.r.after_import_timings.append(
                Timing("callback", "default", case.label, cold.ms, warm, len(cold.body), True)
            )
        for url in [*PAGE_ROUTES, *self.route_urls(default)]:
            cold, warm = measure(client, "GET", url, None, repeat, route_check(url, True))
            self.r.after_import_timings.append(Timing("route", "default", url, cold.ms, warm, len(cold.body), True))
        extra_csv.unlink(missing_ok=True)


# --------------------------------------------------------------------------- #
# The report
# --------------------------------------------------------------------------- #


def status(ok: bool | None) -> str:
    return "—" if ok is None else ("**met**" if ok else "**missed**")


def worst(timings: list[Timing], key: str) -> tuple[float, Timing | None]:
    best: tuple[float, Timing | None] = (float("nan"), None)
    for t in timings:
        value = getattr(t, key) if key != "cold" else t.cold_ms
        if best[1] is None or value > best[0]:
            best = (value, t)
    return best


def describe(t: Timing | None) -> str:
    if t is None:
        return ""
    return f"{t.name} [{t.selection}]" if t.kind == "callback" else f"`{t.name}`"


def targets(r: Results) -> list[tuple[str, str, str]]:
    N = r.args.events
    rows: list[tuple[str, str, str]] = []
    charts = set(CHART_CALLBACKS)
    unfiltered_routes = [t for t in r.routes if t.unfiltered]
    unfiltered_charts = [t for t in r.callbacks if t.unfiltered and t.name in charts]
    # "Any selection": filters, and also resolution / N / rank-by other than the page's defaults.
    selection_charts = [t for t in r.callbacks if t.name in charts and t.selection != "default"]
    selection_routes = [
        t
        for t in r.routes
        if t.name.startswith(("/data/", "/figures/")) and not (t.unfiltered and t.name in DEFAULT_URLS)
    ]

    v, t = worst(unfiltered_routes, "warm_p95")
    rows.append(
        (
            "Default (unfiltered) views: every route ≤ 20 ms p95 (warm)",
            f"worst {fmt_ms(v)} ms: {describe(t)}",
            status(v <= 20),
        )
    )
    v, t = worst(unfiltered_charts, "warm_p95")
    rows.append(
        (
            "Default (unfiltered) views: every chart/KPI callback ≤ 20 ms p95 (warm)",
            f"worst {fmt_ms(v)} ms: {describe(t)}",
            status(v <= 20),
        )
    )
    v, t = worst(unfiltered_routes + unfiltered_charts, "cold")
    rows.append(
        (
            "Default views, cold (first request for each URL/body after a fresh server start) ≤ 20 ms",
            f"worst {fmt_ms(v)} ms: {describe(t)}",
            status(v <= 20),
        )
    )
    if r.after_import_timings:
        v = max(max(x.cold_ms, x.warm_p95) for x in r.after_import_timings)
        t = max(r.after_import_timings, key=lambda x: max(x.cold_ms, x.warm_p95))
        rows.append(
            (
                f"Default views right after an import ({r.after_import['rows']:,} rows, server running) ≤ 20 ms p95",
                f"worst {fmt_ms(v)} ms (first request after the import, or warm p95): {describe(t)}",
                status(v <= 20),
            )
        )
    if N <= ONE_M:
        limit, at = 150, "≤ 150 ms at 1M"
    elif N >= TEN_M:
        limit, at = 1000, "≤ 1 s at 10M"
    else:
        limit, at = None, "(≤ 150 ms at 1M, ≤ 1 s at 10M)"
    note = "" if N in (ONE_M, TEN_M) else f" (this run: {N:,} events)"
    v, t = worst(selection_charts, "cold")
    rows.append(
        (
            f"Any selection, cold, per chart {at}{note}",
            f"worst {fmt_ms(v)} ms: {describe(t)}",
            status(v <= limit) if limit else "—",
        )
    )
    v2, t2 = worst(selection_routes, "cold")
    rows.append(
        (
            f"Any selection, cold, per route (same limit){note}",
            f"worst {fmt_ms(v2)} ms: {describe(t2)}",
            status(v2 <= limit) if limit else "—",
        )
    )
    v, t = worst(selection_charts, "warm_p95")
    rows.append(
        (
            "Any selection, warm (repeated) ≤ 20 ms, per chart (p95)",
            f"worst {fmt_ms(v)} ms: {describe(t)}",
            status(v <= 20),
        )
    )
    v, t = worst(selection_routes, "warm_p95")
    rows.append(
        (
            "Any selection, warm (repeated) ≤ 20 ms, per route (p95)",
            f"worst {fmt_ms(v)} ms: {describe(t)}",
            status(v <= 20),
        )
    )
    wall = r.first_render.get("wall_ms")
    at10 = N >= TEN_M
    rows.append(
        (
            "First full render (all charts + KPIs + heatmap) cold ≤ 3 s at 10M",
            f"{fmt_ms(wall)} ms at {N:,} events (browser-like first load incl. page, layout and URL callbacks: "
            f"{fmt_ms(r.browser_render.get('total_ms'))} ms)",
            status(wall <= 3000) if at10 else f"— (target at 10M; {'within' if wall <= 3000 else 'over'} 3 s here)",
        )
    )
    rss = [s.get(k) for s in r.servers.values() for k in ("memory", "memory_end") if s.get(k)]
    top = max((m["VmRSS"] for m in rss), default=None)
    hwm = max((m["VmHWM"] for m in rss), default=None)
    rows.append(
        (
            "Server memory ≤ 1 GB RSS at 10M",
            f"{mib(top)} RSS after the runs (peak {mib(hwm)}) at {N:,} events",
            status(top is not None and top <= 1024 * 1024)
            if at10
            else f"— (target at 10M; {'within' if top and top <= 1024 * 1024 else 'over'} 1 GB here)",
        )
    )
    rate = N / r.data["load_s"]
    rows.append(
        (
            "Loading ≥ 200,000 rows/s (incl. derived data)",
            f"{rate:,.0f} rows/s (`moviedash load` of {N:,} course-format rows, whole command)",
            status(rate >= 200_000),
        )
    )
    demo = r.data["demo_s"]
    rows.append(
        (
            "`moviedash demo --events 10000000` ≤ 90 s",
            f"{fmt_s(demo)} for {N:,} events"
            + ("" if at10 else f"; ×{TEN_M / N:,.3g} = {fmt_s(demo * TEN_M / N)} extrapolated linearly to 10M"),
            status(demo <= 90) if N == TEN_M else "— (target at 10M)",
        )
    )
    return rows


def timing_table(timings: list[Timing], with_selection: bool = True) -> list[str]:
    head = "| selection | " if with_selection else "| "
    lines = [head + "request | cold ms | warm median ms | warm p95 ms | bytes |", "|" + "---|" * (5 + with_selection)]
    for t in timings:
        name = f"`{t.name}`" if t.kind == "route" else t.name
        if t.note:
            name += " ¹"
        sel = f"{t.selection} | " if with_selection else ""
        lines.append(
            f"| {sel}{name} | {fmt_ms(t.cold_ms)} | {fmt_ms(t.warm_median)} | {fmt_ms(t.warm_p95)} | {t.bytes:,} |"
        )
    return lines


def course_figure(r: Results) -> tuple[dict[str, float], float, bool]:
    """Course seconds per result at N (measured, or extrapolated linearly) and whether extrapolated."""
    assert r.course is not None
    scale = r.args.events / r.course["rows"]
    extrapolated = r.args.events > r.course["rows"]
    per = {x["name"]: x["total_s"] * (scale if extrapolated else 1) for x in r.course["results"]}
    return per, sum(per.values()), extrapolated


def render(r: Results) -> str:
    a = r.args
    N = a.events
    L: list[str] = []
    L.append(f"# moviedash performance benchmark: {N:,} events")
    L.append("")
    L.append(f"- date: {r.started:%Y-%m-%d %H:%M %Z}".rstrip())
    L.append(f"- machine: {machine()}")
    L.append(
        f"- packages: dash {version('dash')}, plotly {version('plotly')}, waitress {version('waitress')}, "
        f"duckdb {version('duckdb')}; {r.product}"
    )
    if a.note:
        L.append(f"- note: {a.note}")
    L.append(f"- command: `{r.command}` (from the repository root; whole run {r.total_s / 60:.1f} min)")
    L.append(
        f"- load average (1/5/15 min) at start {r.load_before[0]:.2f}/{r.load_before[1]:.2f}/{r.load_before[2]:.2f}, "
        f"at end {r.load_after[0]:.2f}/{r.load_after[1]:.2f}/{r.load_after[2]:.2f} (other work on this 2-core machine "
        "shows up in every figure)"
        + (
            f"; 1-min load average during the run (every 5 s): median {statistics.median(r.load_samples):.2f}, "
            f"max {max(r.load_samples):.2f} (the benchmark itself accounts for about 1)"
            if r.load_samples
            else ""
        )
    )
    L.append(
        f"- data: `moviedash demo --events {N} --seed {a.seed}`: {r.facts['first']} .. {r.facts['last']}, "
        f"database {r.facts['bytes'] / 2**20:,.0f} MiB. The server serves the **demo** database "
        "(`python -m moviedash.cli serve --db demo.db --host 127.0.0.1 --port <free>`, waitress, default threads)."
    )
    L.append(
        f"- cold = first request for that exact URL / callback body after a fresh server start (the OS page cache "
        f"holds the just-written database); warm = the next {a.repeat} requests, one keep-alive connection; "
        "p95 nearest-rank."
    )
    L.append("")

    L.append("## Targets (issue 5)")
    L.append("")
    L.append("| target | measured | |")
    L.append("|---|---|---|")
    for target, measured, ok in targets(r):
        L.append(f"| {target} | {measured} | {ok} |")
    L.append("")

    d = r.data
    L.append("## Data generation and load")
    L.append("")
    L.append("| step | wall time | rows/s | notes |")
    L.append("|---|---|---|---|")
    L.append(
        f"| `moviedash demo --events {N}` | {fmt_s(d['demo_s'])} | {N / d['demo_s']:,.0f} | whole command "
        f"(it reports {fmt_s(d.get('demo_reported_s'))}); {r.facts['bytes'] / 2**20:,.0f} MiB |"
    )
    L.append(
        f"| export to course-format CSV (`benchmarks.common.write_course_csv`) | {fmt_s(d['csv_s'])} | "
        f"{N / d['csv_s']:,.0f} | {d['csv_bytes'] / 2**20:,.0f} MiB; harness step, not a product figure |"
    )
    L.append(
        f"| `moviedash load events.csv` into a new database | {fmt_s(d['load_s'])} | **{N / d['load_s']:,.0f}** | "
        f"whole command (it reports {fmt_s(d.get('load_reported_s'))}); {d['loaded_bytes'] / 2**20:,.0f} MiB |"
    )
    if r.duck:
        dl = r.duck["load"]
        L.append(
            f"| DuckDB `CREATE TABLE AS SELECT * FROM read_csv(...)` | {fmt_s(dl['seconds'])} "
            f"| {N / dl['seconds']:,.0f} | "
            f"{dl['bytes'] / 2**20:,.0f} MiB DuckDB file |"
        )
    if r.after_import:
        ai = r.after_import
        L.append(
            f"| `moviedash load` of {ai['rows']:,} more rows into the served database, server running | "
            f"{fmt_s(ai['load_s'])} | {ai['rows'] / ai['load_s']:,.0f} | whole command, small file |"
        )
    L.append("")

    L.append("## Server start")
    L.append("")
    L.append("| server | start to listening | memory after its runs (VmRSS / VmHWM) |")
    L.append("|---|---|---|")
    for name, s in r.servers.items():
        mem = s.get("memory_end") or s.get("memory")
        L.append(
            f"| {name} | {fmt_s(s['start_s'])} "
            f"| {mib(mem['VmRSS']) if mem else '—'} / {mib(mem['VmHWM']) if mem else '—'} |"
        )
    L.append("")

    fr = r.first_render
    L.append("## First full render (cold)")
    L.append("")
    L.append(
        f"The {len(fr['each'])} chart and KPI callbacks of the default view, issued at once from {fr['threads']} "
        "threads (one connection each, as a browser does) as the very first requests after server start "
        "(so any first-request import/initialisation cost is inside this figure)."
    )
    L.append("")
    L.append(f"**Wall time: {fmt_ms(fr['wall_ms'])} ms**")
    L.append("")
    L.append("| callback | latency ms |")
    L.append("|---|---|")
    for name, ms in fr["each"].items():
        L.append(f"| {name} | {fmt_ms(ms)} |")
    L.append("")
    br = r.browser_render
    L.append(
        f"Browser-like first load on another fresh server (page, then layout + dependencies together, then all "
        f"initial server callbacks incl. the URL-state ones): **{fmt_ms(br['total_ms'])} ms**"
    )
    L.append("")
    L.append("| step | wall ms |")
    L.append("|---|---|")
    for name, ms in br["steps"].items():
        L.append(f"| {name} | {fmt_ms(ms)} |")
    for name, ms in br["each"].items():
        L.append(f"| &nbsp;&nbsp;{name} | {fmt_ms(ms)} |")
    L.append("")

    L.append("## Dashboard callbacks (POST /_dash-update-component)")
    L.append("")
    L.append(
        "Each selection's chart, KPI and URL-state callbacks; then the chart controls (resolution, top N × rank) on "
        "the unfiltered data. ¹ cold = its latency within the concurrent first render."
    )
    L.append("")
    L += timing_table(r.callbacks)
    L.append("")

    L.append("## Routes (GET)")
    L.append("")
    L.append("¹ cold = within the browser-like first load.")
    L.append("")
    L += timing_table(r.routes)
    L.append("")

    if r.after_import_timings:
        L.append("## Default views right after an import")
        L.append("")
        L.append(
            f"{r.after_import['rows']:,} more events loaded with `moviedash load` into the served database while the "
            f"server ran (`{r.after_import['output']}`), then each default-view request: first after the import, "
            "then warm."
        )
        L.append("")
        L += timing_table(r.after_import_timings, with_selection=False)
        L.append("")

    L.append("## Server memory")
    L.append("")
    L.append("| server | after | VmRSS | VmHWM (peak) |")
    L.append("|---|---|---|---|")
    for name, s in r.servers.items():
        for key, label in (("memory", "its measured runs"), ("memory_end", "the import and the default views again")):
            if s.get(key):
                L.append(f"| {name} | {label} | {mib(s[key]['VmRSS'])} | {mib(s[key]['VmHWM'])} |")
    if r.after_routes:
        L.append("")
        L.append(
            f"The routes server also ran every callback once after the routes ({r.after_routes['requests']} requests, "
            f"{r.after_routes['seconds']:.1f} s) before its memory was read, so it holds the whole workload."
        )
    L.append("")

    L.append("## The course's approach")
    L.append("")
    if r.course is None:
        L.append(f"Not run: {r.course_note}.")
    else:
        per, total, extrapolated = course_figure(r)
        L.append(
            f"Reimplemented in `benchmarks/course.py` (whole table via `pd.read_sql` per request, a Python function "
            f"per row for the period, `len(x.value_counts())`, zero-fill by `pd.date_range` reindex); {r.course_note}."
        )
        L.append("")
        L.append(f"| result | read table s | compute s | total s | at {N:,} events |")
        L.append("|---|---|---|---|---|")
        for x in r.course["results"]:
            at_n = f"{per[x['name']]:,.1f} s" + (" (EXTRAPOLATED)" if extrapolated else "")
            L.append(f"| {x['name']} | {x['load_s']:.2f} | {x['compute_s']:.2f} | {x['total_s']:.2f} | {at_n} |")
        measured = r.course["total_s"]
        L.append(
            f"| **all seven** | | | **{measured:.1f}** | **{total:,.1f} s**"
            + (" (EXTRAPOLATED, not run)" if extrapolated else "")
            + " |"
        )
        L.append("")
        L.append(
            f"Measured on {r.course['rows']:,} rows; peak RSS of the course process {mib(r.course['peak_rss_kib'])}."
        )
    L.append("")

    L.append("## DuckDB on the same data")
    L.append("")
    if r.duck is None:
        L.append(f"Not run: {r.duck_note}.")
    else:
        L.append(
            f"duckdb {r.duck['version']}, {r.duck['threads']} threads, loaded from the same course-format CSV; the "
            "seven course results (zero-filled like the routes) and the charts + KPIs of the \"all filters\" selection "
            f"as SQL, cold (first run on a fresh connection) and warm (next {a.repeat}); "
            f"peak RSS {mib(r.duck['peak_rss_kib'])}."
        )
        L.append("")
        L.append("| group | query | cold ms | warm median ms |")
        L.append("|---|---|---|---|")
        for q in r.duck["queries"]:
            L.append(f"| {q['group']} | {q['name']} | {fmt_ms(q['cold_ms'])} | {fmt_ms(q['warm_median_ms'])} |")
    L.append("")

    L.append("## Ratios")
    L.append("")
    L += ratio_table(r)
    L.append("")

    L.append("## Checks")
    L.append("")
    if not r.checks:
        L.append("No numbers were compared (neither the course approach nor DuckDB ran).")
    for name, ok, detail in r.checks:
        L.append(f"- {'OK' if ok else '**FAILED**'}: {name}" + (f": {detail}" if detail else ""))
    L.append("")

    L.append("## Run time by phase")
    L.append("")
    L.append("| phase | s |")
    L.append("|---|---|")
    for name, seconds in r.phases.items():
        L.append(f"| {name} | {seconds:,.1f} |")
    L.append(f"| **total** | **{r.total_s:,.1f}** |")
    L.append("")
    L.append(
        f"Peak RSS of the benchmark process itself: {mib(r.harness_peak_kib)} (the course approach, DuckDB and the "
        "server run in their own processes)."
    )
    L.append("")
    return "\n".join(L)


def ratio_table(r: Results) -> list[str]:
    by_url = {t.name: t for t in r.routes if t.selection == "default"}
    duck = {(q["group"], q["name"]): q for q in (r.duck["queries"] if r.duck else [])}
    per, total, extrapolated = course_figure(r) if r.course else ({}, None, False)
    ext = " (extrapolated)" if extrapolated else ""
    L = [
        "Default view, the seven course results. \"course ÷ moviedash\" = how many times faster moviedash answers than "
        "the course did; \"DuckDB ÷ moviedash\" likewise against DuckDB (below 1: DuckDB is faster).",
        "",
        f"| result | course s{ext} | moviedash route cold / warm ms | DuckDB cold / warm ms "
        "| course ÷ moviedash (cold / warm) | DuckDB ÷ moviedash (cold / warm) |",
        "|---|---|---|---|---|---|",
    ]
    sums = {"course": 0.0, "mc": 0.0, "mw": 0.0, "dc": 0.0, "dw": 0.0}
    for name, url in course_urls().items():
        m = by_url.get(url)
        q = duck.get(("course", name))
        c = per.get(name)
        mc, mw = (m.cold_ms, m.warm_median) if m else (None, None)
        dc, dw = (q["cold_ms"], q["warm_median_ms"]) if q else (None, None)
        for key, value in (("course", c), ("mc", mc), ("mw", mw), ("dc", dc), ("dw", dw)):
            sums[key] += value or 0.0
        L.append(f"| {name} | {c:,.2f} |" if c is not None else f"| {name} | — |")
        L[-1] += (
            f" {fmt_ms(mc)} / {fmt_ms(mw)} | {fmt_ms(dc)} / {fmt_ms(dw)} | "
            f"{fmt_ratio(c * 1000 / mc if c and mc else None)} / {fmt_ratio(c * 1000 / mw if c and mw else None)} | "
            f"{fmt_ratio(dc / mc if mc and dc else None)} / {fmt_ratio(dw / mw if mw and dw else None)} |"
        )
    s = sums
    course_total = f"{s['course']:,.1f}" if r.course else "—"
    L.append(
        f"| **all seven** | {course_total} | {fmt_ms(s['mc'])} / {fmt_ms(s['mw'])} | "
        f"{fmt_ms(s['dc']) if r.duck else '—'} / {fmt_ms(s['dw']) if r.duck else '—'} | "
        f"{fmt_ratio(s['course'] * 1000 / s['mc'] if s['course'] and s['mc'] else None)} / "
        f"{fmt_ratio(s['course'] * 1000 / s['mw'] if s['course'] and s['mw'] else None)} | "
        f"{fmt_ratio(s['dc'] / s['mc'] if s['dc'] and s['mc'] else None)} / "
        f"{fmt_ratio(s['dw'] / s['mw'] if s['dw'] and s['mw'] else None)} |"
    )
    if r.duck:
        L += [
            "",
            "\"All filters\" selection (30 days + MOVIE + iPad + NO): moviedash over HTTP (routes; the heatmap and "
            "KPIs have no route, so their callbacks, which also build the figure) vs the same SQL in DuckDB.",
            "",
            "| query | moviedash request | moviedash cold / warm ms | DuckDB cold / warm ms "
            "| DuckDB ÷ moviedash (cold / warm) |",
            "|---|---|---|---|---|",
        ]
        routes = {t.name: t for t in r.routes if t.selection == "all filters"}
        cbs = {t.name: t for t in r.callbacks if t.selection == "all filters"}
        pairs = {
            "unique_users daily": next(
                (t for u, t in routes.items() if u.startswith("/data/unique_users/?resolution=daily")), None
            ),
            "minutes_watched daily": next(
                (t for u, t in routes.items() if u.startswith("/data/minutes_watched/?resolution=daily")), None
            ),
            "toplist 10": next(
                (t for u, t in routes.items() if u.startswith("/data/toplist/?num=10&rank=plays")), None
            ),
            "heatmap": cbs.get("heatmap"),
            "kpis (current + previous period)": cbs.get("kpis"),
        }
        for name, m in pairs.items():
            q = duck.get(("all filters", name))
            if m is None or q is None:
                continue
            what = f"`{m.name}`" if m.kind == "route" else f"callback {m.name}"
            L.append(
                f"| {name} | {what} | {fmt_ms(m.cold_ms)} / {fmt_ms(m.warm_median)} | "
                f"{fmt_ms(q['cold_ms'])} / {fmt_ms(q['warm_median_ms'])} | "
                f"{fmt_ratio(q['cold_ms'] / m.cold_ms)} / {fmt_ratio(q['warm_median_ms'] / m.warm_median)} |"
            )
    return L


# --------------------------------------------------------------------------- #
# Entry point
# --------------------------------------------------------------------------- #


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, required=True, help="events to generate (e.g. 1000000, 10000000)")
    parser.add_argument("--repeat", type=int, default=5, help="warm requests per URL/body (default 5)")
    parser.add_argument(
        "--course-max",
        type=int,
        default=ONE_M,
        help="largest size the course approach runs at (default 1,000,000; beyond: extrapolated; 0: skip)",
    )
    parser.add_argument("--no-duckdb", action="store_true", help="skip DuckDB even if installed")
    parser.add_argument("--out", type=Path, help="Markdown report (default benchmarks/results-<N>.md)")
    parser.add_argument("--json", type=Path, help="also write every measurement as JSON here")
    parser.add_argument("--note", help="a sentence for the report's header (e.g. which code was measured)")
    parser.add_argument("--seed", type=int, default=42, help="demo seed (default 42)")
    parser.add_argument("--threads", type=int, default=6, help="concurrent connections of the first render (default 6)")
    parser.add_argument(
        "--workdir",
        type=Path,
        help="folder for the databases, kept afterwards (default: a new temporary folder, removed)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the databases, CSV and logs")
    parser.add_argument("--request-timeout", type=float, default=600.0, help="seconds per HTTP request (default 600)")
    parser.add_argument(
        "--start-timeout", type=float, default=300.0, help="seconds for the server to listen (default 300)"
    )
    parser.add_argument("--step-timeout", type=float, default=3600.0, help="seconds per subprocess step (default 3600)")
    args = parser.parse_args(argv)
    if args.events < 1_000:
        parser.error("--events must be at least 1000")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    raw = sys.argv[1:] if argv is None else argv
    results = Results(
        args, shlex.join(["python", "-m", "benchmarks.run", *raw]), dt.datetime.now().astimezone(), os.getloadavg()
    )
    out = args.out or HERE / f"results-{args.events}.md"
    if args.workdir:
        work = args.workdir.resolve()
        work.mkdir(parents=True, exist_ok=True)
    else:
        work = Path(tempfile.mkdtemp(prefix="moviedash-bench-"))
    results.product = product_source()
    log(f"work folder {work}; report -> {out}; {results.product}")
    started = time.perf_counter()
    bench = Benchmark(args, work, results)
    sampler = LoadSampler()
    sampler.start()
    try:
        bench.run()
    except BenchmarkError as exc:
        print(f"\nBENCHMARK FAILED: {exc}", file=sys.stderr)
        tail = Server(bench.demo_db, bench.server_log).log_tail(40)
        if tail:
            print(f"--- server log (tail) ---\n{tail}", file=sys.stderr)
        return 2
    finally:
        results.load_samples = sampler.stop()
        if not args.keep and not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    results.total_s = time.perf_counter() - started
    results.load_after = os.getloadavg()
    results.harness_peak_kib = proc_status(os.getpid()).get("VmHWM")
    report = render(results)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report + "\n", encoding="utf-8")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "command": results.command,
                    "data": results.data,
                    "facts": results.facts,
                    "servers": results.servers,
                    "first_render": results.first_render,
                    "browser_render": results.browser_render,
                    "callbacks": [t.as_dict() for t in results.callbacks],
                    "routes": [t.as_dict() for t in results.routes],
                    "after_import": [t.as_dict() for t in results.after_import_timings],
                    "course": {k: v for k, v in (results.course or {}).items() if k not in ("answers", "title_counts")},
                    "duckdb": {k: v for k, v in (results.duck or {}).items() if k != "answers"},
                    "checks": results.checks,
                    "phases": results.phases,
                    "total_s": results.total_s,
                },
                indent=1,
                default=str,
            )
        )
    print(report)
    log(f"report written to {out}; whole run {results.total_s / 60:.1f} min")
    failed = [name for name, ok, _ in results.checks if not ok]
    if failed:
        print(f"\nCHECKS FAILED ({len(failed)}): " + "; ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
