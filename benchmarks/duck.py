"""DuckDB on the same data: load the course-format CSV into a DuckDB file, then
run the SQL equivalent to the seven course results and to the "all filters"
selection's charts and KPIs, cold (first run on a fresh connection) and warm.

    python -m benchmarks.duck --csv events.csv --db events.duckdb --out duck.json \
        [--repeat 5] [--selection '{"start": "2024-12-02", "end": "2024-12-31", ...}'] \
        [--selections selections.json]

``--selections`` names a JSON list of selections (dates, filters, resolution, num,
rank: ``RandomSelection.as_dict`` of benchmarks/selections.py); each one's two
series, toplist, heatmap and KPIs are timed too (benchmarks/backends.py).

Optional: needs ``duckdb`` (see benchmarks/requirements.txt).  Runs in its own
process, started by the benchmark; its peak RSS is reported.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import statistics
import time
from pathlib import Path
from typing import Any

import duckdb

COLUMNS = {
    "event_date": "TIMESTAMP",
    "userid": "VARCHAR",
    "contentid": "VARCHAR",
    "device": "VARCHAR",
    "market": "VARCHAR",
    "totalminuteswatched": "BIGINT",
    "runningtime": "BIGINT",
    "viewpercentage": "DOUBLE",
    "errorperception": "DOUBLE",
    "sessiontype": "VARCHAR",
    "title": "VARCHAR",
    "seasonnumber": "BIGINT",
    "episodenumber": "BIGINT",
}
UNIT = {"daily": "day", "weekly": "week", "monthly": "month"}  # DuckDB weeks are ISO: Monday
AGGREGATE = {"unique_users": "COUNT(DISTINCT userid)", "minutes_watched": "COALESCE(SUM(totalminuteswatched), 0)"}
RANK = {"plays": "COUNT(*)", "minutes": "COALESCE(SUM(totalminuteswatched), 0)", "viewers": "COUNT(DISTINCT userid)"}
#: moviedash's "unknown" filter value: NULL and these stored texts (moviedash/dimensions.py).
UNKNOWN, PLACEHOLDERS = "unknown", ("", "0", "unknown")
_ESCAPE = re.compile(r"<([0-9a-f]{2})>")


def decode(title: str) -> str:
    """The course CSV's ``<e5>`` escapes back to letters (only for comparing titles)."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), title)


def load(csv: Path, db: Path, memory_limit: str, header: bool = False) -> dict[str, Any]:
    con = duckdb.connect(str(db))
    try:
        con.execute(f"SET memory_limit = '{memory_limit}'")
        columns = "{" + ", ".join(f"'{k}': '{v}'" for k, v in COLUMNS.items()) + "}"
        started = time.perf_counter()
        con.execute(
            f"CREATE TABLE movies AS SELECT * FROM read_csv(?, header = {str(header).lower()}, columns = {columns}, "
            "nullstr = '', quote = '\"', escape = '\"', timestampformat = '%Y-%m-%d %H:%M:%S')",
            [str(csv)],
        )
        con.execute("CHECKPOINT")
        seconds = time.perf_counter() - started
        rows = con.execute("SELECT COUNT(*) FROM movies").fetchone()[0]
    finally:
        con.close()
    return {"seconds": seconds, "rows": int(rows), "bytes": db.stat().st_size}


def where(sel: dict[str, Any]) -> tuple[str, list[Any]]:
    clauses, params = ["event_date IS NOT NULL"], []
    if sel.get("start"):
        clauses.append("event_date >= CAST(? AS TIMESTAMP)")
        params.append(sel["start"])
    if sel.get("end"):
        clauses.append("event_date < CAST(? AS DATE) + INTERVAL 1 DAY")
        params.append(sel["end"])
    for column in ("sessiontype", "device", "market"):
        values = sel.get(column) or []
        if isinstance(values, str):
            values = [values]
        if values:
            values = [v for v in values if v != UNKNOWN] + (list(PLACEHOLDERS) if UNKNOWN in values else [])
            clause = f"{column} IN ({', '.join('?' * len(values))})"
            clauses.append(f"({clause} OR {column} IS NULL)" if UNKNOWN in values else clause)
            params.extend(values)
    return " AND ".join(clauses), params


def series_sql(metric: str, resolution: str, sel: dict[str, Any]) -> tuple[str, list[Any]]:
    """Per-period values, zero-filled over the data's (or the selection's) periods, like the routes."""
    unit = UNIT[resolution]
    clause, params = where(sel)
    sql = f"""
        WITH g AS (
            SELECT CAST(date_trunc('{unit}', event_date) AS DATE) AS d, {AGGREGATE[metric]} AS n
            FROM movies WHERE {clause} GROUP BY 1
        ),
        b AS (
            SELECT COALESCE(CAST(date_trunc('{unit}', CAST(? AS DATE)) AS DATE), MIN(d)) AS lo,
                   COALESCE(CAST(date_trunc('{unit}', CAST(? AS DATE)) AS DATE), MAX(d)) AS hi
            FROM g
        ),
        r AS (SELECT CAST(unnest(generate_series(lo, hi, INTERVAL 1 {unit})) AS DATE) AS d FROM b)
        SELECT strftime(r.d, '%Y-%m-%d') AS date, COALESCE(g.n, 0) AS v FROM r LEFT JOIN g USING (d) ORDER BY r.d
    """
    return sql, [*params, sel.get("start"), sel.get("end")]


def toplist_sql(num: int, sel: dict[str, Any], rank: str = "plays") -> tuple[str, list[Any]]:
    clause, params = where(sel)
    sql = (f"SELECT title, {RANK[rank]} AS n FROM movies WHERE {clause} AND title IS NOT NULL AND title <> '' "
           "GROUP BY title ORDER BY n DESC, title ASC LIMIT ?")
    return sql, [*params, num]


def heatmap_sql(sel: dict[str, Any]) -> tuple[str, list[Any]]:
    clause, params = where(sel)
    return (f"SELECT isodow(event_date) - 1 AS weekday, hour(event_date) AS hour, COUNT(*) AS n "
            f"FROM movies WHERE {clause} GROUP BY 1, 2"), params


def totals_sql(sel: dict[str, Any]) -> tuple[str, list[Any]]:
    clause, params = where(sel)
    return (f"SELECT COUNT(DISTINCT userid), COUNT(*), COALESCE(SUM(totalminuteswatched), 0) "
            f"FROM movies WHERE {clause}"), params


def previous_period(sel: dict[str, Any]) -> dict[str, Any]:
    """The KPIs' comparison period: the same length just before (as moviedash's KPIs)."""
    start, end = dt.date.fromisoformat(sel["start"]), dt.date.fromisoformat(sel["end"])
    length = dt.timedelta(days=(end - start).days + 1)
    return {**sel, "start": (start - length).isoformat(), "end": (start - dt.timedelta(days=1)).isoformat()}


def queries(selection: dict[str, Any]) -> list[tuple[str, str, list[tuple[str, list[Any]]]]]:
    """(group, name, [(sql, params), ...]) of everything timed."""
    out: list[tuple[str, str, list[tuple[str, list[Any]]]]] = []
    for metric in AGGREGATE:
        for resolution in UNIT:
            out.append(("course", f"{metric} {resolution}", [series_sql(metric, resolution, {})]))
    out.append(("course", "toplist 10", [toplist_sql(10, {})]))
    if selection:
        out.append(("all filters", "unique_users daily", [series_sql("unique_users", "daily", selection)]))
        out.append(("all filters", "minutes_watched daily", [series_sql("minutes_watched", "daily", selection)]))
        out.append(("all filters", "toplist 10", [toplist_sql(10, selection)]))
        out.append(("all filters", "heatmap", [heatmap_sql(selection)]))
        kpis = [totals_sql(selection)]
        if selection.get("start") and selection.get("end"):
            kpis.append(totals_sql(previous_period(selection)))
        out.append(("all filters", "kpis (current + previous period)", kpis))
    return out


def selection_queries(sel: dict[str, Any]) -> list[tuple[str, list[tuple[str, list[Any]]]]]:
    """(name, [(sql, params), ...]) of one random selection: what its charts and KPIs ask."""
    kpis = [totals_sql(sel)]
    if sel.get("start") and sel.get("end"):
        kpis.append(totals_sql(previous_period(sel)))
    return [
        ("unique_users", [series_sql("unique_users", sel["resolution"], sel)]),
        ("minutes_watched", [series_sql("minutes_watched", sel["resolution"], sel)]),
        ("toplist", [toplist_sql(int(sel["num"]), sel, sel["rank"])]),
        ("heatmap", [heatmap_sql(sel)]),
        ("kpis", kpis),
    ]


def run_selections(db: Path, chosen: list[dict[str, Any]], repeat: int, memory_limit: str) -> list[dict[str, Any]]:
    """Each selection's queries, cold (first run of that SQL on this connection) and warm (next ``repeat``)."""
    con = duckdb.connect(str(db), read_only=True)
    con.execute(f"SET memory_limit = '{memory_limit}'")
    out = []
    try:
        for sel in chosen:
            timings = []
            for name, statements in selection_queries(sel):
                samples = []
                for _ in range(1 + repeat):
                    started = time.perf_counter()
                    for sql, params in statements:
                        con.execute(sql, params).fetchall()
                    samples.append((time.perf_counter() - started) * 1000)
                timings.append({"name": name, "cold_ms": samples[0], "warm_ms": samples[1:]})
            out.append({"name": sel["name"], "queries": timings})
    finally:
        con.close()
    return out


def run_queries(db: Path, selection: dict[str, Any], repeat: int, memory_limit: str) -> dict[str, Any]:
    con = duckdb.connect(str(db), read_only=True)
    con.execute(f"SET memory_limit = '{memory_limit}'")
    timings = []
    answers: dict[str, Any] = {}
    try:
        for group, name, statements in queries(selection):
            samples = []
            for _ in range(1 + repeat):
                started = time.perf_counter()
                rows = [con.execute(sql, params).fetchall() for sql, params in statements]
                samples.append((time.perf_counter() - started) * 1000)
            timings.append({"group": group, "name": name, "cold_ms": samples[0], "warm_ms": samples[1:],
                            "warm_median_ms": statistics.median(samples[1:]) if repeat else None})
            if group == "course":
                if name.startswith("toplist"):
                    answers[name] = [{"title": decode(t), "values": int(n)} for t, n in rows[0]]
                else:
                    answers[name] = [{"date": d, "values": int(n)} for d, n in rows[0]]
        threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    finally:
        con.close()
    return {"queries": timings, "answers": answers, "threads": int(threads)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--csv", required=True, type=Path)
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--selection", default="{}", help="the 'all filters' selection as JSON")
    parser.add_argument("--header", action="store_true", help="the CSV's first line is a header row")
    parser.add_argument("--selections", type=Path, help="a JSON file: a list of selections to time as well")
    parser.add_argument("--memory-limit", default="2GB")
    args = parser.parse_args(argv)
    if args.db.exists():
        args.db.unlink()
    loaded = load(args.csv, args.db, args.memory_limit, args.header)
    result = run_queries(args.db, json.loads(args.selection), args.repeat, args.memory_limit)
    if args.selections:
        result["selections"] = run_selections(args.db, json.loads(args.selections.read_text()), args.repeat,
                                              args.memory_limit)
    peak = None
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            peak = int(line.split()[1])
    out = {"version": duckdb.__version__, "load": loaded, **result, "peak_rss_kib": peak}
    args.out.write_text(json.dumps(out))
    print(f"duckdb {duckdb.__version__}: loaded {loaded['rows']:,} rows in {loaded['seconds']:.2f} s")
    for q in result["queries"]:
        print(f"{q['group']:<12} {q['name']:<36} cold {q['cold_ms']:8.1f} ms  warm {q['warm_median_ms'] or 0:8.1f} ms")


if __name__ == "__main__":
    main()
