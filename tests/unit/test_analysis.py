"""The analysis against small hand-built fixtures, with answers worked out by hand."""
from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from moviedash import analysis
from moviedash.errors import MoviedashError
from moviedash.params import Filters, SeriesQuery, TopQuery
from tests.helpers import event


def records(df) -> list[tuple]:
    return [tuple(r) for r in df.itertuples(index=False, name=None)]


def users(conn, resolution="daily", **filters) -> list[tuple]:
    return records(analysis.unique_users(conn, SeriesQuery(resolution, Filters.create(**filters))))


def minutes(conn, resolution="daily", **filters) -> list[tuple]:
    return records(analysis.minutes_watched(conn, SeriesQuery(resolution, Filters.create(**filters))))


def top(conn, num=10, rank="plays", **filters) -> list[tuple]:
    return records(analysis.toplist(conn, TopQuery(num, rank, Filters.create(**filters))))


@pytest.fixture
def db(make_db, connect):
    def build(*events) -> sqlite3.Connection:
        return connect(make_db(events))

    return build


def test_sunday_and_monday_at_midnight_fall_in_different_weeks(db):
    # 2013-01-06 is a Sunday, 2013-01-07 the Monday after it.
    conn = db(event("2013-01-06 23:59:59", "a"), event("2013-01-07 00:00:00", "b"), event("2013-01-07 00:00:00", "c"))
    assert users(conn, "weekly") == [("2012-12-31", 1), ("2013-01-07", 2)]
    assert users(conn, "daily") == [("2013-01-06", 1), ("2013-01-07", 2)]


def test_week_across_new_year_is_labelled_by_its_monday(db):
    # Monday 2012-12-31 .. Sunday 2013-01-06 is one week.
    conn = db(
        event("2012-12-31 00:00:00", "a", minutes=5),
        event("2013-01-01 12:00:00", "b", minutes=7),
        event("2013-01-06 23:00:00", "a", minutes=11),
    )
    assert users(conn, "weekly") == [("2012-12-31", 2)]
    assert minutes(conn, "weekly") == [("2012-12-31", 23)]
    assert minutes(conn, "monthly") == [("2012-12-01", 5), ("2013-01-01", 18)]


def test_a_month_with_no_events_is_zero(db):
    conn = db(event("2013-01-15 10:00:00", "a", minutes=30), event("2013-03-02 10:00:00", "b", minutes=40))
    assert minutes(conn, "monthly") == [("2013-01-01", 30), ("2013-02-01", 0), ("2013-03-01", 40)]
    assert users(conn, "monthly") == [("2013-01-01", 1), ("2013-02-01", 0), ("2013-03-01", 1)]


def test_a_gap_of_weeks_is_zero_filled(db):
    conn = db(event("2013-01-02 10:00:00", "a"), event("2013-01-30 10:00:00", "a"))
    assert users(conn, "weekly") == [
        ("2012-12-31", 1), ("2013-01-07", 0), ("2013-01-14", 0), ("2013-01-21", 0), ("2013-01-28", 1),
    ]
    daily = users(conn, "daily")
    assert len(daily) == 29 and daily[0] == ("2013-01-02", 1) and daily[-1] == ("2013-01-30", 1)
    assert sum(v for _, v in daily) == 2


def test_unique_users_counts_each_user_once_per_period(db):
    conn = db(
        event("2013-01-07 10:00:00", "a"), event("2013-01-07 11:00:00", "a"),
        event("2013-01-08 10:00:00", "a"), event("2013-01-08 10:00:00", "b"),
    )
    assert users(conn, "daily") == [("2013-01-07", 1), ("2013-01-08", 2)]
    # Distinct users do not add up across days: a and b over the week is 2, not 3.
    assert users(conn, "weekly") == [("2013-01-07", 2)]


def test_top_list_ties_are_broken_by_title(db):
    conn = db(
        event("2013-01-01 10:00:00", title="Beta"), event("2013-01-01 10:00:00", title="Alpha"),
        event("2013-01-01 10:00:00", title="Gamma"), event("2013-01-01 11:00:00", title="Gamma"),
    )
    assert top(conn) == [("Gamma", 2), ("Alpha", 1), ("Beta", 1)]
    assert top(conn, num=2) == [("Gamma", 2), ("Alpha", 1)]


def test_top_list_excludes_empty_and_missing_titles(db):
    conn = db(
        event("2013-01-01 10:00:00", title=""), event("2013-01-01 10:00:00", title=""),
        event("2013-01-01 10:00:00", title=None), event("2013-01-01 10:00:00", title="Skyfall"),
    )
    assert top(conn) == [("Skyfall", 1)]


def test_top_list_rank_by_minutes_and_viewers(db):
    conn = db(
        event("2013-01-01 10:00:00", "a", title="Long", minutes=100),
        event("2013-01-01 10:00:00", "b", title="Popular", minutes=10),
        event("2013-01-01 10:00:00", "c", title="Popular", minutes=10),
        event("2013-01-01 10:00:00", "c", title="Popular", minutes=10),
        event("2013-01-01 10:00:00", "a", title="Rewatched", minutes=5),
        event("2013-01-01 11:00:00", "a", title="Rewatched", minutes=5),
        event("2013-01-01 12:00:00", "a", title="Rewatched", minutes=5),
        event("2013-01-01 13:00:00", "a", title="Rewatched", minutes=5),
    )
    assert top(conn, rank="plays") == [("Rewatched", 4), ("Popular", 3), ("Long", 1)]
    assert top(conn, rank="minutes") == [("Long", 100), ("Popular", 30), ("Rewatched", 20)]
    assert top(conn, rank="viewers") == [("Popular", 2), ("Long", 1), ("Rewatched", 1)]


def test_empty_database_gives_empty_results(db):
    conn = db()
    for resolution in ("daily", "weekly", "monthly"):
        assert users(conn, resolution) == []
        assert minutes(conn, resolution) == []
    assert top(conn) == []
    assert analysis.totals(conn, Filters()) == analysis.Totals(0, 0, 0)
    assert analysis.span(conn) == analysis.Span(None, None, 0)
    assert int(analysis.heatmap(conn, Filters()).to_numpy().sum()) == 0


def test_one_event(db):
    conn = db(event("2013-05-15 20:30:00", "a", minutes=42, title="Only"))
    assert users(conn, "daily") == [("2013-05-15", 1)]
    assert users(conn, "weekly") == [("2013-05-13", 1)]
    assert minutes(conn, "monthly") == [("2013-05-01", 42)]
    assert top(conn) == [("Only", 1)]
    assert analysis.span(conn) == analysis.Span(dt.date(2013, 5, 15), dt.date(2013, 5, 15), 1)
    grid = analysis.heatmap(conn, Filters())
    assert grid.loc["Wed", 20] == 1 and int(grid.to_numpy().sum()) == 1


def test_date_range_is_inclusive_and_zero_filled_over_the_range(db):
    conn = db(
        event("2013-01-01 00:00:00", "a"), event("2013-01-03 23:59:59", "b"),
        event("2013-01-04 00:00:00", "c"), event("2012-12-31 23:59:59", "d"),
    )
    assert users(conn, "daily", start="2013-01-01", end="2013-01-03") == [
        ("2013-01-01", 1), ("2013-01-02", 0), ("2013-01-03", 1),
    ]
    # Every period of the range is present, even beyond the data.
    assert users(conn, "daily", start="2013-01-03", end="2013-01-06") == [
        ("2013-01-03", 1), ("2013-01-04", 1), ("2013-01-05", 0), ("2013-01-06", 0),
    ]
    # The first week is partial: only b and c fall on or after the 2nd.
    assert users(conn, "weekly", start="2013-01-02", end="2013-01-20") == [
        ("2012-12-31", 2), ("2013-01-07", 0), ("2013-01-14", 0),
    ]


def test_filters_by_sessiontype_device_and_market(db):
    conn = db(
        event("2013-01-01 10:00:00", "a", sessiontype="MOVIE", device="iPad", market="NO", title="M"),
        event("2013-01-01 10:00:00", "b", sessiontype="SERIES", device="Computer", market="SE", title="S"),
        event("2013-01-01 10:00:00", "c", sessiontype="SERIES", device="iPad", market="SE", title="S"),
        event("2013-01-01 10:00:00", "d", sessiontype=None, device="TV", market=None, title=None),
    )
    assert users(conn) == [("2013-01-01", 4)]
    assert users(conn, sessiontype=["SERIES"]) == [("2013-01-01", 2)]
    assert users(conn, device=["iPad"]) == [("2013-01-01", 2)]
    assert users(conn, device=["iPad", "TV"]) == [("2013-01-01", 3)]
    assert users(conn, market=["SE"], device=["iPad"]) == [("2013-01-01", 1)]
    assert users(conn, market=["DK"]) == []
    assert top(conn, sessiontype=["SERIES"]) == [("S", 2)]
    assert analysis.options(conn) == {
        "sessiontype": ["MOVIE", "SERIES", "unknown"], "device": ["Computer", "TV", "iPad"],
        "market": ["NO", "SE", "unknown"],
    }
    assert users(conn, market=["unknown"]) == [("2013-01-01", 1)]


def test_totals(db):
    conn = db(
        event("2013-01-01 10:00:00", "a", minutes=30), event("2013-01-02 10:00:00", "a", minutes=60),
        event("2013-01-02 10:00:00", "b", minutes=90),
    )
    totals = analysis.totals(conn, Filters())
    assert totals == analysis.Totals(viewers=2, plays=3, minutes=180)
    assert totals.hours == 3.0 and totals.minutes_per_viewer == 90.0


def test_heatmap_counts_plays_by_weekday_and_starting_hour(db):
    conn = db(
        event("2013-01-07 00:00:00"),  # Monday, hour 0
        event("2013-01-07 00:59:59"),  # same hour
        event("2013-01-13 23:30:00"),  # Sunday, hour 23
    )
    grid = analysis.heatmap(conn, Filters())
    assert list(grid.index) == list(analysis.WEEKDAYS) and list(grid.columns) == list(range(24))
    assert grid.loc["Mon", 0] == 2 and grid.loc["Sun", 23] == 1 and int(grid.to_numpy().sum()) == 3


def test_course_made_database_with_empty_strings(tmp_path, connect):
    """sqlite's .import leaves '' instead of NULL; minutes stay integers, '' titles are skipped."""
    path = tmp_path / "course.db"
    raw = sqlite3.connect(path)
    raw.execute(
        "CREATE TABLE movies (event_date timestamp, userid text, contentid text, device text, market text, "
        "totalminuteswatched integer, runningtime integer, viewpercentage real, errorperception real, "
        "sessiontype text, title text, seasonnumber integer, episodenumber integer)"
    )
    raw.executemany(
        "INSERT INTO movies VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [
            ("2013-01-07 10:00:00", "a", "c", "Computer", "", "29", "", "", "", "", "", "", ""),
            ("2013-01-08 10:00:00", "b", "c", "iPad", "NO", "", "90", "50.5", "", "MOVIE", "Skyfall", "", ""),
            ("2013-01-08 11:00:00", "b", "c", "iPad", "NO", "13", "90", "50.5", "", "MOVIE", "Skyfall", "", ""),
        ],
    )
    raw.commit()
    raw.close()
    conn = connect(path)
    assert minutes(conn, "weekly") == [("2013-01-07", 42)]
    assert isinstance(minutes(conn, "weekly")[0][1], int)
    assert top(conn) == [("Skyfall", 2)]
    assert analysis.options(conn)["market"] == ["NO", "unknown"]
    assert minutes(conn, "weekly", market=["unknown"]) == [("2013-01-07", 29)]


@pytest.mark.parametrize(
    ("day", "resolution", "expected"),
    [
        ("2013-01-07", "weekly", "2013-01-07"),  # a Monday is its own label
        ("2013-01-13", "weekly", "2013-01-07"),  # Sunday: the Monday before
        ("2013-01-01", "weekly", "2012-12-31"),
        ("2013-02-28", "monthly", "2013-02-01"),
        ("2013-02-28", "daily", "2013-02-28"),
    ],
)
def test_period_start_matches_sql_bucketing(db, day, resolution, expected):
    conn = db(event(f"{day} 12:00:00"))
    assert analysis.period_start(dt.date.fromisoformat(day), resolution).isoformat() == expected
    assert users(conn, resolution)[0][0] == expected


@pytest.mark.sqlite_only  # counts statements with sqlite3's trace callback
def test_span_is_scanned_once_per_serving_connection(make_db, connect):
    conn = connect(make_db([event("2013-01-07 10:00:00", "a")]))
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    first = analysis.span(conn)
    asked_first = len(statements)
    second = analysis.span(conn)
    assert first == second == analysis.Span(dt.date(2013, 1, 7), dt.date(2013, 1, 7), 1)
    assert asked_first > 0 and len(statements) == asked_first  # the second call asks nothing


UNKNOWN_EVENTS = (
    event("2013-01-01 10:00:00", "a", minutes=10, sessiontype="MOVIE", device="iPad", market="NO"),
    event("2013-01-01 11:00:00", "b", minutes=20, sessiontype="MOVIE", device="iPad", market=None),
    event("2013-01-02 11:00:00", "c", minutes=40, sessiontype="SERIES", device="TV", market="0"),
    event("2013-01-02 12:00:00", "b", minutes=80, sessiontype=None, device="TV", market="unknown"),
    event("2013-01-03 12:00:00", "d", minutes=160, sessiontype="SERIES", device=None, market="SE"),
)


def test_unknown_bucket_holds_null_and_placeholders(db):
    """Hand-worked: market NULL (b, 20), 0 (c, 40) and 'unknown' (b, 80) form one selectable bucket."""
    conn = db(*UNKNOWN_EVENTS)
    assert analysis.options(conn) == {
        "sessiontype": ["MOVIE", "SERIES", "unknown"], "device": ["TV", "iPad", "unknown"],
        "market": ["NO", "SE", "unknown"],
    }
    assert minutes(conn, market=["unknown"]) == [("2013-01-01", 20), ("2013-01-02", 120)]
    assert users(conn, market=["unknown"]) == [("2013-01-01", 1), ("2013-01-02", 2)]
    assert users(conn, market=["unknown", "SE"]) == [("2013-01-01", 1), ("2013-01-02", 2), ("2013-01-03", 1)]
    assert minutes(conn, device=["unknown"]) == [("2013-01-03", 160)]
    assert minutes(conn, sessiontype=["unknown"], device=["TV"]) == [("2013-01-02", 80)]
    assert analysis.totals(conn, Filters.create(market=["unknown"])) == analysis.Totals(2, 3, 140)
    assert analysis.unknown_values(conn, Filters.create(market=["unknown"], device=["unknown"])) == {}


def test_values_not_in_the_data_are_refused_with_the_known_values(db):
    conn = db(*UNKNOWN_EVENTS)
    with pytest.raises(MoviedashError) as info:
        analysis.check_known(conn, Filters.create(device=["ipad"]))
    assert info.value.parameter == "device"
    assert info.value.message == "device 'ipad' is not in the data; known values: TV, iPad, unknown"
    with pytest.raises(MoviedashError) as info:
        analysis.check_known(conn, Filters.create(market=["NO", "0"]))  # 0 is in the unknown bucket
    assert (info.value.parameter, info.value.message) == (
        "market", "market '0' is not in the data; known values: NO, SE, unknown")
    analysis.check_known(conn, Filters.create(sessiontype=["unknown"], market=["NO"]))  # known: no error
