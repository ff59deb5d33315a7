"""PostgreSQL answers from the same rollups as SQLite, kept exact: loads, crashes, stray writers, partitions."""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from moviedash import analysis, create_app, rollups
from moviedash.ingest.demo import generate_events, write_demo
from moviedash.ingest.loader import load_files
from moviedash.params import Filters
from moviedash.store import connect_readonly
from tests.helpers import HAND_EVENTS, answers, assert_same_as_raw, query, raw_path

ROWS = 300_000


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("pgcrash") / "big.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        for frame in generate_events(ROWS, seed=5):
            frame.to_csv(fh, header=False, index=False)
    return path


def rollup_state(url: str) -> tuple:
    """Rows, ledger and every rollup table's content (as text digests), as one comparable value."""
    tables = [*rollups.TABLES, "md_meta"]
    digest = "SELECT count(*), md5(COALESCE(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {} AS t"
    digests = tuple(query(url, digest.format(t))[0] for t in tables)
    return (query(url, "SELECT count(*), (SELECT count(*) FROM moviedash_loads) FROM movies")[0], digests)


def test_sigkill_while_the_rollups_are_written_leaves_rows_and_rollups_as_before(pg_server, tmp_path, big_csv) -> None:
    url = pg_server.new_database()
    first = tmp_path / "first.csv"
    first.write_text("2013-01-01 10:00:00,u1,c,Computer,NO,5,,,,MOVIE,Argo,,\n")
    assert load_files(url, [first]).committed
    before = rollup_state(url)
    process = subprocess.Popen(
        [sys.executable, "-m", "moviedash.cli", "load", str(big_csv), "--db", url],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    # Kill it once its COPY is over and it writes the rollups (a statement on an md_ table: rows of new
    # keys are copied straight in, the others upserted).
    writing = "(query LIKE 'INSERT INTO md\\_%' OR query LIKE 'COPY md\\_%')"
    deadline = time.monotonic() + 120
    while not query(url, f"SELECT 1 FROM pg_stat_activity WHERE {writing} AND state = 'active' "
                         "AND pid <> pg_backend_pid()"):
        assert process.poll() is None, "the load ended before it wrote the rollups"
        assert time.monotonic() < deadline
        time.sleep(0.002)
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL
    # The server rolls the dead session's transaction back once it notices.
    deadline = time.monotonic() + 30
    while query(url, "SELECT 1 FROM pg_stat_activity WHERE state LIKE 'idle in transaction%' OR "
                     f"({writing} AND pid <> pg_backend_pid())"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert rollup_state(url) == before
    client = create_app(db=url).server.test_client()
    assert client.get("/data/toplist/").get_json() == [{"title": "Argo", "values": 1}]
    conn = connect_readonly(url)
    try:
        assert rollups.status(conn).usable
    finally:
        conn.close()
    report = load_files(url, [big_csv])
    assert (report.loaded, report.rejected) == (ROWS, 0)
    conn = connect_readonly(url)
    try:
        assert rollups.status(conn).usable
        assert_same_as_raw(conn, Filters.create(device=["iPad"], start="2023-03-05", end="2023-07-20"), nums=(10,))
    finally:
        conn.close()


def test_a_server_running_sees_the_next_load_at_its_next_request(pg_server, tmp_path) -> None:
    url = pg_server.new_database()
    first = tmp_path / "first.csv"
    first.write_text("2013-01-01 10:00:00,u1,c,Computer,NO,5,,,,MOVIE,Argo,,\n")
    assert load_files(url, [first]).committed
    client = create_app(db=url).server.test_client()
    assert client.get("/data/toplist/").get_json() == [{"title": "Argo", "values": 1}]
    assert client.get("/data/toplist/").get_json() == [{"title": "Argo", "values": 1}]  # cached
    second = tmp_path / "second.csv"
    second.write_text(
        "2013-01-02 10:00:00,u2,c,TV,SE,5,,,,MOVIE,Brand new,,\n2013-01-03 10:00:00,u3,c,TV,SE,5,,,,MOVIE,Brand new,,\n"
    )
    assert load_files(url, [second]).committed
    assert client.get("/data/toplist/?num=2").get_json() == [{"title": "Brand new", "values": 2},
                                                             {"title": "Argo", "values": 1}]
    assert '"TV"' in client.get("/_dash-layout").get_data(as_text=True)


def test_rows_written_behind_moviedashs_back_are_served_raw_until_the_next_load(pg_server, tmp_path) -> None:
    url = write_demo_url(pg_server, events=3000)
    conn = connect_readonly(url)
    try:
        assert rollups.status(conn).usable
        before = answers(conn, Filters(), nums=(10,))
    finally:
        conn.close()
    # COPY, UPDATE, DELETE and TRUNCATE are writes too; INSERT stands for them.
    with psycopg.connect(url) as raw:
        raw.execute("INSERT INTO movies (event_date, userid, title, totalminuteswatched, device) "
                    "SELECT event_date + interval '1 hour', 'stray' || userid, title, 1000, 'Fridge' "
                    "FROM movies LIMIT 50")
    conn = connect_readonly(url)
    try:
        assert not rollups.status(conn).usable
        analysis.CACHE.clear()
        stale = answers(conn, Filters(), nums=(10,))
        assert stale != before
        assert "Fridge" in analysis.options(conn)["device"]
        assert stale["span"].events == 3050
        assert len(analysis.CACHE) == 0
    finally:
        conn.close()
    # The next load rebuilds the rollups from every row, the stray ones included.
    later = tmp_path / "later.csv"
    later.write_text("2024-06-01 10:00:00,u1,c,Fridge,NO,5,,,,MOVIE,Argo,,\n")
    assert load_files(url, [later]).committed
    conn = connect_readonly(url)
    try:
        assert rollups.status(conn).usable
        assert_same_as_raw(conn, Filters(), nums=(10,))
        assert_same_as_raw(conn, Filters.create(device=["Fridge"]), nums=(10,))
    finally:
        conn.close()


def write_demo_url(pg_server, events: int) -> str:
    url = pg_server.new_database()
    write_demo(url, events=events, seed=3)
    return url


def test_a_load_spanning_months_creates_their_partitions(pg_server, tmp_path) -> None:
    url = pg_server.new_database()
    path = tmp_path / "months.csv"
    path.write_text(
        "2013-01-31 23:00:00,u1,c,Computer,NO,5,,,,MOVIE,Argo,,\n"
        "2013-02-01 00:30:00,u2,c,Computer,NO,5,,,,MOVIE,Argo,,\n"
        "2013-04-15 12:00:00,u3,c,TV,SE,5,,,,MOVIE,Skyfall,,\n"
    )
    assert load_files(url, [path]).committed
    partitions = {
        (parent, child) for parent, child in query(
            url, "SELECT CAST(i.inhparent AS regclass)::text, CAST(i.inhrelid AS regclass)::text FROM pg_inherits i")
    }
    for table in ("movies", *rollups.tables.DAY_TABLES):
        for month in ("2013_01", "2013_02", "2013_04"):
            assert (table, f"{table}_{month}") in partitions
        assert (table, f"{table}_2013_03") not in partitions  # no rows, no partition
        assert (table, f"{table}_default") in partitions
    # Each row sits in its month's partition, none in the default one.
    assert query(url, "SELECT count(*) FROM movies_2013_02") == [(1,)]
    assert query(url, "SELECT count(*) FROM movies_default") == [(0,)]
    assert query(url, "SELECT count(*) FROM md_day_2013_04") == [(1,)]
    # A row of no date goes to the default partition, and is answered (raw: the rollups step aside).
    bad = tmp_path / "nodate.csv"
    bad.write_text("2013-05-01 10:00:00,u4,c,TV,SE,5,,,,MOVIE,Skyfall,,\n")
    assert load_files(url, [bad]).committed
    with psycopg.connect(url) as raw:
        raw.execute("INSERT INTO movies (event_date, userid, title) VALUES (NULL, 'u9', 'Argo')")
    assert query(url, "SELECT count(*) FROM movies_default") == [(1,)]
    conn = connect_readonly(url)
    try:
        assert not rollups.status(conn).usable  # a write behind moviedash's back
    finally:
        conn.close()
    client = create_app(db=url).server.test_client()
    # The raw SQL answers, as on SQLite: an event of no date belongs to no period's top list.
    assert client.get("/data/toplist/?num=1").get_json() == [{"title": "Argo", "values": 2}]


def test_an_unpartitioned_database_of_an_older_version_is_served_raw_then_gets_rollups(pg_server, tmp_path) -> None:
    """No md_ tables, movies not partitioned: answered from movies, and a load builds the rollups over every row."""
    url = pg_server.new_database()
    with psycopg.connect(url) as raw:
        raw.execute(
            "CREATE TABLE movies (event_date timestamp, userid text COLLATE \"C\", contentid text COLLATE \"C\", "
            "device text COLLATE \"C\", market text COLLATE \"C\", totalminuteswatched integer, runningtime integer, "
            "viewpercentage double precision, errorperception double precision, sessiontype text COLLATE \"C\", "
            "title text COLLATE \"C\", seasonnumber integer, episodenumber integer)"
        )
        raw.execute(
            "CREATE TABLE moviedash_loads (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "
            "sha256 text NOT NULL, "
            "filename text NOT NULL, rows bigint NOT NULL, rejected bigint NOT NULL, loaded_at text NOT NULL)"
        )
        with raw.cursor() as cur:
            cur.executemany(
                "INSERT INTO movies (event_date, userid, title, totalminuteswatched, device, market, sessiontype) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [(e["event_date"], e["userid"], e["title"], e["totalminuteswatched"], e["device"], e["market"],
                  e["sessiontype"]) for e in HAND_EVENTS],
            )
    conn = connect_readonly(url)
    try:
        assert rollups.status(conn) is None
        analysis.CACHE.clear()
        old = answers(conn, Filters(), nums=(10,))
    finally:
        conn.close()
    later = tmp_path / "later.csv"
    later.write_text("2013-05-01 10:00:00,u4,c,TV,SE,5,,,,MOVIE,Skyfall,,\n")
    assert load_files(url, [later]).committed
    conn = connect_readonly(url)
    try:
        assert rollups.status(conn).usable
        assert_same_as_raw(conn, Filters(), nums=(1, 10))
        assert_same_as_raw(conn, Filters.create(market=["unknown"], start="2013-01-15", end="2013-03-20"), nums=(10,))
        with raw_path():
            assert answers(conn, Filters(), nums=(10,))["span"].events == old["span"].events + 1
    finally:
        conn.close()


def test_a_load_meeting_stored_keys_leaves_the_rollups_of_one_load_of_both(pg_server, tmp_path) -> None:
    """New keys are copied straight into the rollups, stored ones upserted: two loads, one meeting the
    other's (day, dims) keys, titles and users, build what one load of both files builds."""
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text(
        "2013-01-01 10:00:00,u1,c,Computer,NO,50,100,50.0,1.5,MOVIE,Argo,,\n"
        "2013-01-01 11:00:00,u2,c,Computer,NO,90,100,90.0,0.5,MOVIE,Skyfall,,\n"
        "2013-01-02 12:00:00,u1,c,TV,SE,30,60,,,SERIES,Skyfall,1,2\n"
    )
    second.write_text(
        "2013-01-01 10:30:00,u3,c,Computer,NO,70,100,70.0,2.5,MOVIE,Argo,,\n"  # a stored key, title, new user
        "2013-01-01 20:00:00,u1,c,TV,NO,10,100,10.0,,MOVIE,Brand new,,\n"  # a new key in a stored day
        "2013-02-03 09:00:00,u2,c,TV,SE,120,100,120.0,3.0,MOVIE,Skyfall,,\n"  # a new month
    )
    apart, together = pg_server.new_database(), pg_server.new_database()
    assert load_files(apart, [first]).committed
    assert load_files(apart, [second]).committed
    assert load_files(together, [first, second]).committed
    tables = [t for t in rollups.TABLES if t not in ("md_results", "md_meta")]
    digest = "SELECT count(*), md5(COALESCE(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {} AS t"
    for table in tables:
        assert query(apart, digest.format(table)) == query(together, digest.format(table)), table
    for url in (apart, together):
        conn = connect_readonly(url)
        try:
            assert_same_as_raw(conn, Filters.create(start="2013-01-01", end="2013-02-28"))
        finally:
            conn.close()
