"""Property tests (hypothesis) on parameter parsing and the analysis."""
from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from moviedash import analysis
from moviedash.errors import MoviedashError
from moviedash.params import (
    NUM_MAX,
    Filters,
    SeriesQuery,
    TopQuery,
    parse_num,
    series_query_from_args,
    top_query_from_args,
)
from moviedash.store import connect_readonly
from tests.helpers import build_db, event

KEYS = ["resolution", "num", "rank", "start", "end", "sessiontype", "device", "market", "format", "x", ""]
texts = st.text(max_size=30)
args_strategy = st.dictionaries(st.sampled_from(KEYS), st.lists(texts, min_size=1, max_size=3), max_size=6)


@given(args_strategy)
@settings(max_examples=300, deadline=None)
def test_parsing_either_succeeds_or_names_a_parameter(args):
    for parse in (series_query_from_args, top_query_from_args):
        try:
            query, fmt = parse(args)
        except MoviedashError as exc:
            assert exc.status == 400 and exc.parameter in args
        else:
            assert fmt in ("json", "csv")
            assert query.filters.start is None or query.filters.end is None or query.filters.start <= query.filters.end


@given(st.one_of(st.integers(), st.text(max_size=12), st.none(), st.floats(allow_nan=True), st.booleans()))
def test_num_is_an_integer_in_range_or_an_error(value):
    try:
        num = parse_num(value)
    except MoviedashError as exc:
        assert exc.parameter == "num"
    else:
        assert isinstance(num, int) and not isinstance(num, bool) and 1 <= num <= NUM_MAX


DAYS = st.dates(min_value=dt.date(2012, 11, 1), max_value=dt.date(2013, 4, 30))
EVENT = st.tuples(
    DAYS, st.integers(0, 23), st.sampled_from(["a", "b", "c", "d"]), st.integers(0, 200),
    st.sampled_from(["Argo", "Brave", "Cars", "", None]), st.sampled_from(["MOVIE", "SERIES", None]),
    st.sampled_from(["iPad", "TV", None]),
)


def make(tmp_path: Path, rows) -> sqlite3.Connection:
    path = tmp_path / f"p{abs(hash(tuple(rows))) % 10**12}.db"
    if path.exists():
        path.unlink()
    build_db(path, [
        event(f"{d} {h:02d}:30:00", u, minutes=m, title=t, sessiontype=s, device=dev)
        for d, h, u, m, t, s, dev in rows
    ])
    return connect_readonly(path)


settings_db = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@given(st.lists(EVENT, min_size=1, max_size=40), st.sampled_from(["daily", "weekly", "monthly"]))
@settings_db
def test_zero_fill_covers_every_period_exactly_once(tmp_path, rows, resolution):
    conn = make(tmp_path, rows)
    try:
        frame = analysis.unique_users(conn, SeriesQuery(resolution))
        labels = [dt.date.fromisoformat(d) for d in frame["date"]]
        assert labels == sorted(set(labels))  # once each, in order
        step = {"daily": 1, "weekly": 7}.get(resolution)
        for a, b in zip(labels, labels[1:], strict=False):
            if step:
                assert (b - a).days == step
            else:
                assert (b.year * 12 + b.month) - (a.year * 12 + a.month) == 1 and b.day == 1
        first, last = min(r[0] for r in rows), max(r[0] for r in rows)
        assert labels[0] == analysis.period_start(first, resolution)
        assert labels[-1] == analysis.period_start(last, resolution)
        if resolution == "weekly":
            assert all(d.weekday() == 0 for d in labels)
    finally:
        conn.close()


@given(st.lists(EVENT, min_size=1, max_size=40))
@settings_db
def test_minutes_add_up_across_resolutions_but_users_are_distinct_per_period(tmp_path, rows):
    conn = make(tmp_path, rows)
    try:
        totals = {
            r: int(analysis.minutes_watched(conn, SeriesQuery(r))["values"].sum())
            for r in ("daily", "weekly", "monthly")
        }
        assert totals["daily"] == totals["weekly"] == totals["monthly"] == sum(r[3] for r in rows)
        for resolution in ("weekly", "monthly"):
            users = analysis.unique_users(conn, SeriesQuery(resolution))
            # A period's distinct users never exceed the sum over its days, nor the number of users.
            assert users["values"].max() <= len({r[2] for r in rows})
        assert analysis.totals(conn, Filters()).viewers == len({r[2] for r in rows})
    finally:
        conn.close()


@given(st.lists(EVENT, min_size=0, max_size=40), st.integers(1, 6), st.sampled_from(["plays", "minutes", "viewers"]))
@settings_db
def test_top_list_is_sorted_and_never_longer_than_n(tmp_path, rows, num, rank):
    conn = make(tmp_path, rows)
    try:
        frame = analysis.toplist(conn, TopQuery(num, rank))
        assert len(frame) <= num
        pairs = list(zip(frame["values"], frame["title"], strict=False))
        assert pairs == sorted(pairs, key=lambda p: (-p[0], p[1]))
        assert all(title for title in frame["title"])  # no empty titles
    finally:
        conn.close()


@pytest.mark.parametrize("resolution", ["daily", "weekly", "monthly"])
@given(day=DAYS)
@settings(max_examples=50, deadline=None)
def test_period_start_is_a_monday_or_first_and_contains_the_day(resolution, day):
    start = analysis.period_start(day, resolution)
    assert start <= day
    if resolution == "weekly":
        assert start.weekday() == 0 and (day - start).days < 7
    elif resolution == "monthly":
        assert start.day == 1 and (start.year, start.month) == (day.year, day.month)
    else:
        assert start == day
