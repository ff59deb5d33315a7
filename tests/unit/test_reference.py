"""Hand-worked answers for the pure-Python reference of the engagement and quality measures.

Every expected number below is worked out by hand in the comment next to it,
from the definitions quoted in ``tests/reference.py``.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests import reference as ref
from tests.reference import Settings

ANON = "d41d8cd98f00b204e9800998ecf8427e"  # MD5 of the empty string: the course's anonymous viewers


def ev(
    date: str = "2024-01-01",
    user: str = "u1",
    *,
    minutes: int | None = 10,
    running: int | None = None,
    vp: float | None = None,
    ep: float | None = None,
    kind: str | None = "MOVIE",
    title: str | None = "A",
    device: str | None = "Computer",
    market: str | None = "NO",
) -> dict[str, Any]:
    """One event; ``date`` is a day (noon is added) or a full timestamp."""
    return {
        "event_date": date if len(date) > 10 else f"{date} 12:00:00",
        "userid": user,
        "contentid": "c",
        "device": device,
        "market": market,
        "totalminuteswatched": minutes,
        "runningtime": running,
        "viewpercentage": vp,
        "errorperception": ep,
        "sessiontype": kind,
        "title": title,
    }


# --- the rounding rule ------------------------------------------------------- #


def test_half_away_from_zero_on_the_exact_fraction() -> None:
    # 1/8 = 0.125 exactly: half away from zero gives 0.13 (Python's round(0.125, 2) gives 0.12).
    assert ref.round_ratio(1, 8, 2) == 13 and ref.served(1, 8, 2) == 0.13
    assert round(0.125, 2) == 0.12  # the float rule the reference does not use
    assert ref.round_ratio(-1, 8, 2) == -13
    # 2/3 = 0.6666… → 0.67; 1/3 → 0.33.
    assert ref.served(2, 3, 2) == 0.67 and ref.served(1, 3, 2) == 0.33
    with pytest.raises(ValueError):
        ref.round_ratio(1, 0, 2)


def test_values_are_taken_to_four_decimals_first() -> None:
    # 97.7528 * 10000 is 977527.99999999988… in binary; + 0.5 and floor give 977528.
    assert ref.quantise(97.7528) == 977528
    # 1.005 is 1.00499999999999989… in binary, so Python's round(1.005, 2) is 1.0;
    # taken to 4 decimals it is 1.0050, whose 2-decimal rounding (half away) is 1.01.
    assert round(1.005, 2) == 1.0
    value, plays = ref.completion_of([ev(vp=1.005)])
    assert (value, plays) == (1.01, 1)


# --- completion and completion rate --------------------------------------- #


EDGES = [
    ev(vp=90.0),  # exactly at the threshold: completed
    ev(vp=89.9999),  # just below: not completed
    ev(vp=150.0),  # capped to 100: completed, one capped row
    ev(vp=None),  # no percentage (running time missing): left out
    ev(vp=100.0),  # exactly 100: completed, not capped
]


def test_completion_caps_at_100_and_skips_missing() -> None:
    # (90 + 89.9999 + 100 + 100) / 4 = 379.9999 / 4 = 94.999975 → 95.00, from 4 plays.
    assert ref.completion_of(EDGES) == (95.0, 4)


def test_completion_rate_at_exactly_the_threshold() -> None:
    # 90, 100 (capped 150) and 100 are at or above 90; 89.9999 is not: 3 of 4 = 75.00 %.
    assert ref.completion_rate_of(EDGES) == (75.0, 3, 4)
    # A threshold of 89.9999 takes the fourth one too: 4 of 4.
    assert ref.completion_rate_of(EDGES, Settings(watched_threshold=89.9999)) == (100.0, 4, 4)


def test_completion_rate_rounds_half_away_from_zero() -> None:
    # 1 completed of 32: 100/32 = 3.125 exactly → 3.13 (half to even would give 3.12).
    events = [ev(vp=95.0)] + [ev(vp=10.0)] * 31
    assert ref.completion_rate_of(events) == (3.13, 1, 32)


def test_capped_rows_are_counted() -> None:
    # Only 150 is above 100; exactly 100 is not capped, and NULL is not a row with a value.
    assert ref.capped_rows(EDGES) == 1
    assert ref.capped_rows([ev(vp=100.00004)]) == 0  # 100.0000 to 4 decimals: not above 100
    assert ref.capped_rows([ev(vp=100.0001)]) == 1


# --- full watches ------------------------------------------------------------- #


def test_full_watches_sum_minutes_over_running_time() -> None:
    events = [
        ev(minutes=45, running=90),  # 0.5
        ev(minutes=90, running=90),  # 1.0
        ev(minutes=200, running=100),  # 2.0: rewatching counts, not capped
        ev(minutes=1, running=3),  # 1/3 → 0.3333 (4 decimals)
        ev(minutes=30, running=0),  # running time 0: left out
        ev(minutes=30, running=None),  # running time missing: left out
    ]
    # 0.5 + 1.0 + 2.0 + 0.3333 = 3.8333 → 3.83, from 4 plays.
    assert ref.full_watches_of(events) == (3.83, 4)


def test_full_watches_without_a_running_time_is_null() -> None:
    assert ref.full_watches_of([ev(minutes=30, running=0), ev(minutes=5, running=None)]) == (None, 0)
    # 1/8 = 0.1250 → 0.13 (half away from zero).
    assert ref.full_watches_of([ev(minutes=1, running=8)]) == (0.13, 1)


# --- quality ------------------------------------------------------------------ #


QUALITY = [ev(ep=5.0), ev(ep=7.0), ev(ep=7.0001), ev(ep=None), ev(ep=8.5)]


def test_quality_average_of_plays_with_a_value() -> None:
    # (5 + 7 + 7.0001 + 8.5) / 4 = 27.5001 / 4 = 6.875025 → 6.875 (3 decimals), from 4 plays.
    assert ref.quality_of(QUALITY) == (6.875, 4)
    # 1.0005 → 1.001 (half away from zero at 3 decimals).
    assert ref.quality_of([ev(ep=1.0005)]) == (1.001, 1)
    # Events without a value are left out and counted: 4 with, 1 without.
    assert ref.quality_counted(QUALITY) == (4, 1)


def test_poor_quality_is_strictly_above_the_threshold() -> None:
    # 7.0001 and 8.5 are above 7.0; exactly 7.0 is not: 2 of 4 = 50.00 %.
    assert ref.poor_quality_of(QUALITY) == (50.0, 2, 4)
    # Threshold 5.0: 7, 7.0001 and 8.5: 3 of 4 = 75 %.
    assert ref.poor_quality_of(QUALITY, Settings(poor_quality_threshold=5.0)) == (75.0, 3, 4)
    # Higher is better: poor is strictly below 7.0: only 5.0, 1 of 4 = 25 %.
    assert ref.poor_quality_of(QUALITY, Settings(errorperception_higher_is_worse=False)) == (25.0, 1, 4)


def test_p90_is_the_nearest_rank_over_hundredth_bins() -> None:
    ten = [ev(ep=float(v)) for v in range(1, 11)]
    # n = 10: rank ceil(9.0) = 9, the 9th smallest is 9.0 (a linear interpolation would say 9.1).
    assert ref.quality_p90_of(ten) == (9.0, 10)
    # n = 11 (1 … 11): rank ceil(9.9) = 10 → 10.0.
    assert ref.quality_p90_of(ten + [ev(ep=11.0)]) == (10.0, 11)
    # A single 7.2399: bin floor(72399 / 100) = 723 → lower edge 7.23.
    assert ref.quality_p90_of([ev(ep=7.2399)]) == (7.23, 1)
    # Higher is better: rank 9 from the best (the largest): 10, 9, …, 2 → 2.0.
    assert ref.quality_p90_of(ten, Settings(errorperception_higher_is_worse=False)) == (2.0, 10)
    assert ref.quality_p90_of([ev(ep=None)]) == (None, 0)


# --- what a play is --------------------------------------------------------- #


def test_min_minutes_edge() -> None:
    settings = Settings(min_minutes=5)
    events = [
        ev(user="short", minutes=4, vp=10.0, ep=9.0),  # shorter than 5: not a play
        ev(user="u1", minutes=5, vp=100.0, ep=5.0),  # exactly 5: a play
        ev(user="u2", minutes=6, vp=50.0, ep=6.0),
    ]
    # Plays: 100 and 50 → completion 75.00; quality (5 + 6) / 2 = 5.5; nothing poor.
    assert ref.completion_of(events, settings) == (75.0, 2)
    assert ref.quality_of(events, settings) == (5.5, 2)
    assert ref.poor_quality_of(events, settings) == (0.0, 0, 2)
    # Minutes watched still count the short event: 4 + 5 + 6 = 15.
    assert ref.minutes_watched(events) == 15
    # Viewers are the users of plays: u1 and u2.
    assert ref.viewers(events, settings) == 2
    # With the default (0) all three are plays: (10 + 100 + 50) / 3 = 53.333… → 53.33.
    assert ref.completion_of(events) == (53.33, 3)


def test_excluded_users_are_anonymous_plays_not_viewers() -> None:
    settings = Settings(exclude_users=frozenset({ANON}))
    events = [ev(user=ANON, vp=100.0), ev(user=ANON, vp=0.0), ev(user="u1", vp=50.0)]
    assert ref.viewers(events, settings) == 1
    assert ref.anonymous_plays(events, settings) == 2
    assert ref.viewers(events) == 2 and ref.anonymous_plays(events) == 0
    # Their plays still count in completion: (100 + 0 + 50) / 3 = 50.00.
    assert ref.completion_of(events, settings) == (50.0, 3)
    assert ref.minutes_watched(events) == 30


def test_null_minutes_count_as_zero() -> None:
    events = [ev(minutes=None, vp=20.0), ev(minutes=3, vp=40.0)]
    assert ref.minutes_watched(events) == 3
    # NULL minutes are 0 minutes: not a play once min_minutes is 1.
    assert ref.completion_of(events, Settings(min_minutes=1)) == (40.0, 1)


# --- empty selections ---------------------------------------------------------- #


def test_empty_selection() -> None:
    for measure in ref.MEASURES:
        assert ref.series([], measure, "daily") == []
        assert ref.MEASURES[measure]([], ref.DEFAULT)[0] is None
        assert ref.breakdown([], measure, "device") == []
    assert ref.top_by_completion([]) == [] and ref.top_by_full_watches([]) == []
    assert ref.worst_segments([], "daily") == []
    assert ref.completion_by_quality([]) == []
    assert all(p["values"] is None and p["plays"] == 0 for p in ref.where_people_stop([], "A"))
    histogram = ref.completion_histogram([])
    assert [(b["from"], b["to"]) for b in histogram] == [(10 * i, 10 * i + 10) for i in range(10)]
    assert all(b["movie_plays"] == b["series_plays"] == 0 and b["movie_share"] is None for b in histogram)
    assert ref.capped_rows([]) == 0 and ref.viewers([]) == 0 and ref.minutes_watched([]) == 0


# --- periods -------------------------------------------------------------- #


SERIES_EVENTS = [
    ev("2024-01-01", vp=50.0),  # a Monday
    ev("2024-01-03", vp=100.0),
    ev("2024-01-07 23:59:59", vp=0.0),  # Sunday: still the week of 2024-01-01
    ev("2024-01-10", vp=None),  # an event, but no play with a value
]


def test_daily_series_has_every_day_and_nulls() -> None:
    daily = ref.series(SERIES_EVENTS, "completion", "daily")
    assert [p["date"] for p in daily] == [f"2024-01-{d:02d}" for d in range(1, 11)]
    assert {p["date"]: p["values"] for p in daily if p["values"] is not None} == {
        "2024-01-01": 50.0, "2024-01-03": 100.0, "2024-01-07": 0.0,  # 0.0 is a value, not a gap
    }
    assert daily[1]["values"] is None and daily[-1]["values"] is None


def test_weekly_and_monthly_series() -> None:
    # Week of Monday 1 January: (50 + 100 + 0) / 3 = 50.00; week of 8 January: no value.
    assert ref.series(SERIES_EVENTS, "completion", "weekly") == [
        {"date": "2024-01-01", "values": 50.0}, {"date": "2024-01-08", "values": None},
    ]
    assert ref.series(SERIES_EVENTS, "completion", "monthly") == [{"date": "2024-01-01", "values": 50.0}]
    # Months across a year end, the empty month present.
    months = ref.series([ev("2023-12-31", vp=10.0), ev("2024-02-01", vp=30.0)], "completion", "monthly")
    assert months == [
        {"date": "2023-12-01", "values": 10.0}, {"date": "2024-01-01", "values": None},
        {"date": "2024-02-01", "values": 30.0},
    ]


def test_series_range_from_start_and_end() -> None:
    daily = ref.series(SERIES_EVENTS, "completion", "daily", start=dt.date(2023, 12, 30), end=dt.date(2024, 1, 2))
    assert daily == [
        {"date": "2023-12-30", "values": None}, {"date": "2023-12-31", "values": None},
        {"date": "2024-01-01", "values": 50.0}, {"date": "2024-01-02", "values": None},
    ]
    # A week starting Saturday 30 December is labelled by Monday 25 December.
    weekly = ref.series(SERIES_EVENTS, "completion", "weekly", start=dt.date(2023, 12, 30), end=dt.date(2024, 1, 2))
    assert weekly == [{"date": "2023-12-25", "values": None}, {"date": "2024-01-01", "values": 50.0}]


def test_series_of_every_measure() -> None:
    events = [
        ev("2024-03-01", minutes=45, running=90, vp=50.0, ep=8.0),
        ev("2024-03-01", minutes=90, running=90, vp=100.0, ep=4.0),
        ev("2024-03-02", minutes=10, running=None, vp=None, ep=None),
    ]
    day1 = {  # by hand for 1 March; 2 March has no value for any measure
        "completion": 75.0,  # (50 + 100) / 2
        "completion_rate": 50.0,  # 100 is at or above 90; 50 is not
        "full_watches": 1.5,  # 45/90 + 90/90
        "quality": 6.0,  # (8 + 4) / 2
        "poor_quality": 50.0,  # 8 > 7
        "quality_p90": 8.0,  # rank ceil(1.8) = 2 of [4, 8]
    }
    for measure, value in day1.items():
        assert ref.series(events, measure, "daily") == [
            {"date": "2024-03-01", "values": value}, {"date": "2024-03-02", "values": None},
        ], measure


# --- breakdowns and top lists --------------------------------------------------- #


def test_breakdown_by_device() -> None:
    events = [
        ev(device="Computer", vp=100.0), ev(device="Computer", vp=50.0),
        ev(device="iPad", vp=0.0),
        ev(device="TV", vp=None),  # a play, but none with a value
    ]
    # Computer (100 + 50) / 2 = 75 from 2; iPad 0 from 1; TV null from 0; most plays first.
    assert ref.breakdown(events, "completion", "device") == [
        {"device": "Computer", "values": 75.0, "plays": 2},
        {"device": "iPad", "values": 0.0, "plays": 1},
        {"device": "TV", "values": None, "plays": 0},
    ]


def test_breakdown_null_key_last_and_unknown_dimension() -> None:
    events = [ev(market=None, ep=9.0), ev(market="NO", ep=3.0)]
    assert ref.breakdown(events, "poor_quality", "market") == [
        {"market": "NO", "values": 0.0, "plays": 1}, {"market": None, "values": 100.0, "plays": 1},
    ]
    with pytest.raises(ValueError):
        ref.breakdown(events, "quality", "title")


def test_top_by_completion_needs_min_plays() -> None:
    events = [
        ev(title="A", vp=100.0), ev(title="A", vp=80.0),  # 90.00 from 2
        ev(title="B", vp=100.0),  # 100 from 1 play: a lucky play, below min_plays
        ev(title="C", vp=90.0), ev(title="C", vp=90.0), ev(title="C", vp=90.0),  # 90.00 from 3
        ev(title=None, vp=100.0), ev(title=None, vp=100.0),  # no title: not listed
        ev(title="D", vp=10.0), ev(title="D", vp=None),  # one play with a value only
    ]
    # A and C tie at 90.00: more plays first (C).
    assert ref.top_by_completion(events, min_plays=2) == [
        {"title": "C", "values": 90.0, "plays": 3}, {"title": "A", "values": 90.0, "plays": 2},
    ]
    assert ref.top_by_completion(events, min_plays=1)[0] == {"title": "B", "values": 100.0, "plays": 1}
    # min_plays 1: B 100.00, then C and A at 90.00 (more plays first), then D 10.00 (its NULL is not a play
    # with a value, so D has 1).
    assert [r["title"] for r in ref.top_by_completion(events, min_plays=1)] == ["B", "C", "A", "D"]
    assert len(ref.top_by_completion(events, min_plays=1, num=3)) == 3
    assert ref.top_by_completion(events) == []  # default min_plays 5: nobody qualifies


def test_top_by_full_watches() -> None:
    events = [
        ev(title="A", minutes=100, running=100), ev(title="A", minutes=80, running=100),  # 1.0 + 0.8 = 1.8
        ev(title="B", minutes=300, running=100),  # 3.0: rewatched
        ev(title="C", minutes=90, running=100), ev(title="C", minutes=90, running=100),
        ev(title="C", minutes=90, running=100),  # 0.9 * 3 = 2.7
        ev(title="E", minutes=500, running=0),  # no running time: no value
    ]
    assert ref.top_by_full_watches(events, num=2) == [
        {"title": "B", "values": 3.0, "plays": 1}, {"title": "C", "values": 2.7, "plays": 3},
    ]
    assert [r["title"] for r in ref.top_by_full_watches(events)] == ["B", "C", "A"]


# --- distributions -------------------------------------------------------------- #


def test_completion_histogram_movies_and_series() -> None:
    events = [
        ev(kind="MOVIE", vp=0.0),  # bin 0-10
        ev(kind="MOVIE", vp=9.9999),  # bin 0-10
        ev(kind="MOVIE", vp=10.0),  # bin 10-20: a bin's lower edge belongs to it
        ev(kind="MOVIE", vp=150.0),  # capped to 100: bin 90-100
        ev(kind="SERIES", vp=90.0),  # bin 90-100
        ev(kind="SERIES", vp=89.9999),  # bin 80-90
        ev(kind="SERIES", vp=100.0),  # bin 90-100
        ev(kind=None, vp=50.0), ev(kind="MOVIE", vp=None),  # left out
    ]
    rows = {b["from"]: b for b in ref.completion_histogram(events)}
    # Movies: 2, 1, 0, …, 1 of 4 → 50 %, 25 %, 25 %.  Series: 1 (80-90) and 2 (90-100) of 3 → 33.33 %, 66.67 %.
    assert [rows[b]["movie_plays"] for b in range(0, 100, 10)] == [2, 1, 0, 0, 0, 0, 0, 0, 0, 1]
    assert [rows[b]["series_plays"] for b in range(0, 100, 10)] == [0, 0, 0, 0, 0, 0, 0, 0, 1, 2]
    assert (rows[0]["movie_share"], rows[10]["movie_share"], rows[90]["movie_share"]) == (50.0, 25.0, 25.0)
    assert (rows[80]["series_share"], rows[90]["series_share"], rows[0]["series_share"]) == (33.33, 66.67, 0.0)


def test_where_people_stop() -> None:
    events = [ev(vp=v) for v in (5.0, 15.0, 95.0, 120.0, 50.0)] + [ev(vp=None), ev(title="B", vp=100.0)]
    curve = ref.where_people_stop(events, "A")
    # Of 5 plays of A (120 capped to 100): at 10 % four are still watching (15, 95, 100, 50) = 80 %;
    # at 20-50 % three (95, 100, 50: 50 is at 50) = 60 %; at 60-90 % two = 40 %; at 100 % one = 20 %.
    assert [p["at"] for p in curve] == list(range(10, 101, 10))
    assert [p["values"] for p in curve] == [80.0, 60.0, 60.0, 60.0, 60.0, 40.0, 40.0, 40.0, 40.0, 20.0]
    assert {p["plays"] for p in curve} == {5}


def test_worst_segments_rank_by_poor_plays_beyond_the_overall_rate() -> None:
    def seg(device: str, market: str, date: str, poor: int, good: int) -> list[dict[str, Any]]:
        return [ev(date, device=device, market=market, ep=8.0)] * poor + [
            ev(date, device=device, market=market, ep=3.0)
        ] * good

    events = (
        seg("Computer", "NO", "2024-01-01", 3, 1)  # 3 poor of 4
        + seg("iPad", "SE", "2024-01-01", 0, 2)  # 0 of 2
        + seg("Computer", "NO", "2024-01-02", 1, 3)  # 1 of 4
        + seg("TV", "DK", "2024-01-02", 1, 0)  # 1 of 1
        + [ev("2024-01-02", device="TV", market="DK", ep=None)]  # no value: not counted
    )
    # Overall 5 poor of 11.  Impact = poor - n * 5/11:
    #   Computer/NO/01-01: 3 - 20/11 = 13/11 = 1.1818… → 1.18
    #   TV/DK/01-02:       1 - 5/11  = 6/11  = 0.5454… → 0.55
    #   iPad/SE/01-01:     0 - 10/11 < 0 and Computer/NO/01-02: 1 - 20/11 < 0: left out.
    assert ref.worst_segments(events, "daily") == [
        {"device": "Computer", "market": "NO", "date": "2024-01-01", "plays": 4, "poor": 3,
         "poor_share": 75.0, "impact": 1.18},
        {"device": "TV", "market": "DK", "date": "2024-01-02", "plays": 1, "poor": 1,
         "poor_share": 100.0, "impact": 0.55},
    ]
    # Weekly, both days are one week: Computer/NO has 4 poor of 8: 4 - 40/11 = 4/11 = 0.3636… → 0.36;
    # TV/DK again 6/11 → 0.55 and first.
    weekly = ref.worst_segments(events, "weekly")
    assert [(r["device"], r["impact"]) for r in weekly] == [("TV", 0.55), ("Computer", 0.36)]
    assert len(ref.worst_segments(events, "daily", num=1)) == 1


def test_completion_by_quality_bins() -> None:
    events = [
        ev(ep=2.5, vp=90.0), ev(ep=2.9999, vp=70.0),  # bin 2-3: (90 + 70) / 2 = 80
        ev(ep=3.0, vp=40.0),  # bin 3-4: a bin's lower edge belongs to it
        ev(ep=8.2, vp=150.0),  # bin 8-9: capped to 100
        ev(ep=None, vp=10.0), ev(ep=5.0, vp=None),  # one value missing: left out
    ]
    assert ref.completion_by_quality(events) == [
        {"from": 2, "to": 3, "values": 80.0, "plays": 2},
        {"from": 3, "to": 4, "values": 40.0, "plays": 1},
        {"from": 8, "to": 9, "values": 100.0, "plays": 1},
    ]


# --- input forms ------------------------------------------------------------------ #


def test_tuples_in_column_order_and_partial_dicts() -> None:
    row = ("2024-01-01 10:00:00", "u1", "c1", "TV", "NO", 45, 90, 50.0, 7.5, "MOVIE", "A", None, None)
    assert ref.as_events([row])[0]["errorperception"] == 7.5
    assert ref.completion_of(ref.as_events([row])) == (50.0, 1)
    assert ref.full_watches_of(ref.as_events([row])) == (0.5, 1)
    # A dict without some columns has them as NULL.
    partial = ref.as_events([{"event_date": "2024-01-01 10:00:00", "viewpercentage": 20.0}])[0]
    assert partial["errorperception"] is None and partial["runningtime"] is None
    assert ref.select([row, ev("2024-02-01")], start=dt.date(2024, 1, 1), end=dt.date(2024, 1, 31), device="TV")[0][
        "userid"
    ] == "u1"
