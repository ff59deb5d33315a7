"""The course's table and moviedash's load ledger: columns, DDL and the insert statement.

Shared by both engines: PostgreSQL's own DDL (:mod:`moviedash.store.postgres`)
keeps the same columns in the same order.
"""
from __future__ import annotations

from ..shows import SHOWS_DDL  # the CSV-named shows: a plain table of the base schema, on both backends

#: The course's table, unchanged in name, columns and order.
COLUMNS: tuple[str, ...] = (
    "event_date",
    "userid",
    "contentid",
    "device",
    "market",
    "totalminuteswatched",
    "runningtime",
    "viewpercentage",
    "errorperception",
    "sessiontype",
    "title",
    "seasonnumber",
    "episodenumber",
)

#: Columns stored as integers and as reals (the rest are text, ``event_date`` a timestamp).
INTEGER_COLUMNS: tuple[str, ...] = ("totalminuteswatched", "runningtime", "seasonnumber", "episodenumber")
REAL_COLUMNS: tuple[str, ...] = ("viewpercentage", "errorperception")

#: The load ledger, written with ``?`` placeholders (``pg`` translates them).
LEDGER_LOOKUP_SQL = "SELECT filename, loaded_at FROM moviedash_loads WHERE sha256 = ? ORDER BY id DESC LIMIT 1"
LEDGER_INSERT_SQL = "INSERT INTO moviedash_loads (sha256, filename, rows, rejected, loaded_at) VALUES (?, ?, ?, ?, ?)"

#: The database-level data-quality settings (:mod:`moviedash.settings`): one JSON value per key.
SETTINGS_DDL = "CREATE TABLE IF NOT EXISTS moviedash_settings (key text PRIMARY KEY, value text NOT NULL)"

SCHEMA = """
CREATE TABLE IF NOT EXISTS movies (
    event_date timestamp,
    userid text,
    contentid text,
    device text,
    market text,
    totalminuteswatched integer,
    runningtime integer,
    viewpercentage real,
    errorperception real,
    sessiontype text,
    title text,
    seasonnumber integer,
    episodenumber integer
);
-- One row per imported file: refuses a second import of the same content.
CREATE TABLE IF NOT EXISTS moviedash_loads (
    id integer PRIMARY KEY,
    sha256 text NOT NULL,
    filename text NOT NULL,
    rows integer NOT NULL,
    rejected integer NOT NULL,
    loaded_at text NOT NULL
);
CREATE INDEX IF NOT EXISTS moviedash_loads_sha256 ON moviedash_loads(sha256);
""" + SETTINGS_DDL + ";\n" + SHOWS_DDL + ";\n"

INSERT_SQL = f"INSERT INTO movies ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
