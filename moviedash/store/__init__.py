"""The only code that knows a database engine: targets, dialects, schema, connections, bulk writes.

Everything above talks to a :data:`Connection` (``execute(sql, params)`` with
``?`` placeholders) and asks :func:`dialect_of` for the SQL that differs
between SQLite and PostgreSQL.  Engine-specific work (bulk ``COPY``, WAL
checkpoints, whole-file builds) is in :mod:`.sqlite` and :mod:`.postgres`,
which callers name explicitly.
"""
from . import postgres, sqlite
from .connection import (
    Connection,
    Cursor,
    Queryable,
    check_deadline,
    check_exists,
    connect_readonly,
    database_fault,
    set_deadline,
    write_transaction,
)
from .dialects import (
    DIALECT,
    POSTGRES_DIALECT,
    Dialect,
    PostgresDialect,
    SQLiteDialect,
    dialect_of,
)
from .partitions import add_month_partitions
from .schema import (
    COLUMNS,
    INSERT_SQL,
    INTEGER_COLUMNS,
    LEDGER_INSERT_SQL,
    LEDGER_LOOKUP_SQL,
    REAL_COLUMNS,
    SCHEMA,
    SETTINGS_DDL,
)
from .target import Target, is_postgres, parse, redact

__all__ = [
    "COLUMNS", "DIALECT", "INSERT_SQL", "INTEGER_COLUMNS", "LEDGER_INSERT_SQL", "LEDGER_LOOKUP_SQL",
    "POSTGRES_DIALECT", "REAL_COLUMNS", "SCHEMA", "SETTINGS_DDL", "Connection", "Cursor", "Dialect", "PostgresDialect",
    "Queryable", "SQLiteDialect", "Target", "add_month_partitions", "check_deadline", "check_exists",
    "connect_readonly",
    "database_fault", "dialect_of", "is_postgres", "parse", "postgres", "redact", "set_deadline", "sqlite",
    "write_transaction",
]
