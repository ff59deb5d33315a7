"""The numbers equal the course's: its pandas approach, re-done here, against our JSON routes.

The course read the whole table into pandas and grouped with a Python function
per row (day; the week's Monday; the 1st of the month), counted distinct users
with ``value_counts``, summed minutes, zero-filled with ``date_range``
(``D``/``W-MON``/``MS``) and counted events per non-empty title.
"""
from __future__ import annotations

import csv
import datetime as dt
import sqlite3

import pandas as pd
import pytest

from moviedash import create_app, rollups
from moviedash.ingest.demo import write_demo
from moviedash.ingest.loader import load_files
from moviedash.store import COLUMNS
from tests.helpers import build_db

LABEL = {
    "daily": lambda t: t.strftime("%Y-%m-%d"),
    "weekly": lambda t: (dt.datetime(t.year, t.month, t.day) - dt.timedelta(days=t.weekday())).strftime("%Y-%m-%d"),
    "monthly": lambda t: dt.datetime(t.year, t.month, 1).strftime("%Y-%m-%d"),
}
FREQ = {"daily": "D", "weekly": "W-MON", "monthly": "MS"}


def course_series(df: pd.DataFrame, resolution: str, column: str, agg) -> list[dict]:
    grouped = df.groupby(LABEL[resolution])[column].apply(agg)
    index = pd.date_range(grouped.index[0], grouped.index[-1], freq=FREQ[resolution])
    filled = grouped.reindex([d.strftime("%Y-%m-%d") for d in index], fill_value=0)
    return [{"date": d, "values": int(v)} for d, v in filled.items()]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    db = tmp_path_factory.mktemp("course") / "demo.db"
    write_demo(db, events=5000, seed=3)
    conn = sqlite3.connect(db)
    df = pd.read_sql("select * from movies", conn)
    conn.close()
    df.index = pd.DatetimeIndex(df.event_date)
    return db, df


@pytest.mark.parametrize("resolution", ["daily", "weekly", "monthly"])
def test_series_equal_the_course(demo, resolution):
    db, df = demo
    client = create_app(db=db).server.test_client()
    users = client.get(f"/data/unique_users/?resolution={resolution}").get_json()
    assert users == course_series(df, resolution, "userid", lambda x: len(x.value_counts()))
    minutes = client.get(f"/data/minutes_watched/?resolution={resolution}").get_json()
    assert minutes == course_series(df, resolution, "totalminuteswatched", sum)


def test_toplist_equals_the_course(demo):
    db, df = demo
    client = create_app(db=db).server.test_client()
    counts = df[df.title.notna() & (df.title != "")].groupby("title")["title"].count()
    # The course left ties in no particular order; moviedash breaks them by title.
    expected = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:10]
    assert client.get("/data/toplist/?num=10").get_json() == [{"title": t, "values": int(v)} for t, v in expected]


# --------------------------------------------------------------------------- #
# Ties in the top list: by the title as shown, in a database made the course's way too.
# --------------------------------------------------------------------------- #

#: Titles as the course file spells them; tied in plays (2 each), some in minutes and viewers too.
TIED = ["<d8>isteins Blyant", "Abraham Lincoln", "<c5>land", "Zorro", "<e6>bler", "Sm<e5> ting", "Sm<e5>land", "Aa"]


def tie_rows() -> list[list[str]]:
    """Course-format rows (13 text fields): every title twice, a few more often or longer."""
    rows = []
    for i, title in enumerate(TIED):
        for j in range(2):
            minutes = 30 if i % 3 else 45
            user = f"u{j}" if i % 2 else f"u{i}-{j}"  # half the titles share their two viewers
            rows.append([f"2013-0{1 + j}-1{i % 9} 10:00:00", user, f"c{i}", "iPad", "NO", str(minutes), "90", "", "",
                         "MOVIE", title, "", ""])
    rows.append(
        ["2013-03-01 10:00:00", "u9", "c9", "TV", "SE", "5", "90", "", "", "MOVIE", "<d8>isteins Blyant", "", ""]
    )
    return rows


def course_made(target, rows: list[list[str]]):
    """The rows as they are after the course's import: text as written, escapes and all."""
    if isinstance(target, str):  # PostgreSQL: the movies table filled with the file's values (\copy)
        return build_db(
            target, [{c: (v if v != "" else None) for c, v in zip(COLUMNS, row, strict=False)} for row in rows]
        )
    conn = sqlite3.connect(target)  # sqlite3's .import: every field as text, '' for missing ones
    conn.execute(f"CREATE TABLE movies ({', '.join(COLUMNS)})")
    conn.executemany(f"INSERT INTO movies VALUES ({', '.join('?' * len(COLUMNS))})", rows)
    conn.commit()
    conn.close()
    return target


def write_csv(path, rows: list[list[str]]):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    return path


def top(client, num: int, rank: str, extra: str = "") -> list[dict]:
    response = client.get(f"/data/toplist/?num={num}&rank={rank}{extra}")
    assert response.status_code == 200
    return response.get_json()


def test_ties_are_broken_by_the_title_as_shown_in_a_course_made_and_a_loaded_database(db_target, tmp_path):
    rows = tie_rows()
    course = course_made(db_target("course.db"), rows)
    loaded = db_target("loaded.db")
    load_files(loaded, [write_csv(tmp_path / "events.csv", rows)])
    course_client = create_app(db=course).server.test_client()
    loaded_client = create_app(db=loaded).server.test_client()

    plays = top(loaded_client, 20, "plays")
    assert plays[0] == {"title": "Øisteins Blyant", "values": 3}
    # The rest tie at 2 and come in the order of the titles as shown: Ø and Å after Z.
    assert [t["title"] for t in plays[1:]] == [
        "Aa",
        "Abraham Lincoln",
        "Små ting",
        "Småland",
        "Zorro",
        "Åland",
        "æbler",
    ]
    for rank in ("plays", "minutes", "viewers"):
        for num in range(1, len(TIED) + 2):
            for extra in ("", "&device=iPad", "&start=2013-01-01&end=2013-02-28"):
                assert top(course_client, num, rank, extra) == top(loaded_client, num, rank, extra), (rank, num, extra)
    assert top(course_client, 2, "plays", "&device=iPad") == [
        {"title": "Aa", "values": 2},
        {"title": "Abraham Lincoln", "values": 2},
    ]


@pytest.mark.sqlite_only
def test_derived_data_built_from_a_course_made_database_break_ties_alike(db_target, tmp_path):
    """A course-made database that moviedash then loads into: its derived data hold the escaped titles."""
    rows = tie_rows()
    more = [["2013-04-01 10:00:00", "u1", "c1", "TV", "NO", "10", "90", "", "", "MOVIE", "Brave", "", ""]]
    mixed = course_made(db_target("mixed.db"), rows)
    load_files(mixed, [write_csv(tmp_path / "more.csv", more)])
    loaded = db_target("loaded.db")
    load_files(loaded, [write_csv(tmp_path / "events.csv", rows), tmp_path / "more.csv"])
    conn = sqlite3.connect(mixed)
    assert conn.execute("SELECT count(*) FROM md_titles WHERE title LIKE '%<%'").fetchone()[0] == 5
    assert rollups.status(conn).usable  # the lists below come from the derived data
    conn.close()
    mixed_client = create_app(db=mixed).server.test_client()
    loaded_client = create_app(db=loaded).server.test_client()
    for rank in ("plays", "minutes", "viewers"):
        for num in range(1, len(TIED) + 3):
            for extra in ("", "&device=iPad", "&start=2013-01-01&end=2013-04-30"):
                assert top(mixed_client, num, rank, extra) == top(loaded_client, num, rank, extra), (rank, num, extra)
