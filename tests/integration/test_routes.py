"""The course's JSON routes through the Flask test client."""
from __future__ import annotations

import json
import sqlite3

import pytest

from moviedash import analysis, create_app
from moviedash.errors import QueryTimeout
from tests.helpers import event

EVENTS = [
    event("2013-01-06 23:59:59", "a", minutes=10, title="Skyfall", device="iPad"),
    event("2013-01-07 00:00:00", "b", minutes=20, title="Skyfall"),
    event("2013-01-07 10:00:00", "b", minutes=30, title="Argo", sessiontype="SERIES", market="SE"),
    event("2013-01-21 10:00:00", "c", minutes=40, title=""),
    event("2013-03-01 10:00:00", "a", minutes=50, title="Argo"),
]


@pytest.fixture
def client(make_db):
    app = create_app(db=make_db(EVENTS))
    return app.server.test_client()


def get_json(client, url: str, status: int = 200):
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()


# The course's seven URLs, with the answers worked out by hand from EVENTS.
def test_unique_users_daily(client):
    data = get_json(client, "/data/unique_users/?resolution=daily")
    assert data[:3] == [
        {"date": "2013-01-06", "values": 1}, {"date": "2013-01-07", "values": 1}, {"date": "2013-01-08", "values": 0},
    ]
    assert len(data) == 55 and data[-1] == {"date": "2013-03-01", "values": 1}
    assert sum(d["values"] for d in data) == 4


def test_unique_users_weekly(client):
    data = get_json(client, "/data/unique_users/?resolution=weekly")
    assert data[:4] == [
        {"date": "2012-12-31", "values": 1}, {"date": "2013-01-07", "values": 1},
        {"date": "2013-01-14", "values": 0}, {"date": "2013-01-21", "values": 1},
    ]
    assert data[-1] == {"date": "2013-02-25", "values": 1} and len(data) == 9


def test_unique_users_monthly(client):
    assert get_json(client, "/data/unique_users/?resolution=monthly") == [
        {"date": "2013-01-01", "values": 3}, {"date": "2013-02-01", "values": 0}, {"date": "2013-03-01", "values": 1},
    ]


def test_minutes_watched_daily(client):
    data = get_json(client, "/data/minutes_watched/?resolution=daily")
    assert data[0] == {"date": "2013-01-06", "values": 10} and data[1] == {"date": "2013-01-07", "values": 50}
    assert sum(d["values"] for d in data) == 150


def test_minutes_watched_weekly(client):
    data = get_json(client, "/data/minutes_watched/?resolution=weekly")
    assert data[:4] == [
        {"date": "2012-12-31", "values": 10}, {"date": "2013-01-07", "values": 50},
        {"date": "2013-01-14", "values": 0}, {"date": "2013-01-21", "values": 40},
    ]


def test_minutes_watched_monthly(client):
    assert get_json(client, "/data/minutes_watched/?resolution=monthly") == [
        {"date": "2013-01-01", "values": 100},
        {"date": "2013-02-01", "values": 0},
        {"date": "2013-03-01", "values": 50},
    ]


def test_toplist(client):
    assert get_json(client, "/data/toplist/?num=10") == [
        {"title": "Argo", "values": 2},
        {"title": "Skyfall", "values": 2},
    ]
    assert get_json(client, "/data/toplist/?num=1") == [{"title": "Argo", "values": 2}]


def test_defaults_are_daily_and_ten(client):
    assert get_json(client, "/data/unique_users/") == get_json(client, "/data/unique_users/?resolution=daily")
    assert get_json(client, "/data/toplist/") == get_json(client, "/data/toplist/?num=10")


def test_json_keys_and_bytes_match_the_course_shape(client):
    body = client.get("/data/toplist/?num=1").get_data(as_text=True)
    assert body == '[{"title":"Argo","values":2}]'


def test_filters_apply_to_every_route(client):
    assert get_json(client, "/data/minutes_watched/?resolution=monthly&device=iPad") == [
        {"date": "2013-01-01", "values": 10}
    ]
    assert get_json(client, "/data/toplist/?market=SE") == [{"title": "Argo", "values": 1}]
    assert get_json(client, "/data/toplist/?sessiontype=MOVIE&sessiontype=SERIES&rank=minutes") == [
        {"title": "Argo", "values": 80},
        {"title": "Skyfall", "values": 30},
    ]
    assert get_json(client, "/data/unique_users/?resolution=daily&start=2013-01-07&end=2013-01-08") == [
        {"date": "2013-01-07", "values": 1},
        {"date": "2013-01-08", "values": 0},
    ]


def test_empty_selection_is_an_empty_list(client):
    assert get_json(client, "/data/unique_users/?market=SE&device=iPad") == []  # both known, never together
    assert get_json(client, "/data/toplist/?start=2020-01-01") == []


@pytest.mark.parametrize(
    ("url", "parameter", "known"),
    [
        ("/data/unique_users/?device=ipad", "device", "Computer, iPad"),
        ("/data/toplist/?sessiontype=movie", "sessiontype", "MOVIE, SERIES"),
        ("/data/minutes_watched/?market=NO&market=DK", "market", "NO, SE"),
        ("/figures/heatmap.json?device=Nokia", "device", "Computer, iPad"),
    ],
)
def test_a_value_not_in_the_data_is_a_400_listing_the_known_values(client, url, parameter, known):
    body = get_json(client, url, status=400)
    assert body["parameter"] == parameter
    assert body["error"].endswith(f"is not in the data; known values: {known}")


def test_unknown_selects_the_events_without_a_value(make_db):
    """Hand-worked: market NULL (a, 10), '' (b, 20) and 0 (c, 40) are the market "unknown"."""
    client = create_app(
        db=make_db(
            [
                event("2013-01-07 10:00:00", "a", minutes=10, title="Argo", market=None),
                event("2013-01-07 11:00:00", "b", minutes=20, title="Argo", market=""),
                event("2013-01-08 10:00:00", "c", minutes=40, title="Brev", market="0"),
                event("2013-01-08 11:00:00", "d", minutes=80, title="Brev", market="NO"),
            ]
        )
    ).server.test_client()
    assert get_json(client, "/data/minutes_watched/?market=unknown") == [
        {"date": "2013-01-07", "values": 30},
        {"date": "2013-01-08", "values": 40},
    ]
    assert get_json(client, "/data/toplist/?market=unknown&market=NO&rank=minutes") == [
        {"title": "Brev", "values": 120},
        {"title": "Argo", "values": 30},
    ]
    body = get_json(client, "/data/unique_users/?market=0", status=400)
    assert (body["parameter"], body["error"]) == ("market", "market '0' is not in the data; known values: NO, unknown")


def test_empty_database(make_db):
    client = create_app(db=make_db([], name="empty.db")).server.test_client()
    for url in ("/data/unique_users/", "/data/minutes_watched/?resolution=weekly", "/data/toplist/"):
        assert get_json(client, url) == []


def test_csv_format_returns_the_same_rows(client):
    response = client.get("/data/unique_users/?resolution=monthly&format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.get_data(as_text=True).splitlines() == [
        "date,values",
        "2013-01-01,3",
        "2013-02-01,0",
        "2013-03-01,1",
    ]
    assert "attachment" in response.headers["Content-Disposition"]
    top = client.get("/data/toplist/?format=csv").get_data(as_text=True).splitlines()
    assert top == ["title,values", "Argo,2", "Skyfall,2"]


MALFORMED = [
    ("/data/unique_users/?resolution=yearly", 400, "resolution"),
    ("/data/unique_users/?resolution=", 400, "resolution"),
    ("/data/unique_users/?resolution=DAILY", 400, "resolution"),
    ("/data/unique_users/?resolution=daily&resolution=weekly", 400, "resolution"),
    ("/data/minutes_watched/?resolution=%00", 400, "resolution"),
    ("/data/minutes_watched/?resolution=daily%27%20OR%201=1--", 400, "resolution"),
    ("/data/toplist/?num=-1", 400, "num"),
    ("/data/toplist/?num=0", 400, "num"),
    ("/data/toplist/?num=1001", 400, "num"),
    ("/data/toplist/?num=abc", 400, "num"),
    ("/data/toplist/?num=", 400, "num"),
    ("/data/toplist/?num=1.5", 400, "num"),
    ("/data/toplist/?num=1e3", 400, "num"),
    ("/data/toplist/?num=99999999999999999999999", 400, "num"),
    ("/data/toplist/?num=5&num=6", 400, "num"),
    ("/data/toplist/?rank=title", 400, "rank"),
    ("/data/toplist/?resolution=daily", 400, "resolution"),
    ("/data/unique_users/?num=5", 400, "num"),
    ("/data/unique_users/?start=2013-02-30", 400, "start"),
    ("/data/unique_users/?start=yesterday", 400, "start"),
    ("/data/unique_users/?end=2013/01/01", 400, "end"),
    ("/data/unique_users/?start=2013-03-01&end=2013-01-01", 400, "end"),
    ("/data/unique_users/?device=", 400, "device"),
    ("/data/unique_users/?market=" + "x" * 300, 400, "market"),
    ("/data/unique_users/?format=xml", 400, "format"),
    ("/data/unique_users/?foo=bar", 400, "foo"),
    ("/data/unique_users/?%FF=1", 400, None),
    ("/data/toplist/?num=%FF", 400, "num"),
    ("/data/toplist/?" + "&".join([f"device=d{i}" for i in range(101)]), 400, "device"),
    ("/data/unknown/", 404, None),
    ("/data/unique_users/extra/", 404, None),
    ("/data/", 404, None),
]


@pytest.mark.parametrize(("url", "status", "parameter"), MALFORMED)
def test_malformed_query_strings_get_json_errors(client, url, status, parameter):
    response = client.get(url)
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert isinstance(body["error"], str) and body["error"]
    assert set(body) <= {"error", "parameter"}
    if parameter is not None:
        assert body["parameter"] == parameter
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and ".py" not in text


@pytest.mark.parametrize("method", ["post", "put", "delete", "patch"])
def test_wrong_method_is_405_json(client, method):
    response = getattr(client, method)("/data/toplist/")
    assert response.status_code == 405
    assert response.get_json() == {"error": "method not allowed"}
    assert "GET" in response.headers["Allow"]


def test_error_shape_is_pinned(client):
    response = client.get("/data/unique_users/?resolution=hourly")
    assert response.status_code == 400
    assert json.loads(response.get_data()) == {
        "error": "resolution must be one of daily, weekly, monthly",
        "parameter": "resolution",
    }


def _raise(exc: Exception):
    def broken(*args, **kwargs):
        raise exc

    return broken


@pytest.mark.parametrize(
    ("method", "url", "broken", "status", "body"),
    [
        ("GET", "/data/toplist/?num=0", None, 400,
         {"error": "num must be an integer from 1 to 1000", "parameter": "num"}),
        ("GET", "/data/", None, 404, {"error": "not found: /data/"}),
        ("POST", "/data/toplist/", None, 405, {"error": "method not allowed"}),
        ("GET", "/data/toplist/", QueryTimeout(5), 503,
         {"error": "the query took longer than the limit of 5 s and was stopped"}),
        ("GET", "/data/toplist/", sqlite3.OperationalError("no such column: minutes"), 503,
         {"error": "the database cannot be read: its movies table is not in the form moviedash serves "
                   "(load the data with 'moviedash load')"}),
        ("GET", "/data/toplist/", RuntimeError("a bug"), 500, {"error": "internal error"}),
    ],
    ids=["400", "404", "405", "503-timeout", "503-database-fault", "500"],
)
def test_every_error_status_has_the_one_json_shape(make_db, monkeypatch, method, url, broken, status, body):
    """400/404/405/503/500 alike: ``{"error": ...}`` (and ``parameter`` when one is to blame), as JSON."""
    app = create_app(db=make_db(EVENTS))
    app.server.testing = False  # errors go through the production error handler
    if broken is not None:
        monkeypatch.setattr(analysis, "toplist", _raise(broken))
    response = app.server.test_client().open(url, method=method)
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert json.loads(response.get_data()) == body


@pytest.mark.sqlite_only  # deletes the database file
def test_database_removed_while_serving_is_a_503(make_db):
    path = make_db(EVENTS, name="gone.db")
    client = create_app(db=path).server.test_client()
    assert get_json(client, "/data/toplist/")
    path.unlink()
    body = get_json(client, "/data/toplist/", status=503)
    assert body == {"error": "the database cannot be read"}  # the path is for the server log only
