"""The derived tables answer exactly like the raw-table SQL, stay current, and step aside when they cannot."""
from __future__ import annotations

import datetime as dt
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import psycopg
import pytest
from pyroaring import BitMap

from moviedash import analysis, rollups
from moviedash.dimensions import DIMS
from moviedash.ingest.demo import write_demo
from moviedash.params import Filters, SeriesQuery, TopQuery
from moviedash.rollups import maintain, refresh_derived
from moviedash.store import COLUMNS, connect_readonly
from moviedash.store.sqlite import connect_readwrite, insert_rows
from tests.helpers import HAND_EVENTS, answers, assert_same_as_raw, build_db, event, raw_path, title_entries

# Tests taking ``make_db``/``backend`` run on SQLite and PostgreSQL; the rest read SQLite files directly.
sqlite_only = pytest.mark.sqlite_only


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("derived") / "demo.db"
    write_demo(path, events=20_000, seed=7)
    return path


def _selections(first: dt.date, last: dt.date) -> list[Filters]:
    mid = first + (last - first) / 2
    return [
        Filters(),
        Filters(start=first, end=last),
        Filters(start=dt.date(mid.year, mid.month, 1)),  # start on a 1st, open end
        Filters(start=mid),  # start mid-month, open end
        Filters(end=mid),  # open start, end mid-month
        Filters(end=dt.date(mid.year, mid.month, 1) - dt.timedelta(days=1)),  # end on a month's last day
        Filters(start=mid, end=mid),  # one day
        Filters(start=mid, end=mid + dt.timedelta(days=9)),  # days only, maybe across a month end
        Filters(start=mid, end=mid + dt.timedelta(days=75)),  # edge days + whole months
        Filters(start=dt.date(mid.year, mid.month, 1), end=dt.date(mid.year, mid.month, 1) + dt.timedelta(days=95)),
        Filters(start=first - dt.timedelta(days=400), end=first - dt.timedelta(days=1)),  # before the data
        Filters(start=last - dt.timedelta(days=29), end=last + dt.timedelta(days=40)),  # past the data
        Filters.create(device=["iPad"]),
        Filters.create(sessiontype=["MOVIE"], market=["NO", "SE"]),
        Filters.create(start=mid, end=mid + dt.timedelta(days=45), sessiontype=["SERIES"], device=["Computer", "iPad"]),
        Filters.create(device=["no such device"]),
        Filters.create(market=["NO"], start=mid - dt.timedelta(days=3), end=mid + dt.timedelta(days=3)),
    ]


@sqlite_only
def test_demo_database_derived_answers_equal_raw_sql(demo_db):
    conn = connect_readonly(demo_db)
    try:
        whole = analysis.span(conn)
        for filters in _selections(whole.first, whole.last):
            assert_same_as_raw(conn, filters)
    finally:
        conn.close()




def test_hand_made_edges_equal_raw_sql(make_db):
    conn = connect_readonly(make_db(HAND_EVENTS))
    d = dt.date.fromisoformat
    selections = [
        Filters(),
        Filters(start=d("2013-01-28"), end=d("2013-02-03")),  # a week across months
        Filters(start=d("2013-01-15"), end=d("2013-03-15")),  # partial + whole + partial month
        Filters(start=d("2013-02-01"), end=d("2013-02-28")),  # exactly one month
        Filters(start=d("2013-02-01"), end=d("2013-03-31")),  # exactly two months
        Filters(start=d("2013-01-02"), end=d("2013-02-27")),  # no whole month
        Filters(start=d("2013-03-01")),
        Filters(end=d("2013-02-28")),
        Filters(end=d("2013-03-30")),
        Filters.create(device=["Computer"]),
        Filters.create(market=["NO"], start="2013-01-01", end="2013-03-31"),
        Filters.create(sessiontype=["MOVIE", "SERIES"]),
        Filters.create(market=["unknown"]),
        Filters.create(market=["unknown", "SE"], start="2013-01-15", end="2013-03-20"),
        Filters.create(device=["unknown", "iPad"], sessiontype=["unknown"]),
        Filters.create(market=["0"]),  # a placeholder is no value of its own
    ]
    try:
        for filters in selections:
            assert_same_as_raw(conn, filters, nums=(1, 2, 10))
        # The edge data really are in the answers.
        assert analysis.options(conn) == {
            "sessiontype": ["MOVIE", "SERIES", "unknown"],
            "device": ["Computer", "iPad", "unknown"],
            "market": ["NO", "SE", "unknown"],
        }
        # Market NULL (a, 11 min), '' (d, 13 min) and 0 (g, 2 min).
        assert analysis.totals(conn, Filters.create(market=["unknown"])) == analysis.Totals(3, 3, 26)
        assert analysis.unknown_values(conn, Filters.create(market=["0"])) == {"market": ("0",)}
        titles = list(analysis.toplist(conn, TopQuery(10, "plays"))["title"])
        assert titles == ["A", "Argo", "B", "Skyfall", "på tur"]
    finally:
        conn.close()


def _dump(path: Path) -> dict:
    """Every derived table's content, with user bitmaps as sets of user *names* (ids depend on load order)."""
    conn = sqlite3.connect(path)
    try:
        names = dict(conn.execute("SELECT id, userid FROM md_users"))
        out = {}
        # Packed arrays back to one row per hour or title (title ids depend on load order too).
        out["md_hour"] = sorted(
            (day, hour, *dims, int(n))
            for day, *dims, blob in conn.execute("SELECT day, sessiontype, device, market, hours FROM md_hour")
            for hour, n in enumerate(np.frombuffer(blob, dtype="<i8"))
            if n
        )
        for table in ("md_title_day", "md_title_month"):  # with the per-title engagement and deciles
            out[table] = title_entries(conn, table)
        out["md_day"] = sorted(
            (*row[:-1], frozenset(names[i] for i in BitMap.deserialize(row[-1])))
            for row in conn.execute("SELECT day, sessiontype, device, market, plays, minutes, users FROM md_day")
        )
        out["md_title_users"] = sorted(
            (title, viewers, frozenset(names[i] for i in BitMap.deserialize(blob)))
            for title, viewers, blob in conn.execute("SELECT title, viewers, users FROM md_title_users")
        )
        out["md_results"] = sorted(conn.execute("SELECT * FROM md_results"))
        out["covered"] = conn.execute("SELECT value FROM md_meta WHERE key = 'covered'").fetchone()
        return out
    finally:
        conn.close()


def _append(path: Path, events) -> None:
    """A further load into an existing database (``build_db`` appends to a file that exists)."""
    build_db(path, events)


def _version(path: Path) -> int:
    conn = connect_readonly(path)
    try:
        return rollups.status(conn).version
    finally:
        conn.close()


@sqlite_only
def test_incremental_loads_equal_a_build_from_scratch(tmp_path):
    first, second = HAND_EVENTS[:6], HAND_EVENTS[6:] + [event("2013-01-01 10:00:00", "z", title="Argo", device=None)]
    incremental = build_db(tmp_path / "inc.db", first)
    assert _version(incremental) == 1
    _append(incremental, second)
    assert _version(incremental) == 2
    scratch = build_db(tmp_path / "scratch.db", first + second)
    assert _dump(incremental) == _dump(scratch)


@sqlite_only
def test_incremental_demo_loads_equal_a_build_from_scratch(tmp_path, demo_db):
    conn = sqlite3.connect(demo_db)
    rows = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM movies ORDER BY rowid").fetchall()
    conn.close()
    events = [dict(zip(COLUMNS, r, strict=False)) for r in rows]
    incremental = build_db(tmp_path / "inc.db", events[:12_000])
    _append(incremental, events[12_000:])
    scratch = build_db(tmp_path / "scratch.db", events)
    assert _dump(incremental) == _dump(scratch)


def _course_db(path: Path, rows) -> Path:
    raw = sqlite3.connect(path)
    raw.execute(f"CREATE TABLE movies ({', '.join(COLUMNS)})")
    raw.executemany(f"INSERT INTO movies VALUES ({', '.join('?' * 13)})", rows)
    raw.commit()
    raw.close()
    return path


def _course_rows(events):
    """``.import`` style: every value text, '' for NULL."""
    return [tuple("" if e.get(c) is None else str(e.get(c)) for c in COLUMNS) for e in events]


@sqlite_only
def test_course_made_database_falls_back_and_then_loads_derived(tmp_path, make_db):
    course = _course_db(tmp_path / "course.db", _course_rows(HAND_EVENTS))
    loaded = make_db(HAND_EVENTS)
    conn, reference = connect_readonly(course), connect_readonly(loaded)
    try:
        assert rollups.status(conn) is None
        for filters in (
            Filters(),
            Filters.create(device=["iPad"]),
            Filters.create(start="2013-01-15", end="2013-03-15"),
        ):
            got, want = answers(conn, filters, nums=(10,)), answers(reference, filters, nums=(10,))
            assert got == want
    finally:
        conn.close()
        reference.close()
    # A moviedash load into the course-made database covers its old rows too.
    _append(course, [event("2013-04-02 10:00:00", "g", title="Argo")])
    conn = connect_readonly(course)
    try:
        assert rollups.status(conn).usable
        assert_same_as_raw(conn, Filters())
        assert_same_as_raw(conn, Filters.create(start="2013-01-15", end="2013-04-01", device=["Computer"]))
        assert analysis.span(conn).events == len(HAND_EVENTS) + 1
    finally:
        conn.close()


def write_behind_back(db: Path | str, sql: str) -> None:
    """Run one writing statement on ``db`` with the engine's own client, not moviedash."""
    if isinstance(db, str):
        with psycopg.connect(db) as pg:
            pg.execute(sql)
        return
    raw = sqlite3.connect(db)
    raw.execute(sql)
    raw.commit()
    raw.close()


def test_rows_added_behind_moviedashs_back_fall_back_to_raw_sql(make_db):
    path = make_db(HAND_EVENTS)
    conn = connect_readonly(path)
    try:
        assert rollups.status(conn).usable  # both backends answer from the rollups after a load
    finally:
        conn.close()
    write_behind_back(
        path,
        "INSERT INTO movies (event_date, userid, title, totalminuteswatched, device) "
        "VALUES ('2013-05-05 10:00:00', 'zz', 'Argo', 100, 'TV')",
    )
    conn = connect_readonly(path)
    try:
        assert not rollups.status(conn).usable
        analysis.CACHE.clear()
        assert analysis.span(conn).events == len(HAND_EVENTS) + 1
        assert analysis.options(conn)["device"] == ["Computer", "TV", "iPad", "unknown"]
        assert analysis.unknown_values(conn, Filters.create(device=["TV"])) == {}
        assert analysis.totals(conn, Filters()).minutes == sum(e["totalminuteswatched"] or 0 for e in HAND_EVENTS) + 100
        assert analysis.toplist(conn, TopQuery(1, "minutes"))["title"].tolist() == ["Argo"]
        assert len(analysis.CACHE) == 0  # nothing from a stale state is cached
    finally:
        conn.close()
    # The next moviedash load brings the derived data up to date, the stray row included.
    _append(path, [event("2013-05-06 10:00:00", "zz")])
    conn = connect_readonly(path)
    try:
        assert rollups.status(conn).usable
        assert analysis.options(conn)["device"] == ["Computer", "TV", "iPad", "unknown"]
        assert_same_as_raw(conn, Filters())
        assert_same_as_raw(conn, Filters.create(device=["TV"]))
    finally:
        conn.close()


@sqlite_only
def test_non_canonical_dates_make_derived_data_step_aside(tmp_path):
    rows = _course_rows(HAND_EVENTS) + [("", "q", "", "", "", "5", "", "", "", "", "X", "", "")]
    course = _course_db(tmp_path / "odd.db", rows)
    _append(course, [event("2013-04-02 10:00:00", "g")])
    conn = connect_readonly(course)
    try:
        state = rollups.status(conn)
        assert state is not None and not state.usable
        # Raw SQL answers: the '' date counts as an event of no day.
        assert analysis.totals(conn, Filters()).plays == len(HAND_EVENTS) + 2
    finally:
        conn.close()


def test_cache_serves_repeats_and_new_results_after_a_version_bump(make_db):
    path = make_db(HAND_EVENTS)
    analysis.CACHE.clear()
    query = SeriesQuery("monthly", Filters.create(device=["Computer"]))
    conn = connect_readonly(path)
    try:
        before = analysis.minutes_watched(conn, query)
        hits = analysis.CACHE.hits
        again = analysis.minutes_watched(conn, query)
        assert analysis.CACHE.hits == hits + 1
        pd.testing.assert_frame_equal(before, again)
        again.loc[0, "values"] = -1  # a caller's change does not reach the cache
        assert analysis.minutes_watched(conn, query).loc[0, "values"] != -1
    finally:
        conn.close()
    _append(path, [event("2013-03-05 10:00:00", "x", minutes=1000)])
    conn = connect_readonly(path)
    try:
        after = analysis.minutes_watched(conn, query)
        march = after.set_index("date")["values"]["2013-03-01"]
        assert march == before.set_index("date")["values"]["2013-03-01"] + 1000
    finally:
        conn.close()


def test_result_cache_is_bounded():
    cache = analysis.ResultCache(maxsize=2)
    for i in range(3):
        cache.put(i, i)
    assert len(cache) == 2 and cache.get(0) == (False, None) and cache.get(2) == (True, 2)


def test_month_bounds():
    d = dt.date.fromisoformat
    assert rollups.month_bounds(Filters(start=d("2013-01-15"), end=d("2013-03-15"))) == (
        "2013-02-01",
        "2013-02-01",
        "2013-01-15",
        "2013-03-15",
        True,
    )
    assert rollups.month_bounds(Filters(start=d("2013-01-01"), end=d("2013-01-31")))[4]
    assert not rollups.month_bounds(Filters(start=d("2013-01-02"), end=d("2013-02-27")))[4]
    assert rollups.month_bounds(Filters(start=d("2012-12-31"), end=d("2013-02-28")))[:2] == ("2013-01-01", "2013-02-01")


@sqlite_only
def test_derived_data_of_another_schema_version_are_rebuilt(make_db, monkeypatch):
    path = make_db(HAND_EVENTS)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE md_meta SET value = 0 WHERE key = 'schema'")
    conn.execute("DELETE FROM md_title_users")  # an older layout lacked this table's rows
    conn.commit()
    conn.close()
    _append(path, [event("2013-05-06 10:00:00", "zz", title="Argo")])
    scratch = build_db(path.with_name("scratch.db"), HAND_EVENTS + [event("2013-05-06 10:00:00", "zz", title="Argo")])
    assert _dump(path) == _dump(scratch)


@sqlite_only
def test_a_database_replaced_at_the_same_path_is_not_served_from_the_cache(tmp_path):
    path = tmp_path / "m.db"
    build_db(path, HAND_EVENTS)
    analysis.CACHE.clear()
    conn = connect_readonly(path)
    assert analysis.span(conn).events == len(HAND_EVENTS)
    conn.close()
    path.unlink()
    build_db(path, HAND_EVENTS[:3])  # same path, same version 1
    conn = connect_readonly(path)
    try:
        assert rollups.status(conn).version == 1
        assert analysis.span(conn).events == 3
    finally:
        conn.close()


# --------------------------------------------------------------------------- #
# The streaming aggregator (loader and demo) builds what the SQL path builds.
# --------------------------------------------------------------------------- #


def _demo_events(demo_db: Path) -> list[dict]:
    conn = sqlite3.connect(demo_db)
    rows = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM movies ORDER BY rowid").fetchall()
    conn.close()
    return [dict(zip(COLUMNS, r, strict=False)) for r in rows]


def _write_csv(path: Path, events) -> Path:
    import csv

    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        for e in events:
            writer.writerow(["" if e.get(c) is None else e.get(c) for c in COLUMNS])
    return path


@contextmanager
def sql_path_forbidden():
    """Fail if the SQL ``GROUP BY`` path runs (the aggregator must do the work)."""

    def boom(*_a, **_k):
        raise AssertionError("the SQL path ran")

    with mock.patch.object(maintain, "_add_rows", boom):
        yield


@sqlite_only
def test_demo_streaming_aggregates_equal_the_sql_build(tmp_path, demo_db):
    with sql_path_forbidden():
        streamed = write_demo(tmp_path / "streamed.db", events=20_000, seed=7)
    assert streamed == 20_000
    scratch = build_db(tmp_path / "scratch.db", _demo_events(demo_db))
    assert _dump(tmp_path / "streamed.db") == _dump(scratch)


@sqlite_only
def test_loader_streaming_aggregates_equal_the_sql_build_also_incrementally(tmp_path, demo_db):
    from moviedash.ingest.loader import load_files

    events = _demo_events(demo_db)
    # A few oddities: empty dims and titles, missing minutes, a bad row (skipped), an escape.
    events[5] = {**events[5], "device": None, "market": None, "sessiontype": None, "title": None}
    events[6] = {**events[6], "totalminuteswatched": None}
    first, second = events[:9_000], events[9_000:]
    path = tmp_path / "loaded.db"
    with sql_path_forbidden():
        load_files(path, [_write_csv(tmp_path / "a.csv", first)], rejects=tmp_path / "r.csv")
        bad = _write_csv(tmp_path / "b.csv", second)
        with bad.open("a", encoding="utf-8") as fh:
            fh.write("not a date,u,,,,,,,,,,,\n")
        report = load_files(path, [bad], rejects=tmp_path / "r.csv")
    assert report.rejected == 1 and report.committed
    scratch = build_db(tmp_path / "scratch.db", events)
    assert _dump(path) == _dump(scratch)
    conn = connect_readonly(path)
    try:
        for filters in (Filters(), Filters.create(device=["iPad"], start="2023-03-10", end="2023-06-20")):
            assert_same_as_raw(conn, filters, nums=(10,))
    finally:
        conn.close()


@sqlite_only
def test_aggregator_steps_aside_for_rows_it_did_not_see(tmp_path, make_db):
    path = make_db(HAND_EVENTS[:4])
    raw = sqlite3.connect(path)
    raw.execute("INSERT INTO movies (event_date, userid, title) VALUES ('2013-05-05 10:00:00', 'zz', 'Argo')")
    raw.commit()
    raw.close()
    conn = connect_readwrite(path)
    try:
        conn.execute("BEGIN")
        aggregator = rollups.Aggregator(conn)
        rows = [tuple(e.get(c) for c in COLUMNS) for e in HAND_EVENTS[4:]]
        insert_rows(conn, rows)
        aggregator.add({c: [r[COLUMNS.index(c)] for r in rows] for c in rollups.FED_COLUMNS})
        refresh_derived(conn, aggregator)  # covered < start: the SQL path covers the stray row too
        conn.execute("COMMIT")
    finally:
        conn.close()
    events = (
        HAND_EVENTS[:4]
        + [event("2013-05-05 10:00:00", "zz", title="Argo", minutes=None, sessiontype=None, device=None, market=None)]
        + HAND_EVENTS[4:]
    )
    assert _dump(path) == _dump(build_db(tmp_path / "scratch.db", events))


@sqlite_only
def test_finish_early_gives_the_same_tables_and_refuses_more_rows(tmp_path):
    """The loader calls finish() in its reading thread before the last inserts end."""
    rows = [tuple(e.get(c) for c in COLUMNS) for e in HAND_EVENTS]
    columns = {c: [r[COLUMNS.index(c)] for r in rows] for c in rollups.FED_COLUMNS}
    conn = connect_readwrite(tmp_path / "early.db")
    try:
        conn.execute("BEGIN")
        aggregator = rollups.Aggregator(conn)
        aggregator.add(columns)
        aggregator.finish()
        with pytest.raises(RuntimeError, match="after finish"):
            aggregator.add(columns)
        insert_rows(conn, rows)
        with mock.patch.object(maintain, "_add_rows", side_effect=AssertionError("the SQL path was taken")):
            refresh_derived(conn, aggregator)
        conn.execute("COMMIT")
    finally:
        conn.close()
    assert _dump(tmp_path / "early.db") == _dump(build_db(tmp_path / "scratch.db", HAND_EVENTS))


@sqlite_only
def test_filtered_top_by_viewers_is_answered_without_scanning_movies(demo_db):
    conn = connect_readonly(demo_db)
    try:
        analysis.CACHE.clear()
        whole = analysis.span(conn)
        statements: list[str] = []
        conn.set_trace_callback(statements.append)
        query = TopQuery(
            10, "viewers", Filters.create(start=whole.first + dt.timedelta(days=20), sessiontype=["MOVIE"])
        )
        fast = analysis.toplist(conn, query)
        conn.set_trace_callback(None)
        # Only the status query touches movies, for max(rowid) (a B-tree lookup, not a scan).
        assert statements and not any(s.replace("max(rowid) FROM movies", "").count("FROM movies") for s in statements)
        with raw_path():
            analysis.CACHE.clear()
            assert fast.to_dict("records") == analysis.toplist(conn, query).to_dict("records")
        assert len(fast) == 10
    finally:
        conn.close()


@pytest.fixture(scope="module", params=["postgresql"])
def pg_demo_db(request, pg_server) -> str:
    url = pg_server.new_database()
    write_demo(url, events=20_000, seed=7)
    return url


def test_postgresql_rollups_answer_like_its_raw_sql_and_like_sqlite(pg_demo_db, demo_db):
    """Same demo on both backends: PostgreSQL's rollup answers equal its raw SQL and SQLite's answers, byte for byte."""
    pg, lite = connect_readonly(pg_demo_db), connect_readonly(demo_db)
    try:
        assert rollups.status(pg).usable
        whole = analysis.span(pg)
        for filters in _selections(whole.first, whole.last):
            assert_same_as_raw(pg, filters)
            analysis.CACHE.clear()
            assert answers(pg, filters) == answers(lite, filters), filters
        # And the stored rows behind the default views are the same text.
        stored = dict(pg.execute("SELECT name, value FROM md_results").fetchall())
        assert stored == dict(lite.execute("SELECT name, value FROM md_results").fetchall())
    finally:
        pg.close()
        lite.close()


@sqlite_only
def test_status_is_read_once_per_serving_connection(make_db):
    path = make_db(HAND_EVENTS)
    conn = connect_readonly(path)
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        first = rollups.status(conn)
        again = rollups.status(conn)
    finally:
        conn.close()
    assert first is not None and first.usable and again is first
    assert sum("md_meta" in s for s in statements) == 2  # the table's presence and the keys, once each
    fresh = connect_readonly(path)  # the next request reads it again
    try:
        assert rollups.status(fresh) == first and rollups.status(fresh) is not first
    finally:
        fresh.close()


@sqlite_only
def test_status_reads_the_stored_date_check_and_falls_back_without_it(make_db):
    path = make_db(HAND_EVENTS)

    def status_and_statements() -> tuple[rollups.Status | None, list[str]]:
        conn = connect_readonly(path)
        statements: list[str] = []
        conn.set_trace_callback(statements.append)
        try:
            return rollups.status(conn), statements
        finally:
            conn.close()

    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT value FROM md_meta WHERE key = 'in_range'").fetchone() == (1,)
    status, statements = status_and_statements()
    assert status is not None and status.usable
    assert not any("FROM md_day" in s for s in statements)  # no look at the per-day table
    with sqlite3.connect(path) as raw:  # rollups built before the check was kept
        raw.execute("DELETE FROM md_meta WHERE key = 'in_range'")
    status, statements = status_and_statements()
    assert status is not None and status.usable and any("FROM md_day" in s for s in statements)
    with sqlite3.connect(path) as raw:  # ... and such rollups holding a day the served dates exclude
        raw.execute("UPDATE md_day SET day = '2100-01-01' WHERE day = (SELECT max(day) FROM md_day)")
    status, _ = status_and_statements()
    assert status is not None and not status.usable


def test_a_load_keeps_the_date_check_current(make_db, backend):
    path = make_db(HAND_EVENTS)
    conn = connect_readonly(path)
    try:
        assert conn.execute("SELECT value FROM md_meta WHERE key = 'in_range'").fetchone()[0] == 1
        assert rollups.status(conn).usable
    finally:
        conn.close()


@sqlite_only
def test_filter_values_are_checked_against_the_stored_values_as_md_day_would_answer(make_db):
    path = make_db(HAND_EVENTS)
    candidates = {"unknown", "nope", "", "0", "ipad", *(str(e[c] or "") for e in HAND_EVENTS for c in DIMS)}

    def answers() -> tuple[dict[tuple[str, str], bool], list[str]]:
        conn = connect_readonly(path)
        statements: list[str] = []
        conn.set_trace_callback(statements.append)
        try:
            return {(c, v): rollups.has_value(conn, c, v) for c in DIMS for v in candidates}, statements
        finally:
            conn.close()

    stored, statements = answers()
    assert sum("md_results" in s for s in statements) == 1 and not any("md_day" in s for s in statements)
    with sqlite3.connect(path) as raw:  # rollups stored before the values were kept: md_day answers
        raw.execute("DELETE FROM md_results WHERE name = 'dim_values'")
    scanned, statements = answers()
    assert any("md_day" in s for s in statements)
    assert stored == scanned
    assert stored["device", "iPad"] and not stored["device", "ipad"] and stored["market", "unknown"]
