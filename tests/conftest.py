"""Shared fixtures: databases built from small, hand-written, deterministic rows."""
from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest

from moviedash.db import COLUMNS, connect_readwrite, insert_rows, refresh_derived


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


def build_db(path: Path, events: Iterable[Mapping[str, Any]]) -> Path:
    """Write ``events`` into a new moviedash database at ``path`` and return the path."""
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
def make_db(tmp_path: Path) -> Callable[..., Path]:
    """``make_db(events, name="t.db")`` builds a database in the test's temp folder."""

    def make(events: Iterable[Mapping[str, Any]], name: str = "t.db") -> Path:
        return build_db(tmp_path / name, events)

    return make


@pytest.fixture
def connect() -> Callable[[Path], sqlite3.Connection]:
    """Open a database read-only, closed at the end of the test."""
    opened: list[sqlite3.Connection] = []

    def _connect(path: Path) -> sqlite3.Connection:
        from moviedash.db import connect_readonly

        conn = connect_readonly(path)
        opened.append(conn)
        return conn

    yield _connect
    for conn in opened:
        conn.close()
