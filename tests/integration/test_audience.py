"""New vs returning viewers and cohort retention (issue 15) on both backends.

Hand-worked fixtures (answers worked out in the comments), the plain-Python reference
(``tests/reference.py``) on generated demo rows from the rollups and from the raw table,
byte-identical answers across backends, the rollups kept by a later load (one with an older
event moves a user's first day), and 400s naming a bad ``resolution`` or ``period``.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner
from pyroaring import BitMap

from moviedash import audience, create_app, dataquality, rollups
from moviedash import settings as data_settings
from moviedash.cli import main
from moviedash.ingest.demo import generate_events
from moviedash.params import Filters, SeriesQuery
from moviedash.rollups import maintain
from moviedash.store import COLUMNS, connect_readonly, write_transaction
from tests import reference as ref
from tests.helpers import BACKENDS, build_db, event, module_db, query, raw_path, write_sql

RESOLUTIONS = ("daily", "weekly", "monthly")


def get_json(client: Any, url: str, status: int = 200) -> Any:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()


def flat(cohorts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``/data/cohorts/``'s nested JSON as the reference's rows (one per cohort and offset)."""
    return [{"cohort": c["cohort"], "size": c["size"], **p} for c in cohorts for p in c["periods"]]


# --------------------------------------------------------------------------- #
# Hand-worked fixture
# --------------------------------------------------------------------------- #

# 2024-01-01 is a Monday: weeks 01-01, 01-08, 01-15, 01-22, 01-29, 02-05.
# First seen (over all data): u1 01-01, u2 01-03 (on TV), u3 01-09, u4 02-06 (on TV).
HAND = [
    event("2024-01-01 09:00:00", "u1"),
    event("2024-01-03 21:00:00", "u2", device="TV"),
    event("2024-01-09 10:00:00", "u2"),
    event("2024-01-09 11:00:00", "u3"),
    event("2024-01-10 12:00:00", "u1"),
    event("2024-02-05 08:00:00", "u1"),
    event("2024-02-06 20:00:00", "u4", device="TV"),
]


def zeros(*labels: str) -> list[dict[str, Any]]:
    return [{"date": label, "new": 0, "returning": 0} for label in labels]


@pytest.fixture(scope="module", params=BACKENDS)
def hand(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return create_app(db=module_db(request, tmp_path_factory, HAND)).server.test_client()


def test_hand_worked_new_and_returning(hand: Any) -> None:
    # Week 01-01: u1, u2 first seen -> 2 new.  Week 01-08: u3 new; u1, u2 back -> 1 new, 2 returning.
    # Three empty weeks, then 02-05: u4 new, u1 back.
    assert get_json(hand, "/data/audience/?resolution=weekly") == [
        {"date": "2024-01-01", "new": 2, "returning": 0},
        {"date": "2024-01-08", "new": 1, "returning": 2},
        *zeros("2024-01-15", "2024-01-22", "2024-01-29"),
        {"date": "2024-02-05", "new": 1, "returning": 1},
    ]
    # January: u1, u2, u3 all first seen in it; February: u4 new, u1 back.
    assert get_json(hand, "/data/audience/?resolution=monthly") == [
        {"date": "2024-01-01", "new": 3, "returning": 0},
        {"date": "2024-02-01", "new": 1, "returning": 1},
    ]


def test_first_event_outside_the_date_range_is_returning(hand: Any) -> None:
    # From 01-08: u1 and u2 were first seen the week before the range -> returning; u3 new.
    assert get_json(hand, "/data/audience/?resolution=weekly&start=2024-01-08")[0] == {
        "date": "2024-01-08", "new": 1, "returning": 2}
    # Days 01-09 (u2 back, u3 new) and 01-10 (u1 back).
    assert get_json(hand, "/data/audience/?resolution=daily&start=2024-01-09&end=2024-01-10") == [
        {"date": "2024-01-09", "new": 1, "returning": 1},
        {"date": "2024-01-10", "new": 0, "returning": 1},
    ]
    # A period is the whole calendar month even where the range cuts it: u1's first day (01-01) is in January.
    assert get_json(hand, "/data/audience/?resolution=monthly&start=2024-01-08&end=2024-01-31") == [
        {"date": "2024-01-01", "new": 3, "returning": 0},
    ]


def test_filters_that_exclude_a_first_event(hand: Any) -> None:
    # Computer only: u2's first event (TV, week 01-01) is filtered out, yet u2 is returning in week 01-08
    # (first seen over all data); u4 (TV only) is nowhere.
    assert get_json(hand, "/data/audience/?resolution=weekly&device=Computer") == [
        {"date": "2024-01-01", "new": 1, "returning": 0},
        {"date": "2024-01-08", "new": 1, "returning": 2},
        *zeros("2024-01-15", "2024-01-22", "2024-01-29"),
        {"date": "2024-02-05", "new": 0, "returning": 1},
    ]


def test_one_user_selections(hand: Any) -> None:
    # Only u4 is on TV that week: new.  Only u1 on 01-10: returning.
    assert get_json(hand, "/data/audience/?resolution=weekly&device=TV&start=2024-02-05&end=2024-02-11") == [
        {"date": "2024-02-05", "new": 1, "returning": 0}]
    assert get_json(hand, "/data/audience/?resolution=daily&start=2024-01-10&end=2024-01-10") == [
        {"date": "2024-01-10", "new": 0, "returning": 1}]
    assert flat(get_json(hand, "/data/cohorts/?period=month&start=2024-02-05&end=2024-02-11&device=TV")) == [
        {"cohort": "2024-02-01", "size": 1, "offset": 0, "period": "2024-02-01", "active": 1, "share": 100.0}]
    # An empty selection: nothing to split, no periods.
    assert get_json(hand, "/data/audience/?resolution=weekly&start=2025-01-01&end=2025-01-31") == []


def test_hand_worked_cohorts(hand: Any) -> None:
    def row(cohort: str, size: int, offset: int, period: str, active: int, share: float) -> dict[str, Any]:
        return {"cohort": cohort, "size": size, "offset": offset, "period": period, "active": active, "share": share}

    weeks = ["2024-01-01", "2024-01-08", "2024-01-15", "2024-01-22", "2024-01-29", "2024-02-05"]
    got = get_json(hand, "/data/cohorts/?period=week")
    # Week 01-01: {u1, u2}, both back in 01-08, u1 in 02-05 (1 of 2 = 50 %).  Week 01-08: {u3}, never back:
    # 0 %, not missing.  Weeks 01-15 to 01-29 first saw nobody: no cohort.  Week 02-05: {u4}.
    assert [(c["cohort"], c["size"]) for c in got] == [("2024-01-01", 2), ("2024-01-08", 1), ("2024-02-05", 1)]
    assert flat(got) == [
        row(weeks[0], 2, 0, weeks[0], 2, 100.0), row(weeks[0], 2, 1, weeks[1], 2, 100.0),
        *(row(weeks[0], 2, k, weeks[k], 0, 0.0) for k in (2, 3, 4)), row(weeks[0], 2, 5, weeks[5], 1, 50.0),
        row(weeks[1], 1, 0, weeks[1], 1, 100.0), *(row(weeks[1], 1, k - 1, weeks[k], 0, 0.0) for k in (2, 3, 4, 5)),
        row(weeks[5], 1, 0, weeks[5], 1, 100.0),
    ]
    # Months: January {u1, u2, u3}: 3 of 3, then u1 in February: 1 of 3 = 33.33 %.  February {u4}.
    jan, feb = "2024-01-01", "2024-02-01"
    assert flat(get_json(hand, "/data/cohorts/?period=month")) == [
        row(jan, 3, 0, jan, 3, 100.0), row(jan, 3, 1, feb, 1, 33.33), row(feb, 1, 0, feb, 1, 100.0)]
    # On TV only: the sizes stay (first seen over all data); January's TV viewer is u2 (1 of 3),
    # February's u4.  On Computer, u4's cohort is shown at 0 %.
    assert flat(get_json(hand, "/data/cohorts/?period=month&device=TV")) == [
        row(jan, 3, 0, jan, 1, 33.33), row(jan, 3, 1, feb, 0, 0.0), row(feb, 1, 0, feb, 1, 100.0)]
    assert flat(get_json(hand, "/data/cohorts/?period=month&device=Computer")) == [
        row(jan, 3, 0, jan, 3, 100.0), row(jan, 3, 1, feb, 1, 33.33), row(feb, 1, 0, feb, 0, 0.0)]


def test_csv_exports(hand: Any) -> None:
    response = hand.get("/data/audience/?resolution=monthly&format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "audience_monthly.csv" in response.headers["Content-Disposition"]
    assert list(csv.reader(io.StringIO(response.get_data(as_text=True)))) == [
        ["date", "new", "returning"], ["2024-01-01", "3", "0"], ["2024-02-01", "1", "1"]]
    response = hand.get("/data/cohorts/?period=month&format=csv")
    assert response.status_code == 200 and "cohorts_month.csv" in response.headers["Content-Disposition"]
    assert list(csv.reader(io.StringIO(response.get_data(as_text=True)))) == [
        ["cohort", "size", "offset", "period", "active", "share"],
        ["2024-01-01", "3", "0", "2024-01-01", "3", "100.0"], ["2024-01-01", "3", "1", "2024-02-01", "1", "33.33"],
        ["2024-02-01", "1", "0", "2024-02-01", "1", "100.0"],
    ]


@pytest.mark.parametrize(("url", "parameter"), [
    ("/data/audience/?resolution=hourly", "resolution"),
    ("/data/audience/?resolution=daily&resolution=weekly", "resolution"),
    ("/data/audience/?period=week", "period"),
    ("/data/audience/?device=Nope", "device"),
    ("/data/cohorts/?period=day", "period"),
    ("/data/cohorts/?period=week&period=month", "period"),
    ("/data/cohorts/?resolution=weekly", "resolution"),
    ("/data/cohorts/?start=2024-02-30", "start"),
    ("/data/cohorts/?format=xml", "format"),
])
def test_bad_parameters_are_400_naming_them(hand: Any, url: str, parameter: str) -> None:
    assert get_json(hand, url, 400)["parameter"] == parameter


def test_a_range_beyond_the_data_and_the_widest_triangle(hand: Any, make_db: Any) -> None:
    # The range is taken within the data's span: no cohort before its first day, no period after its last.
    assert flat(get_json(hand, "/data/cohorts/?period=month&start=2000-01-01&end=2099-12-31")) == flat(
        get_json(hand, "/data/cohorts/?period=month"))
    assert get_json(hand, "/data/cohorts/?start=2030-01-01") == []
    # Data of eleven years: 575 weeks is more than a triangle may span (a 400 naming period); months are fine.
    client = create_app(db=make_db([event("2010-01-04 10:00:00", "a"), event("2021-01-04 10:00:00", "a")]))
    answer = get_json(client.server.test_client(), "/data/cohorts/?period=week", 400)
    assert answer["parameter"] == "period" and "spans more than 520 periods" in answer["error"]
    months = flat(get_json(client.server.test_client(), "/data/cohorts/?period=month"))
    assert len(months) == 133 and months[-1] == {"cohort": "2010-01-01", "size": 1, "offset": 132,
                                                 "period": "2021-01-01", "active": 1, "share": 100.0}


def test_settings_follow_the_viewer_rules(make_db: Any) -> None:
    # u5's first event is 1 minute long (01-02), then a play on 01-16; u6 plays on 01-02.
    db = make_db([
        event("2024-01-02 10:00:00", "u5", minutes=1), event("2024-01-16 10:00:00", "u5", minutes=10),
        event("2024-01-02 11:00:00", "u6", minutes=10),
    ])
    client = create_app(db=db).server.test_client()

    def weekly() -> tuple[list[Any], list[int]]:
        got = get_json(client, "/data/audience/?resolution=weekly")
        users = [r["values"] for r in get_json(client, "/data/unique_users/?resolution=weekly")]
        assert [r["new"] + r["returning"] for r in got] == users  # exactly unique_users, every period
        return [(r["new"], r["returning"]) for r in got], users

    # Every event a play: week 01-01 u5, u6 new; week 01-15 u5 back.
    assert weekly()[0] == [(2, 0), (0, 0), (0, 1)]
    # min_minutes 5: u5's 1-minute event makes no viewer, so u5 is first seen on 01-16 (new then).
    dataquality.change(db, "min_minutes", 5)
    assert weekly()[0] == [(1, 0), (0, 0), (1, 0)]
    # u6 excluded as well: week 01-01 has events but no viewer (a row of zeros, as unique_users has).
    dataquality.change(db, "exclude_users", data_settings.parse("exclude_users", "u6"))
    assert weekly()[0] == [(0, 0), (0, 0), (1, 0)]
    assert flat(get_json(client, "/data/cohorts/?period=week")) == [
        {"cohort": "2024-01-15", "size": 1, "offset": 0, "period": "2024-01-15", "active": 1, "share": 100.0}]


# --------------------------------------------------------------------------- #
# The reference on demo rows, from the rollups and from the raw table
# --------------------------------------------------------------------------- #


def _demo_events(rows: int = 3_000, seed: int = 11) -> list[dict[str, Any]]:
    frame = pd.concat(list(generate_events(rows, seed)), ignore_index=True)
    plain = frame.astype(object).where(frame.notna(), None)
    return [dict(zip(COLUMNS, row, strict=True)) for row in plain.itertuples(index=False, name=None)]


@pytest.fixture(scope="module", params=BACKENDS)
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, list[dict]]:
    db = module_db(request, tmp_path_factory, _demo_events())
    stored = ref.as_events(query(db, f"SELECT {', '.join(COLUMNS)} FROM movies"))
    return db, stored


SELECTIONS: list[tuple[str, dict[str, Any]]] = [
    ("", {}),
    ("&device=TV", {"device": "TV"}),
    ("&start=2023-06-01&end=2023-09-30", {"start": dt.date(2023, 6, 1), "end": dt.date(2023, 9, 30)}),
    ("&sessiontype=SERIES&start=2023-03-15", {"sessiontype": "SERIES", "start": dt.date(2023, 3, 15)}),
    # Ends on a Wednesday: the last week's cohort still counts its members first seen Thursday to Sunday.
    ("&end=2023-09-27&device=TV", {"end": dt.date(2023, 9, 27), "device": "TV"}),
]


def _answers(db: Any, resolution: str, period: str, filters: Filters) -> tuple[list[dict], list[dict]]:
    conn = connect_readonly(db)
    try:
        series = audience.new_returning(conn, SeriesQuery(resolution, filters)).to_dict("records")
        cohorts = audience.cohorts(conn, period, filters).to_dict("records")
    finally:
        conn.close()
    return series, cohorts


def _filters(kw: dict[str, Any]) -> Filters:
    return Filters.create(**{k: v for k, v in kw.items()})


@pytest.mark.parametrize(("suffix", "kw"), SELECTIONS)
def test_demo_equals_the_reference(demo: tuple[Any, list[dict]], suffix: str, kw: dict[str, Any]) -> None:
    db, stored = demo
    client = create_app(db=db).server.test_client()
    where = {k: v for k, v in kw.items() if k not in ("start", "end")}
    for resolution in RESOLUTIONS:
        expected = ref.new_returning(stored, resolution, start=kw.get("start"), end=kw.get("end"), **where)
        got = get_json(client, f"/data/audience/?resolution={resolution}{suffix}")
        assert got == expected
        assert sum(r["new"] for r in got) > 0 and sum(r["returning"] for r in got) > 0
        users = get_json(client, f"/data/unique_users/?resolution={resolution}{suffix}")
        assert [r["new"] + r["returning"] for r in got] == [r["values"] for r in users]
    for period in ("week", "month"):
        expected = ref.cohorts(stored, period, start=kw.get("start"), end=kw.get("end"), **where)
        assert flat(get_json(client, f"/data/cohorts/?period={period}{suffix}")) == expected
        assert any(0 < r["share"] < 100 for r in expected)


@pytest.mark.parametrize(("suffix", "kw"), SELECTIONS)
def test_raw_table_answers_as_the_rollups(demo: tuple[Any, list[dict]], suffix: str, kw: dict[str, Any]) -> None:
    db, _ = demo
    filters = _filters(kw)
    for resolution, period in (("daily", "week"), ("weekly", "month"), ("monthly", "week")):
        served = _answers(db, resolution, period, filters)
        with raw_path():
            assert _answers(db, resolution, period, filters) == served


def test_answers_are_byte_identical_across_backends(pg_server: Any, tmp_path: Path) -> None:
    rows = _demo_events(1_500, 5)
    dbs = [build_db(tmp_path / "m.db", rows), build_db(pg_server.new_database(), rows)]
    clients = [create_app(db=db).server.test_client() for db in dbs]
    urls = [
        *(f"/data/audience/?resolution={r}{s}" for r in RESOLUTIONS for s, _ in SELECTIONS),
        *(f"/data/cohorts/?period={p}{s}" for p in ("week", "month") for s, _ in SELECTIONS),
        "/data/audience/?resolution=weekly&format=csv", "/data/cohorts/?period=month&format=csv",
    ]
    for url in urls:
        bodies = [c.get(url) for c in clients]
        assert all(b.status_code == 200 for b in bodies), url
        assert bodies[0].get_data() == bodies[1].get_data(), url
    with raw_path():  # the raw SQL of either dialect, too
        for url in urls[:4]:
            assert clients[0].get(url).get_data() == clients[1].get(url).get_data(), url


# --------------------------------------------------------------------------- #
# Rollups: kept by each load, exact when a load moves a first day
# --------------------------------------------------------------------------- #


def _first_tables(db: Any) -> tuple[dict[str, str], dict[str, list[str]]]:
    """``md_first_seen`` and ``md_first_day`` by user id text (empty bitmaps left out)."""
    names = dict(query(db, "SELECT id, userid FROM md_users"))
    seen = {names[u]: str(day) for u, day in query(db, "SELECT user_id, day FROM md_first_seen")}
    days = {str(day): sorted(names[u] for u in BitMap.deserialize(bytes(blob)))
            for day, blob in query(db, "SELECT day, users FROM md_first_day")}
    return seen, {day: users for day, users in days.items() if users}


def _write_csv(path: Path, events: list[dict[str, Any]]) -> Path:
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        for e in ref.as_events(events):
            out.writerow(["" if e[c] is None else e[c] for c in COLUMNS])
    return path


def test_a_later_load_with_an_older_event_moves_the_first_day(
    db_target: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = build_db(db_target("m.db"), HAND)
    assert _first_tables(db) == (
        {"u1": "2024-01-01", "u2": "2024-01-03", "u3": "2024-01-09", "u4": "2024-02-06"},
        {"2024-01-01": ["u1"], "2024-01-03": ["u2"], "2024-01-09": ["u3"], "2024-02-06": ["u4"]},
    )
    # A second load: u4 on 01-02 (before its stored 02-06: moves), u3 later (stays), u7 new.
    more = [event("2024-01-02 07:00:00", "u4"), event("2024-02-07 07:00:00", "u3"),
            event("2024-02-07 08:00:00", "u7")]

    def no_sql_pass(*args: Any) -> bool:
        raise AssertionError("the load's aggregator should fold in its rows, not an SQL pass over movies")

    with monkeypatch.context() as patch:
        patch.setattr(maintain, "_add_rows", no_sql_pass)
        result = CliRunner().invoke(main, ["load", str(_write_csv(tmp_path / "more.csv", more)), "--db", str(db)])
    assert result.exit_code == 0, result.output
    incremental = _first_tables(db)
    assert incremental == (
        {"u1": "2024-01-01", "u2": "2024-01-03", "u3": "2024-01-09", "u4": "2024-01-02", "u7": "2024-02-07"},
        {"2024-01-01": ["u1"], "2024-01-02": ["u4"], "2024-01-03": ["u2"], "2024-01-09": ["u3"],
         "2024-02-07": ["u7"]},
    )
    client = create_app(db=db).server.test_client()
    # Week 01-01: u1, u2, u4 new.  Week 01-08: u3 new, u1, u2 back.  Week 02-05: u7 new; u1, u3, u4 back.
    assert get_json(client, "/data/audience/?resolution=weekly") == [
        {"date": "2024-01-01", "new": 3, "returning": 0},
        {"date": "2024-01-08", "new": 1, "returning": 2},
        *zeros("2024-01-15", "2024-01-22", "2024-01-29"),
        {"date": "2024-02-05", "new": 1, "returning": 3},
    ]
    stored = ref.as_events(query(db, f"SELECT {', '.join(COLUMNS)} FROM movies"))
    assert flat(get_json(client, "/data/cohorts/?period=week")) == ref.cohorts(stored, "week")
    # A build from scratch makes the same tables.
    with write_transaction(db) as conn:
        assert rollups.rebuild(conn)
    assert _first_tables(db) == incremental


def test_rows_behind_moviedashs_back_are_answered_from_the_raw_table(make_db: Any) -> None:
    db = make_db(HAND)
    # u3 on 2023-12-31 (a Sunday): written behind moviedash's back, so the rollups are stale.
    write_sql(db, "INSERT INTO movies (event_date, userid, device, market, sessiontype, title, totalminuteswatched) "
              "VALUES ('2023-12-31 10:00:00', 'u3', 'Computer', 'NO', 'MOVIE', 'A', 10)")
    conn = connect_readonly(db)
    try:
        status = rollups.status(conn)
        assert status is not None and not status.usable
        got = audience.new_returning(conn, SeriesQuery("weekly", Filters())).to_dict("records")
        cohorts = audience.cohorts(conn, "month", Filters()).to_dict("records")
    finally:
        conn.close()
    stored = ref.as_events(query(db, f"SELECT {', '.join(COLUMNS)} FROM movies"))
    assert got == ref.new_returning(stored, "weekly")
    # u3 is now first seen in week 12-25 (new there) and back in 01-08.
    assert got[0] == {"date": "2023-12-25", "new": 1, "returning": 0}
    assert got[2] == {"date": "2024-01-08", "new": 0, "returning": 3}
    assert cohorts == ref.cohorts(stored, "month")


# --------------------------------------------------------------------------- #
# Figures (route and API), text alternatives, report sections
# --------------------------------------------------------------------------- #


def test_figure_route_draws_the_numbers(hand: Any) -> None:
    fig = get_json(hand, "/figures/audience/audience.json?resolution=monthly&theme=dark")
    returning, new = fig["data"]
    assert (returning["name"], new["name"]) == ("Returning", "New")
    assert fig["layout"]["barmode"] == "stack"
    # The hand-worked months: January 3 new, 0 returning; February 1 new, 1 returning.
    assert new["y"] == [3, 1] and returning["y"] == [0, 1]
    assert fig["config"]["toImageButtonOptions"]["filename"] == "audience_monthly"
    fig = get_json(hand, "/figures/audience/cohorts.json?period=month&device=TV")
    (cells,) = fig["data"]
    # Rows: January (3 viewers), February (1); columns Month 0, Month 1; the triangle's empty cell is null.
    assert cells["z"] == [[33.33, 0.0], [100.0, None]]
    assert cells["y"] == ["January 2024 · 3", "February 2024 · 1"]
    assert cells["x"] == ["Month 0", "Month 1"]
    assert get_json(hand, "/figures/audience/cohorts.json?period=year", 400)["parameter"] == "period"
    assert get_json(hand, "/figures/audience/audience.json?resolution=weekly&by=device", 400)["parameter"] == "by"
    assert get_json(hand, "/figures/audience/nope.json", 404)["error"].startswith("unknown chart")


def test_figures_api_and_report_sections(make_db: Any) -> None:
    from moviedash import audience_cards, figures
    from moviedash.report.build import ReportSpec, audience_sections

    db = make_db(HAND)
    fig = figures.audience(db, "weekly", device=["Computer"])
    assert [list(t.y) for t in fig.data] == [[0, 2, 0, 0, 0, 1], [1, 1, 0, 0, 0, 0]]
    assert list(figures.cohorts(db, "month").data[0].z[0]) == [100.0, 33.33]
    with pytest.raises(Exception, match="period must be one of week, month"):
        figures.cohorts(db, "day")
    conn = connect_readonly(db)
    try:
        sections = audience_sections(conn, ReportSpec())
    finally:
        conn.close()
    assert [s.key for s in sections] == ["audience_audience", "audience_cohorts"]
    assert [s.heading for s in sections] == ["New and returning viewers (weekly)", "Cohort retention (month)"]
    assert sections[0].summary.startswith("New and returning viewers per week, Week of Mon 1 Jan 2024 to Week of "
                                          "Mon 5 Feb 2024 (6 weeks): 4 new and 3 returning in all")
    assert sections[1].summary == (
        "Cohort retention by month, 2 cohorts, share of each cohort active month by month: January 2024 "
        "(3 viewers): month 0 100.00 %, month 1 33.33 %; February 2024 (1 viewer): month 0 100.00 %.")
    assert audience_cards.describe("cohorts", "week", pd.DataFrame()) == (
        "Cohort retention by week: no viewers in this selection.")
