"""One issue's pages, routes and charts on SQLite and PostgreSQL: the machinery every page benchmark shares.

A page benchmark (``benchmarks/engagement.py``: issue 14, ``benchmarks/series.py``: issue 15) is a
:class:`Spec`: the issue's :class:`Targets`, the size :class:`Group` s to report (which tables are "this
issue's rollups"), and a ``plan`` that, given a test client on the loaded SQLite database, names the
requests to time: the pages (:class:`PageSpec`: path, callbacks, control variants), the ``/data`` routes
and the figures API's charts.  :func:`main` runs it, in a temporary folder removed at the end:

1. **Data**: one course-format CSV of ``--events`` demo events with a header row
   (``benchmarks.common.write_course_csv``, seed ``--seed``, 7 by default).
2. **PostgreSQL**: a throwaway cluster with default settings (benchmarks/pgcluster.py),
   or the server named by ``MOVIEDASH_BENCH_PG`` (a URL; databases
   ``moviedash_bench_<prefix>_current`` and ``..._baseline`` are made there and dropped).
3. **Load A/B**: ``moviedash load`` of that CSV (a subprocess, from the work folder with
   ``PYTHONPATH`` the code's folder, so that code's package is imported: checked)
   into a new SQLite file and a new PostgreSQL database, by this checkout's code
   (current) and by ``--baseline-src DIR``, a folder holding an older ``moviedash``
   package (``git archive <commit> moviedash | tar -x -C DIR``).  Paired per backend:
   baseline then current (every second round current then baseline), so drift of the
   machine hits both; ``--load-rounds`` pairs, medians compared.  A baseline that cannot
   load is reported, not fatal; the baseline's table names are kept (the rollup tables
   the current code adds).  Then ``VACUUM ANALYZE`` of the current PostgreSQL database
   (not counted).
4. **Sizes**: the database (SQLite: the file; PostgreSQL: ``pg_database_size``) and bytes per
   table, indexes included (SQLite ``dbstat``, each index counted with its table;
   PostgreSQL ``pg_total_relation_size`` summed over each table's partitions), summed into
   the spec's groups (named tables, a prefix, column payloads, the tables new since the baseline).
5. **Serving**, in process (Flask's test client on ``create_app`` of each current database, no
   network): the plan's requests.  Each request: cold = median of 5 first requests with the answer
   caches emptied (``analysis.CACHE``, the first views' ``VIEW_CACHE``, the controls' charts'
   ``CHART_CACHE``), warm = p95 (nearest rank) of ``--repeat``; every sample sent to SQLite then PostgreSQL.
6. **Checks**: every PostgreSQL answer (cold and warm) must equal SQLite's first answer byte for
   byte (a page's per-response ``end_id`` masked); on SQLite a copy of the file without
   ``md_meta`` (every answer from the raw table; skipped with ``--no-raw``) answers each
   ``/data`` route once, with the same bytes.
7. **Results**: Markdown, ``--out`` (default ``benchmarks/results-<slug>-<events>.md``): the
   machine, the command, the targets (met/missed with the worst request), the load A/B, the sizes
   and a table of every request.  Exit status 1 when an answer differs.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from moviedash import analysis, create_app
from moviedash.dashboard import ids
from moviedash.dashboard.views import CHART_CACHE, VIEW_CACHE
from moviedash.factory import freeze_startup_objects
from moviedash.store import postgres as pg_store
from moviedash.store import redact

from .backends import Target, first_difference, mask_per_response
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
#: The events the issues' targets are stated at.
TARGET_EVENTS = 10_000_000
#: Cold samples per request (median kept).
COLD = 5
#: A filtered selection (dates with edge days, one device): every page's filtered callbacks, and the routes'.
FILTERED = Selection("2024-03-10..2024-06-20, device=TV", dt.date(2024, 3, 10), dt.date(2024, 6, 20), device=("TV",))
DASH_UPDATE = "/_dash-update-component"
#: The prefix of the rollup tables.
ROLLUP_PREFIX = "md_"


# --------------------------------------------------------------------------- #
# What a page benchmark declares
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Targets:
    """An issue's targets: latencies per backend, the load ratio, and one size group's share of the database."""

    issue: int
    cold_ms: dict[str, float]
    warm_p95_ms: dict[str, float]
    load_ratio_max: float
    share_max: float  # % of the database
    share_group: str  # the Sizes group held to share_max
    share_label: str  # its name in the targets ("issue 14's rollups")
    also_group: str  # another group whose share the target's detail names
    also_label: str


@dataclass(frozen=True)
class Group:
    """A row of the sizes: whole tables (by name or prefix), column payloads, or other groups summed."""

    key: str
    label: str  # its row in the results (Markdown)
    tables: tuple[str, ...] = ()
    prefix: str = ""
    #: ``(table, columns)``: the payload of these columns (SQLite ``length``, PostgreSQL ``pg_column_size``).
    columns: tuple[tuple[str, tuple[str, ...]], ...] = ()
    parts: tuple[str, ...] = ()  # earlier groups' keys
    added: bool = False  # also every rollup table of the current schema the baseline's has not


@dataclass(frozen=True)
class PageSpec:
    """A dashboard page whose server callbacks are timed: the default view, each control variant, :data:`FILTERED`."""

    path: str  # as the browser asks for it (a show's page: its name quoted)
    name: str  # the value of ``ids.PAGE`` while it is shown
    callbacks: dict[str, str]  # name -> one of its outputs' ``id.property``
    selection: str | None = None  # the page's selection store (filters and theme), written client side
    filters: str | None = None  # its filters-only store
    variants: tuple[tuple[str, Any], ...] = ()  # (control id, another value), posted to the callbacks it feeds
    fixed: tuple[tuple[str, str, Any], ...] = ()  # (id, property, value) every request of the page carries
    timed: bool = True  # time the page itself and its /_dash-layout (not for an already measured page)

    @property
    def referrer(self) -> str:
        return f"http://localhost{self.path}"


@dataclass
class Plan:
    """What a run times, found on the loaded data: the requests, and what was chosen from the data (facts)."""

    requests: list[Request]
    facts: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Spec:
    """One issue's page benchmark."""

    slug: str  # results-<slug>-<events>.md, the temporary folder's name
    db_prefix: str  # PostgreSQL databases moviedash_bench_<db_prefix>_current / _baseline
    heading: str  # "Engagement page"
    module: str  # "benchmarks.engagement"
    doc: str  # the command's help
    targets: Targets
    groups: tuple[Group, ...]
    plan: Callable[[Any], Plan]  # a test client on the current SQLite database -> the requests
    sizes_note: str = ""  # how the groups are measured, beyond tables
    per_table: bool = False  # also list every rollup table


# --------------------------------------------------------------------------- #
# Pure parts: loads, sizes, targets (unit-tested in tests/unit/test_bench_*.py)
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


def fold_tables(tables: dict[str, int], indexes: dict[str, str] | None = None) -> dict[str, int]:
    """Bytes per table with each index counted with its table (``indexes``: index -> table; SQLite's
    ``sqlite_autoindex_<table>_<n>`` is recognised by its name)."""
    per: dict[str, int] = {}
    for name, size in tables.items():
        if indexes and name in indexes:
            name = indexes[name]
        elif name.startswith("sqlite_autoindex_"):
            name = name.removeprefix("sqlite_autoindex_").rsplit("_", 1)[0]
        per[name] = per.get(name, 0) + size
    return per


def new_rollups(current: Collection[str], baseline: Collection[str] | None) -> tuple[str, ...]:
    """The rollup tables of the current schema that the baseline's has not (none without a baseline)."""
    if baseline is None:
        return ()
    return tuple(sorted(t for t in current if t.startswith(ROLLUP_PREFIX) and t not in baseline))


@dataclass(frozen=True)
class Sizes:
    """Bytes of a database, of each of its tables (indexes included) and of each group of the spec."""

    total: int  # the whole database
    groups: dict[str, int]
    tables: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, key: str) -> int:
        return self.total if key == "total" else self.groups[key]

    def share(self, part: int) -> float:
        """``part`` in % of the database."""
        return 100 * part / self.total if self.total else float("nan")

    @classmethod
    def of(
        cls, total: int, tables: dict[str, int], groups: tuple[Group, ...], payloads: dict[str, int] | None = None,
        added: Collection[str] = (),
    ) -> Sizes:
        """From the bytes per table (indexes already folded, or SQLite's autoindexes by name), the column
        payloads per group key, and the rollup tables new since the baseline."""
        per = fold_tables(tables)
        found: dict[str, int] = {}
        for g in groups:
            names = {*g.tables, *(added if g.added else ())}
            n = sum(per.get(t, 0) for t in names)
            if g.prefix:
                n += sum(size for t, size in per.items() if t.startswith(g.prefix) and t not in names)
            n += (payloads or {}).get(g.key, 0) if g.columns else 0
            n += sum(found[p] for p in g.parts)
            found[g.key] = n
        return cls(total, found, per)


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


def slowest(timed: dict[str, dict[str, Timed]], backend: str, figure: str, n: int) -> list[tuple[float, str]]:
    """The ``n`` largest ``figure`` of ``backend``, largest first (the report's list of the slowest)."""
    values = [(getattr(per[backend], figure), label) for label, per in timed.items() if backend in per]
    return sorted((v for v in values if v[0] == v[0]), key=lambda v: -v[0])[:n]


def build_targets(
    targets: Targets, timed: dict[str, dict[str, Timed]], loads: dict[str, LoadAB], sizes: dict[str, Sizes],
    repeat: int,
) -> list[Target]:
    """The issue's targets, per backend: max cold, max warm p95, load ratio, a size group's share."""
    out = []
    for backend in BACKENDS:
        name, cold_ms, warm_ms = LABEL[backend], targets.cold_ms[backend], targets.warm_p95_ms[backend]
        v, what = worst(timed, backend, "cold")
        out.append(Target(f"{name}: every request cold (median of {COLD}) ≤ {cold_ms:.0f} ms", v, cold_ms, "ms",
                          f"worst: `{what}`"))
        v, what = worst(timed, backend, "warm_p95")
        out.append(Target(f"{name}: every request warm p95 (of {repeat}) ≤ {warm_ms:.0f} ms", v, warm_ms, "ms",
                          f"worst: `{what}`"))
    for backend in BACKENDS:
        ab = loads.get(backend)
        if ab is None or not (ab.baseline_s or ab.baseline_error):
            detail = "no baseline (--baseline-src)"
        elif not ab.baseline_s:
            detail = f"the baseline did not load: {ab.baseline_error}"
        else:
            detail = f"{fmt_s(ab.current)} vs {fmt_s(ab.baseline)}"
        out.append(Target(f"{LABEL[backend]}: load ≤ {targets.load_ratio_max:.2f}× the baseline's "
                          "(same CSV, same run)", ab.ratio if ab else float("nan"), targets.load_ratio_max, "×",
                          detail))
    for backend in BACKENDS:
        s = sizes.get(backend)
        part = s[targets.share_group] if s else 0
        out.append(Target(f"{LABEL[backend]}: {targets.share_label} ≤ {targets.share_max:.0f} % of the database",
                          s.share(part) if s else float("nan"), targets.share_max, "%",
                          f"{part / 2**20:,.1f} of {s.total / 2**20:,.1f} MiB; {targets.also_label} "
                          f"{s.share(s[targets.also_group]):.1f} %" if s else ""))
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


def sqlite_tables(db: Path) -> set[str]:
    conn = sqlite3.connect(db)
    try:
        return {str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()


#: Bytes per table (tables, indexes, TOAST), a partitioned table's partitions summed under its root.
PG_TABLE_SIZES = """
SELECT root.relname, SUM(pg_total_relation_size(c.oid))
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_class root ON root.oid = COALESCE(pg_partition_root(c.oid), c.oid)
WHERE c.relkind IN ('r', 'm') AND n.nspname = current_schema()
GROUP BY root.relname
"""


def pg_tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {str(r[0]) for r in conn.execute(PG_TABLE_SIZES).fetchall()}


# --------------------------------------------------------------------------- #
# Sizes
# --------------------------------------------------------------------------- #


def payload_sql(table: str, columns: tuple[str, ...], size: str) -> str:
    """The bytes of ``columns`` of ``table``, by ``size`` (``length`` or ``pg_column_size``); 0 for no rows."""
    return f"SELECT COALESCE(SUM({' + '.join(f'{size}({c})' for c in columns)}), 0) FROM {table}"


def sqlite_sizes(db: Path, groups: tuple[Group, ...], baseline: Collection[str] | None) -> Sizes | None:
    """SQLite's sizes from ``dbstat``, each index with its table (None when this SQLite has no ``dbstat``)."""
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall()
        indexes = {str(n): str(t) for n, t in conn.execute("SELECT name, tbl_name FROM sqlite_master "
                                                           "WHERE type = 'index'")}
        payloads = {g.key: sum(int(conn.execute(payload_sql(t, cols, "length")).fetchone()[0])
                               for t, cols in g.columns) for g in groups if g.columns}
    except sqlite3.OperationalError:
        return None
    finally:
        conn.close()
    tables = fold_tables({str(n): int(b) for n, b in rows}, indexes)
    return Sizes.of(db.stat().st_size, tables, groups, payloads, new_rollups(tables, baseline))


def pg_sizes(url: str, groups: tuple[Group, ...], baseline: Collection[str] | None) -> Sizes:
    with psycopg.connect(url) as conn:
        total = conn.execute("SELECT pg_database_size(current_database())").fetchone()
        tables = {str(n): int(b) for n, b in conn.execute(PG_TABLE_SIZES).fetchall()}
        payloads = {}
        for g in groups:
            if g.columns:
                found = [conn.execute(payload_sql(t, cols, "pg_column_size")).fetchone() for t, cols in g.columns]
                payloads[g.key] = sum(int(row[0]) if row else 0 for row in found)
    return Sizes.of(int(total[0]) if total else 0, tables, groups, payloads, new_rollups(tables, baseline))


# --------------------------------------------------------------------------- #
# Serving
# --------------------------------------------------------------------------- #


def check_data_answer(status: int, body: bytes, what: str) -> None:
    """A ``/data`` route must answer 200 with JSON: a list of rows, or one object (a show, the concentration, the
    heavy viewers: issue 15's routes answer with objects)."""
    if status != 200:
        raise BenchmarkError(f"{what}: HTTP {status}: {body[:500]!r}")
    try:
        payload = json.loads(body)
    except ValueError:
        raise BenchmarkError(f"{what}: not JSON: {body[:300]!r}") from None
    if not isinstance(payload, list | dict):
        raise BenchmarkError(f"{what}: expected a JSON list or object, got {body[:300]!r}")


@dataclass(frozen=True)
class Request:
    """One request: a ``page`` (HTML), its ``layout``, a ``/data`` ``route``, a ``figure`` of the API, or a
    ``callback``."""

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
            elif self.kind == "route":
                check_data_answer(status, body, self.path)
            else:
                check_route_answer(status, body, mimetype, self.path, False)
        except BenchmarkError as exc:
            return str(exc)[:300]
        return None

    def comparable(self, body: bytes) -> bytes:
        """The answer as compared between backends: a page's per-response ``end_id`` masked."""
        return mask_per_response(body) if self.kind == "page" else body


def filter_values(values: dict[tuple[str, str], Any]) -> list[Any]:
    """The filter bar's values, as a page's selection store holds them."""
    return [values[(DATE_RANGE, "start_date")], values[(DATE_RANGE, "end_date")], values[(SESSIONTYPE, "value")],
            values[(DEVICE, "value")], values[(MARKET, "value")]]


def page_values(spec: PageSpec, page: Page, selection: Selection) -> dict[tuple[str, str], Any]:
    """Every value a callback of the page may read, showing ``selection``, with its stores as the page's
    script writes them (the selection store with the theme; the filters store without)."""
    values = page.values_for(selection)
    filters = filter_values(values)
    if spec.selection:
        values[(spec.selection, "data")] = {"filters": filters, "theme": "light"}
    if spec.filters:
        values[(spec.filters, "data")] = {"filters": filters}
    values[(ids.PAGE, "data")] = spec.name
    for component, prop, value in spec.fixed:
        values[(component, prop)] = value
    return values


def callback_requests(spec: PageSpec, page: Page, found: dict[str, Callback]) -> list[Request]:
    """The page's callbacks: the default view, each control variant, and :data:`FILTERED`."""
    stores = [f"{s}.data" for s in (spec.selection, spec.filters) if s]

    def changed(cb: Callback) -> list[str]:
        """A filter change, as it reaches ``cb``: through the page's selection or filters store."""
        reads = {f"{d['id']}.{d['property']}" for d in cb.inputs}
        return [p for p in stores if p in reads]

    defaults = page_values(spec, page, Selection("default"))
    out = [Request("callback", f"callback {name}", DASH_UPDATE, request_body(cb, defaults, changed(cb)))
           for name, cb in found.items()]
    for control, value in spec.variants:
        values = {**defaults, (control, "value"): value}
        for name, cb in found.items():
            if any((d["id"], d["property"]) == (control, "value") for d in cb.inputs):
                out.append(Request("callback", f"callback {name} ({control}={value})", DASH_UPDATE,
                                   request_body(cb, values, [f"{control}.value"])))
    filtered = page_values(spec, page, FILTERED)
    out += [Request("callback", f"callback {name} [{FILTERED.name}]", DASH_UPDATE,
                    request_body(cb, filtered, changed(cb))) for name, cb in found.items()]
    return out


def get_json(client: Any, path: str, referrer: str | None = None) -> Any:
    """A GET's JSON answer (200 required)."""
    response = client.get(path, headers={"Referer": referrer} if referrer else {})
    if response.status_code != 200:
        raise BenchmarkError(f"{path}: HTTP {response.status_code}: {response.get_data()[:300]!r}")
    return response.get_json()


def dash_page(client: Any, spec: PageSpec) -> Page:
    """The page as the browser gets it (``/_dash-layout`` asked from its address)."""
    return Page.from_layout(get_json(client, "/_dash-layout", spec.referrer))


def page_requests(
    client: Any, spec: PageSpec, dependencies: list[dict[str, Any]]
) -> tuple[Page, list[Request]]:
    """The page (from its ``/_dash-layout``) and its requests: itself and its layout (if timed), its callbacks."""
    page = dash_page(client, spec)
    found = find_callbacks(dependencies, spec.callbacks)
    own = [Request("page", spec.path, spec.path),
           Request("layout", f"/_dash-layout (from {spec.path})", "/_dash-layout", referrer=spec.referrer)]
    return page, [*(own if spec.timed else []), *callback_requests(spec, page, found)]


def clear_caches() -> None:
    analysis.CACHE.clear()
    VIEW_CACHE.clear()
    CHART_CACHE.clear()


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
    """``{label: {backend: Timed}}``: per request, ``cold`` samples each with the caches emptied (once per round:
    they are keyed by database), then ``repeat`` warm ones; each sample sent to every backend in turn.  With
    ``mismatches``, every answer is compared with the first backend's first answer (a page's ``end_id`` masked)
    and each request's first difference recorded."""
    out: dict[str, dict[str, Timed]] = {}
    for i, req in enumerate(requests):
        got = {b: Timed() for b in clients}
        reference: bytes | None = None
        differs = False
        for round_ in range(cold + repeat):
            # Once per cold round, before every backend: the caches are keyed by database, so each backend's
            # answer is still computed afresh, and the last cold round's answers are kept for the warm ones
            # (emptied before each backend, the first backend's first "warm" sample was a cold one).
            if round_ < cold:
                clear_caches()
            for backend, client in clients.items():
                ms, status, body, mimetype = req.send(client)
                t = got[backend]
                (t.cold_ms if round_ < cold else t.warm_ms).append(ms)
                if t.body is None:
                    t.body = body
                    t.problem = req.problem(status, body, mimetype)
                answer = req.comparable(body)
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
            pg_store.close_pools()
            dbs.close()
    finally:
        if cluster is not None:
            cluster.remove()


class Bench:
    def __init__(self, spec: Spec, args: argparse.Namespace, work: Path) -> None:
        self.spec = spec
        self.args = args
        self.work = work
        self.csv = work / "events.csv"
        self.csv_bytes = 0
        self.current_src = ROOT
        self.baseline_src = Path(args.baseline_src).resolve() if args.baseline_src else None
        self.loads = {b: LoadAB(b) for b in BACKENDS}
        #: The tables of each backend's baseline database (as loaded), for the rollups the current code adds.
        self.baseline_tables: dict[str, set[str]] = {}
        self.sizes: dict[str, Sizes] = {}
        self.phases: dict[str, float] = {}
        self.notes: list[str] = []
        self.facts: list[str] = []
        self.packages: dict[str, str] = {}
        self.mismatches: list[Mismatch] = []
        self.raw_differs: list[str] = []
        self.raw_errors: list[str] = []
        self.timed: dict[str, dict[str, Timed]] = {}
        self.requests: list[Request] = []
        self.pg_what = self.pg_version = ""

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
        prefix = self.spec.db_prefix
        target: str | Path = (self.work / f"{which}.db") if backend == "sqlite" else pg.new(f"{prefix}_{which}")
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
                self.baseline_tables[backend] = (sqlite_tables(target) if isinstance(target, Path)
                                                 else pg_tables(target))
            if isinstance(target, Path):
                target.unlink(missing_ok=True)
            else:
                pg.admin.execute(f"DROP DATABASE IF EXISTS moviedash_bench_{prefix}_baseline WITH (FORCE)")
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

    def measure_sizes(self, sqlite_db: Path, pg_url: str) -> None:
        groups = self.spec.groups
        found = sqlite_sizes(sqlite_db, groups, self.baseline_tables.get("sqlite"))
        if found is None:
            self.notes.append("SQLite's sizes not measured: this SQLite has no `dbstat`")
        else:
            self.sizes["sqlite"] = found
        self.sizes["postgresql"] = pg_sizes(pg_url, groups, self.baseline_tables.get("postgresql"))
        if any(g.added for g in groups):
            for backend in BACKENDS:
                size = self.sizes.get(backend)
                if backend not in self.baseline_tables or size is None:
                    self.notes.append(f"{LABEL[backend]}: no baseline database to compare its tables with; "
                                      "the rollup groups count the named tables only")
                    continue
                added = new_rollups(size.tables, self.baseline_tables[backend])
                self.notes.append(f"{LABEL[backend]}: rollup tables the baseline's schema has not: "
                                  + (", ".join(f"`{t}`" for t in added) or "none"))

    def serve(self, sqlite_db: Path, pg_url: str) -> None:
        apps = {
            "sqlite": create_app(db=str(sqlite_db), MOVIEDASH_QUERY_TIMEOUT=TIMEOUT),
            "postgresql": create_app(db=pg_url, MOVIEDASH_QUERY_TIMEOUT=TIMEOUT),
        }
        clients = {b: app.server.test_client() for b, app in apps.items()}
        # As `moviedash serve` does once its app is built: the start-up objects leave the collector's
        # walks, which would otherwise land on whichever request a full collection falls on.
        freeze_startup_objects()
        plan = self.spec.plan(clients["sqlite"])
        self.requests, self.facts = plan.requests, plan.facts
        labels = [r.label for r in self.requests]
        if len(set(labels)) != len(labels):
            raise BenchmarkError(f"two requests share a label: {sorted({x for x in labels if labels.count(x) > 1})}")
        log(f"{len(self.requests)} requests; " + "; ".join(self.facts))
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
                self.measure_sizes(sqlite_db, pg_url)
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


def size_cells(sizes: dict[str, Sizes], key: str, table: bool = False, share: bool = True) -> str:
    """The SQLite and PostgreSQL cells (MiB, share) of one row of the sizes: a group's (or ``total``), or with
    ``table`` one table's."""
    cells = []
    for backend in BACKENDS:
        size = sizes.get(backend)
        n = None if size is None else (size.tables.get(key) if table else size[key])
        if size is None or n is None:
            cells += ["—", "—"]
            continue
        cells += [mib(n), f"{size.share(n):.2f} %" if share else ""]
    return " | ".join(cells)


def sizes_section(b: Bench) -> list[str]:
    spec = b.spec
    L = [
        "## Sizes",
        "",
        "SQLite: `dbstat` (pages of each table and its indexes; the file for the database). PostgreSQL: "
        "`pg_total_relation_size` (with indexes and TOAST) summed over each table's partitions; "
        "`pg_database_size` for the database (its catalogs included)." + (f" {spec.sizes_note}" if spec.sizes_note
                                                                         else ""),
        "",
        "| | SQLite | share | PostgreSQL | share |",
        "|---|---:|---:|---:|---:|",
        f"| database | {size_cells(b.sizes, 'total', share=False)} |",
    ]
    L += [f"| {g.label} | {size_cells(b.sizes, g.key)} |" for g in spec.groups]
    if spec.per_table:
        names = sorted({t for s in b.sizes.values() for t in s.tables if t.startswith(ROLLUP_PREFIX)})
        L += ["", "Every rollup table (indexes included):", "", "| table | SQLite | share | PostgreSQL | share |",
              "|---|---:|---:|---:|---:|"]
        L += [f"| `{t}` | {size_cells(b.sizes, t, table=True)} |" for t in names]
    return L


def render(
    b: Bench, command: str, total_s: float, load_before: tuple[float, ...], load_after: tuple[float, ...]
) -> str:
    a, spec = b.args, b.spec
    targets = build_targets(spec.targets, b.timed, b.loads if b.baseline_src else {}, b.sizes, a.repeat)
    first = b.mismatches[0] if b.mismatches else None
    facts = "".join(f"; {fact}" for fact in b.facts)
    L = [
        f"# {spec.heading}, SQLite and PostgreSQL, {a.events:,} demo events",
        "",
        f"- machine: {machine()}; PostgreSQL {b.pg_version} ({b.pg_what})",
        f"- command: `{command}` (from the repository root; whole run {total_s / 60:.1f} min)",
        f"- code: {product_source()}; load subprocesses import current `{b.packages.get('current', '?')}`"
        + (f", baseline `{b.packages.get('baseline', '?')}` (--baseline-src {a.baseline_src})"
           if b.baseline_src else ", no baseline"),
        f"- load average (1/5/15 min) before {'/'.join(f'{x:.2f}' for x in load_before)}, "
        f"after {'/'.join(f'{x:.2f}' for x in load_after)}",
        f"- data: {a.events:,} demo events (seed {a.seed}), one course-format CSV with a header row "
        f"({b.csv_bytes / 2**20:,.0f} MiB){facts}",
        "",
        f"## Targets (issue {spec.targets.issue}, at {TARGET_EVENTS:,} events; this run {a.events:,})",
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
    L += sizes_section(b)
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


def parse_args(spec: Spec, argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"python -m {spec.module}", description=spec.doc,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000, help="demo events (the targets: 10000000)")
    parser.add_argument("--repeat", type=int, default=20, help="warm requests per request (default 20)")
    parser.add_argument("--baseline-src", help="a folder holding the older `moviedash` package to A/B the load with")
    parser.add_argument("--load-rounds", type=int, default=1, help="load pairs per backend (default 1)")
    parser.add_argument("--seed", type=int, default=7, help="demo data seed (default 7)")
    parser.add_argument("--no-raw", action="store_true", help="skip the SQLite raw-table comparison")
    parser.add_argument("--step-timeout", type=float, default=3600.0, help="seconds per load (default 3600)")
    parser.add_argument("--out", type=Path, help=f"Markdown results (default benchmarks/results-{spec.slug}-<N>.md)")
    args = parser.parse_args(argv)
    if args.events < 1_000 or args.repeat < 1 or args.load_rounds < 1:
        parser.error("--events must be at least 1000, --repeat and --load-rounds at least 1")
    if args.baseline_src and not (Path(args.baseline_src) / "moviedash" / "cli.py").is_file():
        parser.error(f"--baseline-src {args.baseline_src} holds no moviedash package (moviedash/cli.py)")
    return args


def main(spec: Spec, argv: list[str] | None = None) -> int:
    """Run ``spec``'s benchmark with the command line ``argv``; write and print the results."""
    args = parse_args(spec, argv)
    raw_argv = sys.argv[1:] if argv is None else argv
    command = shlex.join(["python", "-m", spec.module, *raw_argv])
    out = args.out or HERE / f"results-{spec.slug}-{args.events}.md"
    load_before = os.getloadavg()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"moviedash-{spec.slug}-") as tmp:
        bench = Bench(spec, args, Path(tmp))
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
    for backend in BACKENDS:
        for figure in ("cold", "warm_p95"):
            top = slowest(bench.timed, backend, figure, 5)
            log(f"slowest on {LABEL[backend]} ({figure}): " + "; ".join(f"{fmt_ms(v)} ms {k}" for v, k in top))
    if bench.mismatches:
        print(f"\nBYTE-IDENTITY CHECK FAILED: {len(bench.mismatches)} PostgreSQL answer(s) differ from SQLite's",
              file=sys.stderr)
        return 1
    return 0
