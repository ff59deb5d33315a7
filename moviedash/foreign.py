"""The start-up check of a database to serve: is its ``movies`` table in the form moviedash serves?

Databases made by ``moviedash load`` (or ``demo``) are checked row by row as
they are written, and their derived data record it (:mod:`moviedash.rollups`):
they are trusted without a scan.  Others (sqlite's ``.import``, another tool,
rows appended with plain SQL) get one SQL pass over the rows not covered, at
start only: missing columns, event dates that are not ``YYYY-MM-DD`` text
(``12/31/2013``, epoch numbers), dates outside the served range (year 0,
``9999-12-31``) and minutes beyond the loader's limit (sums that overflow)
are refused with one line naming what is wrong.  Rows that appear later are
handled while serving (ignored dates, 503 for a failing sum): never a 500.
"""
from __future__ import annotations

import datetime as dt
import os
import sqlite3

from . import rollups, store
from .errors import MoviedashError
from .params import DATE_MAX, DATE_MIN
from .store import Connection, connect_readonly

#: The columns the dashboard, the JSON routes and the reports read.
SERVED_COLUMNS: tuple[str, ...] = ("event_date", "userid", "totalminuteswatched", "sessiontype", "device", "market",
                                   "title")
#: Characters of an offending value quoted in the message.
EXAMPLE_CHARS = 40

_IS_ISO = (
    "(typeof(event_date) = 'text' AND event_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*' "
    "AND date(event_date) = substr(event_date, 1, 10))"
)
_HAS_DATE = "(event_date IS NOT NULL AND event_date <> '')"
_NOT_ISO = f"({_HAS_DATE} AND NOT {_IS_ISO})"
_OUTSIDE = f"({_IS_ISO} AND (event_date < ? OR event_date >= ?))"
_BAD_MINUTES = f"({rollups.MINUTES} NOT BETWEEN 0 AND {rollups.MAX_MINUTES})"
_SCAN_SQL = f"""
SELECT SUM({_NOT_ISO}), MIN(CASE WHEN {_NOT_ISO} THEN event_date END),
       SUM({_OUTSIDE}), MIN(CASE WHEN {_OUTSIDE} THEN event_date END),
       SUM({_BAD_MINUTES}), MAX(CASE WHEN {_BAD_MINUTES} THEN totalminuteswatched END)
FROM movies WHERE rowid > ?
"""


def _example(value: object) -> str:
    text = repr(value)
    return text if len(text) <= EXAMPLE_CHARS else text[: EXAMPLE_CHARS - 1] + "…"


def _unchecked_from(conn: sqlite3.Connection) -> int | None:
    """The rowid after which rows were not checked by a moviedash load (``None``: all were)."""
    status = rollups.status(conn)
    if status is not None and status.usable:
        return None
    try:
        rows = dict(conn.execute("SELECT key, value FROM md_meta WHERE key IN ('covered', 'exact')").fetchall())
    except sqlite3.OperationalError:  # no derived data: made elsewhere
        return 0
    return int(rows.get("covered") or 0) if rows.get("exact") else 0


def problems(conn: Connection) -> list[str]:
    """What keeps the database's ``movies`` table from being served, in words (empty: nothing)."""
    names = {str(d[0]).lower() for d in conn.execute("SELECT * FROM movies LIMIT 0").description}
    missing = [c for c in SERVED_COLUMNS if c not in names]
    if missing:
        return [f"the movies table lacks the column(s) {', '.join(missing)}"]
    if not isinstance(conn, sqlite3.Connection):
        return []  # PostgreSQL: typed columns and numeric sums; out-of-range dates are never selected
    start = _unchecked_from(conn)
    if start is None:
        return []
    after_last = (DATE_MAX + dt.timedelta(days=1)).isoformat()
    not_iso, not_iso_example, outside, outside_example, bad_minutes, minutes_example = conn.execute(
        _SCAN_SQL, (DATE_MIN.isoformat(), after_last, DATE_MIN.isoformat(), after_last, start)
    ).fetchone()
    found = []
    if not_iso:
        found.append(f"{not_iso:,} event date(s) are not YYYY-MM-DD dates (e.g. {_example(not_iso_example)})")
    if outside:
        found.append(f"{outside:,} event date(s) are outside {DATE_MIN.isoformat()} to {DATE_MAX.isoformat()} "
                     f"(e.g. {_example(outside_example)})")
    if bad_minutes:
        found.append(f"{bad_minutes:,} totalminuteswatched value(s) are not whole minutes from 0 to "
                     f"{rollups.MAX_MINUTES:,} (e.g. {_example(minutes_example)})")
    return found


def check(conn: Connection, display: str) -> None:
    """Raise a one-line :class:`MoviedashError` (503) when ``problems`` finds any."""
    found = problems(conn)
    if found:
        raise MoviedashError(
            f"cannot serve {display}: {'; '.join(found)}. Load the data with 'moviedash load', which checks every row",
            status=503,
        )


def check_database(db: str | os.PathLike[str]) -> None:
    """Open ``db`` read-only and :func:`check` it (``serve``, ``create_app``)."""
    conn = connect_readonly(db)
    try:
        check(conn, store.parse(db).display)
    finally:
        conn.close()
