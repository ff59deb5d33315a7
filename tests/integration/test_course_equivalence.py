"""The numbers equal the course's: its pandas approach, re-done here, against our JSON routes.

The course read the whole table into pandas and grouped with a Python function
per row (day; the week's Monday; the 1st of the month), counted distinct users
with ``value_counts``, summed minutes, zero-filled with ``date_range``
(``D``/``W-MON``/``MS``) and counted events per non-empty title.
"""
from __future__ import annotations

import datetime as dt
import sqlite3

import pandas as pd
import pytest

from moviedash import create_app
from moviedash.demo import write_demo

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
