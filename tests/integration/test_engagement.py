"""The engagement and quality routes (issue 14) on both backends: hand-worked fixtures and the reference.

Every answer must equal ``tests/reference.py`` exactly (the same doubles, so the
same JSON text) on generated demo rows, and be byte-identical across backends.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from moviedash import analysis, create_app, dataquality, engagement, figures, metrics, pipeline
from moviedash.errors import MoviedashError
from moviedash.ingest.demo import generate_events
from moviedash.params import Filters, SeriesQuery
from moviedash.store import COLUMNS, connect_readonly
from tests import reference as ref
from tests.helpers import BACKENDS, build_db, event, module_db, query

RESOLUTIONS = ("daily", "weekly", "monthly")


def _demo_events(rows: int = 3_000, seed: int = 11) -> list[dict[str, Any]]:
    frame = pd.concat(list(generate_events(rows, seed)), ignore_index=True)
    plain = frame.astype(object).where(frame.notna(), None)
    return [dict(zip(COLUMNS, row, strict=True)) for row in plain.itertuples(index=False, name=None)]


@pytest.fixture(scope="module", params=BACKENDS)
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, list[dict]]:
    """A client over generated demo rows, and the rows as stored (the reference's input)."""
    db = module_db(request, tmp_path_factory, _demo_events())
    stored = ref.as_events(query(db, f"SELECT {', '.join(COLUMNS)} FROM movies"))
    return create_app(db=db).server.test_client(), stored


def get_json(client: Any, url: str, status: int = 200) -> Any:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()


# --------------------------------------------------------------------------- #
# Equality with the reference on generated rows, every route
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("resolution", RESOLUTIONS)
@pytest.mark.parametrize("name", metrics.ENGAGEMENT_SERIES)
def test_series_equal_the_reference(demo: tuple[Any, list[dict]], name: str, resolution: str) -> None:
    client, stored = demo
    got = get_json(client, f"/data/{name}/?resolution={resolution}")
    assert got == ref.series(stored, name, resolution)
    assert any(row["values"] is not None for row in got)


@pytest.mark.parametrize("name", metrics.ENGAGEMENT_SERIES)
def test_filtered_series_equal_the_reference(demo: tuple[Any, list[dict]], name: str) -> None:
    client, stored = demo
    got = get_json(client, f"/data/{name}/?resolution=weekly&device=TV&start=2023-06-01&end=2023-09-30")
    start, end = dt.date(2023, 6, 1), dt.date(2023, 9, 30)
    assert got == ref.series(ref.select(stored, device="TV"), name, "weekly", start=start, end=end)


@pytest.mark.parametrize("by", ["device", "market", "sessiontype"])
@pytest.mark.parametrize("name", metrics.ENGAGEMENT_SERIES)
def test_breakdowns_equal_the_reference(demo: tuple[Any, list[dict]], name: str, by: str) -> None:
    client, stored = demo
    expected = ref.breakdown(stored, name, by)
    # The product names the missing values' bucket ``unknown`` (the reference keeps NULL; it sorts last in both).
    assert "" not in {row[by] for row in expected}
    expected = [{**row, by: "unknown" if row[by] is None else row[by]} for row in expected]
    assert get_json(client, f"/data/{name}/breakdown/?by={by}") == expected


def test_top_lists_equal_the_reference(demo: tuple[Any, list[dict]]) -> None:
    client, stored = demo
    assert get_json(client, "/data/toplist/?rank=completion&num=15") == ref.top_by_completion(stored, 15, 5)
    assert get_json(client, "/data/toplist/?rank=completion&num=15&min_plays=9") == ref.top_by_completion(
        stored, 15, 9
    )
    assert get_json(client, "/data/toplist/?rank=full_watches&num=12") == ref.top_by_full_watches(stored, 12)


def test_distribution_stops_segments_and_quality_bins_equal_the_reference(demo: tuple[Any, list[dict]]) -> None:
    client, stored = demo
    assert get_json(client, "/data/completion/distribution/") == ref.completion_histogram(stored)
    titles = sorted({e["title"] for e in stored if e["title"]})
    for title in titles[:5]:
        response = client.get("/data/completion/stops/", query_string={"title": title})
        assert response.status_code == 200 and response.get_json() == ref.where_people_stop(stored, title)
    for resolution in RESOLUTIONS:
        got = get_json(client, f"/data/quality/worst_segments/?resolution={resolution}")
        assert got == ref.worst_segments(stored, resolution)
        assert len(got) == 10
    assert get_json(client, "/data/quality/completion/") == ref.completion_by_quality(stored)


def test_answers_are_byte_identical_across_backends(pg_server: Any, tmp_path: Path) -> None:
    rows = _demo_events(1_500, 5)
    clients = [
        create_app(db=build_db(tmp_path / "m.db", rows)).server.test_client(),
        create_app(db=build_db(pg_server.new_database(), rows)).server.test_client(),
    ]
    urls = [
        *(f"/data/{name}/?resolution={r}" for name in metrics.ENGAGEMENT_SERIES for r in RESOLUTIONS),
        *(f"/data/{name}/breakdown/?by=market" for name in metrics.ENGAGEMENT_SERIES),
        "/data/toplist/?rank=completion", "/data/toplist/?rank=full_watches", "/data/completion/distribution/",
        "/data/quality/worst_segments/?resolution=weekly", "/data/quality/completion/",
        "/data/quality/completion/?format=csv",
    ]
    for url in urls:
        bodies = [c.get(url) for c in clients]
        assert all(b.status_code == 200 for b in bodies), url
        assert bodies[0].get_data() == bodies[1].get_data(), url


# --------------------------------------------------------------------------- #
# Hand-worked fixtures
# --------------------------------------------------------------------------- #

DAY1, DAY2, DAY3 = "2024-03-04 10:00:00", "2024-03-05 10:00:00", "2024-03-06 10:00:00"
EDGES = [
    # Day 1: exactly 90 % (completed), 89.99994 (taken to 89.9999: not completed), 89.99995 (90.0000: completed),
    # 130 % (capped at 100), no percentage at all; quality 7.0 (not poor), 7.00005 (7.0001: poor), NULL.
    event(DAY1, "a", minutes=45, runningtime=50, viewpercentage=90.0, errorperception=7.0, device="TV"),
    event(DAY1, "b", minutes=10, runningtime=0, viewpercentage=89.99994, errorperception=7.00005, device="TV"),
    event(DAY1, "c", minutes=20, runningtime=None, viewpercentage=89.99995, errorperception=None, device=None),
    event(DAY1, "d", minutes=130, runningtime=100, viewpercentage=130.0, errorperception=2.0, market=""),
    event(DAY1, "e", minutes=5, runningtime=3, viewpercentage=None, errorperception=9.5),
    # Day 2: nothing; day 3: a play without any value.
    event(DAY3, "f", minutes=1, runningtime=None, viewpercentage=None, errorperception=None),
]


@pytest.fixture
def edges(make_db: Any) -> Any:
    return create_app(db=make_db(EDGES)).server.test_client()


def test_hand_worked_series(edges: Any) -> None:
    def day(name: str) -> list[Any]:
        return [row["values"] for row in get_json(edges, f"/data/{name}/?resolution=daily")]

    # (90 + 89.9999 + 90 + 100) / 4 = 92.499975 -> 92.50; null on the empty day and the day without values.
    assert day("completion") == [92.5, None, None]
    # 3 of 4 at or above 90 %.
    assert day("completion_rate") == [75.0, None, None]
    # 45/50 + 130/100 + 5/3 (1.6667) = 0.9 + 1.3 + 1.6667 = 3.8667 -> 3.87; running time 0 or missing left out.
    assert day("full_watches") == [3.87, None, None]
    # (7 + 7.0001 + 2 + 9.5) / 4 = 6.375025 -> 6.375.
    assert day("quality") == [6.375, None, None]
    # 7.0001 and 9.5 are above 7.0; exactly 7.0 is not.
    assert day("poor_quality") == [50.0, None, None]
    # Ranks: 2, 7, 7.0001, 9.5 -> rank ceil(3.6) = 4 -> 9.5.
    assert day("quality_p90") == [9.5, None, None]
    # A range with a play but no value: every period present, null (not 0).
    assert get_json(edges, "/data/completion/?resolution=daily&start=2024-03-05&end=2024-03-07") == [
        {"date": "2024-03-05", "values": None}, {"date": "2024-03-06", "values": None},
        {"date": "2024-03-07", "values": None},
    ]


def test_empty_selection_is_an_empty_series(edges: Any) -> None:
    for name in metrics.ENGAGEMENT_SERIES:
        assert get_json(edges, f"/data/{name}/?resolution=weekly&start=2025-01-01&end=2025-01-31") == []
    assert get_json(edges, "/data/completion/breakdown/?by=device&start=2025-01-01&end=2025-01-31") == []
    assert get_json(edges, "/data/quality/worst_segments/?start=2025-01-01&end=2025-01-31") == []
    assert get_json(edges, "/data/quality/completion/?start=2025-01-01&end=2025-01-31") == []


def test_hand_worked_breakdown_has_an_unknown_bucket(edges: Any) -> None:
    # TV: (90.0000 + 89.9999) / 2 = 89.99995 -> 90.00 (half away from zero); the capped 130 % is Computer's.
    assert get_json(edges, "/data/completion/breakdown/?by=device") == [
        {"device": "TV", "values": 90.0, "plays": 2},
        {"device": "Computer", "values": 100.0, "plays": 1},
        {"device": "unknown", "values": 90.0, "plays": 1},
    ]
    assert get_json(edges, "/data/poor_quality/breakdown/?by=market") == [
        {"market": "NO", "values": 66.67, "plays": 3},
        {"market": "unknown", "values": 0.0, "plays": 1},
    ]


def test_hand_worked_distribution_and_stops(edges: Any) -> None:
    rows = get_json(edges, "/data/completion/distribution/")
    assert [r["movie_plays"] for r in rows] == [0] * 8 + [1, 3]
    assert rows[9]["movie_share"] == 75.0 and rows[9]["series_share"] is None
    stops = get_json(edges, "/data/completion/stops/?title=A")
    assert [s["values"] for s in stops] == [100.0] * 8 + [75.0, 25.0]


def test_hand_worked_worst_segments(edges: Any) -> None:
    # 2 poor of 4: TV has 1 of 2 (impact 0), Computer 1 of 1 (impact 0.5), unknown device 0 of 1.
    assert get_json(edges, "/data/quality/worst_segments/?resolution=daily") == [
        {"device": "Computer", "market": "NO", "date": "2024-03-04", "plays": 1, "poor": 1, "poor_share": 100.0,
         "impact": 0.5},
    ]


# --------------------------------------------------------------------------- #
# Validation, CSV, figures, OpenAPI
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(("url", "parameter"), [
    ("/data/completion/breakdown/", "by"),
    ("/data/completion/breakdown/?by=title", "by"),
    ("/data/completion/breakdown/?by=device&by=market", "by"),
    ("/data/completion/breakdown/?by=device&resolution=daily", "resolution"),
    ("/data/toplist/?rank=completion&min_plays=0", "min_plays"),
    ("/data/toplist/?rank=completion&min_plays=x", "min_plays"),
    ("/data/toplist/?rank=quality", "rank"),
    ("/data/completion/stops/", "title"),
    ("/data/quality/worst_segments/?resolution=hourly", "resolution"),
    ("/data/quality/completion/?device=Nope", "device"),
    ("/figures/engagement/completion_breakdown.json", "by"),
    ("/figures/engagement/completion.json?theme=pink", "theme"),
])
def test_bad_parameters_are_400_naming_them(edges: Any, url: str, parameter: str) -> None:
    assert get_json(edges, url, 400)["parameter"] == parameter


def test_csv_exports(edges: Any) -> None:
    response = edges.get("/data/completion/breakdown/?by=device&format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "completion_by_device.csv" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows == [["device", "values", "plays"], ["TV", "90.0", "2"], ["Computer", "100.0", "1"],
                    ["unknown", "90.0", "1"]]
    text = edges.get("/data/quality/?resolution=daily&format=csv").get_data(as_text=True)
    series = list(csv.reader(io.StringIO(text)))
    assert series == [["date", "values"], ["2024-03-04", "6.375"], ["2024-03-05", ""], ["2024-03-06", ""]]


@pytest.mark.parametrize("chart", pipeline.ENGAGEMENT_CHARTS)
def test_engagement_figures(edges: Any, chart: str) -> None:
    own = pipeline.ENGAGEMENT_CHART_PARAMS[chart]
    option = {"resolution": "resolution=weekly", "by": "by=device", "title": "title=A"}
    url = f"/figures/engagement/{chart}.json?theme=dark" + ("&" + option[own[0]] if own else "")
    body = get_json(edges, url)
    assert body["data"] and body["data"][0]["type"] in {"bar", "scatter"}
    assert set(body) == {"data", "layout", "config"}
    assert get_json(edges, f"/figures/engagement/{chart}.json?start=2025-01-01&end=2025-01-31" + (
        "&" + option[own[0]] if own else ""))["layout"]["annotations"]


def test_unknown_engagement_chart_is_404(edges: Any) -> None:
    assert get_json(edges, "/figures/engagement/nope.json", 404)["error"].startswith("unknown chart")


def test_series_hover_texts_give_units_and_counts(make_db: Any) -> None:
    """"75 % completed · 3 of 4 plays": the counts behind each point, a gap counting none."""
    db = make_db(EDGES)
    rate = figures.engagement("completion_rate", db, "daily").data[0]
    assert "%{y:,} % completed · %{customdata[2]:,} of %{customdata[1]:,} plays" in rate.hovertemplate
    # Day 1: 3 of the 4 plays with a percentage completed; day 2 has no play, day 3 one without a value.
    assert [list(row)[1:] for row in rate.customdata] == [[4, 3], [0, 0], [0, 0]]
    poor = figures.engagement("poor_quality", db, "daily").data[0]
    assert [list(row)[1:] for row in poor.customdata][0] == [4, 2]  # 7.0001 and 9.5 of 4 with a value
    full = figures.engagement("full_watches", db, "daily").data[0]
    assert "%{y:,} full watches · %{customdata[1]:,} plays" in full.hovertemplate
    assert [list(row)[1] for row in full.customdata] == [3, 0, 0]  # running time 0 or missing left out


def test_series_json_is_the_reference_text(edges: Any) -> None:
    text = edges.get("/data/completion/?resolution=daily").get_data(as_text=True)
    assert json.loads(text) == ref.series(ref.as_events(EDGES), "completion", "daily")


def test_answers_are_cached_while_the_rollups_are_current(tmp_path: Path) -> None:
    # SQLite: a load keeps the rollups current, so the data version keys the cache.
    client = create_app(db=build_db(tmp_path / "m.db", EDGES)).server.test_client()
    analysis.CACHE.clear()
    urls = ["/data/completion/?resolution=weekly", "/data/quality/worst_segments/", "/data/completion/distribution/"]
    first = [client.get(url).get_data() for url in urls]
    hits = analysis.CACHE.hits
    assert [client.get(url).get_data() for url in urls] == first
    assert analysis.CACHE.hits >= hits + len(urls)


def test_figures_api_draws_the_engagement_charts(make_db: Any) -> None:
    db = make_db(EDGES)
    line = figures.engagement("quality", db, "daily")
    assert list(line.data[0].y) == [6.375, None, None]
    assert list(figures.engagement("completion_breakdown", db, "device").data[0].x) == ["TV", "Computer", "Unknown"]
    assert figures.engagement("completion_stops", db, "A").data[0].type == "scatter"
    with pytest.raises(MoviedashError) as bad:
        figures.engagement("completion_breakdown", db, "title")
    assert bad.value.parameter == "by"


def test_the_measure_sql_follows_the_settings_object(make_db: Any) -> None:
    """Thresholds, direction and min_minutes reach the SQL through one MeasureSettings (as the reference's)."""
    rows = _demo_events(800, 3)
    db = make_db(rows)
    stored = ref.as_events(query(db, f"SELECT {', '.join(COLUMNS)} FROM movies"))
    product = metrics.MeasureSettings(min_minutes=10, watched_threshold=85.0, poor_quality_threshold=5.5,
                                      errorperception_higher_is_worse=False)
    reference = ref.Settings(min_minutes=10, watched_threshold=85.0, poor_quality_threshold=5.5,
                             errorperception_higher_is_worse=False)
    conn = connect_readonly(db)
    try:
        for name in metrics.ENGAGEMENT_SERIES:
            got = engagement.series(conn, name, SeriesQuery("monthly"), settings=product).to_dict("records")
            assert got == ref.series(stored, name, "monthly", reference), name
        got_segments = engagement.worst_segments(conn, "weekly", Filters(), settings=product).to_dict("records")
        assert got_segments == ref.worst_segments(stored, "weekly", settings=reference)
        # Different from the defaults, so the settings did change the answers.
        assert engagement.series(conn, "poor_quality", SeriesQuery("monthly")).to_dict("records") != ref.series(
            stored, "poor_quality", "monthly", reference)
    finally:
        conn.close()


def test_the_routes_follow_the_database_settings(make_db: Any) -> None:
    """``moviedash settings set`` (dataquality.change) reaches every engagement route, rollups or not."""
    rows = _demo_events(800, 4)
    db = make_db(rows)
    stored = ref.as_events(query(db, f"SELECT {', '.join(COLUMNS)} FROM movies"))
    client = create_app(db=db).server.test_client()
    before = {name: get_json(client, f"/data/{name}/?resolution=monthly") for name in metrics.ENGAGEMENT_SERIES}
    changes = {"min_minutes": 10, "watched_threshold": 80.0, "poor_quality_threshold": 6.0,
               "errorperception_higher_is_worse": False}
    for name, value in changes.items():
        dataquality.change(db, name, value)
    reference = ref.Settings(**changes)
    client = create_app(db=db).server.test_client()
    for name in metrics.ENGAGEMENT_SERIES:
        got = get_json(client, f"/data/{name}/?resolution=monthly")
        assert got == ref.series(stored, name, "monthly", reference), name
        assert got != before[name], name
    assert get_json(client, "/data/quality/worst_segments/?resolution=weekly") == ref.worst_segments(
        stored, "weekly", settings=reference)
    assert get_json(client, "/data/toplist/?rank=completion&num=15") == ref.top_by_completion(
        stored, 15, 5, reference)
