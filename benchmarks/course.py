"""The course's approach, reimplemented for comparison (the course's code is not in this repository).

Per request, the course read the whole ``movies`` table into pandas
(``pd.read_sql('select * from movies', conn)``), put a ``DatetimeIndex`` on
``event_date``, grouped with a Python function called once per row that maps a
timestamp to its day / week (Monday) / month label, counted unique users with
``len(x.value_counts())`` per group, summed minutes, zero-filled the periods
with ``pd.date_range`` (``D`` / ``W-MON`` / ``MS``) and a reindex, and ranked
titles with ``groupby('title').count()`` sorted.  This module does exactly that,
each of the seven results loading the table afresh, and times it.

    python -m benchmarks.course --db demo.db --out course.json

Runs in its own process (the benchmark starts it), so its memory (about 1 GB
at 1M events) is returned to the system when it ends; its peak RSS is reported.
"""
from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import sqlite3
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd


def load_table(db: str) -> pd.DataFrame:
    """The whole table, as the course loaded it on every request (opened read-only here)."""
    conn = sqlite3.connect(f"file:{quote(str(Path(db).resolve()))}?mode=ro", uri=True)
    try:
        df = pd.read_sql("select * from movies", conn)
    finally:
        conn.close()
    df["event_date"] = pd.to_datetime(df["event_date"])
    df = df.set_index(pd.DatetimeIndex(df["event_date"]))
    return df


# The course's period functions: called by groupby once per row (per index label).
def to_day(ts: pd.Timestamp) -> dt.date:
    return dt.date(ts.year, ts.month, ts.day)


def to_week(ts: pd.Timestamp) -> dt.date:
    day = dt.date(ts.year, ts.month, ts.day)
    return day - dt.timedelta(days=day.weekday())


def to_month(ts: pd.Timestamp) -> dt.date:
    return dt.date(ts.year, ts.month, 1)


PERIOD = {"daily": to_day, "weekly": to_week, "monthly": to_month}
FREQ = {"daily": "D", "weekly": "W-MON", "monthly": "MS"}


def zero_fill(series: pd.Series, resolution: str) -> pd.Series:
    series.index = pd.DatetimeIndex(series.index)
    full = pd.date_range(series.index.min(), series.index.max(), freq=FREQ[resolution])
    return series.reindex(full, fill_value=0)


def records(series: pd.Series) -> list[dict[str, Any]]:
    return [{"date": ts.strftime("%Y-%m-%d"), "values": int(v)} for ts, v in series.items()]


def unique_users(df: pd.DataFrame, resolution: str) -> list[dict[str, Any]]:
    grouped = df.groupby(PERIOD[resolution])["userid"].agg(lambda x: len(x.value_counts()))
    return records(zero_fill(grouped, resolution))


def minutes_watched(df: pd.DataFrame, resolution: str) -> list[dict[str, Any]]:
    grouped = df.groupby(PERIOD[resolution])["totalminuteswatched"].sum()
    return records(zero_fill(grouped, resolution))


def toplist(df: pd.DataFrame, num: int) -> tuple[list[dict[str, Any]], pd.Series]:
    counts = df.groupby("title").count()["userid"].sort_values(ascending=False)
    top = counts.head(num)
    return [{"title": t, "values": int(v)} for t, v in top.items()], counts


def run(db: str, num: int = 10) -> dict[str, Any]:
    """Time the seven course results, each loading the table as the course did per request."""
    results: list[dict[str, Any]] = []
    answers: dict[str, Any] = {}
    title_counts: dict[str, int] = {}
    jobs: list[tuple[str, Any]] = []
    for metric, compute in (("unique_users", unique_users), ("minutes_watched", minutes_watched)):
        for resolution in ("daily", "weekly", "monthly"):
            jobs.append((f"{metric} {resolution}", lambda df, c=compute, r=resolution: c(df, r)))
    jobs.append((f"toplist {num}", lambda df: toplist(df, num)))
    rows = 0
    for name, job in jobs:
        gc.collect()
        started = time.perf_counter()
        df = load_table(db)
        loaded = time.perf_counter()
        answer = job(df)
        if isinstance(answer, tuple):  # the toplist also hands back all counts, for the check
            answer, counts = answer
            title_counts = {str(k): int(v) for k, v in counts.items()}
        text = json.dumps(answer)  # the response body, as the course's route returned it
        done = time.perf_counter()
        rows = len(df)
        del df
        results.append({"name": name, "load_s": loaded - started, "compute_s": done - loaded,
                        "total_s": done - started, "bytes": len(text)})
        answers[name] = answer
    status = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            status[key] = int(value.split()[0])
    return {
        "rows": rows,
        "results": results,
        "total_s": sum(r["total_s"] for r in results),
        "peak_rss_kib": status.get("VmHWM"),
        "answers": answers,
        "title_counts": title_counts,
        "pandas": pd.__version__,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True)
    parser.add_argument("--num", type=int, default=10)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    out = run(args.db, args.num)
    args.out.write_text(json.dumps(out))
    for r in out["results"]:
        print(f"{r['name']:<24} load {r['load_s']:6.2f} s  compute {r['compute_s']:6.2f} s  "
              f"total {r['total_s']:6.2f} s")
    print(f"all seven: {out['total_s']:.1f} s over {out['rows']:,} rows; peak RSS {out['peak_rss_kib'] / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
