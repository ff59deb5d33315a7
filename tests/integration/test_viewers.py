"""Concentration (Lorenz, Gini, top shares) and heavy viewers (issue 15) on both backends.

Hand-worked fixtures (the answers worked out in the comments), the pure-Python
reference on generated demo rows, byte-identical answers across backends, the
400s, and that no user id ever leaves the product.
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from moviedash import create_app, dataquality, figures, pipeline, viewer_cards
from moviedash.ingest.demo import generate_events
from moviedash.params import Filters
from moviedash.report.build import ReportSpec, viewer_sections
from moviedash.settings import ANONYMOUS_USER
from moviedash.store import COLUMNS, connect_readonly
from tests import reference as ref
from tests.helpers import BACKENDS, build_db, event, module_db, query

DAY = "2024-03-04 20:00:00"


def client_of(db: Any) -> Any:
    return create_app(db=db).server.test_client()


def get_json(client: Any, url: str, status: int = 200) -> Any:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()


def watched(user: str, *minutes: int, day: str = DAY, **extra: Any) -> list[dict[str, Any]]:
    """One play of ``user`` per value of ``minutes``."""
    return [event(day, user, minutes=m, **extra) for m in minutes]


# --------------------------------------------------------------------------- #
# Hand-worked fixtures
# --------------------------------------------------------------------------- #


def test_one_viewer_has_gini_0_and_every_top_share_100(make_db: Any) -> None:
    # One viewer with 10 + 20 = 30 minutes: the top 1 %, 10 %, 50 % are that viewer (ceil(p/100) = 1),
    # so each share is 30/30 = 100 %; G = 2*1*30/(1*30) - 2/1 = 0; the curve is the diagonal:
    # t = j/100, i = 0, y = t * 30 / 30 = j/100.
    client = client_of(make_db(watched("u1", 10, 20)))
    got = get_json(client, "/data/concentration/")
    assert got["viewers"] == 1 and got["minutes"] == 30
    assert got["top_shares"] == {"1": 100.0, "10": 100.0, "50": 100.0}
    assert got["top_viewers"] == {"1": 1, "10": 1, "50": 1}
    assert got["gini"] == 0.0
    assert got["lorenz"] == [[j / 100, j / 100] for j in range(101)]


def test_two_viewers_of_1_and_3_minutes(make_db: Any) -> None:
    # Ascending m = (1, 3), n = 2, M = 4.  Gini = (2*(1*1 + 2*3) - 3*4) / (2*4) = (14 - 12) / 8 = 0.25
    # (check: Σ|mi - mj| / (2 n M) = (2 + 2) / 16 = 0.25).  Corners (0, 0), (0.5, 0.25), (1, 1):
    # x = 0.25 -> t = 0.5, y = 0.5 * 1 / 4 = 0.125; x = 0.75 -> t = 1.5, y = (1 + 0.5 * 3) / 4 = 0.625;
    # x = 0.01 -> t = 0.02, y = 0.02 / 4 = 0.005.  Top 1 %, 10 %, 50 %: k = ceil(0.02), ceil(0.2), ceil(1) = 1
    # viewer, the one with 3 minutes: 3/4 = 75 %.
    client = client_of(make_db([*watched("u1", 1), *watched("u2", 3)]))
    got = get_json(client, "/data/concentration/")
    assert (got["viewers"], got["minutes"], got["gini"]) == (2, 4, 0.25)
    assert got["top_shares"] == {"1": 75.0, "10": 75.0, "50": 75.0}
    lorenz = got["lorenz"]
    assert len(lorenz) == 101
    assert lorenz[0] == [0.0, 0.0] and lorenz[-1] == [1.0, 1.0]
    assert lorenz[1] == [0.01, 0.005]
    assert lorenz[25] == [0.25, 0.125]
    assert lorenz[50] == [0.5, 0.25]
    assert lorenz[75] == [0.75, 0.625]


def test_ties_and_fractional_top_counts(make_db: Any) -> None:
    # Ascending m = (1, 4, 4), n = 3, M = 9.  Top 1 % and 10 %: k = ceil(0.03) = ceil(0.3) = 1 -> 4/9 = 44.44 %
    # (either 4-minute viewer: tied viewers add the same); top 50 %: k = ceil(1.5) = 2 -> 8/9 = 88.89 %.
    # Gini = (2*(1 + 8 + 12) - 4*9) / (3*9) = 6/27 = 0.2222 (check: Σ|mi - mj| = 4*3 = 12, 12/(2*3*9) = 0.2222).
    # x = 0.5 -> t = 1.5, y = (1 + 0.5 * 4) / 9 = 3/9 = 0.3333.
    client = client_of(make_db([*watched("a", 1), *watched("b", 2, 2), *watched("c", 4)]))
    got = get_json(client, "/data/concentration/")
    assert (got["viewers"], got["minutes"], got["gini"]) == (3, 9, 0.2222)
    assert got["top_shares"] == {"1": 44.44, "10": 44.44, "50": 88.89}
    assert got["top_viewers"] == {"1": 1, "10": 1, "50": 2}
    assert got["lorenz"][50] == [0.5, 0.3333]
    # Four equal viewers: Gini 0, top 1 % = 1 viewer = 25 %, top 50 % = 2 viewers = 50 %.
    equal = client_of(make_db([e for u in "wxyz" for e in watched(u, 5)], name="equal.db"))
    got = get_json(equal, "/data/concentration/")
    assert got["gini"] == 0.0 and got["top_shares"] == {"1": 25.0, "10": 25.0, "50": 50.0}


def test_the_anonymous_id_excluded_users_and_empty_ids_are_not_viewers(make_db: Any) -> None:
    # The anonymous id's 1000 minutes, a NULL and an empty user id are nobody's: only u1 (1) and u2 (3) count.
    events = [*watched("u1", 1), *watched("u2", 3), *watched(ANONYMOUS_USER, 600, 400),
              *watched(None, 50), *watched("", 70), *watched("gone", 90)]
    db = make_db(events)
    dataquality.change(db, "exclude_users", frozenset({"gone"}))
    client = client_of(db)
    got = get_json(client, "/data/concentration/")
    assert (got["viewers"], got["minutes"], got["gini"]) == (2, 4, 0.25)
    plays = get_json(client, "/data/viewers/?measure=plays")
    assert plays["viewers"] == 2 and plays["percentiles"]["max"] == 1


def test_min_minutes_decides_what_a_play_is(make_db: Any) -> None:
    # With min_minutes = 5, u1's 2-minute event is no play: u1 has 1 play (5 min), u2 3 plays (15 min).
    db = make_db([*watched("u1", 2, 5), *watched("u2", 5, 5, 5)])
    dataquality.change(db, "min_minutes", 5)
    client = client_of(db)
    assert get_json(client, "/data/viewers/?measure=plays")["percentiles"] == {"p50": 1, "p90": 3, "p99": 3, "max": 3}
    # Ascending (5, 15), M = 20: G = (2*(5 + 30) - 3*20) / 40 = 10/40 = 0.25; top 1 %: 15/20 = 75 %.
    got = get_json(client, "/data/concentration/")
    assert (got["minutes"], got["gini"], got["top_shares"]["1"]) == (20, 0.25, 75.0)


def test_an_empty_selection_is_a_clear_empty_answer(make_db: Any) -> None:
    client = client_of(make_db([*watched("u1", 1), *watched("u2", 3)]))
    got = get_json(client, "/data/concentration/?start=2030-01-01")
    assert got == {"viewers": 0, "minutes": 0, "top_shares": {"1": None, "10": None, "50": None},
                   "top_viewers": {"1": 0, "10": 0, "50": 0}, "gini": None, "lorenz": []}
    heavy = get_json(client, "/data/viewers/?measure=minutes&start=2030-01-01")
    assert heavy["viewers"] == 0
    assert heavy["percentiles"] == {"p50": None, "p90": None, "p99": None, "max": None}
    assert {row["viewers"] for row in heavy["histogram"]} == {0}
    assert {row["share"] for row in heavy["histogram"]} == {None}
    # The figure says so instead of drawing an empty curve.
    figure = get_json(client, "/figures/viewers/viewer_lorenz.json?start=2030-01-01")
    assert figure["data"] == [] and "No data" in figure["layout"]["annotations"][0]["text"]


def test_viewers_with_no_minutes_have_no_curve(make_db: Any) -> None:
    got = get_json(client_of(make_db([*watched("u1", 0), *watched("u2", 0)])), "/data/concentration/")
    assert (got["viewers"], got["minutes"], got["gini"], got["lorenz"]) == (2, 0, None, [])


def test_heavy_viewers_hand_worked(make_db: Any) -> None:
    # Plays per viewer (10 minutes each): a 1, b 1, c 2, d 7 -> n = 4, ascending (1, 1, 2, 7).
    # Bins: "1" 2 viewers (50 %), "2" 1 (25 %), "3–5" 0, "6–10" 1 (25 %), the rest 0.
    # p50: rank ceil(2) = 2 -> 1; p90: rank ceil(3.6) = 4 -> 7; p99: rank 4 -> 7; max 7.
    events = [*watched("a", 10), *watched("b", 10), *watched("c", 10, 10), *watched("d", *[10] * 7)]
    client = client_of(make_db(events))
    plays = get_json(client, "/data/viewers/?measure=plays")
    assert plays["measure"] == "plays" and plays["viewers"] == 4
    assert [(r["label"], r["viewers"], r["share"]) for r in plays["histogram"]] == [
        ("1", 2, 50.0), ("2", 1, 25.0), ("3–5", 0, 0.0), ("6–10", 1, 25.0), ("11–20", 0, 0.0),
        ("21–50", 0, 0.0), ("51–100", 0, 0.0), ("101+", 0, 0.0)]
    assert plays["histogram"][-1]["to"] is None and plays["histogram"][2]["from"] == 3
    assert plays["percentiles"] == {"p50": 1, "p90": 7, "p99": 7, "max": 7}
    assert get_json(client, "/data/viewers/") == plays  # plays is the default
    # Minutes per viewer: (10, 10, 20, 70) -> "0–29" 3 viewers (75 %), "60–119" 1 (25 %).
    minutes = get_json(client, "/data/viewers/?measure=minutes")
    assert [(r["label"], r["viewers"]) for r in minutes["histogram"] if r["viewers"]] == [("0–29", 3), ("60–119", 1)]
    assert minutes["histogram"][0]["share"] == 75.0
    assert minutes["percentiles"] == {"p50": 10, "p90": 70, "p99": 70, "max": 70}


def test_filters_select_the_plays_counted(make_db: Any) -> None:
    # On TV only: a 1 play of 10 min, b 3 plays of 10 min -> ascending (10, 30), M = 40, G = (2*70 - 120)/80 = 0.25.
    events = [*watched("a", 10, device="TV"), *watched("b", 10, 10, 10, device="TV"), *watched("a", 500)]
    client = client_of(make_db(events))
    got = get_json(client, "/data/concentration/?device=TV")
    assert (got["viewers"], got["minutes"], got["gini"], got["top_shares"]["1"]) == (2, 40, 0.25, 75.0)


# --------------------------------------------------------------------------- #
# The reference on generated demo rows; byte-identical across backends
# --------------------------------------------------------------------------- #


def _demo_events(rows: int = 3_000, seed: int = 15) -> list[dict[str, Any]]:
    frame = pd.concat(list(generate_events(rows, seed)), ignore_index=True)
    plain = frame.astype(object).where(frame.notna(), None)
    return [dict(zip(COLUMNS, row, strict=True)) for row in plain.itertuples(index=False, name=None)]


@pytest.fixture(scope="module", params=BACKENDS)
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, list[dict]]:
    """A client over generated demo rows, and the rows as stored (the reference's input)."""
    db = module_db(request, tmp_path_factory, _demo_events())
    stored = ref.as_events(query(db, f"SELECT {', '.join(COLUMNS)} FROM movies"))
    return client_of(db), stored


SELECTIONS = {
    "": {},
    "device=TV&start=2023-06-01&end=2023-09-30": {"device": "TV"},
    "sessiontype=SERIES": {"sessiontype": "SERIES"},
}


@pytest.mark.parametrize("selection", SELECTIONS)
def test_concentration_equals_the_reference(demo: tuple[Any, list[dict]], selection: str) -> None:
    client, stored = demo
    rows = _select(stored, selection)
    expected = ref.concentration(rows)
    assert expected["viewers"] > 10 and expected["gini"] > 0  # a real distribution, not a degenerate one
    assert get_json(client, f"/data/concentration/?{selection}") == expected


@pytest.mark.parametrize("measure", ["plays", "minutes"])
@pytest.mark.parametrize("selection", SELECTIONS)
def test_heavy_viewers_equal_the_reference(demo: tuple[Any, list[dict]], selection: str, measure: str) -> None:
    client, stored = demo
    expected = ref.heavy_viewers(_select(stored, selection), measure)
    assert sum(1 for row in expected["histogram"] if row["viewers"]) > 1
    assert get_json(client, f"/data/viewers/?measure={measure}&{selection}") == expected


def _select(stored: list[dict], selection: str) -> list[dict]:
    import datetime as dt

    where = SELECTIONS[selection]
    start = dt.date(2023, 6, 1) if "start" in selection else None
    end = dt.date(2023, 9, 30) if "end" in selection else None
    return ref.select(stored, start, end, **where)


def test_both_backends_serve_the_same_bytes(tmp_path: Path, pg_server: Any) -> None:
    events = _demo_events(1_500, seed=7)
    clients = [client_of(build_db(tmp_path / "v.db", events)), client_of(build_db(pg_server.new_database(), events))]
    urls = ["/data/concentration/", "/data/concentration/?market=NO&format=csv", "/data/viewers/?measure=minutes",
            "/data/viewers/?measure=plays&sessiontype=MOVIE&format=csv",
            *(f"/figures/viewers/{chart}.json" for chart in pipeline.VIEWER_CHARTS)]
    for url in urls:
        sqlite_body, pg_body = (c.get(url) for c in clients)
        assert sqlite_body.status_code == pg_body.status_code == 200, url
        assert sqlite_body.get_data() == pg_body.get_data(), url


# --------------------------------------------------------------------------- #
# Bad input, CSV, figures, report: and never a user id
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(("url", "parameter"), [
    ("/data/viewers/?measure=ids", "measure"),
    ("/data/viewers/?measure=plays&measure=minutes", "measure"),
    ("/data/viewers/?user=u1", "user"),
    ("/data/concentration/?measure=plays", "measure"),
    ("/data/concentration/?start=2024-02-30", "start"),
    ("/data/concentration/?format=xml", "format"),
    ("/data/concentration/?device=Toaster", "device"),
    ("/figures/viewers/viewer_lorenz.json?theme=neon", "theme"),
    ("/figures/viewers/viewer_plays.json?format=csv", "format"),
])
def test_bad_parameters_are_400s_naming_them(make_db: Any, url: str, parameter: str) -> None:
    client = client_of(make_db([*watched("u1", 1), *watched("u2", 3)]))
    body = get_json(client, url, status=400)
    assert body["parameter"] == parameter and body["error"]


def test_an_unknown_viewer_chart_is_a_404(make_db: Any) -> None:
    client = client_of(make_db(watched("u1", 1)))
    assert "viewer_lorenz" in get_json(client, "/figures/viewers/ids.json", status=404)["error"]


def test_csv_exports(make_db: Any) -> None:
    client = client_of(make_db([*watched("u1", 1), *watched("u2", 3)]))
    response = client.get("/data/concentration/?format=csv&start=2024-03-01")
    assert response.mimetype == "text/csv"
    assert "concentration_lorenz_2024-03-01_end.csv" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 101 and rows[50] == {"viewers_share": "0.5", "minutes_share": "0.25"}
    histogram = list(csv.DictReader(io.StringIO(client.get("/data/viewers/?format=csv").get_data(as_text=True))))
    assert [(r["label"], r["viewers"]) for r in histogram][:2] == [("1", "2"), ("2", "0")]
    assert (histogram[2]["from"], histogram[2]["to"], histogram[-1]["to"]) == ("3", "5", "")


def test_figures_api_and_report_sections(make_db: Any) -> None:
    db = make_db([*watched("u1", 1), *watched("u2", 3)])
    lorenz = figures.viewers("viewer_lorenz", db)
    assert "Gini 0.2500" in lorenz.layout.title.text
    assert [round(y, 4) for y in lorenz.data[1].y][50] == 25.0 and list(lorenz.data[0].x) == [0, 100]
    top = figures.viewers("viewer_top_shares", db)
    assert list(top.data[0].y) == [75.0, 75.0, 75.0]
    plays = figures.viewers("viewer_plays", db, device=["Computer"])
    assert list(plays.data[0].y)[:2] == [2, 0]
    with pytest.raises(Exception, match="unknown chart"):
        figures.viewers("ids", db)
    conn = connect_readonly(db)
    try:
        sections = viewer_sections(conn, ReportSpec())
    finally:
        conn.close()
    assert [s.key for s in sections] == ["viewers_lorenz", "viewers_top_shares", "viewers_plays_per_viewer",
                                         "viewers_minutes_per_viewer"]
    assert "Gini coefficient 0.2500" in sections[0].summary and "25.00 %" in sections[0].summary
    assert "top 1 % (1 viewers): 75.00 %" in sections[1].summary
    assert sections[2].summary.startswith("Plays per viewer, viewers per bin: 1: 2 viewers (100.00 %)")
    assert [c.chart for c in viewer_cards.CARDS] == list(pipeline.VIEWER_CHARTS)


def test_no_user_id_in_any_output(make_db: Any) -> None:
    users = [f"viewer-secret-{i:02d}" for i in range(12)]
    events = [e for i, u in enumerate(users) for e in watched(u, *[7] * (i + 1))]
    db = make_db(events)
    client = client_of(db)
    bodies = [
        client.get(url).get_data(as_text=True)
        for url in ["/data/concentration/", "/data/concentration/?format=csv", "/data/viewers/",
                    "/data/viewers/?measure=minutes", "/data/viewers/?format=csv",
                    "/data/viewers/?measure=minutes&format=csv",
                    *(f"/figures/viewers/{chart}.json" for chart in pipeline.VIEWER_CHARTS)]
    ]
    conn = connect_readonly(db)
    try:
        sections = viewer_sections(conn, ReportSpec())
        frames = [pipeline.viewer_data(conn, chart, Filters()).frame for chart in pipeline.VIEWER_CHARTS]
    finally:
        conn.close()
    bodies += [s.summary for s in sections] + [json.dumps(s.figure.to_plotly_json(), default=str) for s in sections]
    bodies += [f.to_csv() for f in frames]
    assert len(bodies) == 22 and all(bodies)
    assert json.loads(bodies[0])["viewers"] == 12  # the users are there, counted
    for body in bodies:
        assert "viewer-secret" not in body
