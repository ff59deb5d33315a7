"""Issue 11: every answer is bounded in size (max periods) and in time (the limit covers the whole request)."""
from __future__ import annotations

import datetime as dt
import json
import time

import pytest
from click.testing import CliRunner

from moviedash import analysis, create_app, pipeline
from moviedash.cli import main
from moviedash.params import MAX_PERIODS
from tests.helpers import event


@pytest.fixture
def wide(make_db):
    """Events on the first and last day the loader accepts: 73,049 days apart."""
    return make_db([event("1900-01-01 10:00:00", "a", title="Old"), event("2099-12-31 10:00:00", "b", title="New"),
                    event("2013-01-07 10:00:00", "c", title="Argo")])


def test_a_daily_series_longer_than_the_maximum_is_a_400_naming_resolution(wide):
    client = create_app(db=wide).server.test_client()
    for url in ("/data/unique_users/", "/data/minutes_watched/?format=csv", "/figures/unique_users.json",
                "/figures/minutes_watched.json?minutes=daily",
                "/data/unique_users/?start=1950-01-01&end=2020-01-01"):
        response = client.get(url)
        assert response.status_code == 400, url
        body = response.get_json()
        assert body["parameter"] == "resolution"
        assert f"more than the maximum of {MAX_PERIODS:,}" in body["error"]
    weekly = client.get("/data/unique_users/?resolution=weekly")
    assert weekly.status_code == 200 and len(weekly.get_json()) == 10_436
    assert len(client.get("/data/minutes_watched/?resolution=monthly").get_json()) == 2400
    assert client.get("/data/toplist/").status_code == 200


def test_the_maximum_itself_is_served(make_db):
    db = make_db([event("2000-01-01 10:00:00", "a")])
    client = create_app(db=db).server.test_client()
    last = dt.date(2000, 1, 1) + dt.timedelta(days=MAX_PERIODS - 1)
    response = client.get(f"/data/unique_users/?start=2000-01-01&end={last}")
    assert response.status_code == 200 and len(response.get_json()) == MAX_PERIODS
    response = client.get(f"/data/unique_users/?start=2000-01-01&end={last + dt.timedelta(days=1)}")
    assert response.status_code == 400 and response.get_json()["parameter"] == "resolution"


def test_dashboard_and_report_show_the_limit_instead_of_failing(wide, tmp_path):
    app = create_app(db=wide)
    app.server.testing = False
    client = app.server.test_client()
    assert client.get("/").status_code == 200
    result = CliRunner().invoke(main, ["report", "--db", str(wide), "--out", str(tmp_path / "r.html")])
    assert result.exit_code == 1 and "more than the maximum of 20,000" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    result = CliRunner().invoke(main, ["report", "--db", str(wide), "--out", str(tmp_path / "r.html"),
                                       "--resolution", "monthly"])
    assert result.exit_code == 0, result.output


def slow(real, seconds: float):
    def wrapper(*args, **kwargs):
        time.sleep(seconds)
        return real(*args, **kwargs)

    return wrapper


def test_the_time_limit_covers_drawing_the_figure(make_db, monkeypatch):
    """Python work after the queries (here: a slow step before the figure) is stopped too: 503."""
    db = make_db([event("2013-01-07 10:00:00", "a"), event("2013-01-08 10:00:00", "b")])
    # A limit a busy machine's first answer meets with room to spare; the slow step passes it.
    app = create_app(db=db, MOVIEDASH_QUERY_TIMEOUT=2)
    client = app.server.test_client()
    assert client.get("/figures/unique_users.json").status_code == 200
    monkeypatch.setattr(pipeline, "date_bounds", slow(pipeline.date_bounds, 2.5))
    response = client.get("/figures/unique_users.json")
    assert response.status_code == 503
    assert response.get_json() == {"error": "the query took longer than the limit of 2 s and was stopped"}


def test_the_time_limit_covers_shaping_the_rows(make_db, monkeypatch):
    db = make_db([event("2013-01-07 10:00:00", "a"), event("2013-01-08 10:00:00", "b")])
    client = create_app(db=db, MOVIEDASH_QUERY_TIMEOUT=0.2).server.test_client()
    monkeypatch.setattr(analysis, "read_frame", slow(analysis.read_frame, 0.4))
    monkeypatch.setattr(analysis.rollups, "series_rows", slow(analysis.rollups.series_rows, 0.4))
    response = client.get("/data/minutes_watched/?resolution=weekly&device=Computer")
    assert response.status_code == 503
    assert "limit of 0.2 s" in response.get_json()["error"]


def test_the_time_limit_covers_the_kpi_callback(make_db, monkeypatch):
    db = make_db([event("2013-01-07 10:00:00", "a"), event("2013-01-08 10:00:00", "b")])
    app = create_app(db=db, MOVIEDASH_QUERY_TIMEOUT=0.2)
    app.server.testing = False
    client = app.server.test_client()
    monkeypatch.setattr(analysis, "compare_previous", slow(analysis.compare_previous, 0.4))
    dep = next(d for d in client.get("/_dash-dependencies").get_json() if "kpi" in d["output"])
    body = {
        "output": dep["output"],
        "outputs": [
            {"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1]} for p in dep["output"].strip(".").split("...")
        ],
        # The overview's filters store as the page's script writes it (no filter set: the whole data).
        "inputs": [{**i, "value": {"filters": [None] * 5}} for i in dep["inputs"]],
        "state": [{**s, "value": None} for s in dep.get("state", [])],
        "changedPropIds": [],
    }
    response = client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 503, response.get_data(as_text=True)[:300]
