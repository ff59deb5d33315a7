"""SQLite: read-only serving connections, read-write loading connections, whole-file builds.

Serving opens SQLite read-only through a URI (``mode=ro``) so a bug in the web
layer can never write; loading opens it read-write in WAL mode so an import can
run while the dashboard serves.  Every value reaches SQL as a bound parameter.
"""
from __future__ import annotations

import os
import secrets
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from ..errors import DatabaseNotFound, DatabaseUnavailable, MoviedashError, QueryTimeout
from . import target
from .schema import INSERT_SQL, SCHEMA


def resolve_path(path: str | os.PathLike[str]) -> Path:
    """Accept a plain path or a ``sqlite:///path`` URL."""
    return target.parse(path).path


def _uri(path: Path, mode: str) -> str:
    return f"file:{quote(str(path.resolve()))}?mode={mode}"


#: SQLite virtual-machine instructions between deadline checks (cheap, ~ms granularity).
PROGRESS_STEPS = 10_000

T = TypeVar("T")


class ServingConnection(sqlite3.Connection):
    """A read-only connection that lives for one request (or one figures-API call).

    ``memo`` keeps results that cannot change for such a short-lived reader
    (the data's span), so the callbacks and pipeline steps of one request do
    not scan the table for them again.

    With :meth:`limit_time`, a statement still running at the deadline is
    interrupted and raises :class:`QueryTimeout` (503) from ``execute`` or from
    fetching its rows, as PostgreSQL's ``statement_timeout`` does for
    :class:`moviedash.store.postgres.PgConnection`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.memo: dict[str, object] = {}
        self.limit: float | None = None

    def limit_time(self, seconds: float) -> None:
        """Interrupt any statement still running ``seconds`` from now (the request's time limit)."""
        deadline = time.monotonic() + seconds
        self.limit = seconds
        # A non-zero return interrupts the running statement (sqlite3.OperationalError "interrupted").
        self.set_progress_handler(lambda: time.monotonic() > deadline, PROGRESS_STEPS)

    def translated(self, step: Callable[[], T]) -> T:
        """``step()``, with SQLite's interrupt by the time limit raised as :class:`QueryTimeout`."""
        try:
            return step()
        except sqlite3.OperationalError as exc:
            if self.limit is not None and str(exc) == "interrupted":
                raise QueryTimeout(self.limit) from None
            raise

    def execute(self, sql: str, parameters: Any = (), /) -> ServingCursor:
        cursor = self.cursor(ServingCursor)
        self.translated(lambda: sqlite3.Cursor.execute(cursor, sql, parameters))
        return cursor


class ServingCursor(sqlite3.Cursor):
    """A cursor of :class:`ServingConnection`: fetching rows may meet the time limit too."""

    connection: ServingConnection

    def fetchone(self) -> Any:
        return self.connection.translated(super().fetchone)

    def fetchmany(self, size: int | None = 1) -> list[Any]:
        return self.connection.translated(lambda: sqlite3.Cursor.fetchmany(self, size))

    def fetchall(self) -> list[Any]:
        return self.connection.translated(super().fetchall)

    def __iter__(self) -> ServingCursor:
        return self

    def __next__(self) -> Any:
        return self.connection.translated(super().__next__)


def connect_readonly(path: str | os.PathLike[str]) -> ServingConnection:
    """Open an existing SQLite database read-only, for serving.

    Raises :class:`DatabaseNotFound` (and creates nothing) when the file is
    missing, :class:`DatabaseUnavailable` when it is a folder, not a SQLite
    file or has no ``movies`` table.
    """
    db_path = resolve_path(path)
    if db_path.is_dir():
        raise DatabaseUnavailable(f"{path} is a folder, not a database file")
    if not db_path.is_file():
        raise DatabaseNotFound(str(path))
    try:
        conn = sqlite3.connect(_uri(db_path, "ro"), uri=True, check_same_thread=False, factory=ServingConnection)
    except sqlite3.Error as exc:
        raise not_a_database(path, exc) from None
    try:
        conn.execute("SELECT 1 FROM movies LIMIT 0")
    except sqlite3.Error as exc:
        conn.close()
        if "no such table" in str(exc):
            raise DatabaseUnavailable(
                f"cannot read database {path}: it has no movies table (not a moviedash database)"
            ) from None
        raise not_a_database(path, exc) from None
    return conn


#: Page size of databases moviedash creates (an existing file keeps its own).
PAGE_SIZE = 16384


def not_a_database(path: str | os.PathLike[str], exc: sqlite3.Error) -> MoviedashError:
    """The one-line error for a ``--db`` SQLite cannot use (another kind of file, unreadable)."""
    if isinstance(exc, sqlite3.DatabaseError) and "not a database" in str(exc):
        return DatabaseUnavailable(f"cannot read database {path}: it is not a SQLite database")
    return DatabaseUnavailable(f"cannot read database {path}: {exc}")


def connect_readwrite(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """Open (or make) a database for loading, in WAL mode with the schema."""
    db_path = resolve_path(path)
    if not db_path.parent.is_dir():
        raise MoviedashError(f"folder does not exist: {db_path.parent}")
    if db_path.is_dir():
        raise MoviedashError(f"{path} is a folder, not a database file")
    # isolation_level=None: we issue BEGIN/COMMIT ourselves, so one import is
    # exactly one transaction.
    conn = sqlite3.connect(db_path, isolation_level=None, timeout=30)
    try:
        # A new file gets 16 KiB pages (fewer page splits and B-tree levels: bulk
        # inserts and full scans ~10% faster than with 4 KiB).  It must be set
        # before WAL mode, which fixes the page size.
        conn.execute(f"PRAGMA page_size={PAGE_SIZE}")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.executescript(SCHEMA)
    except sqlite3.Error as exc:
        conn.close()
        raise not_a_database(path, exc) from None
    return conn


def sidecars(path: Path) -> tuple[Path, ...]:
    """The files SQLite keeps next to a database."""
    return tuple(path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal"))


class NewDatabase:
    """A database built whole in a temporary file next to ``target``, then put in its place.

    Used when there is no database yet (``moviedash load`` into a new file) or
    it is replaced whole (``moviedash demo``).  Why: the temporary file is
    discarded on any failure, so it needs no journal: rows go straight into the
    file instead of into the WAL and then again into the file at the commit
    (a 10M-row load writes 1.6 GB once instead of twice), and ``target`` is
    never a half-written database, whatever happens to the process.
    """

    def __init__(self, target: Path) -> None:
        if not target.parent.is_dir():
            raise MoviedashError(f"folder does not exist: {target.parent}")
        self.target = target
        # A name of our own (not mkstemp, whose file would keep mode 0600):
        # SQLite creates it with the usual permissions.
        self.temp = target.parent / f".{target.name}.{os.getpid()}.{secrets.token_hex(6)}.tmp"

    def connect(self) -> sqlite3.Connection:
        """A read-write connection to the temporary file, schema created, no journal."""
        conn = connect_readwrite(self.temp)
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")  # the fsync comes once, in place()
        conn.execute("PRAGMA cache_size=-65536")
        return conn

    def place(self, conn: sqlite3.Connection, *, replace: bool) -> None:
        """After the commit: back to WAL mode, fsync, and move onto ``target``.

        With ``replace`` an existing ``target`` is replaced; without, the move
        fails (and nothing is written) if another process created ``target``
        in the meantime.
        """
        conn.close()
        # A fresh connection: one that used temporary tables cannot change the journal mode.
        wal = sqlite3.connect(self.temp, isolation_level=None)
        try:
            wal.execute("PRAGMA journal_mode=WAL")
            wal.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            wal.close()
        with open(self.temp, "rb+") as handle:
            os.fsync(handle.fileno())
        if replace:
            for sidecar in sidecars(self.target):
                sidecar.unlink(missing_ok=True)
            os.replace(self.temp, self.target)
        else:
            try:
                os.link(self.temp, self.target)  # unlike rename, refuses to overwrite
            except FileExistsError:
                raise MoviedashError(
                    f"{self.target} was created by another process during the load; nothing loaded"
                ) from None  # the caller's discard() removes the temporary file
        self.discard()

    def discard(self) -> None:
        """Remove the temporary file and its sidecars (if still there)."""
        for leftover in (self.temp, *sidecars(self.temp)):
            leftover.unlink(missing_ok=True)


def checkpoint(conn: sqlite3.Connection) -> None:
    """Copy the WAL into the database file and empty it, after a load has committed.

    Why: with a dashboard serving, the commit's own checkpoint cannot finish
    (readers hold older snapshots) and read-only connections never checkpoint,
    so the WAL would stay as large as the import, and every new connection
    would rebuild its index by reading all of it (60 ms per request after a
    1M-row import, against 2 ms).  ``TRUNCATE`` waits (busy timeout) for the
    readers of older snapshots, which finish within a request.
    """
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def insert_rows(conn: sqlite3.Connection, rows) -> None:  # rows: Iterable[Sequence[object]]
    """Bulk-insert event rows (tuples in :data:`COLUMNS` order) on an open transaction."""
    conn.executemany(INSERT_SQL, rows)
