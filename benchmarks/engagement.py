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
   (``analysis.CACHE``, the first views' ``VIEW_CACHE``, the controls' charts' ``CHART_CACHE``),
   warm = p95 (nearest rank) of ``--repeat``; every sample sent to SQLite then PostgreSQL.
6. **Checks**: every PostgreSQL answer (cold and warm) must equal SQLite's first answer
   byte for byte (a page's per-response ``end_id`` masked); on SQLite a copy of the
   file without ``md_meta`` (every answer from the raw table; skipped with
   ``--no-raw``) answers each ``/data`` route once, with the same bytes.
7. **Results**: Markdown, ``--out`` (default ``benchmarks/results-engagement-<events>.md``):
   the machine, the command, the targets (met/missed with the worst request), the load
   A/B, the sizes and a table of every request.  Exit status 1 when an answer differs.

The run itself is :mod:`benchmarks.pagebench`'s (shared with issue 15's ``benchmarks/series.py``);
this module declares what issue 14 measures: its targets, size groups, routes, charts and page.
"""
from __future__ import annotations

import sys
from typing import Any
from urllib.parse import quote, urlencode

from moviedash import pipeline
from moviedash.dashboard import engagement_page, ids

from .client import BenchmarkError
from .pagebench import (
    FILTERED,
    Group,
    PageSpec,
    Plan,
    Request,
    Spec,
    Targets,
    get_json,
    page_requests,
)
from .pagebench import main as run_spec

__all__ = ["FILTERED", "SPEC", "PAGE", "route_urls", "figure_urls", "main"]

#: Issue 14's targets (at 10M events): PostgreSQL gets twice SQLite's latencies.
TARGETS = Targets(
    issue=14, cold_ms={"sqlite": 300.0, "postgresql": 600.0}, warm_p95_ms={"sqlite": 30.0, "postgresql": 60.0},
    load_ratio_max=1.10, share_max=15.0, share_group="issue14", share_label="issue 14's rollups",
    also_group="rollups", also_label="every rollup table",
)
TITLE_TABLES = ("md_title_day", "md_title_month")
#: The sizes reported, in order; issue 14's rollups are the last.
GROUPS: tuple[Group, ...] = (
    Group("rollups", "every rollup table (`md_*`)", prefix="md_"),
    Group("engagement", "`md_engagement`", tables=("md_engagement",)),
    Group("bins", "`md_engagement_bins` and `md_engagement_bins_month`",
          tables=("md_engagement_bins", "md_engagement_bins_month")),
    Group("titles", "`engagement` + `deciles` of `md_title_day`/`md_title_month`",
          columns=tuple((t, ("engagement", "deciles")) for t in TITLE_TABLES)),
    Group("issue14", "**issue 14's rollups** (the three above)", parts=("engagement", "bins", "titles")),
)
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
#: The engagement page: its selection store drives the charts, its filters store the key figures,
#: "About this data" and the title list.
PAGE = PageSpec("/engagement", "engagement", CALLBACKS, ids.ENGAGEMENT_SELECTION, ids.ENGAGEMENT_FILTERS, VARIANTS)
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


def plan(client: Any) -> Plan:
    """The page's first title of "where people stop" (the most played), then every request of issue 14."""
    page, requests = page_requests(client, PAGE, get_json(client, "/_dash-dependencies"))
    title = page.props.get(ids.STOPS_TITLE, {}).get("value")
    if not title:
        raise BenchmarkError("the engagement page's first layout chooses no title for 'where people stop'")
    title = str(title)
    return Plan([
        *requests[:2],  # the page and its layout
        *(Request("route", url, url) for url in route_urls(title)),
        *(Request("figure", url, url) for url in figure_urls(title)),
        *requests[2:],
    ], [f"the stop curves' title: {title}"])


SPEC = Spec(
    slug="engagement", db_prefix="eng", heading="Engagement page", module="benchmarks.engagement",
    doc=__doc__ or "", targets=TARGETS, groups=GROUPS, plan=plan,
    sizes_note="The per-title columns: their payload (`length`; `pg_column_size`, as stored).",
)


def main(argv: list[str] | None = None) -> int:
    return run_spec(SPEC, argv)


if __name__ == "__main__":
    sys.exit(main())
