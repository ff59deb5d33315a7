"""Month partitions, created by loads before the rows they hold arrive (where the dialect partitions)."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .dialects import Dialect


def add_month_partitions(conn: Any, dialect: Dialect, table: str, column: str, months: Iterable[str]) -> None:
    """Create ``table``'s missing month partitions for ``months`` (``YYYY-MM``), where the dialect partitions.

    Before the rows arrive: a month's rows in the default partition forbid
    creating its partition later (then that month stays in the default one).
    Asked first, because creating a partition locks its parent against readers
    until commit.  ``conn`` needs only ``execute(sql)``: a psycopg connection or a
    :class:`PgConnection`.  A month that is not a date is left to the default partition.
    """
    if not dialect.partitioned:
        return
    for month in sorted(set(months)):
        try:
            create = dialect.month_partition(table, column, month)
        except ValueError:
            continue
        if conn.execute(dialect.month_partition_allowed(table, month)).fetchone()[0] and not conn.execute(
            dialect.month_rows(table, column, month)
        ).fetchone()[0]:
            conn.execute(create)
