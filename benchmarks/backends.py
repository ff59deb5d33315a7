"""SQLite and PostgreSQL side by side, from one run: load, default views, 40 random selections, DuckDB.

    nice python -m benchmarks.backends --events 10000000 [--selections 40] [--seed 42]
        [--selection-seed 13] [--warm 20] [--selection-warm 3] [--load-rounds 1] [--note "..."]

The issue's PostgreSQL targets (issue 13, at 10M events, PostgreSQL 15 with
default settings) next to SQLite on the same rows.  What one run does, in a
temporary folder removed at the end:

1. **Data**: the demo generator (``moviedash.ingest.demo``, ``--seed``) writes one
   course-format CSV of N events with a header row (``benchmarks.common.write_course_csv``).
2. **PostgreSQL**: a throwaway cluster with default settings (benchmarks/pgcluster.py:
   Debian's ``initdb``/``pg_ctl``, Unix socket only, stopped and removed at the end),
   or the server named by ``MOVIEDASH_BENCH_PG`` (a URL; databases
   ``moviedash_bench_served`` and ``moviedash_bench_bare`` are created there and dropped).
3. **Load**, the same file four ways, timed (wall and CPU seconds): ``sqlite3``'s
   ``.import --csv --skip 1`` into a bare 13-column table; ``moviedash load`` into a new
   SQLite file; ``psql -c "\\copy bare FROM 'file' CSV HEADER"`` into a bare table (same
   column types, no index) in a new database; ``moviedash load`` into another new
   database.  CPU = the command's own (its process tree) plus, on PostgreSQL, the
   server's (its backends' CPU, read from ``/proc``; only for the throwaway cluster).
   With ``--load-rounds R`` each is done R times into fresh targets and the median
   kept.  Then ``VACUUM ANALYZE`` of the served PostgreSQL database (timed apart), as
   autovacuum would have done by the time anyone looks.
4. **DuckDB** (benchmarks/duck.py, if installed): the same CSV into a DuckDB file, the
   course results and each random selection's aggregations as SQL, cold and warm.
5. **Serving**: ``moviedash serve`` on the SQLite file and on the PostgreSQL database,
   both running, every request sent to SQLite then PostgreSQL (so both see the same
   moment of machine load).  Three phases, each on freshly started servers, so a
   request's *cold* figure (the first request for that URL/body since start) does not
   borrow a result another kind of request already computed:
   a. callbacks: every chart/KPI callback of the default view, then each chart control
      (resolution, top N × rank) on the default view, then each random selection's five
      chart/KPI callbacks;
   b. routes: the page routes, every ``/data`` route of the default view, then each
      random selection's three ``/data`` routes;
   c. figures: every ``/figures/<chart>.json`` of the default view.
   Default views: cold, then ``--warm`` (20) more, p95 nearest-rank.  Random selections
   (``--selections`` 40, ``benchmarks.selections.random_selections``, seed
   ``--selection-seed``: one day to the whole span, random subsets of the filters
   incl. ``unknown``, every resolution, N and rank): cold, then ``--selection-warm`` (3).
6. **Checks**: every answer (cold and warm) of PostgreSQL must be byte-identical to
   SQLite's first answer for the same request; any difference is listed and the run
   exits with status 1 (after writing the results).
7. **Results**: ``benchmarks/results-backends-N.md`` and ``.json``: the machine (CPU,
   cores, RAM, Python/SQLite/PostgreSQL versions, load average before/after), the
   command, the commit, and the targets table (met/missed, with the figure).

Run it from the repository root with the project's virtual environment, under
``nice`` (other work on a shared machine shows up in every figure).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import re
import resource
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from moviedash.store import COLUMNS, redact

from .client import BenchmarkError, Client, Response, Timing, percentile
from .common import machine_facts, write_course_csv
from .load import PostgresDatabases
from .pgcluster import Cluster, server_cpu_seconds
from .run import LoadSampler, cli, fmt_ms, fmt_ratio, fmt_s, log, product_source, route_check, version
from .selections import (
    CHART_CALLBACKS,
    PAGE_ROUTES,
    Callback,
    Page,
    RandomSelection,
    Selection,
    callback_cases,
    check_callback_answer,
    figure_urls,
    find_callbacks,
    random_selection_cases,
    random_selections,
    route_urls,
)
from .server import Server, proc_status

HERE = Path(__file__).resolve().parent
BACKENDS = ("sqlite", "postgresql")
LABEL = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
#: The issue's targets for PostgreSQL (at 10M events).
DEFAULT_WARM_P95_MS, DEFAULT_COLD_MS, SELECTION_COLD_MS = 30.0, 100.0, 300.0
LOAD_RATIO_MAX, SELECTION_RATIO_MAX = 1.5, 2.0
TARGET_EVENTS = 10_000_000
#: Column types of the bare tables: the types moviedash's own ``movies`` table has.
BARE_TYPES = {
    "event_date": "timestamp",
    "totalminuteswatched": "integer",
    "runningtime": "integer",
    "viewpercentage": "double precision",
    "errorperception": "double precision",
    "seasonnumber": "integer",
    "episodenumber": "integer",
}
#: What a selection's charts ask, as (kind, key): the keys DuckDB's per-selection queries are named by.
DUCK_PAIRS = {
    "unique_users": ("route", "/data/unique_users/"),
    "minutes_watched": ("route", "/data/minutes_watched/"),
    "toplist": ("route", "/data/toplist/"),
    "heatmap": ("callback", "heatmap"),
    "kpis": ("callback", "kpis"),
}


# --------------------------------------------------------------------------- #
# Pure parts: statistics, targets, tables (unit-tested in tests/unit)
# --------------------------------------------------------------------------- #


def spread(values: list[float]) -> dict[str, float]:
    """p50, p95 (nearest-rank) and max of some latencies (NaN when there are none)."""
    return {
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "max": max(values) if values else float("nan"),
    }


@dataclass(frozen=True)
class Target:
    """One line of the targets table: ``measured`` against ``limit`` (lower is better)."""

    name: str
    measured: float
    limit: float
    unit: str  # "ms" or "×"
    detail: str = ""
    sqlite: float | None = None  # the same figure on SQLite, for information

    @property
    def met(self) -> bool:
        return self.measured == self.measured and self.measured <= self.limit  # NaN never meets a target

    def figure(self, value: float | None) -> str:
        if value is None:
            return "—"
        return f"{fmt_ms(value)} ms" if self.unit == "ms" else fmt_ratio(value)


def render_targets(targets: list[Target], events: int) -> list[str]:
    """The Markdown targets table (met/missed for PostgreSQL; SQLite's figure for information)."""
    lines = [
        f"| target (PostgreSQL, at {TARGET_EVENTS:,} events; this run {events:,}) | PostgreSQL | SQLite | |",
        "|---|---|---|---|",
    ]
    for t in targets:
        measured = t.figure(t.measured) + (f" ({t.detail})" if t.detail else "")
        lines.append(f"| {t.name} | {measured} | {t.figure(t.sqlite)} | {'**met**' if t.met else '**missed**'} |")
    return lines


def route_kind(timing: Timing) -> str:
    """What a request is, without its parameters: ``/data/toplist/`` or ``callback top``."""
    return timing.name.split("?", 1)[0] if timing.kind == "route" else f"callback {timing.name}"


@dataclass
class Measured:
    """One request, measured on every backend (interleaved)."""

    phase: str
    group: str  # "default" or "selection"
    selection: str
    kind: str  # "route" or "callback"
    label: str  # URL, or callback name with its variant: how the request reads in the tables
    key: str = ""  # URL or callback name (what :func:`route_kind` groups by); the label when empty
    timings: dict[str, Timing] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "group": self.group,
            "selection": self.selection,
            "kind": self.kind,
            "label": self.label,
            "timings": {b: t.as_dict() for b, t in self.timings.items()},
        }


def selection_ratios(measured: list[Measured]) -> list[dict[str, Any]]:
    """Per random selection: the sum of its requests' cold (and warm median) ms per backend, and PostgreSQL ÷ SQLite."""
    by: dict[str, dict[str, dict[str, float]]] = {}
    for m in measured:
        if m.group != "selection":
            continue
        entry = by.setdefault(m.selection, {b: {"cold": 0.0, "warm": 0.0, "requests": 0} for b in m.timings})
        for backend, t in m.timings.items():
            entry[backend]["cold"] += t.cold_ms
            entry[backend]["warm"] += t.warm_median if t.warm_ms else 0.0
            entry[backend]["requests"] += 1
    out = []
    for name, entry in by.items():
        s, p = entry.get("sqlite"), entry.get("postgresql")
        out.append(
            {
                "selection": name,
                **{f"{b}_{k}_ms": v for b, e in entry.items() for k, v in e.items() if k != "requests"},
                "requests": (s or p or {}).get("requests", 0),
                "cold_ratio": p["cold"] / s["cold"] if s and p and s["cold"] else float("nan"),
                "warm_ratio": p["warm"] / s["warm"] if s and p and s["warm"] else float("nan"),
            }
        )
    return out


# --------------------------------------------------------------------------- #
# Measuring
# --------------------------------------------------------------------------- #


@dataclass
class Mismatch:
    label: str
    selection: str
    backend: str
    sample: str
    detail: str


#: Parts of an answer that differ on every response by design, masked before comparing:
#: Dash's per-response ``end_id`` in the page's config (the pages' HTML only: :data:`PAGES`).
_PER_RESPONSE = re.compile(rb'"end_id":"[^"]*"')
#: The dashboard's pages (HTML): the overview and the engagement page.
PAGES = ("/", "/engagement")
#: Both servers run with the same hash seed: Python's per-process string hashing
#: otherwise orders some sets differently in each process (``/_dash-layout`` lists a
#: component's props in a different order from one server process to the next,
#: whatever the backend), which is not a difference between the backends.
SERVER_ENV = {**os.environ, "PYTHONHASHSEED": "0"}


def mask_per_response(body: bytes) -> bytes:
    """A page's HTML with its per-response ``end_id`` masked (whatever its path)."""
    return _PER_RESPONSE.sub(b'"end_id":"~"', body)


def comparable(path: str, body: bytes) -> bytes:
    """``body`` with its by-design per-response parts masked (a page's ``end_id``)."""
    return mask_per_response(body) if path.split("?", 1)[0] in PAGES else body


def first_difference(a: bytes, b: bytes) -> str:
    at = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    return (
        f"{len(a):,} vs {len(b):,} bytes, first difference at byte {at:,}: "
        f"{a[max(0, at - 40):at + 40]!r} vs {b[max(0, at - 40):at + 40]!r}"
    )


def callback_check(what: str) -> Callable[[Response], None]:
    def check(resp: Response) -> None:
        check_callback_answer(resp.status, resp.body, what)

    return check


@contextmanager
def servers(
    targets: dict[str, Path | str], log_dir: Path, phase: str, start_timeout: float, timeout: float
) -> Iterator[tuple[dict[str, Server], dict[str, Client]]]:
    """Fresh ``moviedash serve`` processes, one per backend, each with one keep-alive client."""
    with ExitStack() as stack:
        started = {
            b: stack.enter_context(Server(db, log_dir / f"server-{b}.log", start_timeout, SERVER_ENV))
            for b, db in targets.items()
        }
        clients = {b: stack.enter_context(Client(s.port, timeout)) for b, s in started.items()}
        for c in clients.values():
            c._connection()  # connect outside the timed requests
        log(
            f"{phase}: servers started ({', '.join(f'{LABEL[b]} {s.start_seconds:.1f} s' for b, s in started.items())})"
        )
        yield started, clients


def measure_both(
    clients: dict[str, Client],
    item: Measured,
    method: str,
    path: str,
    body: Any,
    warm: int,
    check: Callable[[Response], None],
    mismatches: list[Mismatch],
) -> Measured:
    """Cold then ``warm`` requests on each backend, interleaved; every answer checked and compared with SQLite's."""
    reference: bytes | None = None
    samples: dict[str, list[Response]] = {b: [] for b in clients}
    for round_ in range(1 + warm):
        for backend, client in clients.items():
            resp = client.request(method, path, body)
            check(resp)
            samples[backend].append(resp)
            answer = comparable(path, resp.body)
            if reference is None:
                reference = answer
            elif answer != reference:
                mismatches.append(
                    Mismatch(
                        item.label,
                        item.selection,
                        backend,
                        "cold" if round_ == 0 else f"warm {round_}",
                        first_difference(reference, answer),
                    )
                )
    for backend, got in samples.items():
        item.timings[backend] = Timing(
            item.kind,
            item.selection,
            item.key or item.label,
            got[0].ms,
            [r.ms for r in got[1:]],
            len(got[0].body),
            item.group == "default",
        )
    return item


# --------------------------------------------------------------------------- #
# The run
# --------------------------------------------------------------------------- #


@dataclass
class LoadFigure:
    what: str
    backend: str
    wall_s: list[float] = field(default_factory=list)
    client_cpu_s: list[float] = field(default_factory=list)
    server_cpu_s: list[float | None] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return statistics.median(self.wall_s)

    @property
    def cpu(self) -> float:
        """The command's CPU seconds plus the server's (when known), median over the rounds."""
        return statistics.median(c + (s or 0.0) for c, s in zip(self.client_cpu_s, self.server_cpu_s, strict=False))

    def as_dict(self) -> dict[str, Any]:
        return {
            "what": self.what,
            "backend": self.backend,
            "wall_s": self.wall_s,
            "client_cpu_s": self.client_cpu_s,
            "server_cpu_s": self.server_cpu_s,
            "median_wall_s": self.wall,
            "median_cpu_s": self.cpu,
        }


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Backends:
    def __init__(self, args: argparse.Namespace, work: Path, command: str) -> None:
        self.args = args
        self.work = work
        self.command = command
        self.N = args.events
        self.csv = work / "events.csv"
        self.sqlite_db = work / "served.db"
        self.cluster: Cluster | None = None
        self.pg: PostgresDatabases | None = None
        self.pg_url = ""
        self.mismatches: list[Mismatch] = []
        self.measured: list[Measured] = []
        self.loads: dict[str, LoadFigure] = {}
        self.r: dict[str, Any] = {"phases": {}, "servers": {}}

    # ---- helpers ----------------------------------------------------------- #

    def phase(self, name: str, func: Callable[[], Any]) -> Any:
        log(f"{name} ...")
        started = time.perf_counter()
        try:
            return func()
        finally:
            self.r["phases"][name] = time.perf_counter() - started
            log(f"{name}: {self.r['phases'][name]:.1f} s")

    def run_timed(
        self, command: list[str], what: str, stdin: str | None = None, postgres: bool = False
    ) -> tuple[float, float, float | None]:
        """(wall s, the command's CPU s, the local PostgreSQL server's CPU s or None) of one command.

        The server's CPU only for a command that uses it (``postgres``) on the throwaway cluster.
        """
        pid = self.cluster.postmaster_pid() if self.cluster and postgres else None
        server_before = server_cpu_seconds(pid) if pid else 0.0
        cpu_before = children_cpu()
        started = time.perf_counter()
        try:
            done = subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=self.args.step_timeout)
        except subprocess.TimeoutExpired:
            raise BenchmarkError(f"{what} took longer than {self.args.step_timeout:.0f} s") from None
        wall = time.perf_counter() - started
        if done.returncode != 0 or (what.startswith("sqlite3") and done.stderr.strip()):
            raise BenchmarkError(
                f"{what} failed (exit {done.returncode}): {shlex.join(command)}\n{done.stdout}\n{done.stderr}"
            )
        server = server_cpu_seconds(pid) - server_before if pid else None
        return wall, children_cpu() - cpu_before, server

    def psql(self, url: str, sql: str) -> str:
        done = subprocess.run(
            ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
            capture_output=True,
            text=True,
            timeout=self.args.step_timeout,
        )
        if done.returncode != 0:
            raise BenchmarkError(f"psql -c {sql!r} failed: {done.stderr}")
        return done.stdout.strip()

    # ---- phases ------------------------------------------------------------ #

    def run(self) -> None:
        self.phase("PostgreSQL server", self.start_postgres)
        self.phase("generate CSV", self.generate)
        self.phase("load", self.load)
        self.phase("discovery", self.discover)
        self.phase("duckdb", self.run_duckdb)
        self.phase("serving: callbacks", self.serve_callbacks)
        self.phase("serving: routes", self.serve_routes)
        self.phase("serving: figures", self.serve_figures)

    def start_postgres(self) -> None:
        named = os.environ.get("MOVIEDASH_BENCH_PG")
        if named:
            admin = named
            self.r["postgres_server"] = f"named by MOVIEDASH_BENCH_PG ({redact(named)}); its settings as they are"
        else:
            self.cluster = Cluster().start()
            admin = self.cluster.url()
            self.r["postgres_server"] = (
                "throwaway cluster (initdb + pg_ctl, default settings, Unix socket only), "
                "started and removed by the benchmark"
            )
        self.pg = PostgresDatabases(admin)
        self.r["postgres_version"] = self.pg.server_version()
        settings = self.pg.admin.execute(
            "SELECT name, setting, unit FROM pg_settings WHERE name IN "
            "('shared_buffers', 'work_mem', 'fsync', 'synchronous_commit', 'max_parallel_workers_per_gather', "
            "'effective_cache_size', 'autovacuum') ORDER BY name"
        ).fetchall()
        self.r["postgres_settings"] = {n: f"{s}{' × ' + u if u else ''}" for n, s, u in settings}
        log(f"PostgreSQL {self.r['postgres_version']} ({self.r['postgres_server']})")

    def generate(self) -> None:
        started = time.perf_counter()
        written = write_course_csv(self.csv, self.N, self.args.seed, header=True)
        if written != self.N:
            raise BenchmarkError(f"the CSV has {written:,} rows, not {self.N:,}")
        self.r["csv"] = {"rows": written, "bytes": self.csv.stat().st_size, "seconds": time.perf_counter() - started}

    def load(self) -> None:
        assert self.pg is not None
        columns = ", ".join(f"{c} {BARE_TYPES.get(c, 'text')}" for c in COLUMNS)
        figures = {
            key: LoadFigure(what, backend)
            for key, what, backend in (
                ("sqlite_import", "`sqlite3` `.import --csv --skip 1` into a bare table", "sqlite"),
                ("sqlite_moviedash", "`moviedash load` (with rollups)", "sqlite"),
                ("pg_copy", "`psql -c \"\\copy bare FROM 'file' CSV HEADER\"` into a bare table", "postgresql"),
                ("pg_moviedash", "`moviedash load` (COPY, and whatever else it maintains)", "postgresql"),
            )
        }
        csv = str(self.csv)
        for round_ in range(self.args.load_rounds):
            last = round_ == self.args.load_rounds - 1
            bare_db = self.work / "bare.db"
            bare_db.unlink(missing_ok=True)
            self.sqlite_db.unlink(missing_ok=True)
            script = f"CREATE TABLE bare ({columns});\n.import --csv --skip 1 '{csv}' bare\n"
            self.record(figures["sqlite_import"], self.run_timed(["sqlite3", str(bare_db)], "sqlite3 .import", script))
            self.count_sqlite(bare_db, "bare")
            bare_db.unlink()
            self.record(
                figures["sqlite_moviedash"],
                self.run_timed(cli("load", csv, "--db", str(self.sqlite_db)), "moviedash load (SQLite)"),
            )
            self.count_sqlite(self.sqlite_db, "movies")

            bare_url = self.pg.new("bare")
            self.psql(bare_url, f"CREATE TABLE bare ({columns})")
            copy = f"\\copy bare FROM '{csv}' CSV HEADER"
            self.record(
                figures["pg_copy"],
                self.run_timed(
                    ["psql", "-X", "-v", "ON_ERROR_STOP=1", "-d", bare_url, "-c", copy], "psql \\copy", postgres=True
                ),
            )
            self.count_pg(bare_url, "bare")
            self.pg.admin.execute("DROP DATABASE moviedash_bench_bare WITH (FORCE)")
            self.pg_url = self.pg.new("served")
            self.record(
                figures["pg_moviedash"],
                self.run_timed(cli("load", csv, "--db", self.pg_url), "moviedash load (PostgreSQL)", postgres=True),
            )
            self.count_pg(self.pg_url, "movies")
            if not last:
                log(f"load round {round_ + 1} of {self.args.load_rounds} done")
        self.loads = figures
        started = time.perf_counter()
        with psycopg.connect(self.pg_url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        self.r["vacuum_analyze_s"] = time.perf_counter() - started
        self.r["sqlite_bytes"] = self.sqlite_db.stat().st_size
        with psycopg.connect(self.pg_url) as conn:
            self.r["postgresql_bytes"] = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        for key, f in figures.items():
            log(f"load {key}: {f.wall:.1f} s wall, {fmt_s(f.cpu)} CPU")

    def record(self, figure: LoadFigure, timed: tuple[float, float, float | None]) -> None:
        figure.wall_s.append(timed[0])
        figure.client_cpu_s.append(timed[1])
        figure.server_cpu_s.append(timed[2])

    def count_sqlite(self, db: Path, table: str) -> None:
        conn = sqlite3.connect(db)
        try:
            rows = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        finally:
            conn.close()
        if rows != self.N:
            raise BenchmarkError(f"{db.name}: {table} holds {rows:,} rows, not {self.N:,}")

    def count_pg(self, url: str, table: str) -> None:
        rows = int(self.psql(url, f"SELECT COUNT(*) FROM {table}"))
        if rows != self.N:
            raise BenchmarkError(f"PostgreSQL: {table} holds {rows:,} rows, not {self.N:,}")

    def targets(self) -> dict[str, Path | str]:
        return {"sqlite": self.sqlite_db, "postgresql": self.pg_url}

    def discover(self) -> None:
        with (
            Server(self.sqlite_db, self.work / "server-discovery.log", self.args.start_timeout) as server,
            Client(server.port, self.args.request_timeout) as client,
        ):
            deps = client.get("/_dash-dependencies")
            layout = client.get("/_dash-layout")
        for resp, what in ((deps, "/_dash-dependencies"), (layout, "/_dash-layout")):
            if resp.status != 200:
                raise BenchmarkError(f"{what}: HTTP {resp.status}: {resp.body[:300]!r}")
        self.found: dict[str, Callback] = find_callbacks(deps.json())
        self.page = Page.from_layout(layout.json())
        self.chosen: list[RandomSelection] = random_selections(
            self.args.selections, self.args.selection_seed, self.page.first_day, self.page.last_day, self.page.options
        )
        self.r["page"] = {
            "first": self.page.first_day.isoformat(),
            "last": self.page.last_day.isoformat(),
            "options": self.page.options,
        }

    def run_duckdb(self) -> None:
        if self.args.no_duckdb:
            self.r["duckdb_note"] = "skipped (--no-duckdb)"
            return
        if importlib.util.find_spec("duckdb") is None:
            self.r["duckdb_note"] = "skipped: duckdb is not installed (pip install -r benchmarks/requirements.txt)"
            return
        chosen = self.work / "selections.json"
        chosen.write_text(json.dumps([c.as_dict() for c in self.chosen]))
        out = self.work / "duck.json"
        command = [
            sys.executable,
            "-m",
            "benchmarks.duck",
            "--csv",
            str(self.csv),
            "--header",
            "--db",
            str(self.work / "events.duckdb"),
            "--out",
            str(out),
            "--repeat",
            str(self.args.selection_warm),
            "--selections",
            str(chosen),
        ]
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, timeout=self.args.step_timeout)
        if done.returncode != 0:
            raise BenchmarkError(f"DuckDB benchmark failed: {done.stderr[-2000:]}")
        self.r["duckdb"] = json.loads(out.read_text())
        self.r["duckdb"]["process_s"] = time.perf_counter() - started
        if self.r["duckdb"]["load"]["rows"] != self.N:
            raise BenchmarkError(f"DuckDB loaded {self.r['duckdb']['load']['rows']:,} rows, not {self.N:,}")
        (self.work / "events.duckdb").unlink(missing_ok=True)

    def serve(
        self, phase: str, requests: list[tuple[Measured, str, str, Any, int, Callable[[Response], None]]]
    ) -> None:
        with servers(self.targets(), self.work, phase, self.args.start_timeout, self.args.request_timeout) as (
            started,
            clients,
        ):
            for i, (item, method, path, body, warm, check) in enumerate(requests):
                self.measured.append(measure_both(clients, item, method, path, body, warm, check, self.mismatches))
                if (i + 1) % 50 == 0:
                    log(f"{phase}: {i + 1} of {len(requests)} requests")
            self.r["servers"][phase] = {
                b: {"start_s": s.start_seconds, "memory": s.memory()} for b, s in started.items()
            }

    def serve_callbacks(self) -> None:
        default = [
            c
            for c in callback_cases(self.page, self.found, [Selection("default")])
            if c.callback in CHART_CALLBACKS and c.unfiltered
        ]
        requests = []
        for case in default:
            label = case.label if case.selection == "default" else f"{case.label} ({case.selection})"
            item = Measured("callbacks", "default", case.selection, "callback", label, case.callback)
            requests.append(
                (
                    item,
                    "POST",
                    "/_dash-update-component",
                    case.body,
                    self.args.warm,
                    callback_check(f"callback {case.label} [{case.selection}]"),
                )
            )
        for chosen in self.chosen:
            for case in random_selection_cases(self.page, self.found, chosen):
                item = Measured("callbacks", "selection", chosen.name, "callback", case.label, case.callback)
                requests.append(
                    (
                        item,
                        "POST",
                        "/_dash-update-component",
                        case.body,
                        self.args.selection_warm,
                        callback_check(f"callback {case.label} [{chosen.name}]"),
                    )
                )
        self.serve("callbacks", requests)

    def serve_routes(self) -> None:
        requests: list[tuple[Measured, str, str, Any, int, Callable[[Response], None]]] = []
        for path in PAGE_ROUTES:
            requests.append(
                (
                    Measured("routes", "default", "default", "route", path),
                    "GET",
                    path,
                    None,
                    self.args.warm,
                    route_check(path, False),
                )
            )
        for url in route_urls(Selection("default")):
            requests.append(
                (
                    Measured("routes", "default", "default", "route", url),
                    "GET",
                    url,
                    None,
                    self.args.warm,
                    route_check(url, True),
                )
            )
        for chosen in self.chosen:
            for url in chosen.route_urls():
                requests.append(
                    (
                        Measured("routes", "selection", chosen.name, "route", url),
                        "GET",
                        url,
                        None,
                        self.args.selection_warm,
                        route_check(url, False),
                    )
                )
        self.serve("routes", requests)

    def serve_figures(self) -> None:
        requests: list[tuple[Measured, str, str, Any, int, Callable[[Response], None]]] = []
        for url in figure_urls(Selection("default")):
            requests.append(
                (
                    Measured("figures", "default", "default", "route", url),
                    "GET",
                    url,
                    None,
                    self.args.warm,
                    route_check(url, True),
                )
            )
        self.serve("figures", requests)

    def close(self) -> None:
        if self.pg is not None:
            try:
                self.pg.close()
            except psycopg.Error as exc:
                log(f"could not drop the benchmark databases: {exc}")
        if self.cluster is not None:
            self.cluster.remove()


# --------------------------------------------------------------------------- #
# Summaries and the report
# --------------------------------------------------------------------------- #


def default_items(measured: list[Measured]) -> list[Measured]:
    """The default view's requests: its callbacks, its routes and the page routes."""
    return [m for m in measured if m.group == "default"]


def worst(items: list[Measured], backend: str, key: Callable[[Timing], float]) -> tuple[float, str]:
    best, label = float("nan"), ""
    for m in items:
        t = m.timings.get(backend)
        if t is None:
            continue
        value = key(t)
        if label == "" or value > best:
            best, label = value, m.label if m.kind == "route" else f"callback {m.label}"
    return best, label


def build_targets(b: Backends) -> list[Target]:
    defaults = default_items(b.measured)
    picked = [m for m in b.measured if m.group == "selection"]
    out = []
    v, what = worst(defaults, "postgresql", lambda t: t.warm_p95)
    s, _ = worst(defaults, "sqlite", lambda t: t.warm_p95)
    out.append(
        Target(
            f"every default view, warm p95 (of {b.args.warm}) ≤ {DEFAULT_WARM_P95_MS:.0f} ms",
            v,
            DEFAULT_WARM_P95_MS,
            "ms",
            f"worst: `{what}`",
            s,
        )
    )
    v, what = worst(defaults, "postgresql", lambda t: t.cold_ms)
    s, _ = worst(defaults, "sqlite", lambda t: t.cold_ms)
    out.append(
        Target(f"every default view, cold ≤ {DEFAULT_COLD_MS:.0f} ms", v, DEFAULT_COLD_MS, "ms", f"worst: `{what}`", s)
    )
    v, what = worst(picked, "postgresql", lambda t: t.cold_ms)
    s, _ = worst(picked, "sqlite", lambda t: t.cold_ms)
    out.append(
        Target(
            f"any of {len(b.chosen)} random selections, every request cold ≤ {SELECTION_COLD_MS:.0f} ms",
            v,
            SELECTION_COLD_MS,
            "ms",
            f"worst: `{what}`",
            s,
        )
    )
    copy, ours = b.loads["pg_copy"], b.loads["pg_moviedash"]
    out.append(
        Target(
            f"`moviedash load` ≤ {LOAD_RATIO_MAX}× `psql \\copy` (wall, same file, same run)",
            ours.wall / copy.wall,
            LOAD_RATIO_MAX,
            "×",
            f"{fmt_s(ours.wall)} vs {fmt_s(copy.wall)}",
            b.loads["sqlite_moviedash"].wall / b.loads["sqlite_import"].wall,
        )
    )
    ratios = selection_ratios(b.measured)
    cold = [r["cold_ratio"] for r in ratios]
    within = sum(1 for r in cold if r <= SELECTION_RATIO_MAX)
    top = max(ratios, key=lambda r: r["cold_ratio"]) if ratios else None
    out.append(
        Target(
            f"each random selection ≤ {SELECTION_RATIO_MAX:.0f}× SQLite's latency (sum of its requests, cold)",
            max(cold) if cold else float("nan"),
            SELECTION_RATIO_MAX,
            "×",
            f"{within} of {len(cold)} within; median {fmt_ratio(statistics.median(cold)) if cold else '—'}; "
            f"worst: {top['selection'] if top else ''}",
        )
    )
    return out


def kind_table(measured: list[Measured], group: str) -> list[str]:
    """p50/p95/max of cold and warm latencies per route/callback and backend."""
    kinds: dict[str, dict[str, dict[str, list[float]]]] = {}
    for m in measured:
        if m.group != group:
            continue
        for backend, t in m.timings.items():
            entry = kinds.setdefault(route_kind(t), {}).setdefault(backend, {"cold": [], "warm": []})
            entry["cold"].append(t.cold_ms)
            entry["warm"].extend(t.warm_ms)
    lines = ["| request | backend | n | cold p50 / p95 / max ms | warm p50 / p95 / max ms |", "|---|---|---|---|---|"]
    for kind, per in kinds.items():
        for backend in BACKENDS:
            if backend not in per:
                continue
            c, w = spread(per[backend]["cold"]), spread(per[backend]["warm"])
            lines.append(
                f"| `{kind}` | {LABEL[backend]} | {len(per[backend]['cold'])} | "
                f"{fmt_ms(c['p50'])} / {fmt_ms(c['p95'])} / {fmt_ms(c['max'])} | "
                f"{fmt_ms(w['p50'])} / {fmt_ms(w['p95'])} / {fmt_ms(w['max'])} |"
            )
    return lines


def duck_per_selection(b: Backends) -> list[dict[str, Any]]:
    """Per selection: DuckDB's cold ms for its five aggregations vs moviedash's for the same on each backend."""
    duck = (b.r.get("duckdb") or {}).get("selections") or []
    by_key: dict[tuple[str, str, str], Measured] = {}
    for m in b.measured:
        if m.group == "selection":
            key = m.label.split("?", 1)[0] if m.kind == "route" else m.label
            by_key[(m.selection, m.kind, key)] = m
    out = []
    for entry in duck:
        duck_ms = sum(q["cold_ms"] for q in entry["queries"])
        ours = {backend: 0.0 for backend in BACKENDS}
        complete = True
        for q in entry["queries"]:
            m = by_key.get((entry["name"], *DUCK_PAIRS[q["name"]]))
            if m is None:
                complete = False
                continue
            for backend in BACKENDS:
                ours[backend] += m.timings[backend].cold_ms
        if complete:
            out.append({"selection": entry["name"], "duckdb_ms": duck_ms, **{f"{k}_ms": v for k, v in ours.items()}})
    return out


def render(
    b: Backends,
    started: dt.datetime,
    load_before: tuple[float, ...],
    load_after: tuple[float, ...],
    samples: list[float],
    total_s: float,
) -> str:
    a, r, N = b.args, b.r, b.N
    m = r["machine"]
    L = [f"# SQLite and PostgreSQL side by side: {N:,} events", ""]
    if a.note:
        L += [f"**{a.note}**", ""]
    if b.mismatches:
        L += [f"**FAILED: {len(b.mismatches)} answer(s) of PostgreSQL differ from SQLite's (see Checks).**", ""]
    L += [
        f"- date: {started:%Y-%m-%d %H:%M %Z}".rstrip(),
        f"- machine: {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM, {m['os']}; Python {m['python']}, "
        f"SQLite {m['sqlite']} (Python's; `sqlite3` CLI {r['sqlite_cli']}), PostgreSQL {r['postgres_version']} "
        f"(`psql` {r['psql']}), duckdb {version('duckdb')}, psycopg {version('psycopg')}",
        f"- PostgreSQL: {r['postgres_server']}; settings: "
        + ", ".join(f"{k} {v}" for k, v in r["postgres_settings"].items()),
        f"- command: `{b.command}` (from the repository root; whole run {total_s / 60:.1f} min)",
        f"- code: {r['product']}",
        f"- load average (1/5/15 min) before {load_before[0]:.2f}/{load_before[1]:.2f}/{load_before[2]:.2f}, "
        f"after {load_after[0]:.2f}/{load_after[1]:.2f}/{load_after[2]:.2f}"
        + (
            f"; 1-min load average during the run (every 5 s): median {statistics.median(samples):.2f}, "
            f"max {max(samples):.2f}"
            if samples
            else ""
        ),
        f"- data: {N:,} demo events (seed {a.seed}), {r['page']['first']} .. {r['page']['last']}, one course-format "
        f"CSV with a header row ({r['csv']['bytes'] / 2**20:,.0f} MiB); served: SQLite file "
        f"{r['sqlite_bytes'] / 2**20:,.0f} MiB, PostgreSQL database {r['postgresql_bytes'] / 2**20:,.0f} MiB",
        f"- cold = the first request for that URL/body since its server started (fresh servers for each of the "
        f"three phases: callbacks, routes, figures); warm = the next {a.warm} (default views) or {a.selection_warm} "
        "(random selections); p95 nearest-rank; one keep-alive connection per server; each request sent to "
        "SQLite, then to PostgreSQL.",
        "",
        "## Targets (issue 13)",
        "",
        *render_targets(build_targets(b), N),
        "",
        "## Load: the same CSV, four ways",
        "",
        f"Median of {a.load_rounds} round(s). CPU = the command's process tree"
        + (
            " + the PostgreSQL server's processes (its backends)"
            if b.cluster
            else " (the named server's CPU is not visible here)"
        )
        + ".",
        "",
        "| backend | load | wall s | CPU s | rows/s | ÷ bare |",
        "|---|---|---|---|---|---|",
    ]
    bare = {"sqlite": b.loads["sqlite_import"].wall, "postgresql": b.loads["pg_copy"].wall}
    for f in b.loads.values():
        L.append(
            f"| {LABEL[f.backend]} | {f.what} | {fmt_s(f.wall)} | {fmt_s(f.cpu)} | {N / f.wall:,.0f} | "
            f"{fmt_ratio(f.wall / bare[f.backend])} |"
        )
    L += [
        "",
        f"Then `VACUUM ANALYZE` of the served PostgreSQL database: {fmt_s(r['vacuum_analyze_s'])} (not counted "
        "in the load; autovacuum would have done it by the time anyone looks).",
        "",
    ]

    L += [
        "## Default views",
        "",
        f"Every chart/KPI callback of the default view and of each chart control, every `/data` and "
        f"`/figures` route of the default view, and the page routes: cold, and warm p95 of {a.warm}. The targets "
        "count every one of them (the page routes too: `/_dash-layout` holds the data's filter options and "
        "span); the first request of each phase also pays the server's first-request set-up.",
        "",
        "| request | SQLite cold ms | SQLite warm p95 | PostgreSQL cold ms | PostgreSQL warm p95 | PG ÷ SQLite (cold / warm p95) | bytes |",  # noqa: E501 (a table row)
        "|---|---|---|---|---|---|---|",
    ]
    for item in default_items(b.measured):
        s, p = item.timings["sqlite"], item.timings["postgresql"]
        name = f"`{item.label}`" if item.kind == "route" else f"callback {item.label}"
        L.append(
            f"| {name} | {fmt_ms(s.cold_ms)} | {fmt_ms(s.warm_p95)} | {fmt_ms(p.cold_ms)} | {fmt_ms(p.warm_p95)} | "
            f"{fmt_ratio(p.cold_ms / s.cold_ms)} / {fmt_ratio(p.warm_p95 / s.warm_p95)} | {s.bytes:,} |"
        )
    L += ["", "By kind:", "", *kind_table(b.measured, "default"), ""]

    L += [
        f"## {len(b.chosen)} random selections",
        "",
        f"`benchmarks.selections.random_selections({len(b.chosen)}, seed={a.selection_seed}, ...)`: each selection's "
        "five chart/KPI callbacks (dates, filters, resolution, top N, rank) and its three `/data` routes; cold, and "
        f"warm ({a.selection_warm} each).",
        "",
        *kind_table(b.measured, "selection"),
        "",
        "Per selection (sum of its eight requests):",
        "",
        "| selection | SQLite cold ms | PostgreSQL cold ms | PG ÷ SQLite cold | SQLite warm ms | PostgreSQL warm ms | PG ÷ SQLite warm |",  # noqa: E501 (a table row)
        "|---|---|---|---|---|---|---|",
    ]
    for row in selection_ratios(b.measured):
        L.append(
            f"| {row['selection']} | {fmt_ms(row['sqlite_cold_ms'])} | {fmt_ms(row['postgresql_cold_ms'])} | "
            f"{fmt_ratio(row['cold_ratio'])} | {fmt_ms(row['sqlite_warm_ms'])} | {fmt_ms(row['postgresql_warm_ms'])} | "
            f"{fmt_ratio(row['warm_ratio'])} |"
        )
    L.append("")

    L += ["## DuckDB on the same rows", ""]
    duck = r.get("duckdb")
    if not duck:
        L += [f"Not run: {r.get('duckdb_note', '')}.", ""]
    else:
        rows = duck_per_selection(b)
        faster = {backend: sum(1 for x in rows if x["duckdb_ms"] < x[f"{backend}_ms"]) for backend in BACKENDS}
        L += [
            f"duckdb {duck['version']} ({duck['threads']} threads), the same CSV loaded into a DuckDB file in "
            f"{fmt_s(duck['load']['seconds'])}; for each random selection the same five aggregations as SQL (both "
            "series at its resolution, its toplist, the heatmap, the KPIs of the period and the one before), cold "
            "= first run on the connection. moviedash's figure for the same five: its three `/data` routes and the "
            "heatmap and KPI callbacks, cold, over HTTP (DuckDB's has no HTTP, JSON or figure building).",
            "",
            f"**DuckDB is faster on {faster['sqlite']} of {len(rows)} selections than SQLite and on "
            f"{faster['postgresql']} of {len(rows)} than PostgreSQL.**",
            "",
            "| selection | DuckDB cold ms | SQLite cold ms | PostgreSQL cold ms |",
            "|---|---|---|---|",
        ]
        for x in rows:
            L.append(
                f"| {x['selection']} | {fmt_ms(x['duckdb_ms'])} | {fmt_ms(x['sqlite_ms'])} | {fmt_ms(x['postgresql_ms'])} |"  # noqa: E501 (a table row)
            )
        L += ["", "Course results (default view):", "", "| query | DuckDB cold ms | warm median ms |", "|---|---|---|"]
        for q in duck["queries"]:
            L.append(f"| {q['name']} | {fmt_ms(q['cold_ms'])} | {fmt_ms(q['warm_median_ms'])} |")
        L.append("")

    L += ["## Checks", ""]
    compared = sum(1 + len(next(iter(m.timings.values())).warm_ms) for m in b.measured)
    if b.mismatches:
        L.append(f"**FAILED**: {len(b.mismatches)} of {compared:,} PostgreSQL answers differ from SQLite's:")
        L += [f"- `{x.label}` [{x.selection}] ({x.sample}): {x.detail}" for x in b.mismatches[:50]]
    else:
        L.append(
            f"OK: all {compared:,} PostgreSQL answers (every measured request, cold and warm) are byte-identical "
            "to SQLite's first answer for the same request (and so are SQLite's own warm answers)."
        )
    L.append("")
    L.append(
        "Both servers run with `PYTHONHASHSEED=0` (per-process string hashing otherwise orders the props of a "
        "`/_dash-layout` component differently in each process, whatever the backend); in `/` the per-response "
        "`end_id` of Dash's config is masked."
    )
    L += [
        "",
        "## Servers",
        "",
        "| phase | backend | start to listening | VmRSS / VmHWM after the phase |",
        "|---|---|---|---|",
    ]
    for phase, per in r["servers"].items():
        for backend, s in per.items():
            L.append(
                f"| {phase} | {LABEL[backend]} | {fmt_s(s['start_s'])} | {s['memory'].get('VmRSS', 0) / 1024:,.0f} / "
                f"{s['memory'].get('VmHWM', 0) / 1024:,.0f} MiB |"
            )
    L += ["", "## Run time by phase", "", "| phase | s |", "|---|---|"]
    L += [f"| {name} | {seconds:,.1f} |" for name, seconds in r["phases"].items()]
    L += [f"| **total** | **{total_s:,.1f}** |", ""]
    return "\n".join(L)


def tool_version(command: list[str]) -> str:
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    return out.split()[2] if command[0] == "psql" and len(out.split()) > 2 else (out.split() or ["?"])[0]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.backends", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, required=True, help="events to generate (the issue's targets: 10000000)")
    parser.add_argument("--selections", type=int, default=40, help="random selections (default 40)")
    parser.add_argument("--seed", type=int, default=42, help="demo data seed (default 42)")
    parser.add_argument("--selection-seed", type=int, default=13, help="random selections' seed (default 13)")
    parser.add_argument("--warm", type=int, default=20, help="warm requests per default view (default 20)")
    parser.add_argument(
        "--selection-warm", type=int, default=3, help="warm requests per random selection request (default 3)"
    )
    parser.add_argument("--load-rounds", type=int, default=1, help="loads of each kind, median kept (default 1)")
    parser.add_argument("--no-duckdb", action="store_true", help="skip DuckDB even if installed")
    parser.add_argument(
        "--out", type=Path, help="Markdown results (default benchmarks/results-backends-<N>.md; JSON next to it)"
    )
    parser.add_argument("--note", help="a sentence at the top of the results (e.g. which code was measured)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (CSV, databases, server logs)")
    parser.add_argument("--request-timeout", type=float, default=600.0, help="seconds per HTTP request (default 600)")
    parser.add_argument(
        "--start-timeout", type=float, default=300.0, help="seconds for a server to listen (default 300)"
    )
    parser.add_argument("--step-timeout", type=float, default=3600.0, help="seconds per load/subprocess (default 3600)")
    args = parser.parse_args(argv)
    if args.events < 1_000:
        parser.error("--events must be at least 1000")
    if args.selections < 1 or args.warm < 1 or args.selection_warm < 1 or args.load_rounds < 1:
        parser.error("--selections, --warm, --selection-warm and --load-rounds must be at least 1")
    for program in ("sqlite3", "psql"):
        if shutil.which(program) is None:
            parser.error(
                f"`{program}` is not on PATH (Debian: apt-get install {program if program == 'sqlite3' else 'postgresql-client'})"  # noqa: E501 (a table row)
            )
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    raw = sys.argv[1:] if argv is None else argv
    command = shlex.join(["python", "-m", "benchmarks.backends", *raw])
    out = args.out or HERE / f"results-backends-{args.events}.md"
    work = Path(tempfile.mkdtemp(prefix="moviedash-backends-"))
    started_at, load_before = dt.datetime.now().astimezone(), os.getloadavg()
    bench = Backends(args, work, command)
    bench.r["machine"] = machine_facts()
    bench.r["product"] = product_source()
    bench.r["sqlite_cli"] = tool_version(["sqlite3", "--version"])
    bench.r["psql"] = tool_version(["psql", "--version"])
    log(f"work folder {work}; results -> {out}; {bench.r['product']}")
    sampler = LoadSampler()
    sampler.start()
    started = time.perf_counter()
    try:
        bench.run()
    except BenchmarkError as exc:
        print(f"\nBENCHMARK FAILED: {exc}", file=sys.stderr)
        for backend in BACKENDS:
            path = work / f"server-{backend}.log"
            if path.exists():
                tail = "\n".join(path.read_text(errors="replace").splitlines()[-30:])
                print(f"--- {backend} server log (tail) ---\n{tail}", file=sys.stderr)
        return 2
    finally:
        samples = sampler.stop()
        bench.close()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    total_s = time.perf_counter() - started
    load_after = os.getloadavg()
    bench.r["harness_peak_kib"] = proc_status(os.getpid()).get("VmHWM")
    report = render(bench, started_at, load_before, load_after, samples, total_s)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report + "\n", encoding="utf-8")
    targets = build_targets(bench)
    out.with_suffix(".json").write_text(
        json.dumps(
            {
                "command": command,
                "note": args.note,
                "started": started_at.isoformat(),
                "total_s": total_s,
                "load_average": {"before": load_before, "after": load_after, "samples": samples},
                **{k: v for k, v in bench.r.items() if k != "duckdb"},
                "duckdb": {k: v for k, v in (bench.r.get("duckdb") or {}).items() if k != "answers"},
                "selections": [c.as_dict() for c in bench.chosen],
                "targets": [
                    {
                        "name": t.name,
                        "postgresql": t.measured,
                        "sqlite": t.sqlite,
                        "limit": t.limit,
                        "unit": t.unit,
                        "met": t.met,
                        "detail": t.detail,
                    }
                    for t in targets
                ],
                "loads": {k: f.as_dict() for k, f in bench.loads.items()},
                "measured": [m.as_dict() for m in bench.measured],
                "selection_ratios": selection_ratios(bench.measured),
                "duckdb_per_selection": duck_per_selection(bench),
                "mismatches": [vars(x) for x in bench.mismatches],
            },
            default=str,
        )
        + "\n",
        encoding="utf-8",
    )
    print(report)
    log(f"results written to {out} and {out.with_suffix('.json').name}; whole run {total_s / 60:.1f} min")
    if bench.mismatches:
        print(
            f"\nBYTE-IDENTITY CHECK FAILED: {len(bench.mismatches)} PostgreSQL answer(s) differ from SQLite's",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
