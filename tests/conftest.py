"""Shared fixtures: databases built from small, hand-written, deterministic rows.

Tests that take ``make_db`` (or ``db_target``/``backend``) run twice, on SQLite
and on PostgreSQL, unless marked ``sqlite_only`` (tests of what only SQLite
has: files, WAL, the progress handler, derived tables, ``.import`` databases).
The PostgreSQL server is ``MOVIEDASH_TEST_PG`` (a URL; ``scripts/test.sh``
starts a throwaway cluster and sets it).  Without it the PostgreSQL variants
are skipped locally, and fail under ``CI=true``: they must run in CI.
"""
from __future__ import annotations

import datetime as dt
import os
import sqlite3
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

from moviedash.rollups import refresh_derived
from moviedash.store import COLUMNS
from moviedash.store.sqlite import connect_readwrite, insert_rows

PG_ENV = "MOVIEDASH_TEST_PG"
#: Titles holding the HTML subset Plotly interprets in text (links, styling, line breaks,
#: entities): each must be shown literally, as typed, wherever a chart or report shows it.
MARKUP_TITLES = (
    '<a href="//ev.il">Top</a>',
    "<b>Bold</b> move",
    "<i>Slanted</i>",
    "Line<br>break",
    '<span style="color:red;font-size:40px">Red</span>',
    "E=mc<sup>2</sup>",
    "<sub>low</sub> & <em>high</em>",
    "Tom &amp; Jerry",
    "&lt;b&gt;not bold&lt;/b&gt;",
    "<a href='javascript:alert(1)'>js</a>",
)
#: Text cells a spreadsheet would evaluate as a formula (OWASP "CSV Injection").
FORMULA_TITLES = (
    "=cmd|' /C calc'!A0",
    '+1+HYPERLINK("http://ev.il","x")',
    "-2+3",
    "@SUM(1)",
    "\t=1+1",
    "\r=1+1",
    "=HYPERLINK(\"http://ev.il\")",
)
BACKENDS = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise every test that uses ``backend`` (directly or through a fixture) over both backends."""
    if "backend" in metafunc.fixturenames:
        only = metafunc.definition.get_closest_marker("sqlite_only")
        metafunc.parametrize("backend", ["sqlite"] if only else list(BACKENDS), indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """``"sqlite"`` or ``"postgresql"``; the PostgreSQL variant needs the test server."""
    if request.param == "postgresql":
        request.getfixturevalue("pg_server")
    return request.param


def with_database(url: str, dbname: str, schema: str | None = None) -> str:
    """``url`` pointing at ``dbname`` (and with ``schema`` first on the search path)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("options", "dbname")]
    if schema:
        query.append(("options", f"-csearch_path={schema}"))
    return urlunsplit(parts._replace(path=f"/{dbname}", query=urlencode(query)))


class PgServer:
    """The test server: one scratch database per session, a fresh schema per database a test makes."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.url = url
        self.dbname = f"moviedash_test_{os.getpid()}"
        self.count = 0
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {self.dbname} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {self.dbname}")
        self.admin = psycopg.connect(with_database(url, self.dbname), autocommit=True)

    def new_database(self) -> str:
        """The URL of a new, empty schema (moviedash creates its tables there)."""
        self.count += 1
        schema = f"t{self.count}"
        self.admin.execute(f"CREATE SCHEMA {schema}")
        return with_database(self.url, self.dbname, schema)

    def close(self) -> None:
        import psycopg

        self.admin.close()
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {self.dbname} WITH (FORCE)")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """The PostgreSQL test server (``MOVIEDASH_TEST_PG``); skip without it, except in CI."""
    url = os.environ.get(PG_ENV)
    if not url:
        if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
            pytest.fail(f"{PG_ENV} is not set: the PostgreSQL tests must run in CI (scripts/test.sh starts a server)")
        pytest.skip(f"{PG_ENV} not set (scripts/test.sh starts a throwaway PostgreSQL server)")
    server = PgServer(url)
    yield server
    close_pg_pools()
    server.close()


def close_pg_pools() -> None:
    """Close the serving pools the test's apps opened (each holds server connections)."""
    postgres = sys.modules.get("moviedash.store.postgres")
    if postgres is not None:
        postgres.close_pools()


@pytest.fixture(autouse=True)
def _close_pools_after_test() -> Iterator[None]:
    yield
    close_pg_pools()


@pytest.fixture
def db_target(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Callable[[str], str | Path]:
    """``db_target(name)``: where a test's database goes: a new file, or a new PostgreSQL schema."""

    def make(name: str = "m.db") -> str | Path:
        if backend == "postgresql":
            return request.getfixturevalue("pg_server").new_database()
        return tmp_path / name

    return make


def module_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
              events: Iterable[Mapping[str, Any]]) -> Path | str:
    """For module-scoped fixtures with ``params=BACKENDS``: ``events`` in a new database of that backend."""
    if request.param == "postgresql":
        return build_db(request.getfixturevalue("pg_server").new_database(), events)
    return build_db(tmp_path_factory.mktemp("db") / "m.db", events)


def query(db: str | Path, sql: str, params: Iterable[Any] = ()) -> list[tuple]:
    """Rows of ``sql`` (``?`` placeholders) on either backend; timestamps as SQLite's text."""
    if isinstance(db, str) and db.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(db) as conn:
            values = list(params)
            found = conn.execute(sql.replace("%", "%%").replace("?", "%s") if values else sql, values or None).fetchall()
        return [tuple(v.isoformat(sep=" ") if isinstance(v, dt.datetime) else v for v in row) for row in found]
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, list(params)).fetchall()
    finally:
        conn.close()


def event(
    event_date: str,
    userid: str = "u1",
    *,
    minutes: int | None = 10,
    title: str | None = "A",
    sessiontype: str | None = "MOVIE",
    device: str | None = "Computer",
    market: str | None = "NO",
    **extra: Any,
) -> dict[str, Any]:
    """One viewing event with sensible defaults; keys are column names."""
    row = {
        "event_date": event_date,
        "userid": userid,
        "totalminuteswatched": minutes,
        "title": title,
        "sessiontype": sessiontype,
        "device": device,
        "market": market,
    }
    row.update(extra)
    return row


def build_db(path: Path | str, events: Iterable[Mapping[str, Any]]) -> Path | str:
    """Write ``events`` into a new moviedash database at ``path`` (a file or a PostgreSQL URL) and return it."""
    if isinstance(path, str) and path.startswith("postgresql://"):
        from moviedash.store import postgres

        conn = postgres.connect_readwrite(path)
        try:
            with conn.cursor() as cur:
                cur.executemany(
                    f"INSERT INTO movies ({', '.join(COLUMNS)}) VALUES ({', '.join(['%s'] * len(COLUMNS))})",
                    [tuple(e.get(c) for c in COLUMNS) for e in events],
                )
            refresh_derived(postgres.PgConnection(conn, path))
            conn.commit()
        finally:
            conn.close()
        return path
    conn = connect_readwrite(path)
    try:
        conn.execute("BEGIN")
        insert_rows(conn, [tuple(e.get(c) for c in COLUMNS) for e in events])
        refresh_derived(conn)
        conn.execute("COMMIT")
    finally:
        conn.close()
    return path


@pytest.fixture
def make_db(db_target: Callable[[str], str | Path]) -> Callable[..., Path]:
    """``make_db(events, name="t.db")`` builds a database: a file in the test's temp folder
    (SQLite) or a fresh schema (PostgreSQL, returned as its URL)."""

    def make(events: Iterable[Mapping[str, Any]], name: str = "t.db") -> Path:
        return build_db(db_target(name), events)  # type: ignore[return-value]

    return make


@pytest.fixture
def connect() -> Callable[[Path], sqlite3.Connection]:
    """Open a database read-only, closed at the end of the test."""
    opened: list[sqlite3.Connection] = []

    def _connect(path: Path) -> sqlite3.Connection:
        from moviedash.store import connect_readonly

        conn = connect_readonly(path)
        opened.append(conn)
        return conn

    yield _connect
    for conn in opened:
        conn.close()


# --------------------------------------------------------------------------- #
# Dash callback requests, as the renderer sends them (for crafted variants).
# --------------------------------------------------------------------------- #


def server_callbacks(client: Any) -> list[dict[str, Any]]:
    """The app's server-side callbacks, as ``/_dash-dependencies`` lists them."""
    deps = client.get("/_dash-dependencies").get_json()
    return [d for d in deps if not d.get("clientside_function")]


def outputs_of(spec: str) -> list[dict[str, str]] | dict[str, str]:
    """The ``outputs`` of a callback body for the output key ``spec`` (``a.b`` or ``..a.b...c.d..``)."""
    parts = spec.strip(".").split("...") if spec.startswith("..") else [spec]
    outs = []
    for part in parts:
        component, prop = part.rsplit(".", 1)
        outs.append({"id": component, "property": prop.split("@")[0]})
    return outs if spec.startswith("..") else outs[0]


def callback_body(dep: dict[str, Any], values: Mapping[int, object]) -> dict[str, Any]:
    """A well-formed body for callback ``dep``, argument ``n`` (inputs, then state) set to ``values[n]``."""
    inputs = [{**i, "value": values.get(n)} for n, i in enumerate(dep["inputs"])]
    state = [{**s, "value": values.get(len(inputs) + n)} for n, s in enumerate(dep.get("state", []))]
    return {
        "output": dep["output"],
        "outputs": outputs_of(dep["output"]),
        "inputs": inputs,
        "state": state,
        "changedPropIds": [f"{i['id']}.{i['property']}" for i in inputs[:1]],
    }
