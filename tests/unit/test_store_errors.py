"""Engine errors are translated where they happen, into error types that carry their HTTP status."""
from __future__ import annotations

import ast
import sqlite3
import time
from pathlib import Path

import psycopg
import pytest

from moviedash import errors
from moviedash.errors import DatabaseFault, DatabaseUnavailable, MoviedashError, QueryTimeout
from moviedash.store import database_fault
from moviedash.store.sqlite import ServingConnection


def serving(rows: int) -> ServingConnection:
    conn = sqlite3.connect(":memory:", factory=ServingConnection)
    conn.execute("CREATE TABLE t (x INTEGER)")
    conn.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(rows)])
    return conn


def test_the_status_is_on_the_class() -> None:
    assert MoviedashError("bad").status == 400
    assert MoviedashError("gone", status=404).status == 404
    assert QueryTimeout(0.5).status == QueryTimeout.status == 503
    assert QueryTimeout(0.5).to_dict() == {"error": "the query took longer than the limit of 0.5 s and was stopped"}
    assert DatabaseUnavailable("x").status == DatabaseFault("x").status == 503
    assert errors.query_timeout_error(2).message == QueryTimeout(2).message


def test_sqlite_raises_the_query_timeout_itself_when_a_statement_runs_past_the_limit() -> None:
    conn = serving(2_000)
    conn.limit_time(1e-9)
    with pytest.raises(QueryTimeout) as caught:
        conn.execute("SELECT count(*) FROM t a, t b").fetchone()
    assert caught.value.status == 503 and caught.value.limit == 1e-9


def test_sqlite_raises_the_query_timeout_while_rows_are_fetched_too() -> None:
    conn = serving(100_000)
    cursor = conn.execute("SELECT x FROM t ORDER BY x DESC")  # the first row is ready: no interrupt yet
    conn.limit_time(0.001)
    time.sleep(0.01)
    with pytest.raises(QueryTimeout):
        for _ in cursor:
            pass


def test_without_a_limit_the_serving_connection_answers_as_sqlite_does() -> None:
    conn = serving(5)
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (5,)
    assert list(conn.execute("SELECT x FROM t WHERE x < ? ORDER BY x", [2])) == [(0,), (1,)]
    assert conn.execute("SELECT x FROM t ORDER BY x").fetchmany(2) == [(0,), (1,)]
    with pytest.raises(sqlite3.OperationalError, match="no such column"):  # other errors rise unchanged
        conn.execute("SELECT nope FROM t")


@pytest.mark.parametrize(
    "exc", [sqlite3.OperationalError("no such column: minutes"), sqlite3.DatabaseError("file is not a database"),
            psycopg.errors.UndefinedColumn("column minutes does not exist")],
)
def test_engine_errors_become_the_503_database_fault_at_the_store(exc: Exception) -> None:
    fault = database_fault(exc)
    assert isinstance(fault, DatabaseFault) and fault.status == 503
    assert str(exc) in fault.message  # the detail, for the server log
    assert fault.to_dict() == {
        "error": "the database cannot be read: its movies table is not in the form moviedash serves "
        "(load the data with 'moviedash load')"
    }
    assert str(exc) not in fault.public_message


@pytest.mark.parametrize("exc", [RuntimeError("bug"), ValueError("x"), MoviedashError("bad")])
def test_other_errors_are_not_database_faults(exc: Exception) -> None:
    assert database_fault(exc) is None


def test_the_error_module_imports_nothing_of_the_package() -> None:
    tree = ast.parse(Path(errors.__file__).read_text(encoding="utf-8"))
    imported = [node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level]
    imported += [node for node in ast.walk(tree) if isinstance(node, ast.Import)
                 and any(alias.name.startswith("moviedash") for alias in node.names)]
    assert not imported
