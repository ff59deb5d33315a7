"""Series and audience (issue 15) on SQLite and PostgreSQL: load A/B against older code, rollup sizes, routes, charts.

    python -m benchmarks.series --events 10000000 --baseline-src DIR [--repeat 20] [--load-rounds 1]
        [--seed 7] [--no-raw] [--out FILE]

Issue 15's acceptance, at 10M events: every route and chart cold ≤ 500 ms and warm p95
≤ 30 ms on SQLite, ≤ 2× that on PostgreSQL; a load with the new rollups at most 10 %
longer than the same load by the code before the issue (same run, both backends); the
rollups (every ``md_*`` table) ≤ 25 % of the database; PostgreSQL's answers byte-identical
to SQLite's.  The run is :mod:`benchmarks.pagebench`'s (its docstring: data, throwaway
PostgreSQL cluster, load A/B, sizes, in-process serving, checks, Markdown); this module
declares what issue 15 measures:

- **Baseline**: ``--baseline-src DIR`` holds the package before issue 15
  (``git archive 30a8957 moviedash | tar -x -C DIR``).
- **Sizes**: the database, every rollup table (``md_*``: the target), and issue 15's own
  tables as a group: :data:`ISSUE15_TABLES` plus any ``md_*`` table of the current schema
  that the baseline's database has not (found from the two loaded databases); also
  ``moviedash_shows`` (each title's show, not a rollup) and every ``md_*`` table by itself.
- **Routes** (:func:`route_urls`): the top list by show (each rank, and filtered), the most
  viewed show's ``/data/show/`` (found on the data: the first show of
  ``/data/toplist/?group=shows&rank=viewers&sessiontype=SERIES``), binge sessions per period,
  overall and by show, new vs returning viewers, cohorts by week and month, concentration and
  heavy viewers (each measure); the filtered ones with :data:`benchmarks.pagebench.FILTERED`
  (dates with edge days, device TV).
- **Figures API** (:func:`figure_urls`): every chart of ``/figures/binge/``, ``/figures/audience/``
  and ``/figures/viewers/``, each with its own parameter as the pages start, and the overview's
  top list by show (``/figures/top_titles.json?group=shows``).  A show's charts have no
  ``/figures/`` route: they are timed through the show page's callbacks.
- **Pages** (:data:`PAGES` and :func:`show_page`): ``/series``, ``/audience`` and ``/show/<the
  most viewed show>`` (each page and its ``/_dash-layout``), their callbacks (every chart, and
  the show's table: the default view, each audience control's other values, one filtered
  selection), and the overview's top list callback with ``group=shows``.
"""
from __future__ import annotations

import sys
from typing import Any
from urllib.parse import quote, urlencode

from moviedash import audience_cards, binge_cards, pipeline
from moviedash.dashboard import audience_page, ids, layout, series_page

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

#: Issue 15's targets (at 10M events): PostgreSQL gets twice SQLite's latencies.
TARGETS = Targets(
    issue=15, cold_ms={"sqlite": 500.0, "postgresql": 1000.0}, warm_p95_ms={"sqlite": 30.0, "postgresql": 60.0},
    load_ratio_max=1.10, share_max=25.0, share_group="rollups", share_label="every rollup table (`md_*`)",
    also_group="issue15", also_label="issue 15's tables",
)
#: The rollup tables of issue 15 (shows, binges, first seen, per-viewer sums); any other ``md_*`` table the
#: baseline's schema has not is counted with them.
ISSUE15_TABLES: tuple[str, ...] = (
    "md_shows", "md_title_shows", "md_binge_shows", "md_binge_viewers", "md_binge_tail", "md_binges",
    "md_binge_day", "md_first_seen", "md_first_day", "md_viewer_day", "md_viewer_month",
)
GROUPS: tuple[Group, ...] = (
    Group("rollups", "**every rollup table** (`md_*`)", prefix="md_"),
    Group("issue15", "issue 15's tables (named, and any `md_*` table the baseline's schema has not)",
          tables=ISSUE15_TABLES, added=True),
    Group("shows", "`moviedash_shows` (each title's show; not a rollup table)", tables=("moviedash_shows",)),
)
#: The query of the most viewed show (series only: a movie is its own "show" in the top list).
MOST_VIEWED_SHOW = "/data/toplist/?group=shows&num=1&rank=viewers&sessiontype=SERIES"

#: The series page's cards (top shows and the binge cards; no controls of their own).
SERIES_PAGE = PageSpec(
    series_page.PATH, "series", {f"series {key}": f"{ids.graph(key)}.figure" for key in series_page.CARD_KEYS},
    ids.SERIES_SELECTION, ids.SERIES_FILTERS,
)
#: Each audience control's other values (the page starts at :data:`moviedash.audience_cards.DEFAULTS`).
AUDIENCE_VARIANTS: tuple[tuple[str, str], ...] = tuple(
    (audience_page.CONTROL_IDS[card.control], value)
    for card in audience_cards.CARDS if card.control is not None
    for value, _ in card.choices if value != audience_cards.DEFAULTS[card.control]
)
#: The audience page: new vs returning viewers and cohorts (with their controls), concentration, heavy viewers.
AUDIENCE_PAGE = PageSpec(
    audience_page.PATH, "audience",
    {f"audience {key}": f"{ids.graph(key)}.figure" for key in audience_page.CHART_KEYS},
    ids.AUDIENCE_SELECTION, None, AUDIENCE_VARIANTS,
)
#: The overview's top list by show (its page is issue 14's and earlier: only this callback is timed).
OVERVIEW_TOP = PageSpec(
    "/", "overview", {"overview top (group=shows)": f"{ids.graph('top')}.figure"},
    ids.OVERVIEW_SELECTION, ids.OVERVIEW_FILTERS, fixed=((ids.GROUP, "value", "shows"),), timed=False,
)
PAGES: tuple[PageSpec, ...] = (SERIES_PAGE, AUDIENCE_PAGE, OVERVIEW_TOP)


def show_page(name: str) -> PageSpec:
    """A show's page: its charts and its per-episode table."""
    callbacks = {f"show {key}": f"{ids.graph(key)}.figure" for key in series_page.SHOW_CHART_KEYS}
    callbacks["show table"] = f"{ids.SHOW_TABLE}.children"
    return PageSpec(series_page.show_path(name), layout.SHOW_PAGE, callbacks, ids.SHOW_SELECTION, ids.SHOW_FILTERS,
                    fixed=((ids.SHOW_NAME, "data", name),))


def _url(path: str, own: list[tuple[str, str]], filtered: bool = False) -> str:
    params = [*own, *(FILTERED.params() if filtered else [])]
    return f"{path}?{urlencode(params, quote_via=quote)}" if params else path


def route_urls(show: str) -> list[str]:
    """Issue 15's ``/data`` routes timed; ``show``: the show of ``/data/show/`` (the most viewed)."""
    name = [("name", show)]
    return [
        *(_url("/data/toplist/", [("group", "shows"), ("rank", rank)]) for rank in ("viewers", "plays", "minutes")),
        _url("/data/toplist/", [("group", "shows"), ("rank", "viewers")], filtered=True),
        _url("/data/show/", name),
        _url("/data/show/", name, filtered=True),
        *(_url("/data/binge/", [("resolution", r)]) for r in ("daily", "weekly", "monthly")),
        _url("/data/binge/", [("resolution", "weekly")], filtered=True),
        _url("/data/binge/overall/", []),
        _url("/data/binge/overall/", [], filtered=True),
        _url("/data/binge/shows/", []),
        _url("/data/binge/shows/", [], filtered=True),
        *(_url("/data/audience/", [("resolution", r)]) for r in ("daily", "weekly", "monthly")),
        _url("/data/audience/", [("resolution", "daily")], filtered=True),
        *(_url("/data/cohorts/", [("period", p)]) for p in ("week", "month")),
        _url("/data/cohorts/", [("period", "week")], filtered=True),
        _url("/data/concentration/", []),
        _url("/data/concentration/", [], filtered=True),
        *(_url("/data/viewers/", [("measure", m)]) for m in ("plays", "minutes")),
        _url("/data/viewers/", [("measure", "minutes")], filtered=True),
    ]


#: Each family's charts, their own parameters and the values the pages start at.
FIGURE_FAMILIES: tuple[tuple[str, tuple[str, ...], dict[str, tuple[str, ...]], dict[str, Any]], ...] = (
    ("binge", pipeline.BINGE_CHARTS, pipeline.BINGE_CHART_PARAMS,
     {"resolution": binge_cards.DEFAULTS["binge_resolution"], "num": binge_cards.DEFAULTS["binge_num"]}),
    ("audience", pipeline.AUDIENCE_CHARTS, pipeline.AUDIENCE_CHART_PARAMS,
     {"resolution": audience_cards.DEFAULTS["audience_resolution"],
      "period": audience_cards.DEFAULTS["cohort_period"]}),
    ("viewers", pipeline.VIEWER_CHARTS, {}, {}),
)


def figure_urls() -> list[str]:
    """Every binge, audience and viewer chart of the figures API (its own parameter as the pages start), and the
    top list by show."""
    out = []
    for family, chart_names, params, options in FIGURE_FAMILIES:
        for chart in chart_names:
            out.append(_url(f"/figures/{family}/{chart}.json", [(p, str(options[p])) for p in params.get(chart, ())]))
    out.append(_url("/figures/top_titles.json", [("group", "shows")]))
    return out


def most_viewed_show(client: Any) -> str:
    """The show with the most viewers (series only), as the top list by show ranks it."""
    rows = get_json(client, MOST_VIEWED_SHOW)
    if not rows or not isinstance(rows, list) or not rows[0].get("title"):
        raise BenchmarkError(f"{MOST_VIEWED_SHOW}: no show in the data: {str(rows)[:300]}")
    return str(rows[0]["title"])


def plan(client: Any) -> Plan:
    """The most viewed show, then every request of issue 15: the pages and their layouts, the routes, the
    figures, the pages' callbacks."""
    show = most_viewed_show(client)
    dependencies = get_json(client, "/_dash-dependencies")
    own: list[Request] = []
    callbacks: list[Request] = []
    for spec in (*PAGES, show_page(show)):
        _page, requests = page_requests(client, spec, dependencies)
        own += [r for r in requests if r.kind != "callback"]
        callbacks += [r for r in requests if r.kind == "callback"]
    return Plan([
        *own,
        *(Request("route", url, url) for url in route_urls(show)),
        *(Request("figure", url, url) for url in figure_urls()),
        *callbacks,
    ], [f"the show page's show (most viewers, series only): {show}"])


SPEC = Spec(
    slug="series", db_prefix="series", heading="Series and audience", module="benchmarks.series",
    doc=__doc__ or "", targets=TARGETS, groups=GROUPS, plan=plan, per_table=True,
)


def main(argv: list[str] | None = None) -> int:
    return run_spec(SPEC, argv)


if __name__ == "__main__":
    sys.exit(main())
