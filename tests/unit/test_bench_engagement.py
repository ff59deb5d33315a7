"""The pure parts of the engagement benchmark (benchmarks/engagement.py on benchmarks/pagebench.py): no server,
no database."""
from __future__ import annotations

import datetime as dt
import math

from benchmarks.backends import comparable
from benchmarks.engagement import CALLBACKS, FILTERED, GROUPS, PAGE, TARGETS, figure_urls, route_urls
from benchmarks.pagebench import LoadAB, Sizes, Timed, build_targets, callback_requests, summary_lines, worst
from benchmarks.selections import Callback, Page, find_callbacks
from moviedash import pipeline


def test_sizes_count_sqlite_autoindexes_with_their_table_and_shares_of_the_database() -> None:
    tables = {"movies": 600, "sqlite_autoindex_movies_1": 100, "md_day": 100, "sqlite_autoindex_md_day_1": 20,
              "md_engagement": 30, "sqlite_autoindex_md_engagement_1": 10, "md_engagement_bins": 50,
              "sqlite_autoindex_md_engagement_bins_1": 10, "md_title_day": 80}
    s = Sizes.of(1000, tables, GROUPS, {"titles": 20})
    assert (s["rollups"], s["engagement"], s["bins"], s["titles"]) == (300, 40, 60, 20)
    assert s["issue14"] == 120 and s.share(s["issue14"]) == 12.0 and s.share(s["rollups"]) == 30.0
    assert s["total"] == 1000 and s.tables["md_day"] == 120
    # PostgreSQL's rows are already one per table (partitions summed under their root).
    assert Sizes.of(400, {"md_engagement": 40, "movies": 360}, GROUPS).share(40) == 10.0
    assert math.isnan(Sizes.of(0, {}, GROUPS).share(0))


def test_load_ratio_is_current_over_baseline_medians() -> None:
    ab = LoadAB("sqlite", current_s=[11.0, 12.0, 30.0], baseline_s=[10.0, 10.0, 10.5])
    assert ab.current == 12.0 and ab.baseline == 10.0 and ab.ratio == 1.2
    assert math.isnan(LoadAB("sqlite", current_s=[1.0]).ratio)
    assert math.isnan(LoadAB("postgresql", current_s=[1.0], baseline_error="exit 2: no such option").ratio)


def timed(cold: list[float], warm: list[float]) -> Timed:
    return Timed(cold_ms=cold, warm_ms=warm)


def test_worst_is_the_largest_figure_and_skips_missing_ones() -> None:
    requests = {
        "/a": {"sqlite": timed([5.0, 1.0, 9.0], [1.0] * 19 + [50.0]), "postgresql": timed([1.0], [])},
        "/b": {"sqlite": timed([7.0], [2.0, 3.0]), "postgresql": timed([2.0], [4.0])},
    }
    assert worst(requests, "sqlite", "cold") == (7.0, "/b")  # /a's median is 5
    assert worst(requests, "sqlite", "warm_p95") == (3.0, "/b")  # p95 of 20 is the 19th: 1.0
    assert worst(requests, "postgresql", "warm_p95") == (4.0, "/b")  # /a has no warm samples
    assert math.isnan(worst({}, "sqlite", "cold")[0])


def test_targets_per_backend_with_postgresql_allowed_twice_sqlites_latency() -> None:
    requests = {
        "/data/x": {"sqlite": timed([250.0], [20.0]), "postgresql": timed([550.0], [70.0])},
        "callback y": {"sqlite": timed([310.0], [5.0]), "postgresql": timed([10.0], [5.0])},
    }
    loads = {"sqlite": LoadAB("sqlite", [10.9], [10.0]),
             "postgresql": LoadAB("postgresql", [8.0], [], "exit 2: Error: no such option")}
    sizes = {"sqlite": Sizes(1000, {"rollups": 300, "issue14": 120}),
             "postgresql": Sizes(1000, {"rollups": 500, "issue14": 180})}
    lines = summary_lines(build_targets(TARGETS, requests, loads, sizes, 20))
    assert lines == [
        "- SQLite: every request cold (median of 5) ≤ 300 ms: 310.0 ms **missed** (worst: `callback y`)",
        "- SQLite: every request warm p95 (of 20) ≤ 30 ms: 20.0 ms **met** (worst: `/data/x`)",
        "- PostgreSQL: every request cold (median of 5) ≤ 600 ms: 550.0 ms **met** (worst: `/data/x`)",
        "- PostgreSQL: every request warm p95 (of 20) ≤ 60 ms: 70.0 ms **missed** (worst: `/data/x`)",
        "- SQLite: load ≤ 1.10× the baseline's (same CSV, same run): 1.090× (+9.0 %) **met** (10.9 s vs 10.0 s)",
        "- PostgreSQL: load ≤ 1.10× the baseline's (same CSV, same run): — **not measured** "
        "(the baseline did not load: exit 2: Error: no such option)",
        "- SQLite: issue 14's rollups ≤ 15 % of the database: 12.0 % **met** (0.0 of 0.0 MiB; every rollup table "
        "30.0 %)",
        "- PostgreSQL: issue 14's rollups ≤ 15 % of the database: 18.0 % **missed** (0.0 of 0.0 MiB; every rollup "
        "table 50.0 %)",
    ]
    without = summary_lines(build_targets(TARGETS, requests, {}, {}, 20))
    assert without[4].endswith("— **not measured** (no baseline (--baseline-src))")
    assert without[6] == "- SQLite: issue 14's rollups ≤ 15 % of the database: — **not measured**"


def test_urls_quote_the_title_and_cover_every_engagement_chart() -> None:
    urls = route_urls("Å & B")
    assert "/data/completion/stops/?title=%C3%85%20%26%20B" in urls
    assert len(urls) == len(set(urls))
    figures = figure_urls("Å & B")
    assert [u.split("/")[-1].split(".json")[0] for u in figures] == list(pipeline.ENGAGEMENT_CHARTS)
    assert "/figures/engagement/completion_stops.json?title=%C3%85%20%26%20B" in figures
    assert "/figures/engagement/quality_p90_breakdown.json?by=device" in figures
    assert "/figures/engagement/completion_distribution.json" in figures


def dependency(output: str, inputs: list[str], state: list[str]) -> dict:
    def deps(names: list[str]) -> list[dict[str, str]]:
        return [{"id": n.rsplit(".", 1)[0], "property": n.rsplit(".", 1)[1]} for n in names]

    return {"output": output, "inputs": deps(inputs), "state": deps(state)}


def test_callback_bodies_carry_the_selection_store_and_each_control_variant() -> None:
    deps = [dependency("..completion-graph.figure...completion-summary.children..",
                       ["completion-measure.value", "completion-resolution.value", "engagement-selection.data"],
                       ["breakdown-by.value", "page.data"]),
            dependency("..kpi-completion-rate-value.children...kpi-poor-quality-value.children..",
                       ["engagement-selection.data"], []),
            dependency("unrelated.children", ["x.value"], [])]
    wanted = {k: v for k, v in CALLBACKS.items() if k in ("completion", "kpis")}
    found = find_callbacks(deps, wanted)
    assert set(found) == {"completion", "kpis"} and isinstance(found["kpis"], Callback)
    props = {"completion-measure": {"value": "completion_rate"}, "completion-resolution": {"value": "weekly"},
             "breakdown-by": {"value": "device"}, "page": {"data": "engagement"}}
    page = Page(props, dt.date(2023, 1, 1), dt.date(2024, 12, 31))
    requests = {r.label: r for r in callback_requests(PAGE, page, found)}
    default = requests["callback completion"].body
    assert default is not None
    assert default["changedPropIds"] == ["engagement-selection.data"]
    values = {f"{i['id']}.{i['property']}": i["value"] for i in default["inputs"] + default["state"]}
    assert values["engagement-selection.data"] == {"filters": ["2023-01-01", "2024-12-31", "", [], []],
                                                   "theme": "light"}
    assert values["completion-measure.value"] == "completion_rate" and values["page.data"] == "engagement"
    variant = requests["callback completion (completion-measure=full_watches)"].body
    assert variant is not None and variant["changedPropIds"] == ["completion-measure.value"]
    assert {i["id"]: i["value"] for i in variant["inputs"]}["completion-measure"] == "full_watches"
    # The key figures take no control: no variants, but the filtered selection.
    assert [label for label in requests if label.startswith("callback kpis")] == [
        "callback kpis", f"callback kpis [{FILTERED.name}]"]
    filtered = requests[f"callback kpis [{FILTERED.name}]"].body
    assert filtered is not None
    assert filtered["inputs"][0]["value"]["filters"] == ["2024-03-10", "2024-06-20", "", ["TV"], []]


def test_the_engagement_pages_token_is_masked_too() -> None:
    page = b'{"end_id":"abc~123","x":1}'
    assert comparable("/engagement", page) == comparable("/engagement", page.replace(b"abc", b"zzz"))
    assert comparable("/engagement?market=NO", page) == b'{"end_id":"~","x":1}'
    assert comparable("/_dash-layout", page) == page
