"""The pure parts of the backends benchmark (benchmarks/backends.py): no server, no database."""
from __future__ import annotations

import datetime as dt
import math

import pytest

from benchmarks.backends import (
    Measured,
    Target,
    comparable,
    render_targets,
    route_kind,
    selection_ratios,
    spread,
)
from benchmarks.client import Timing, percentile
from benchmarks.selections import RANKS, RESOLUTIONS, random_selections

FIRST, LAST = dt.date(2023, 1, 1), dt.date(2024, 12, 31)
OPTIONS = {"sessiontype": ["EPISODE", "MOVIE", "unknown"], "device": ["Computer", "TV", "iPad"],
           "market": ["DK", "FI", "NO", "SE"]}


def test_random_selections_depend_only_on_their_arguments() -> None:
    first = random_selections(40, 13, FIRST, LAST, OPTIONS)
    again = random_selections(40, 13, FIRST, LAST, OPTIONS)
    other = random_selections(40, 14, FIRST, LAST, OPTIONS)
    assert first == again
    assert [s.name for s in first] == [s.name for s in again]
    assert [s.route_urls() for s in first] == [s.route_urls() for s in again]
    assert first != other


def test_random_selections_cover_the_span_filters_and_controls() -> None:
    chosen = random_selections(40, 13, FIRST, LAST, OPTIONS)
    assert len(chosen) == 40
    lengths = [(c.selection.end - c.selection.start).days + 1 for c in chosen]
    assert lengths[0] == 1 and lengths[1] == (LAST - FIRST).days + 1
    assert all(FIRST <= c.selection.start <= c.selection.end <= LAST for c in chosen)
    assert len(set(lengths)) > 20  # a spread of lengths, not a handful
    assert {(c.resolution, c.rank) for c in chosen} == {(r, k) for r in RESOLUTIONS for k in RANKS}
    nums = [c.num for c in chosen]
    assert min(nums) == 1 and max(nums) == 50 and all(1 <= n <= 50 for n in nums)
    for c in chosen:
        s = c.selection
        assert s.sessiontype is None or s.sessiontype in OPTIONS["sessiontype"]
        assert set(s.device) <= set(OPTIONS["device"]) and set(s.market) <= set(OPTIONS["market"])
    assert sum(1 for c in chosen if c.selection.sessiontype == "unknown") >= 8  # every fifth at least
    assert any(not c.selection.device and not c.selection.market and c.selection.sessiontype is None for c in chosen)
    assert any(len(c.selection.market) > 1 for c in chosen)


def test_random_selection_urls_carry_every_parameter() -> None:
    chosen = random_selections(5, 13, FIRST, LAST, OPTIONS)[4]  # the fifth filters on "unknown"
    users, minutes, top = chosen.route_urls()
    assert users.startswith(f"/data/unique_users/?resolution={chosen.resolution}&start=")
    assert minutes.startswith(f"/data/minutes_watched/?resolution={chosen.resolution}&")
    assert top.startswith(f"/data/toplist/?num={chosen.num}&rank={chosen.rank}&")
    assert "sessiontype=unknown" in users and f"end={chosen.selection.end.isoformat()}" in top


def test_random_selections_refuse_an_empty_span() -> None:
    with pytest.raises(ValueError):
        random_selections(3, 1, LAST, FIRST, OPTIONS)
    with pytest.raises(ValueError):
        random_selections(0, 1, FIRST, LAST, OPTIONS)


def test_percentile_is_nearest_rank() -> None:
    twenty = [float(v) for v in range(20, 0, -1)]
    assert percentile(twenty, 95) == 19.0
    assert percentile(twenty, 50) == 10.0
    assert percentile(twenty, 100) == 20.0
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 95) == 5.0  # of five samples: the largest
    assert math.isnan(percentile([], 95))
    with pytest.raises(ValueError):
        percentile([1.0], 0)
    assert spread([3.0, 1.0, 2.0]) == {"p50": 2.0, "p95": 3.0, "max": 3.0}


def test_targets_render_met_and_missed_with_their_figures() -> None:
    lines = render_targets([
        Target("views warm p95 ≤ 30 ms", 12.345, 30, "ms", "worst: `/data/x`", 3.2),
        Target("load ≤ 1.5× copy", 2.25, 1.5, "×", "45.0 s vs 20.0 s", 3.0),
        Target("not measured", float("nan"), 1, "×"),
    ], 1_000_000)
    assert lines[0].startswith("| target (PostgreSQL, at 10,000,000 events; this run 1,000,000) |")
    assert lines[2] == "| views warm p95 ≤ 30 ms | 12.3 ms (worst: `/data/x`) | 3.20 ms | **met** |"
    assert lines[3] == "| load ≤ 1.5× copy | 2.2× (45.0 s vs 20.0 s) | 3.0× | **missed** |"
    assert lines[4].endswith("| — | **missed** |")


def timing(kind: str, name: str, cold: float, warm: list[float]) -> Timing:
    return Timing(kind, "s", name, cold, warm)


def test_selection_ratios_sum_each_selections_requests() -> None:
    measured = []
    for selection, sqlite_ms, pg_ms in (("a", (10.0, 20.0), (30.0, 60.0)), ("b", (5.0, 5.0), (5.0, 10.0))):
        for i, url in enumerate(("/data/toplist/?num=3", "/data/unique_users/?resolution=daily")):
            m = Measured("routes", "selection", selection, "route", url)
            m.timings = {"sqlite": timing("route", url, sqlite_ms[i], [1.0, 3.0]),
                         "postgresql": timing("route", url, pg_ms[i], [2.0, 6.0])}
            measured.append(m)
    default = Measured("routes", "default", "default", "route", "/data/toplist/?num=10")
    default.timings = {"sqlite": timing("route", "/", 1.0, [1.0]), "postgresql": timing("route", "/", 99.0, [99.0])}
    rows = {r["selection"]: r for r in selection_ratios([*measured, default])}
    assert set(rows) == {"a", "b"}
    assert rows["a"]["sqlite_cold_ms"] == 30.0 and rows["a"]["postgresql_cold_ms"] == 90.0
    assert rows["a"]["cold_ratio"] == 3.0 and rows["b"]["cold_ratio"] == 1.5
    assert rows["a"]["warm_ratio"] == 2.0  # warm medians 2 + 2 vs 4 + 4
    assert route_kind(measured[0].timings["sqlite"]) == "/data/toplist/"
    assert route_kind(timing("callback", "users", 1.0, [])) == "callback users"


def test_only_the_pages_per_response_token_is_masked() -> None:
    page = b'{"csrf_header_name":"X-CSRFToken","end_id":"abc~123","x":1}'
    assert comparable("/", page) == b'{"csrf_header_name":"X-CSRFToken","end_id":"~","x":1}'
    assert comparable("/", page.replace(b"abc~123", b"zzz~999")) == comparable("/", page)
    assert comparable("/data/toplist/?num=1", page) == page
