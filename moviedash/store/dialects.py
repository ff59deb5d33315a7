"""Dialects as data: the SQL fragments that differ between SQLite and PostgreSQL.

Everything above :mod:`moviedash.store` writes one SQL text with ``?``
placeholders and asks the connection's dialect for the fragments that differ
(date bucketing, weekday and hour extraction), as Superset's engine specs do
for time grains.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SQLiteDialect:
    """SQL fragments that are specific to SQLite."""

    name: str = "sqlite"
    #: Appended to CREATE TABLE of the derived tables: store rows in primary-key order.
    clustered_suffix: str = " WITHOUT ROWID"
    #: One row, one column: whether the table named by the parameter exists (asked, not tried).
    table_exists_sql: str = "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?)"

    def bucket(self, resolution: str, column: str = "event_date") -> str:
        """An expression giving the period label ``YYYY-MM-DD`` of ``column``.

        Weeks start on Monday: ``weekday 0`` moves forward to the coming Sunday
        (or stays on a Sunday), ``-6 days`` then lands on that week's Monday.
        (The often copied ``'weekday 1', '-7 days'`` is wrong on Mondays.)
        """
        if resolution == "daily":
            return f"date({column})"
        if resolution == "weekly":
            return f"date({column}, 'weekday 0', '-6 days')"
        if resolution == "monthly":
            return f"date({column}, 'start of month')"
        raise ValueError(f"unknown resolution {resolution!r}")

    def bucket_key(self, resolution: str, column: str = "event_date") -> str:
        """What to GROUP BY and ORDER BY for :meth:`bucket` (here: the label itself)."""
        return self.bucket(resolution, column)

    def weekday(self, column: str = "event_date") -> str:
        """Day of week, 0 = Monday ... 6 = Sunday."""
        return f"((CAST(strftime('%w', {column}) AS integer) + 6) % 7)"

    def hour(self, column: str = "event_date") -> str:
        """Hour of day, 0-23."""
        return f"CAST(strftime('%H', {column}) AS integer)"

    def has_date(self, column: str = "event_date") -> str:
        """A condition true where ``column`` holds a date.

        A database imported with sqlite's ``.import`` stores an empty field as ''.
        """
        return f"{column} IS NOT NULL AND {column} <> ''"


@dataclass(frozen=True)
class PostgresDialect:
    """The same fragments for PostgreSQL, giving identical values.

    ``event_date`` is a ``timestamp``; labels are formatted to the same
    ``YYYY-MM-DD`` text, and ``date_trunc('week', ...)`` is Monday-based like
    the SQLite expression.
    """

    name: str = "postgresql"
    clustered_suffix: str = ""
    #: A table this role may not read counts as absent (a least-privilege reader or loader).
    table_exists_sql: str = "SELECT COALESCE(has_table_privilege(to_regclass(CAST(? AS text)), 'SELECT'), false)"

    def bucket(self, resolution: str, column: str = "event_date") -> str:
        """The period label ``YYYY-MM-DD`` of ``column`` (weeks start on Monday)."""
        if resolution == "daily":
            return f"to_char(date_trunc('day', {column}), 'YYYY-MM-DD')"
        if resolution == "weekly":
            return f"to_char(date_trunc('week', {column}), 'YYYY-MM-DD')"
        if resolution == "monthly":
            return f"to_char(date_trunc('month', {column}), 'YYYY-MM-DD')"
        raise ValueError(f"unknown resolution {resolution!r}")

    def bucket_key(self, resolution: str, column: str = "event_date") -> str:
        """What to GROUP BY and ORDER BY for :meth:`bucket`: the truncated timestamp.

        Grouping on the timestamp and formatting once per group is ~20 % faster
        than formatting every row; the order is the same (labels are ISO dates).
        """
        unit = {"daily": "day", "weekly": "week", "monthly": "month"}.get(resolution)
        if unit is None:
            raise ValueError(f"unknown resolution {resolution!r}")
        return f"date_trunc('{unit}', {column})"

    def weekday(self, column: str = "event_date") -> str:
        """Day of week, 0 = Monday ... 6 = Sunday (ISO day of week minus one)."""
        return f"(CAST(EXTRACT(isodow FROM {column}) AS integer) - 1)"

    def hour(self, column: str = "event_date") -> str:
        """Hour of day, 0-23."""
        return f"CAST(EXTRACT(hour FROM {column}) AS integer)"

    def has_date(self, column: str = "event_date") -> str:
        """A condition true where ``column`` holds a date (a timestamp cannot be '')."""
        return f"{column} IS NOT NULL"


Dialect = SQLiteDialect | PostgresDialect
DIALECT = SQLiteDialect()
POSTGRES_DIALECT = PostgresDialect()


def dialect_of(conn: object) -> Dialect:
    """The dialect of an open connection (PostgreSQL connections carry theirs)."""
    return getattr(conn, "dialect", DIALECT)
