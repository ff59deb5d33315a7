"""Plays per period: a measure that exists only as a declaration in :mod:`moviedash.metrics`.

Worked by hand on a few events, then against a plain-Python count of the demo
generator's rows, on both backends, from the rollups and from the raw table.
Everything that lists the time series (routes, OpenAPI, the figures API, CSV,
the report, the dashboard) shows it without code of its own.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

import pytest

from moviedash import analysis, create_app, figures, metrics, rollups
from moviedash.ingest.demo import generate_events, write_demo
from moviedash.params import SeriesQuery
from moviedash.periods import period_labels, period_start
from moviedash.report import ReportSpec, render_html
from moviedash.store import connect_readonly
from tests.helpers import BACKENDS, event

EVENTS = [
    event("2013-01-06 23:59:59", "a", minutes=10, title="Skyfall", device="iPad"),  # a Sunday
    event("2013-01-07 00:00:00", "b", minutes=20, title="Skyfall"),  # the next Monday
    event("2013-01-07 10:00:00", "b", minutes=30, title="Argo", sessiontype="SERIES", market="SE"),
    event("2013-01-21 10:00:00", "c", minutes=40, title=""),
    event("2013-03-01 10:00:00", "a", minutes=50, title="Argo"),
]


@contextmanager
def raw_path() -> Iterator[None]:
    """Force :mod:`moviedash.analysis` onto its raw ``movies`` SQL (as for a course-made database)."""
    with mock.patch.object(rollups, "status", lambda conn: None):
        yield


@pytest.fixture
def client(make_db):
    return create_app(db=make_db(EVENTS)).server.test_client()


def get_json(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()


def zeros_between(first: str, last: str, resolution: str) -> dict[str, int]:
    return dict.fromkeys(period_labels(dt.date.fromisoformat(first), dt.date.fromisoformat(last), resolution), 0)


# --------------------------------------------------------------------------- #
# By hand.
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("path", ["rollups", "raw"])
def test_plays_per_day_week_and_month_by_hand(client, path):
    with raw_path() if path == "raw" else mock.patch.object(analysis, "CACHE", analysis.ResultCache()):
        daily = get_json(client, "/data/plays/?resolution=daily")
        weekly = get_json(client, "/data/plays/?resolution=weekly")
        monthly = get_json(client, "/data/plays/?resolution=monthly")
        default = get_json(client, "/data/plays/")
    expected_daily = zeros_between("2013-01-06", "2013-03-01", "daily")
    expected_daily.update({"2013-01-06": 1, "2013-01-07": 2, "2013-01-21": 1, "2013-03-01": 1})
    assert daily == [{"date": d, "values": n} for d, n in expected_daily.items()]
    assert len(daily) == 55 and default == daily
    # Weeks by their Monday: Sunday 6 January belongs to the week of 31 December.
    assert weekly == [
        {"date": "2012-12-31", "values": 1}, {"date": "2013-01-07", "values": 2},
        {"date": "2013-01-14", "values": 0}, {"date": "2013-01-21", "values": 1},
        {"date": "2013-01-28", "values": 0}, {"date": "2013-02-04", "values": 0},
        {"date": "2013-02-11", "values": 0}, {"date": "2013-02-18", "values": 0},
        {"date": "2013-02-25", "values": 1},
    ]
    assert monthly == [
        {"date": "2013-01-01", "values": 4}, {"date": "2013-02-01", "values": 0}, {"date": "2013-03-01", "values": 1},
    ]


@pytest.mark.parametrize("path", ["rollups", "raw"])
def test_plays_take_the_shared_filters(client, path):
    with raw_path() if path == "raw" else mock.patch.object(analysis, "CACHE", analysis.ResultCache()):
        assert get_json(client, "/data/plays/?resolution=weekly&start=2013-01-07&end=2013-01-21") == [
            {"date": "2013-01-07", "values": 2}, {"date": "2013-01-14", "values": 0},
            {"date": "2013-01-21", "values": 1},
        ]
        assert get_json(client, "/data/plays/?resolution=monthly&market=SE") == [{"date": "2013-01-01", "values": 1}]
        assert get_json(client, "/data/plays/?resolution=monthly&sessiontype=MOVIE&device=Computer") == [
            {"date": "2013-01-01", "values": 2}, {"date": "2013-02-01", "values": 0},
            {"date": "2013-03-01", "values": 1},
        ]
        assert get_json(client, "/data/plays/?device=iPad&market=SE") == []


def test_plays_validate_their_parameters_like_the_other_series(client):
    for url, parameter in [
        ("/data/plays/?resolution=hourly", "resolution"),
        ("/data/plays/?num=3", "num"),
        ("/data/plays/?market=XX", "market"),
        ("/data/plays/?start=2013-02-30", "start"),
    ]:
        response = client.get(url)
        assert response.status_code == 400, url
        assert response.get_json()["parameter"] == parameter


def test_plays_as_csv(client):
    response = client.get("/data/plays/?resolution=monthly&format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="plays_monthly.csv"'
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert rows == [
        {"date": "2013-01-01", "values": "4"}, {"date": "2013-02-01", "values": "0"},
        {"date": "2013-03-01", "values": "1"},
    ]


# --------------------------------------------------------------------------- #
# Against a plain-Python count of the demo generator's rows.
# --------------------------------------------------------------------------- #

DEMO_EVENTS, DEMO_SEED = 3000, 11


def reference(resolution: str, *, device: str | None = None, start: dt.date | None = None,
              end: dt.date | None = None) -> list[dict]:
    """Plays per period counted in Python over the rows the demo writes, zero-filled like the routes."""
    counts: Counter[str] = Counter()
    for frame in generate_events(DEMO_EVENTS, DEMO_SEED):
        for when, dev in zip(frame["event_date"], frame["device"], strict=False):
            day = dt.date.fromisoformat(str(when)[:10])
            if (device is not None and dev != device) or (start and day < start) or (end and day > end):
                continue
            counts[period_start(day, resolution).isoformat()] += 1
    labels = sorted(counts)
    first = period_start(start, resolution) if start else dt.date.fromisoformat(labels[0])
    last = period_start(end, resolution) if end else dt.date.fromisoformat(labels[-1])
    return [{"date": d, "values": counts.get(d, 0)} for d in period_labels(first, last, resolution)]


@pytest.fixture(scope="module", params=BACKENDS)
def demo_client(request, tmp_path_factory):
    if request.param == "postgresql":
        target = request.getfixturevalue("pg_server").new_database()
    else:
        target = tmp_path_factory.mktemp("plays") / "demo.db"
    write_demo(target, events=DEMO_EVENTS, seed=DEMO_SEED)
    return create_app(db=target).server.test_client()


@pytest.mark.parametrize("path", ["rollups", "raw"])
@pytest.mark.parametrize("resolution", ["daily", "weekly", "monthly"])
def test_plays_equal_a_python_count_of_the_demo_rows(demo_client, resolution, path):
    expected = reference(resolution)
    assert sum(r["values"] for r in expected) == DEMO_EVENTS
    with raw_path() if path == "raw" else mock.patch.object(analysis, "CACHE", analysis.ResultCache()):
        assert get_json(demo_client, f"/data/plays/?resolution={resolution}") == expected
        start, end = dt.date(2024, 3, 5), dt.date(2024, 9, 17)
        device = "iPad"
        url = f"/data/plays/?resolution={resolution}&device={device}&start={start}&end={end}"
        assert get_json(demo_client, url) == reference(resolution, device=device, start=start, end=end)


def test_the_demo_spans_the_reference_dates():
    """The filtered reference above selects a real part of the demo (not an empty range)."""
    assert sum(r["values"] for r in reference("monthly", device="iPad", start=dt.date(2024, 3, 5),
                                              end=dt.date(2024, 9, 17))) > 0


def test_plays_from_rollups_come_from_md_day(tmp_path):
    """On SQLite the rollups answer (no scan of ``movies``) and equal the raw SQL, filtered too."""
    db = tmp_path / "demo.db"
    write_demo(db, events=DEMO_EVENTS, seed=DEMO_SEED)
    conn = connect_readonly(db)
    try:
        assert rollups.status(conn).usable
        for resolution in ("daily", "weekly", "monthly"):
            query = SeriesQuery(resolution)
            with mock.patch.object(analysis, "_raw_series", side_effect=AssertionError("raw path used")):
                fast = analysis.series(conn, "plays", query).to_dict("records")
            with raw_path():
                slow = analysis.series(conn, "plays", query).to_dict("records")
            assert fast == slow
    finally:
        conn.close()


# --------------------------------------------------------------------------- #
# Everywhere the time series are listed.
# --------------------------------------------------------------------------- #


def test_plays_is_declared_once_and_listed_everywhere(client):
    measure = metrics.measure("plays")
    assert isinstance(measure.aggregation, metrics.Count)
    doc = get_json(client, "/data/openapi.json")
    plays = doc["paths"]["/data/plays/"]["get"]
    assert plays["operationId"] == "plays"
    assert plays["parameters"] == doc["paths"]["/data/unique_users/"]["get"]["parameters"]
    figure = {p["name"]: p for p in doc["paths"]["/figures/{chart}.json"]["get"]["parameters"]}
    assert "plays" in figure["chart"]["schema"]["enum"]
    assert figure[measure.key]["schema"]["enum"] == ["daily", "weekly", "monthly"]


def test_plays_figure_route_and_figures_api(client, make_db):
    body = get_json(client, f"/figures/plays.json?{metrics.measure('plays').key}=monthly")
    trace = body["data"][0]
    assert trace["x"] == ["2013-01-01", "2013-02-01", "2013-03-01"] and trace["y"] == [4, 0, 1]
    assert body["layout"]["yaxis"]["title"]["text"] == "Plays"
    assert body["config"]["toImageButtonOptions"]["filename"] == "plays_monthly"
    db = make_db(EVENTS, name="api.db")
    fig = figures.series("plays", db, "weekly", start="2013-01-07", end="2013-01-21")
    assert list(fig.data[0].y) == [2, 0, 1]
    with pytest.raises(Exception, match="unknown metric"):
        figures.series("nope", db)


def test_plays_in_the_report(make_db):
    db = make_db(EVENTS)
    conn = connect_readonly(db)
    try:
        resolutions = tuple("monthly" if m.name == "plays" else "daily" for m in metrics.MEASURES)
        html = render_html(conn, ReportSpec(resolutions=resolutions))
    finally:
        conn.close()
    assert "Plays (monthly)" in html
    assert "Plays per month, January 2013 to March 2013 (3 months): lowest 0 plays" in html
