"""Issue 11: databases not made by ``moviedash load`` never cause a 500.

Each kind of foreign database (missing columns, non-ISO dates, year 0, dates
outside the served range, sums that overflow) is either refused at start with
one clear line, or served with answers in the standard shape (2xx, 4xx, 503):
every route of the OpenAPI document and every server callback is hit.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from moviedash import create_app
from moviedash.cli import main
from moviedash.errors import MoviedashError
from moviedash.store import COLUMNS
from moviedash.web.openapi import build_document
from tests.helpers import build_db, event

GOOD_ROWS = [event("2013-01-07 10:00:00", "a", title="Argo"), event("2013-02-08 21:00:00", "b", title="Up", minutes=30)]


def course_table(path: Path, columns: str, rows: list[tuple]) -> Path:
    """A ``movies`` table made without moviedash (as sqlite's ``.import`` or another tool would)."""
    conn = sqlite3.connect(path)
    try:
        conn.execute(f"CREATE TABLE movies ({columns})")
        marks = ", ".join("?" * len(rows[0]))
        conn.executemany(f"INSERT INTO movies VALUES ({marks})", rows)
        conn.commit()
    finally:
        conn.close()
    return path


ALL_COLUMNS = ", ".join(COLUMNS)


def full_rows(*dates_and_minutes: tuple[Any, Any]) -> list[tuple]:
    return [(d, f"u{n}", "c", "Computer", "NO", m, 90, 50.0, None, "MOVIE", f"T{n % 3}", None, None)
            for n, (d, m) in enumerate(dates_and_minutes)]


def behind_the_loaders_back(path: Path, *rows: tuple) -> Path:
    """A database loaded by moviedash, then rows appended with plain SQL."""
    build_db(path, GOOD_ROWS)
    conn = sqlite3.connect(path)
    try:
        conn.executemany(f"INSERT INTO movies ({ALL_COLUMNS}) VALUES ({', '.join('?' * 13)})", rows)
        conn.commit()
    finally:
        conn.close()
    return path


FOREIGN: dict[str, Callable[[Path], Path]] = {
    "missing columns": lambda p: course_table(p, "event_date, userid", [("2013-01-07 10:00:00", "a")]),
    "no minutes column": lambda p: course_table(
        p,
        "event_date, userid, sessiontype, device, market, title",
        [("2013-01-07 10:00:00", "a", "MOVIE", "iPad", "NO", "Argo")],
    ),
    "US dates": lambda p: course_table(p, ALL_COLUMNS, full_rows(("12/31/2013 10:00", 5), ("01/02/2014", 6))),
    "epoch integers": lambda p: course_table(p, ALL_COLUMNS, full_rows((1357000000, 5), (1388534400, 6))),
    "small epoch integers (julian days)": lambda p: course_table(p, ALL_COLUMNS, full_rows((2456293, 5), (0, 1))),
    "year 0": lambda p: course_table(p, ALL_COLUMNS, full_rows(("0000-01-01 10:00:00", 5), ("2013-01-01 10:00:00", 6))),
    "year 1": lambda p: course_table(p, ALL_COLUMNS, full_rows(("0001-01-01 00:00:00", 5), ("2013-01-01 10:00:00", 6))),
    "year 9999": lambda p: course_table(
        p, ALL_COLUMNS, full_rows(("9999-12-31 23:59:59", 5), ("2013-01-01 10:00:00", 6))
    ),
    "only year 9999": lambda p: course_table(p, ALL_COLUMNS, full_rows(("9999-12-31", 5))),
    "sums that overflow": lambda p: course_table(
        p, ALL_COLUMNS, full_rows(*[(f"2013-01-{d:02d} 10:00:00", 2**62) for d in range(1, 29)])
    ),
    "huge minutes": lambda p: course_table(
        p, ALL_COLUMNS, full_rows(*[(f"2013-01-{d % 28 + 1:02d} 10:00:00", 2**53 - 1) for d in range(1100)])
    ),
    "text minutes": lambda p: course_table(
        p, ALL_COLUMNS, full_rows(("2013-01-07 10:00:00", "lots"), ("2013-01-08", "9" * 40))
    ),
    "9999-12-31 behind the loader's back": lambda p: behind_the_loaders_back(
        p, full_rows(("9999-12-31 00:00:00", 5))[0]
    ),
    "0001-01-01 behind the loader's back": lambda p: behind_the_loaders_back(
        p, full_rows(("0001-01-01 00:00:00", 5))[0]
    ),
    "overflow behind the loader's back": lambda p: behind_the_loaders_back(
        p, *full_rows(("2013-01-07 11:00:00", 2**62), ("2013-01-08 11:00:00", 2**62))
    ),
}


def openapi_urls() -> list[str]:
    """Every route of the OpenAPI document, with its default parameters and a few choices."""
    urls: list[str] = []
    for path in build_document()["paths"]:
        if path == "/data/openapi.json":
            continue
        if "{chart}" in path:
            urls += [path.replace("{chart}", c) for c in ("unique_users", "minutes_watched", "top_titles", "heatmap")]
        else:
            urls.append(path)
    extra = []
    for url in urls:
        if "unique_users/" in url or "minutes_watched/" in url:
            extra += [
                url + "?resolution=weekly",
                url + "?resolution=monthly",
                url + "?format=csv",
                url + "?start=2013-01-01&end=2013-12-31",
            ]
        if "toplist" in url:
            extra += [url + "?rank=minutes", url + "?rank=viewers", url + "?num=1000&format=csv"]
    return urls + extra + ["/", "/_dash-layout", "/figures/unique_users.json?users=weekly&start=1900-01-01"]


def layout_values(layout: Any) -> dict[tuple[str, str], Any]:
    """``(id, prop) -> value`` of every component of the served layout."""
    found: dict[tuple[str, str], Any] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            props = node.get("props")
            if isinstance(props, dict) and isinstance(props.get("id"), str):
                for key, value in props.items():
                    found[(props["id"], key)] = value
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(layout)
    return found


def callback_bodies(client) -> list[dict]:
    """A realistic request for every server callback: the layout's own values as inputs and state."""
    layout = client.get("/_dash-layout")
    values = layout_values(layout.get_json()) if layout.status_code == 200 else {}
    bodies = []
    for dep in client.get("/_dash-dependencies").get_json():
        if dep.get("clientside_function"):
            continue

        def item(spec: dict) -> dict:
            value = values.get((spec["id"], spec["property"]))
            if value is None and spec["property"] == "n_clicks":
                value = 1  # press the button
            return {**spec, "value": value}

        inputs = [item(i) for i in dep["inputs"]]
        out = dep["output"]
        if out.startswith(".."):
            outputs = [
                {"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1].split("@")[0]}
                for p in out.strip(".").split("...")
            ]
        else:
            outputs = {"id": out.rsplit(".", 1)[0], "property": out.rsplit(".", 1)[1].split("@")[0]}
        bodies.append(
            {
                "output": out,
                "outputs": outputs,
                "inputs": inputs,
                "state": [item(s) for s in dep.get("state", [])],
                "changedPropIds": [f"{i['id']}.{i['property']}" for i in inputs],
            }
        )
    return bodies


def assert_no_500(app) -> int:
    """Hit every route and callback; return how many answers were checked."""
    app.server.testing = False  # production error handling
    client = app.server.test_client()
    checked = 0
    for url in openapi_urls():
        response = client.get(url)
        assert response.status_code < 500 or response.status_code == 503, (url, response.get_data(as_text=True)[:300])
        if response.status_code >= 400:
            assert set(response.get_json()) <= {"error", "parameter"}, url
        assert len(response.get_data()) < 5_000_000, url  # a bounded answer
        checked += 1
    bodies = callback_bodies(client)
    assert len(bodies) >= 8
    for body in bodies:
        response = client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")
        assert response.status_code in (200, 204, 400, 503), (body["output"], response.get_data(as_text=True)[:300])
        assert "Traceback" not in response.get_data(as_text=True)
        checked += 1
    return checked


@pytest.mark.parametrize("kind", list(FOREIGN))
def test_foreign_database_is_refused_at_start_or_served_without_500(tmp_path, kind):
    db = FOREIGN[kind](tmp_path / "foreign.db")
    try:
        app = create_app(db=db)
    except MoviedashError as exc:
        assert exc.status == 503 and "\n" not in exc.message and str(db) in exc.message
        result = CliRunner().invoke(main, ["serve", "--db", str(db)])
        assert result.exit_code == 1 and result.output.strip() == f"Error: {exc.message}"
        return
    assert assert_no_500(app) > 20


@pytest.mark.parametrize("kind", list(FOREIGN))
def test_report_of_a_foreign_database_is_written_or_refused_in_one_line(tmp_path, kind):
    db = FOREIGN[kind](tmp_path / "foreign.db")
    result = CliRunner().invoke(main, ["report", "--db", str(db), "--out", str(tmp_path / "r.html")])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    if result.exit_code:
        assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1, result.output
    else:
        assert (tmp_path / "r.html").read_text().startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("kind", list(FOREIGN))
def test_foreign_rows_appearing_while_serving_never_cause_a_500(tmp_path, kind):
    """The same databases swapped in under a running server (no start-up check can catch these)."""
    db = build_db(tmp_path / "live.db", GOOD_ROWS)
    app = create_app(db=db)
    foreign = FOREIGN[kind](tmp_path / "foreign.db")
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    db.write_bytes(foreign.read_bytes())
    assert assert_no_500(app) > 20


def test_extreme_dates_written_behind_the_loaders_back_on_either_backend(make_db):
    """9999-12-31 and 0001-01-01 rows inserted without the loader: refused at start, or never charted."""
    db = make_db(
        [
            event("9999-12-31 23:59:59", "x", title="Never"),
            event("0001-01-01 00:00:00", "y", title="Ever"),
            event("2013-01-07 10:00:00", "a", title="Argo"),
            event("2013-01-08 10:00:00", "b", title="Up"),
        ]
    )
    try:
        app = create_app(db=db)
    except MoviedashError as exc:  # SQLite: the start-up scan finds them
        assert "2 event date(s) are outside 1900-01-01 to 2099-12-31" in exc.message
        return
    client = app.server.test_client()  # PostgreSQL: typed dates, served without them on the charts
    assert client.get("/data/unique_users/").get_json() == [
        {"date": "2013-01-07", "values": 1},
        {"date": "2013-01-08", "values": 1},
    ]
    assert len(client.get("/data/minutes_watched/?resolution=monthly").get_json()) == 1
    assert assert_no_500(app) > 20


def test_a_movies_table_lacking_columns_is_refused_on_either_backend(backend, db_target, tmp_path):
    target = db_target()
    if backend == "postgresql":
        import psycopg

        with psycopg.connect(target) as conn:
            conn.execute("CREATE TABLE movies (event_date timestamp, userid text, title text)")
    else:
        course_table(target, "event_date, userid, title", [("2013-01-07 10:00:00", "a", "Argo")])
    with pytest.raises(MoviedashError) as caught:
        create_app(db=target)
    assert caught.value.message.endswith(
        "the movies table lacks the column(s) totalminuteswatched, sessiontype, device, market. "
        "Load the data with 'moviedash load', which checks every row"
    )
    assert caught.value.status == 503 and "\n" not in caught.value.message
