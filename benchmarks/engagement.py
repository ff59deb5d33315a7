"""The engagement page on SQLite and PostgreSQL: load A/B against older code, rollup sizes, routes and charts.

    python -m benchmarks.engagement --events 10000000 --baseline-src DIR [--repeat 20] [--load-rounds 1]
        [--seed 7] [--no-raw] [--out FILE]

Issue 14's acceptance, at 10M events: every new route and chart cold ≤ 300 ms and
warm p95 ≤ 30 ms on SQLite, ≤ 2× that on PostgreSQL; a load with the new rollups
at most 10 % longer than the same load by the code before the issue (same run,
both backends); the new rollups ≤ 15 % of the database.  What one run does, in a
temporary folder removed at the end:

1. **Data**: one course-format CSV of ``--events`` demo events with a header row
   (``benchmarks.common.write_course_csv``, seed ``--seed``, 7 by default).
2. **PostgreSQL**: a throwaway cluster with default settings (benchmarks/pgcluster.py),
   or the server named by ``MOVIEDASH_BENCH_PG`` (a URL; databases
   ``moviedash_bench_eng_current`` and ``moviedash_bench_eng_baseline`` are made there
   and dropped).
3. **Load A/B**: ``moviedash load`` of that CSV (a subprocess, from the work folder with
   ``PYTHONPATH`` the code's folder, so that code's package is imported: checked)
   into a new SQLite file and a new PostgreSQL database, by this checkout's code
   (current) and by ``--baseline-src DIR``, a folder holding an older ``moviedash``
   package (``git archive bfdcb00 moviedash | tar -x -C DIR``: the last commit before
   issue 14).  Paired per backend: baseline then current (every second round
   current then baseline), so drift of the machine hits both; ``--load-rounds`` pairs,
   medians compared.  A baseline that cannot load is reported, not fatal.  Then
   ``VACUUM ANALYZE`` of the current PostgreSQL database (not counted).
4. **Sizes**: the database (SQLite: the file; PostgreSQL: ``pg_database_size``), every
   rollup table (``md_*``, indexes included; SQLite ``dbstat``, PostgreSQL
   ``pg_total_relation_size`` summed over each table's partitions), and the rollups of
   issue 14: ``md_engagement``, ``md_engagement_bins``, ``md_engagement_bins_month`` and the ``engagement``/``deciles``
   columns of ``md_title_day``/``md_title_month`` (payload: ``length``, ``pg_column_size``).
5. **Serving**, in process (Flask's test client on ``create_app`` of each current
   database, no network): the engagement ``/data`` routes (:func:`route_urls`), the
   page (``/engagement``, and ``/_dash-layout`` as asked from it), every chart of the
   figures API (``/figures/engagement/<chart>.json``), and the page's callbacks posted
   to ``/_dash-update-component`` (every chart, the key figures and the title list: the
   default view, each control variant, one filtered selection; bodies built from
   ``/_dash-dependencies`` and ``/_dash-layout`` by ``benchmarks.selections``).  Each
   request: cold = median of 5 first requests with the answer caches emptied
   (``analysis.CACHE`` and the first views' ``VIEW_CACHE``), warm = p95 (nearest
   rank) of ``--repeat``; every sample sent to SQLite then PostgreSQL.
6. **Checks**: every PostgreSQL answer (cold and warm) must equal SQLite's first answer
   byte for byte (a page's per-response ``end_id`` masked); on SQLite a copy of the
   file without ``md_meta`` (every answer from the raw table; skipped with
   ``--no-raw``) answers each ``/data`` route once, with the same bytes.
7. **Results**: Markdown, ``--out`` (default ``benchmarks/results-engagement-<events>.md``):
   the machine, the command, the targets (met/missed with the worst request), the load
   A/B, the sizes and a table of every request.  Exit status 1 when an answer differs.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import psycopg

from moviedash import analysis, create_app, pipeline
from moviedash.dashboard import engagement_page, ids
from moviedash.dashboard.views import VIEW_CACHE
from moviedash.factory import freeze_startup_objects
from moviedash.store import redact

from .backends import Target, comparable, first_difference
from .client import BenchmarkError, percentile
from .common import machine, write_course_csv
from .load import PostgresDatabases
from .pgcluster import Cluster
from .run import fmt_ms, fmt_s, log, product_source
from .selections import (
    DATE_RANGE,
    DEVICE,
    MARKET,
    SESSIONTYPE,
    Callback,
    Page,
    Selection,
    check_callback_answer,
    check_route_answer,
    find_callbacks,
    request_body,
)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BACKENDS = ("sqlite", "postgresql")
LABEL = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
#: The query time limit while timing (the served default, 5 s, stops some raw answers on a busy machine).
TIMEOUT = "120"
#: Issue 14's targets (at 10M events): PostgreSQL gets twice SQLite's latencies.
COLD_MS = {"sqlite": 300.0, "postgresql": 600.0}
WARM_P95_MS = {"sqlite": 30.0, "postgresql": 60.0}
LOAD_RATIO_MAX = 1.10
ROLLUP_SHARE_MAX = 15.0  # % of the database
TARGET_EVENTS = 10_000_000
#: Cold samples per request (median kept).
COLD = 5
#: A filtered selection (dates with edge days, one device), as in :func:`route_urls`.
FILTERED = Selection("2024-03-10..2024-06-20, device=TV", dt.date(2024, 3, 10), dt.date(2024, 6, 20), device=("TV",))
PAGE_URL = "http://localhost/engagement"
DASH_UPDATE = "/_dash-update-component"
#: The page's server callbacks, by one output each: every chart, the key figures, the titles of "where people stop".
CALLBACKS: dict[str, str] = {
    **{chart: f"{ids.graph(chart)}.figure" for chart in engagement_page.CHART_KEYS},
    "kpis": f"{ids.kpi_value('completion-rate')}.children",
    "titles": f"{ids.STOPS_TITLE}.options",
}
#: Each control's other values (the page starts at :data:`moviedash.dashboard.engagement_page.DEFAULTS`),
#: posted to every callback that takes the control as an input.
VARIANTS: tuple[tuple[str, str], ...] = (
    (ids.COMPLETION_MEASURE, "completion"),
    (ids.COMPLETION_MEASURE, "full_watches"),
    (ids.COMPLETION_RESOLUTION, "daily"),
    (ids.COMPLETION_RESOLUTION, "monthly"),
    (ids.BREAKDOWN_BY, "market"),
    (ids.BREAKDOWN_BY, "sessiontype"),
    (ids.QUALITY_MEASURE, "quality"),
    (ids.QUALITY_MEASURE, "quality_p90"),
    (ids.QUALITY_RESOLUTION, "daily"),
    (ids.QUALITY_RESOLUTION, "monthly"),
)
#: The figures API's own parameter of each chart (:data:`moviedash.pipeline.ENGAGEMENT_CHART_PARAMS`), as the page
#: starts; ``title``: the page's first title.
FIGURE_OPTIONS = {"resolution": "weekly", "by": "device"}


def route_urls(title: str) -> list[str]:
    """The engagement ``/data`` routes timed; ``title``: the one of the stop curves (the most played)."""
    t = quote(title)
    return [
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
        # The most played title, whole range and a filtered span with edge days.
        f"/data/completion/stops/?title={t}",
        f"/data/completion/stops/?title={t}&start=2024-03-10&end=2024-06-20&market=SE",
        "/data/completion/distribution/",
        "/data/completion/distribution/?start=2024-01-01&end=2024-03-31&market=SE",
        "/data/quality/completion/",
        "/data/quality/completion/?start=2024-04-01&end=2024-06-30&device=TV",
    ]


def figure_urls(title: str) -> list[str]:
    """``/figures/engagement/<chart>.json`` of every engagement chart, with its own parameter as the page starts."""
    options = {**FIGURE_OPTIONS, "title": title}
    out = []
    for chart in pipeline.ENGAGEMENT_CHARTS:
        own = pipeline.ENGAGEMENT_CHART_PARAMS[chart]
        query = "?" + urlencode({p: options[p] for p in own}, quote_via=quote) if own else ""
        out.append(f"/figures/engagement/{chart}.json{query}")
    return out


# --------------------------------------------------------------------------- #
# Pure parts: loads, sizes, targets (unit-tested in tests/unit/test_bench_engagement.py)
# --------------------------------------------------------------------------- #


@dataclass
class LoadAB:
    """``moviedash load`` of the same CSV by the current and the baseline code, on one backend (seconds per round)."""

    backend: str
    current_s: list[float] = field(default_factory=list)
    baseline_s: list[float] = field(default_factory=list)
    baseline_error: str | None = None  # why the baseline did not load (None: it did, or was not asked)

    @property
    def current(self) -> float:
        return statistics.median(self.current_s) if self.current_s else float("nan")

    @property
    def baseline(self) -> float:
        return statistics.median(self.baseline_s) if self.baseline_s else float("nan")

    @property
    def ratio(self) -> float:
        """Current ÷ baseline (medians); NaN when either is missing."""
        return self.current / self.baseline if self.current_s and self.baseline_s else float("nan")


@dataclass(frozen=True)
class Sizes:
    """Bytes of a database and of its rollups."""

    total: int  # the whole database
    rollups: int  # every md_* table, indexes included
    engagement: int  # md_engagement
    bins: int  # md_engagement_bins and md_engagement_bins_month
    titles: int  # the engagement and deciles columns of md_title_day and md_title_month

    @property
    def issue14(self) -> int:
        """The rollups issue 14 added."""
        return self.engagement + self.bins + self.titles

    def share(self, part: int) -> float:
        """``part`` in % of the database."""
        return 100 * part / self.total if self.total else float("nan")

    @classmethod
    def of(cls, total: int, tables: dict[str, int], titles: int) -> Sizes:
        """From the bytes per table (SQLite's ``sqlite_autoindex_<table>_<n>`` counted with its table)."""
        per: dict[str, int] = {}
        for name, size in tables.items():
            if name.startswith("sqlite_autoindex_"):
                name = name.removeprefix("sqlite_autoindex_").rsplit("_", 1)[0]
            per[name] = per.get(name, 0) + size
        rollups = sum(n for name, n in per.items() if name.startswith("md_"))
        bins = per.get("md_engagement_bins", 0) + per.get("md_engagement_bins_month", 0)
        return cls(total, rollups, per.get("md_engagement", 0), bins, titles)


@dataclass
class Timed:
    """One request on one backend: cold samples (caches emptied), warm samples, the first answer, any problem."""

    cold_ms: list[float] = field(default_factory=list)
    warm_ms: list[float] = field(default_factory=list)
    body: bytes | None = None
    problem: str | None = None

    @property
    def cold(self) -> float:
        return statistics.median(self.cold_ms) if self.cold_ms else float("nan")

    @property
    def warm_p95(self) -> float:
        return percentile(self.warm_ms, 95) if self.warm_ms else float("nan")


def worst(timed: dict[str, dict[str, Timed]], backend: str, figure: str) -> tuple[float, str]:
    """The largest ``figure`` (``cold`` or ``warm_p95``) of ``backend`` over the requests, and its label."""
    found, label = float("nan"), ""
    for name, per in timed.items():
        t = per.get(backend)
        if t is None:
            continue
        value = getattr(t, figure)
        if value == value and (label == "" or value > found):
            found, label = value, name
    return found, label


def build_targets(
    timed: dict[str, dict[str, Timed]], loads: dict[str, LoadAB], sizes: dict[str, Sizes], repeat: int
) -> list[Target]:
    """Issue 14's targets, per backend: max cold, max warm p95, load ratio, the new rollups' share."""
    out = []
    for backend in BACKENDS:
        name = LABEL[backend]
        v, what = worst(timed, backend, "cold")
        out.append(Target(f"{name}: every request cold (median of {COLD}) ≤ {COLD_MS[backend]:.0f} ms", v,
                          COLD_MS[backend], "ms", f"worst: `{what}`"))
        v, what = worst(timed, backend, "warm_p95")
        out.append(Target(f"{name}: every request warm p95 (of {repeat}) ≤ {WARM_P95_MS[backend]:.0f} ms", v,
                          WARM_P95_MS[backend], "ms", f"worst: `{what}`"))
    for backend in BACKENDS:
        ab = loads.get(backend)
        if ab is None or not (ab.baseline_s or ab.baseline_error):
            detail = "no baseline (--baseline-src)"
        elif not ab.baseline_s:
            detail = f"the baseline did not load: {ab.baseline_error}"
        else:
            detail = f"{fmt_s(ab.current)} vs {fmt_s(ab.baseline)}"
        out.append(Target(f"{LABEL[backend]}: load ≤ {LOAD_RATIO_MAX:.2f}× the baseline's (same CSV, same run)",
                          ab.ratio if ab else float("nan"), LOAD_RATIO_MAX, "×", detail))
    for backend in BACKENDS:
        s = sizes.get(backend)
        out.append(Target(f"{LABEL[backend]}: issue 14's rollups ≤ {ROLLUP_SHARE_MAX:.0f} % of the database",
                          s.share(s.issue14) if s else float("nan"), ROLLUP_SHARE_MAX, "%",
                          f"{s.issue14 / 2**20:,.1f} of {s.total / 2**20:,.1f} MiB; every rollup table "
                          f"{s.share(s.rollups):.1f} %" if s else ""))
    return out


def figure_text(t: Target) -> str:
    if t.measured != t.measured:
        return "—"
    if t.unit == "ms":
        return f"{fmt_ms(t.measured)} ms"
    if t.unit == "%":
        return f"{t.measured:.1f} %"
    return f"{t.measured:.3f}× ({100 * (t.measured - 1):+.1f} %)"


def summary_lines(targets: list[Target]) -> list[str]:
    """One line per target: figure, met / missed / not measured, and the worst request or the detail."""
    lines = []
    for t in targets:
        status = "met" if t.met else ("not measured" if t.measured != t.measured else "missed")
        lines.append(f"- {t.name}: {figure_text(t)} **{status}**" + (f" ({t.detail})" if t.detail else ""))
    return lines


# --------------------------------------------------------------------------- #
# Loading
# --------------------------------------------------------------------------- #


def cli_env(src: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(src)}


def run_cli(src: Path, cwd: Path, timeout: float, *args: str) -> tuple[float, str | None]:
    """Seconds ``moviedash args`` took with the package of ``src``, and why it failed (None: exit 0).

    Run from ``cwd`` (not a checkout): ``-c`` puts the working directory first on the
    path, before PYTHONPATH, so running from a checkout would import that checkout's package.
    """
    started = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-c", "from moviedash.cli import main; main()", *args],
                              env=cli_env(src), cwd=cwd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return time.perf_counter() - started, f"took longer than {timeout:.0f} s"
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        tail = " ".join((done.stderr.strip() or done.stdout.strip()).splitlines()[-3:])
        return seconds, f"exit {done.returncode}: {tail[:500]}"
    return seconds, None


def imported_package(src: Path, cwd: Path) -> Path:
    """The ``moviedash`` package folder a subprocess with ``src`` on PYTHONPATH imports; it must be ``src``'s."""
    done = subprocess.run([sys.executable, "-c", "import moviedash; print(moviedash.__file__)"],
                          env=cli_env(src), cwd=cwd, capture_output=True, text=True, timeout=120)
    found = Path(done.stdout.strip()).resolve().parent if done.returncode == 0 else None
    if found != (src / "moviedash").resolve():
        raise BenchmarkError(f"with PYTHONPATH={src} the subprocess imports moviedash from {found}, not from {src}: "
                             f"{done.stderr.strip()[-300:]}")
    return found


def sqlite_rows(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute("SELECT COUNT(*) FROM movies").fetchone()[0])
    finally:
        conn.close()


def pg_rows(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT COUNT(*) FROM movies").fetchone()
    return int(row[0]) if row else 0


# --------------------------------------------------------------------------- #
# Sizes
# --------------------------------------------------------------------------- #

TITLE_TABLES = ("md_title_day", "md_title_month")


def sqlite_sizes(db: Path) -> Sizes | None:
    """SQLite's sizes from ``dbstat`` (None when this SQLite has no ``dbstat``)."""
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall()
        titles = sum(conn.execute(f"SELECT COALESCE(SUM(length(engagement) + length(deciles)), 0) FROM {t}")
                     .fetchone()[0] for t in TITLE_TABLES)
    except sqlite3.OperationalError:
        return None
    finally:
        conn.close()
    return Sizes.of(db.stat().st_size, {str(n): int(b) for n, b in rows}, int(titles))


#: Bytes per table (tables, indexes, TOAST), a partitioned table's partitions summed under its root.
PG_TABLE_SIZES = """
SELECT root.relname, SUM(pg_total_relation_size(c.oid))
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_class root ON root.oid = COALESCE(pg_partition_root(c.oid), c.oid)
WHERE c.relkind IN ('r', 'm') AND n.nspname = current_schema()
GROUP BY root.relname
"""


def pg_sizes(url: str) -> Sizes:
    with psycopg.connect(url) as conn:
        total = conn.execute("SELECT pg_database_size(current_database())").fetchone()
        rows = conn.execute(PG_TABLE_SIZES).fetchall()
        titles = 0
        for table in TITLE_TABLES:
            row = conn.execute(f"SELECT COALESCE(SUM(pg_column_size(engagement) + pg_column_size(deciles)), 0) "
                               f"FROM {table}").fetchone()
            titles += int(row[0]) if row else 0
    return Sizes.of(int(total[0]) if total else 0, {str(n): int(b) for n, b in rows}, titles)


# --------------------------------------------------------------------------- #
# Serving
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Request:
    """One request of the page: a ``page``, a ``/data`` ``route``, a ``figure`` of the API, or a ``callback``."""

    kind: str
    label: str
    path: str
    body: dict[str, Any] | None = None  # a callback's JSON body (POSTed)
    referrer: str | None = None

    def send(self, client: Any) -> tuple[float, int, bytes, str]:
        """(ms, status, body, mimetype) of the request on a Flask test client."""
        headers = {"Referer": self.referrer} if self.referrer else {}
        started = time.perf_counter()
        if self.body is not None:
            response = client.post(self.path, json=self.body)
        else:
            response = client.get(self.path, headers=headers)
        data = response.get_data()
        return 1000 * (time.perf_counter() - started), response.status_code, data, response.mimetype

    def problem(self, status: int, body: bytes, mimetype: str) -> str | None:
        """Why the answer is not one the page could show (None: it is)."""
        try:
            if self.kind == "callback":
                check_callback_answer(status, body, self.label)
            else:
                check_route_answer(status, body, mimetype, self.path, False)
        except BenchmarkError as exc:
            return str(exc)[:300]
        return None


def selection_data(values: dict[tuple[str, str], Any]) -> dict[str, Any]:
    """The page's selection store, as its client-side callback writes it from the filter bar."""
    return {
        "filters": [values[(DATE_RANGE, "start_date")], values[(DATE_RANGE, "end_date")],
                    values[(SESSIONTYPE, "value")], values[(DEVICE, "value")], values[(MARKET, "value")]],
        "theme": "light",
    }


def page_values(page: Page, selection: Selection) -> dict[tuple[str, str], Any]:
    values = page.values_for(selection)
    values[(ids.ENGAGEMENT_SELECTION, "data")] = selection_data(values)
    # The key figures, "About this data" and the title list read the filters-only store (no theme).
    values[(ids.ENGAGEMENT_FILTERS, "data")] = {"filters": selection_data(values)["filters"]}
    values[(ids.PAGE, "data")] = "engagement"
    return values


def callback_requests(page: Page, found: dict[str, Callback]) -> list[Request]:
    """The page's callbacks: the default view, each control variant, and :data:`FILTERED`."""
    def changed(cb: Callback) -> list[str]:
        """A filter change, as it reaches ``cb``: through the page's selection or filters store."""
        reads = {f"{d['id']}.{d['property']}" for d in cb.inputs}
        return [p for p in (f"{ids.ENGAGEMENT_SELECTION}.data", f"{ids.ENGAGEMENT_FILTERS}.data") if p in reads]

    defaults = page_values(page, Selection("default"))
    out = [Request("callback", f"callback {name}", DASH_UPDATE, request_body(cb, defaults, changed(cb)))
           for name, cb in found.items()]
    for control, value in VARIANTS:
        values = {**defaults, (control, "value"): value}
        for name, cb in found.items():
            if any((d["id"], d["property"]) == (control, "value") for d in cb.inputs):
                out.append(Request("callback", f"callback {name} ({control}={value})", DASH_UPDATE,
                                   request_body(cb, values, [f"{control}.value"])))
    filtered = page_values(page, FILTERED)
    out += [Request("callback", f"callback {name} [{FILTERED.name}]", DASH_UPDATE,
                    request_body(cb, filtered, changed(cb))) for name, cb in found.items()]
    return out


def discover(client: Any) -> tuple[Page, dict[str, Callback], str]:
    """The page as the browser gets it, its callbacks, and the first title of "where people stop"."""
    deps = client.get("/_dash-dependencies")
    layout = client.get("/_dash-layout", headers={"Referer": PAGE_URL})
    for response, what in ((deps, "/_dash-dependencies"), (layout, "/_dash-layout")):
        if response.status_code != 200:
            raise BenchmarkError(f"{what}: HTTP {response.status_code}: {response.get_data()[:300]!r}")
    page = Page.from_layout(layout.get_json())
    title = page.props.get(ids.STOPS_TITLE, {}).get("value")
    if not title:
        raise BenchmarkError("the engagement page's first layout chooses no title for 'where people stop'")
    return page, find_callbacks(deps.get_json(), CALLBACKS), str(title)


def all_requests(page: Page, found: dict[str, Callback], title: str) -> list[Request]:
    return [
        Request("page", "/engagement", "/engagement"),
        Request("page", "/_dash-layout (from /engagement)", "/_dash-layout", referrer=PAGE_URL),
        *(Request("route", url, url) for url in route_urls(title)),
        *(Request("figure", url, url) for url in figure_urls(title)),
        *callback_requests(page, found),
    ]


def clear_caches() -> None:
    analysis.CACHE.clear()
    VIEW_CACHE.clear()


@dataclass
class Mismatch:
    label: str
    backend: str
    sample: str
    detail: str


def time_requests(
    clients: dict[str, Any], requests: list[Request], repeat: int, cold: int = COLD,
    mismatches: list[Mismatch] | None = None,
) -> dict[str, dict[str, Timed]]:
    """``{label: {backend: Timed}}``: per request, ``cold`` samples each with the caches emptied, then ``repeat``
    warm ones; each sample sent to every backend in turn.  With ``mismatches``, every answer is compared with
    the first backend's first answer (a page's ``end_id`` masked) and each request's first difference recorded."""
    out: dict[str, dict[str, Timed]] = {}
    for i, req in enumerate(requests):
        got = {b: Timed() for b in clients}
        reference: bytes | None = None
        differs = False
        for round_ in range(cold + repeat):
            for backend, client in clients.items():
                if round_ < cold:
                    clear_caches()
                ms, status, body, mimetype = req.send(client)
                t = got[backend]
                (t.cold_ms if round_ < cold else t.warm_ms).append(ms)
                if t.body is None:
                    t.body = body
                    t.problem = req.problem(status, body, mimetype)
                answer = comparable(req.path, body)
                if reference is None:
                    reference = answer
                elif mismatches is not None and answer != reference and not differs:
                    differs = True
                    sample = f"cold {round_ + 1}" if round_ < cold else f"warm {round_ - cold + 1}"
                    mismatches.append(Mismatch(req.label, backend, sample, first_difference(reference, answer)))
        out[req.label] = got
        if (i + 1) % 20 == 0:
            log(f"{i + 1} of {len(requests)} requests timed")
    return out


# --------------------------------------------------------------------------- #
# The run
# --------------------------------------------------------------------------- #


@contextmanager
def postgres() -> Iterator[tuple[PostgresDatabases, str, str]]:
    """Databases on the server named by ``MOVIEDASH_BENCH_PG`` or a throwaway cluster: (databases, what, version)."""
    named = os.environ.get("MOVIEDASH_BENCH_PG")
    cluster = None if named else Cluster().start()
    try:
        admin = named or (cluster.url() if cluster else "")
        dbs = PostgresDatabases(admin)
        try:
            what = (f"named by MOVIEDASH_BENCH_PG ({redact(named)})" if named
                    else "throwaway cluster (initdb + pg_ctl, default settings, Unix socket only)")
            yield dbs, what, dbs.server_version()
        finally:
            from moviedash.store import postgres as pg_store

            pg_store.close_pools()
            dbs.close()
    finally:
        if cluster is not None:
            cluster.remove()


class Bench:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        self.csv = work / "events.csv"
        self.current_src = ROOT
        self.baseline_src = Path(args.baseline_src).resolve() if args.baseline_src else None
        self.loads = {b: LoadAB(b) for b in BACKENDS}
        self.sizes: dict[str, Sizes] = {}
        self.phases: dict[str, float] = {}
        self.notes: list[str] = []
        self.packages: dict[str, str] = {}
        self.mismatches: list[Mismatch] = []
        self.raw_differs: list[str] = []
        self.raw_errors: list[str] = []
        self.timed: dict[str, dict[str, Timed]] = {}
        self.requests: list[Request] = []

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        log(f"{name} ...")
        started = time.perf_counter()
        try:
            yield
        finally:
            self.phases[name] = time.perf_counter() - started
            log(f"{name}: {self.phases[name]:.1f} s")

    def load_one(self, which: str, backend: str, pg: PostgresDatabases) -> str | Path:
        """One timed load into a new target; the target (the baseline's is removed straight after)."""
        src = self.current_src if which == "current" else self.baseline_src
        assert src is not None
        target: str | Path = (self.work / f"{which}.db") if backend == "sqlite" else pg.new(f"eng_{which}")
        if isinstance(target, Path):
            target.unlink(missing_ok=True)
        seconds, error = run_cli(src, self.work, self.args.step_timeout, "load", str(self.csv), "--db", str(target))
        if error is None:
            rows = sqlite_rows(target) if isinstance(target, Path) else pg_rows(target)
            if rows != self.args.events:
                error = f"loaded {rows:,} rows, not {self.args.events:,}"
        ab = self.loads[backend]
        log(f"load {LABEL[backend]} {which}: {seconds:.1f} s" + (f" ({error})" if error else ""))
        if which == "current":
            if error:
                raise BenchmarkError(f"the current code's load into {LABEL[backend]} failed: {error}")
            ab.current_s.append(seconds)
        else:
            if error:
                ab.baseline_error = error
            else:
                ab.baseline_s.append(seconds)
            if isinstance(target, Path):
                target.unlink(missing_ok=True)
            else:
                pg.admin.execute("DROP DATABASE IF EXISTS moviedash_bench_eng_baseline WITH (FORCE)")
        return target

    def load(self, pg: PostgresDatabases) -> tuple[Path, str]:
        self.packages["current"] = str(imported_package(self.current_src, self.work))
        if self.baseline_src:
            try:
                self.packages["baseline"] = str(imported_package(self.baseline_src, self.work))
            except BenchmarkError as exc:
                for ab in self.loads.values():
                    ab.baseline_error = str(exc)
        targets: dict[str, str | Path] = {}
        for round_ in range(self.args.load_rounds):
            order = ("baseline", "current") if round_ % 2 == 0 else ("current", "baseline")
            for backend in BACKENDS:
                for which in order:
                    if which == "baseline" and (self.baseline_src is None or self.loads[backend].baseline_error):
                        continue
                    target = self.load_one(which, backend, pg)
                    if which == "current":
                        targets[backend] = target
        sqlite_db, pg_url = Path(targets["sqlite"]), str(targets["postgresql"])
        started = time.perf_counter()
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        self.notes.append(f"`VACUUM ANALYZE` of the PostgreSQL database after its load (not counted): "
                          f"{fmt_s(time.perf_counter() - started)}")
        return sqlite_db, pg_url

    def serve(self, sqlite_db: Path, pg_url: str) -> None:
        apps = {
            "sqlite": create_app(db=str(sqlite_db), MOVIEDASH_QUERY_TIMEOUT=TIMEOUT),
            "postgresql": create_app(db=pg_url, MOVIEDASH_QUERY_TIMEOUT=TIMEOUT),
        }
        clients = {b: app.server.test_client() for b, app in apps.items()}
        # As `moviedash serve` does once its app is built: the start-up objects leave the collector's
        # walks, which would otherwise land on whichever request a full collection falls on.
        freeze_startup_objects()
        page, found, title = discover(clients["sqlite"])
        self.title = title
        self.requests = all_requests(page, found, title)
        log(f"{len(self.requests)} requests; the stop curves' title: {title}")
        self.timed = time_requests(clients, self.requests, self.args.repeat, mismatches=self.mismatches)

    def raw(self, sqlite_db: Path) -> None:
        """The /data routes once each on a copy of the SQLite file without ``md_meta``: the same bytes?"""
        raw = self.work / "raw.db"
        shutil.copy(sqlite_db, raw)
        conn = sqlite3.connect(raw)
        conn.execute("DROP TABLE md_meta")
        conn.commit()
        conn.close()
        client = create_app(db=str(raw), MOVIEDASH_QUERY_TIMEOUT=TIMEOUT).server.test_client()
        routes = [r for r in self.requests if r.kind == "route"]
        timed = time_requests({"raw": client}, routes, 0, cold=1)
        for req in routes:
            t = timed[req.label]["raw"]
            self.timed[req.label]["raw"] = t
            if t.problem:
                self.raw_errors.append(req.label)
            elif t.body != self.timed[req.label]["sqlite"].body:
                self.raw_differs.append(req.label)
        raw.unlink()

    def run(self) -> None:
        with postgres() as (pg, what, version):
            self.pg_what, self.pg_version = what, version
            with self.phase("generate CSV"):
                written = write_course_csv(self.csv, self.args.events, self.args.seed, header=True)
                if written != self.args.events:
                    raise BenchmarkError(f"the CSV has {written:,} rows, not {self.args.events:,}")
                self.csv_bytes = self.csv.stat().st_size
            with self.phase("load A/B"):
                sqlite_db, pg_url = self.load(pg)
            self.csv.unlink()
            with self.phase("sizes"):
                found = sqlite_sizes(sqlite_db)
                if found is None:
                    self.notes.append("SQLite's sizes not measured: this SQLite has no `dbstat`")
                else:
                    self.sizes["sqlite"] = found
                self.sizes["postgresql"] = pg_sizes(pg_url)
            with self.phase("serving"):
                self.serve(sqlite_db, pg_url)
            if not self.args.no_raw:
                with self.phase("raw SQLite"):
                    self.raw(sqlite_db)


# --------------------------------------------------------------------------- #
# The report
# --------------------------------------------------------------------------- #


def mib(n: int) -> str:
    return f"{n / 2**20:,.2f} MiB"


def render(
    b: Bench, command: str, total_s: float, load_before: tuple[float, ...], load_after: tuple[float, ...]
) -> str:
    a = b.args
    targets = build_targets(b.timed, b.loads if b.baseline_src else {}, b.sizes, a.repeat)
    first = b.mismatches[0] if b.mismatches else None
    L = [
        f"# Engagement page, SQLite and PostgreSQL, {a.events:,} demo events",
        "",
        f"- machine: {machine()}; PostgreSQL {b.pg_version} ({b.pg_what})",
        f"- command: `{command}` (from the repository root; whole run {total_s / 60:.1f} min)",
        f"- code: {product_source()}; load subprocesses import current `{b.packages.get('current', '?')}`"
        + (f", baseline `{b.packages.get('baseline', '?')}` (--baseline-src {a.baseline_src})"
           if b.baseline_src else ", no baseline"),
        f"- load average (1/5/15 min) before {'/'.join(f'{x:.2f}' for x in load_before)}, "
        f"after {'/'.join(f'{x:.2f}' for x in load_after)}",
        f"- data: {a.events:,} demo events (seed {a.seed}), one course-format CSV with a header row "
        f"({b.csv_bytes / 2**20:,.0f} MiB); the stop curves' title: {b.title}",
        "",
        f"## Targets (issue 14, at {TARGET_EVENTS:,} events; this run {a.events:,})",
        "",
        *summary_lines(targets),
        f"- PostgreSQL answers byte-identical to SQLite's (every request, cold and warm): **{not b.mismatches}**"
        + (f" ({len(b.mismatches)} differ; first: `{first.label}`)" if first else ""),
    ]
    if not a.no_raw:
        L.append(f"- SQLite rollups' answers byte-identical to the raw table's (every `/data` route answered by both): "
                 f"**{not b.raw_differs}**" + (f" (first differing: `{b.raw_differs[0]}`)" if b.raw_differs else "")
                 + f"; raw answers past the query deadline or refused: {len(b.raw_errors)}")
    problems = [(label, backend, t.problem) for label, per in b.timed.items() for backend, t in per.items()
                if t.problem and backend != "raw"]
    if problems:
        L.append(f"- **{len(problems)} answer(s) the page could not show** (first: `{problems[0][0]}` on "
                 f"{LABEL[problems[0][1]]}: {problems[0][2]})")
    L += [
        "",
        "## Load A/B: `moviedash load` of the same CSV, current code vs baseline",
        "",
        f"{a.load_rounds} round(s) per backend, each a pair (baseline then current; every second round current "
        "then baseline) into a new database; the median of each kept. Wall seconds of the whole command.",
        "",
        "| backend | baseline s | current s | current ÷ baseline | rounds (baseline / current) |",
        "|---|---:|---:|---:|---|",
    ]
    for backend in BACKENDS:
        ab = b.loads[backend]
        baseline = fmt_s(ab.baseline) if ab.baseline_s else ("failed" if ab.baseline_error else "not run")
        ratio = f"{ab.ratio:.3f} ({100 * (ab.ratio - 1):+.1f} %)" if ab.ratio == ab.ratio else "—"
        rounds = " / ".join(", ".join(f"{x:.1f}" for x in xs) or "—" for xs in (ab.baseline_s, ab.current_s))
        L.append(f"| {LABEL[backend]} | {baseline} | {fmt_s(ab.current)} | {ratio} | {rounds} |")
    for backend in BACKENDS:
        if b.loads[backend].baseline_error:
            L.append(f"\nThe baseline could not load into {LABEL[backend]}: {b.loads[backend].baseline_error}")
    L += ["", *(f"- {n}." for n in b.notes), ""]
    L += [
        "## Sizes",
        "",
        "SQLite: `dbstat` (pages of each table and its indexes; the file for the database). PostgreSQL: "
        "`pg_total_relation_size` (with indexes and TOAST) summed over each table's partitions; "
        "`pg_database_size` for the database (its catalogs included). The per-title columns: their payload "
        "(`length`; `pg_column_size`, as stored).",
        "",
        "| | SQLite | share | PostgreSQL | share |",
        "|---|---:|---:|---:|---:|",
    ]
    rows = [("database", "total"), ("every rollup table (`md_*`)", "rollups"), ("`md_engagement`", "engagement"),
            ("`md_engagement_bins` and `md_engagement_bins_month`", "bins"),
            ("`engagement` + `deciles` of `md_title_day`/`md_title_month`", "titles"),
            ("**issue 14's rollups** (the three above)", "issue14")]
    for name, attr in rows:
        cells = []
        for backend in BACKENDS:
            size = b.sizes.get(backend)
            if size is None:
                cells += ["—", "—"]
                continue
            n = getattr(size, attr)
            cells += [mib(n), f"{size.share(n):.2f} %" if attr != "total" else ""]
        L.append(f"| {name} | {' | '.join(cells)} |")
    L += [
        "",
        "## Requests",
        "",
        f"In process (Flask's test client). Cold: median of {COLD} requests, the answer caches emptied before each; "
        f"warm: p95 (nearest rank) of {a.repeat}; each sample sent to SQLite, then PostgreSQL."
        + ("" if a.no_raw else " SQLite raw: one request on a copy without `md_meta` (every answer from `movies`)."),
        "",
        "| request | SQLite cold ms | SQLite warm p95 | PG cold ms | PG warm p95 | PG = SQLite |"
        + ("" if a.no_raw else " SQLite raw ms |"),
        "|---|---:|---:|---:|---:|---|" + ("" if a.no_raw else "---:|"),
    ]
    differing = {m.label for m in b.mismatches}
    for req in b.requests:
        per = b.timed[req.label]
        s, p = per["sqlite"], per["postgresql"]
        flag = " ⚠" if s.problem or p.problem else ""
        row = (f"| `{req.label}`{flag} | {fmt_ms(s.cold)} | {fmt_ms(s.warm_p95)} | {fmt_ms(p.cold)} | "
               f"{fmt_ms(p.warm_p95)} | {'**no**' if req.label in differing else 'yes'} |")
        if not a.no_raw:
            raw = per.get("raw")
            row += f" {fmt_ms(raw.cold) if raw else ''} |"
        L.append(row)
    if b.mismatches:
        L += ["", "## Answers that differ between the backends", ""]
        L += [f"- `{m.label}` ({LABEL.get(m.backend, m.backend)}, {m.sample}): {m.detail}" for m in b.mismatches]
    if problems:
        L += ["", "## Answers the page could not show (⚠)", ""]
        L += [f"- `{label}` on {LABEL[backend]}: {problem}" for label, backend, problem in problems]
    L += ["", "## Run time by phase", "", "| phase | s |", "|---|---:|"]
    L += [f"| {name} | {seconds:,.1f} |" for name, seconds in b.phases.items()]
    L += [f"| **total** | **{total_s:,.1f}** |", ""]
    return "\n".join(L)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.engagement", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000, help="demo events (the targets: 10000000)")
    parser.add_argument("--repeat", type=int, default=20, help="warm requests per request (default 20)")
    parser.add_argument("--baseline-src", help="a folder holding the older `moviedash` package to A/B the load with")
    parser.add_argument("--load-rounds", type=int, default=1, help="load pairs per backend (default 1)")
    parser.add_argument("--seed", type=int, default=7, help="demo data seed (default 7)")
    parser.add_argument("--no-raw", action="store_true", help="skip the SQLite raw-table comparison")
    parser.add_argument("--step-timeout", type=float, default=3600.0, help="seconds per load (default 3600)")
    parser.add_argument("--out", type=Path, help="Markdown results (default benchmarks/results-engagement-<N>.md)")
    args = parser.parse_args(argv)
    if args.events < 1_000 or args.repeat < 1 or args.load_rounds < 1:
        parser.error("--events must be at least 1000, --repeat and --load-rounds at least 1")
    if args.baseline_src and not (Path(args.baseline_src) / "moviedash" / "cli.py").is_file():
        parser.error(f"--baseline-src {args.baseline_src} holds no moviedash package (moviedash/cli.py)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    raw_argv = sys.argv[1:] if argv is None else argv
    command = shlex.join(["python", "-m", "benchmarks.engagement", *raw_argv])
    out = args.out or HERE / f"results-engagement-{args.events}.md"
    load_before = os.getloadavg()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="moviedash-engagement-") as tmp:
        bench = Bench(args, Path(tmp))
        try:
            bench.run()
        except BenchmarkError as exc:
            print(f"\nBENCHMARK FAILED: {exc}", file=sys.stderr)
            return 2
    report = render(bench, command, time.perf_counter() - started, load_before, os.getloadavg())
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report, encoding="utf-8")
    print(report)
    log(f"results written to {out}")
    if bench.mismatches:
        print(f"\nBYTE-IDENTITY CHECK FAILED: {len(bench.mismatches)} PostgreSQL answer(s) differ from SQLite's",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
