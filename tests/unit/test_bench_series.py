"""The pure parts of issue 15's benchmark (benchmarks/series.py on benchmarks/pagebench.py): no server, no database."""
from __future__ import annotations

import datetime as dt
import math

import pytest

from benchmarks import pagebench
from benchmarks.client import BenchmarkError
from benchmarks.pagebench import (
    FILTERED,
    LoadAB,
    Request,
    Sizes,
    Timed,
    build_targets,
    callback_requests,
    check_data_answer,
    fold_tables,
    new_rollups,
    slowest,
    summary_lines,
)
from benchmarks.selections import Page, find_callbacks
from benchmarks.series import (
    AUDIENCE_PAGE,
    AUDIENCE_VARIANTS,
    GROUPS,
    ISSUE15_TABLES,
    OVERVIEW_TOP,
    TARGETS,
    figure_urls,
    route_urls,
    show_page,
)
from moviedash import pipeline


def test_the_issue_15_group_counts_its_named_tables_and_those_the_baseline_has_not_once_each() -> None:
    tables = {"movies": 500, "moviedash_shows": 10, "md_day": 100, "md_shows": 20, "md_binge_tail": 30,
              "md_binge_tail_pair": 5, "md_viewer_day": 40, "md_new_thing": 15}
    per = fold_tables(tables, {"md_binge_tail_pair": "md_binge_tail"})
    assert per["md_binge_tail"] == 35 and "md_binge_tail_pair" not in per
    # md_viewer_day is both named and new: counted once.
    added = new_rollups(per, {"movies", "md_day", "moviedash_shows"})
    assert added == ("md_binge_tail", "md_new_thing", "md_shows", "md_viewer_day")
    s = Sizes.of(1000, per, GROUPS, added=added)
    assert s["rollups"] == 210 and s["issue15"] == 110 and s["shows"] == 10
    assert s.share(s["rollups"]) == 21.0 and s.tables["md_new_thing"] == 15
    # Without a baseline only the named tables count.
    assert new_rollups(per, None) == ()
    assert Sizes.of(1000, per, GROUPS)["issue15"] == 95
    assert set(ISSUE15_TABLES) >= {"md_shows", "md_binges", "md_first_seen", "md_viewer_month"}


def timed(cold: list[float], warm: list[float]) -> Timed:
    return Timed(cold_ms=cold, warm_ms=warm)


def test_targets_hold_every_rollup_table_to_a_quarter_with_issue_15s_share_named() -> None:
    requests = {
        "/data/cohorts/?period=week": {"sqlite": timed([520.0], [25.0]), "postgresql": timed([900.0], [61.0])},
        "callback show table": {"sqlite": timed([40.0], [5.0]), "postgresql": timed([80.0], [10.0])},
    }
    loads = {"sqlite": LoadAB("sqlite", [10.5], [10.0]), "postgresql": LoadAB("postgresql", [12.0], [10.0])}
    sizes = {"sqlite": Sizes(1000, {"rollups": 240, "issue15": 90}),
             "postgresql": Sizes(2000, {"rollups": 600, "issue15": 300})}
    lines = summary_lines(build_targets(TARGETS, requests, loads, sizes, 20))
    assert lines == [
        "- SQLite: every request cold (median of 5) ≤ 500 ms: 520.0 ms **missed** "
        "(worst: `/data/cohorts/?period=week`)",
        "- SQLite: every request warm p95 (of 20) ≤ 30 ms: 25.0 ms **met** (worst: `/data/cohorts/?period=week`)",
        "- PostgreSQL: every request cold (median of 5) ≤ 1000 ms: 900.0 ms **met** "
        "(worst: `/data/cohorts/?period=week`)",
        "- PostgreSQL: every request warm p95 (of 20) ≤ 60 ms: 61.0 ms **missed** "
        "(worst: `/data/cohorts/?period=week`)",
        "- SQLite: load ≤ 1.10× the baseline's (same CSV, same run): 1.050× (+5.0 %) **met** (10.5 s vs 10.0 s)",
        "- PostgreSQL: load ≤ 1.10× the baseline's (same CSV, same run): 1.200× (+20.0 %) **missed** "
        "(12.0 s vs 10.0 s)",
        "- SQLite: every rollup table (`md_*`) ≤ 25 % of the database: 24.0 % **met** (0.0 of 0.0 MiB; "
        "issue 15's tables 9.0 %)",
        "- PostgreSQL: every rollup table (`md_*`) ≤ 25 % of the database: 30.0 % **missed** (0.0 of 0.0 MiB; "
        "issue 15's tables 15.0 %)",
    ]
    assert slowest(requests, "postgresql", "cold", 1) == [(900.0, "/data/cohorts/?period=week")]
    assert math.isnan(build_targets(TARGETS, requests, {}, {}, 20)[-1].measured)


def test_routes_quote_the_show_and_cover_each_issue_15_route_unfiltered_and_filtered() -> None:
    urls = route_urls("Å & B, 1")
    assert len(urls) == len(set(urls))
    assert "/data/show/?name=%C3%85%20%26%20B%2C%201" in urls
    assert "/data/show/?name=%C3%85%20%26%20B%2C%201&start=2024-03-10&end=2024-06-20&device=TV" in urls
    paths = {u.split("?")[0] for u in urls}
    assert paths == {"/data/toplist/", "/data/show/", "/data/binge/", "/data/binge/overall/", "/data/binge/shows/",
                     "/data/audience/", "/data/cohorts/", "/data/concentration/", "/data/viewers/"}
    for path in paths:  # each route at least once filtered
        assert any(u.startswith(path + "?") and "device=TV" in u for u in urls), path
    for rank in ("viewers", "plays", "minutes"):
        assert f"/data/toplist/?group=shows&rank={rank}" in urls
    assert {f"/data/cohorts/?period={p}" for p in ("week", "month")} <= set(urls)
    assert {f"/data/viewers/?measure={m}" for m in ("plays", "minutes")} <= set(urls)
    assert {f"/data/binge/?resolution={r}" for r in ("daily", "weekly", "monthly")} <= set(urls)


def test_figures_cover_every_binge_audience_and_viewer_chart_with_the_pages_first_options() -> None:
    urls = figure_urls()
    charts = [u.split("?")[0].removeprefix("/figures/").removesuffix(".json") for u in urls]
    assert charts == [*(f"binge/{c}" for c in pipeline.BINGE_CHARTS), *(f"audience/{c}" for c in
                      pipeline.AUDIENCE_CHARTS), *(f"viewers/{c}" for c in pipeline.VIEWER_CHARTS), "top_titles"]
    assert "/figures/binge/binge_shows.json?num=10" in urls
    assert "/figures/audience/cohorts.json?period=month" in urls
    assert "/figures/viewers/viewer_lorenz.json" in urls
    assert "/figures/top_titles.json?group=shows" in urls


def dependency(output: str, inputs: list[str], state: list[str]) -> dict:
    def deps(names: list[str]) -> list[dict[str, str]]:
        return [{"id": n.rsplit(".", 1)[0], "property": n.rsplit(".", 1)[1]} for n in names]

    return {"output": output, "inputs": deps(inputs), "state": deps(state)}


def page() -> Page:
    props = {"audience-resolution-select": {"value": "weekly"}, "cohort-period-select": {"value": "month"},
             "page": {"data": "overview"}, "group": {"value": "titles"}, "show-name": {"data": None}}
    return Page(props, dt.date(2023, 1, 1), dt.date(2024, 12, 31))


def values(body: dict | None) -> dict:
    assert body is not None
    return {f"{i['id']}.{i['property']}": i["value"] for i in body["inputs"] + body.get("state", [])}


def test_audience_variants_are_each_controls_other_values_posted_to_the_card_it_feeds() -> None:
    assert AUDIENCE_VARIANTS == (("audience-resolution-select", "daily"), ("audience-resolution-select", "monthly"),
                                 ("cohort-period-select", "week"))
    chart = "..{0}-graph.figure...{0}-summary.children...{0}-csv-link.href...{0}-csv-link.hidden.."
    deps = [dependency(chart.format("cohorts"), ["cohort-period-select.value", "audience-selection.data"],
                       ["audience-resolution-select.value", "page.data"]),
            dependency(chart.format("lorenz"), ["audience-selection.data"], ["page.data"])]
    wanted = {k: v for k, v in AUDIENCE_PAGE.callbacks.items() if k in ("audience cohorts", "audience lorenz")}
    requests = {r.label: r for r in callback_requests(AUDIENCE_PAGE, page(), find_callbacks(deps, wanted))}
    assert list(requests) == [
        "callback audience cohorts", "callback audience lorenz",
        "callback audience cohorts (cohort-period-select=week)",
        f"callback audience cohorts [{FILTERED.name}]", f"callback audience lorenz [{FILTERED.name}]",
    ]
    default = requests["callback audience cohorts"].body
    assert default is not None and default["changedPropIds"] == ["audience-selection.data"]
    assert values(default)["page.data"] == "audience"
    assert values(default)["audience-selection.data"] == {"filters": ["2023-01-01", "2024-12-31", "", [], []],
                                                          "theme": "light"}
    variant = requests["callback audience cohorts (cohort-period-select=week)"].body
    assert variant is not None and variant["changedPropIds"] == ["cohort-period-select.value"]
    assert values(variant)["cohort-period-select.value"] == "week"
    filtered = values(requests[f"callback audience lorenz [{FILTERED.name}]"].body)
    assert filtered["audience-selection.data"]["filters"] == ["2024-03-10", "2024-06-20", "", ["TV"], []]


def test_the_show_page_carries_its_show_and_the_overview_top_list_is_by_show() -> None:
    spec = show_page("A/B, C")
    assert spec.path == "/show/A%2FB%2C%20C" and spec.referrer == "http://localhost/show/A%2FB%2C%20C"
    assert spec.name == "show" and "show table" in spec.callbacks
    deps = [dependency("show-table.children", ["show-filters.data"], ["show-name.data", "page.data"]),
            dependency("..top-graph.figure...top-summary.children..",
                       ["top-n.value", "rank.value", "group.value", "overview-selection.data"], [])]
    table = callback_requests(spec, page(), find_callbacks(deps, {"show table": spec.callbacks["show table"]}))
    body = table[0].body
    assert body is not None and body["changedPropIds"] == ["show-filters.data"]
    assert values(body)["show-name.data"] == "A/B, C" and values(body)["page.data"] == "show"
    top = callback_requests(OVERVIEW_TOP, page(), find_callbacks(deps, OVERVIEW_TOP.callbacks))
    assert [r.label for r in top] == ["callback overview top (group=shows)",
                                      f"callback overview top (group=shows) [{FILTERED.name}]"]
    assert values(top[0].body)["group.value"] == "shows"
    assert top[0].body is not None and top[0].body["changedPropIds"] == ["overview-selection.data"]
    assert not OVERVIEW_TOP.timed


def test_pages_are_compared_with_their_token_masked_and_routes_may_answer_objects() -> None:
    html = b'{"end_id":"abc~123","x":1}'
    assert Request("page", "/show/X", "/show/X").comparable(html) == b'{"end_id":"~","x":1}'
    assert Request("layout", "/_dash-layout (from /series)", "/_dash-layout").comparable(html) == html
    check_data_answer(200, b'{"gini": 0.5}', "/data/concentration/")
    check_data_answer(200, b"[]", "/data/binge/shows/")
    with pytest.raises(BenchmarkError, match="HTTP 404"):
        check_data_answer(404, b'{"error": "no such show"}', "/data/show/?name=x")
    with pytest.raises(BenchmarkError, match="not JSON"):
        check_data_answer(200, b"<html>", "/data/show/?name=x")
    assert Request("route", "/data/x/", "/data/x/").problem(200, b"1", "application/json") is not None


class FakeResponse:
    status_code = 200
    mimetype = "application/json"

    def __init__(self, body: bytes) -> None:
        self.body = body

    def get_data(self) -> bytes:
        return self.body


class FakeClient:
    """A test client that records each request in a shared log and answers ``body``."""

    def __init__(self, name: str, log: list[str], body: bytes) -> None:
        self.name, self.log, self.body = name, log, body

    def get(self, path: str, headers: dict[str, str]) -> FakeResponse:
        self.log.append(self.name)
        return FakeResponse(self.body)


def test_caches_are_emptied_once_per_cold_round_so_every_warm_sample_follows_a_kept_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log: list[str] = []
    monkeypatch.setattr(pagebench, "clear_caches", lambda: log.append("clear"))
    clients = {"sqlite": FakeClient("sqlite", log, b"[1]"), "postgresql": FakeClient("postgresql", log, b"[2]")}
    mismatches: list[pagebench.Mismatch] = []
    got = pagebench.time_requests(clients, [Request("route", "/data/x/", "/data/x/")], 2, cold=2,
                                  mismatches=mismatches)
    assert log == ["clear", "sqlite", "postgresql", "clear", "sqlite", "postgresql", "sqlite", "postgresql",
                   "sqlite", "postgresql"]
    t = got["/data/x/"]
    assert (len(t["sqlite"].cold_ms), len(t["sqlite"].warm_ms)) == (2, 2) and t["postgresql"].body == b"[2]"
    assert [(m.backend, m.sample) for m in mismatches] == [("postgresql", "cold 1")]  # the first difference only
