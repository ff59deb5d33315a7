"""Shared fixtures: databases built from small, hand-written, deterministic rows.

Tests that take ``make_db`` (or ``db_target``/``backend``) run twice, on SQLite
and on PostgreSQL, unless marked ``sqlite_only`` (tests of what only SQLite
has: files, WAL, the progress handler, derived tables, ``.import`` databases).
The PostgreSQL server is ``MOVIEDASH_TEST_PG`` (a URL; ``scripts/test.sh``
starts a throwaway cluster and sets it).  Without it the PostgreSQL variants
are skipped locally, and fail under ``CI=true``: they must run in CI.
"""
from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import BACKENDS, PG_ENV, build_db, close_pg_pools, with_database


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


