"""Users, API tokens and the session secret: where they are kept and how they are checked.

They are kept in the database itself (tables ``moviedash_users``,
``moviedash_tokens`` and ``moviedash_secret``, on SQLite and PostgreSQL alike)
or, with ``--auth-file PATH`` / ``MOVIEDASH_AUTH_FILE``, in a small SQLite file
of their own, so that the database can stay untouched.

The command line writes (:class:`Store`; it creates the tables on demand),
serving only reads (the ``read_*`` functions, over the request's read-only
connection).  Passwords are stored as argon2id hashes; a token is 256 random
bits, so a SHA-256 of it is enough (nothing to guess, nothing to slow down).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import secrets
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import psycopg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..errors import MoviedashError
from ..store import (
    POSTGRES_DIALECT,
    check_exists,
    connect_readonly,
    dialect_of,
    postgres,
)
from ..store import parse as parse_target

#: User and token names: case-insensitive (kept in lower case), no spaces or markup.
NAME_RE = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")
MIN_PASSWORD = 8
#: Longer passwords are refused (hashing megabytes per attempt would be a denial of service).
MAX_PASSWORD = 1024
#: Tokens start with this, so secret scanners and people recognise them.
TOKEN_PREFIX = "mdt_"

USERS, TOKENS, SECRET = "moviedash_users", "moviedash_tokens", "moviedash_secret"

#: The same statements on both backends.
SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {USERS} "
    "(name text PRIMARY KEY, password_hash text NOT NULL, created_at text NOT NULL)",
    f"CREATE TABLE IF NOT EXISTS {TOKENS} "
    "(name text PRIMARY KEY, token_hash text NOT NULL UNIQUE, created_at text NOT NULL)",
    f"CREATE TABLE IF NOT EXISTS {SECRET} (id integer PRIMARY KEY CHECK (id = 1), secret text NOT NULL)",
)

_HASHER = PasswordHasher()
#: Verified against when the user does not exist, so an unknown name takes as long as a wrong password.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


class Reader(Protocol):
    """A connection with sqlite3's ``execute(sql, params)``.

    sqlite3's, or :class:`moviedash.store.postgres.PgConnection`.
    """

    def execute(self, sql: str, params: Sequence[Any] = ...) -> Any: ...


def normalise_name(name: str, what: str = "user name") -> str:
    """``name`` in lower case, or a :class:`MoviedashError` saying what a name may be."""
    folded = name.strip().lower()
    if not NAME_RE.fullmatch(folded):
        raise MoviedashError(
            f"invalid {what} {name!r}: 1-64 characters of a-z, 0-9 and . _ @ - (starting with a letter or digit)",
            parameter="name",
        )
    return folded


def check_password(password: str) -> None:
    """Refuse empty, too short and too long passwords."""
    if not password:
        raise MoviedashError("the password is empty", parameter="password")
    if len(password) < MIN_PASSWORD:
        raise MoviedashError(f"the password is too short: at least {MIN_PASSWORD} characters", parameter="password")
    if len(password) > MAX_PASSWORD:
        raise MoviedashError(f"the password is too long: at most {MAX_PASSWORD} characters", parameter="password")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """True when ``password`` matches ``stored``; ``stored`` None (no such user) costs the same time."""
    try:
        return _HASHER.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def fingerprint(password_hash: str) -> str:
    """A short digest of a password hash, kept in the session: a new password ends old sessions."""
    return hashlib.sha256(password_hash.encode("utf-8")).hexdigest()[:16]


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


# --------------------------------------------------------------------------- #
# Reading (serving): over any connection with ``execute(sql, params)``.
# --------------------------------------------------------------------------- #


def read_tables_exist(conn: Reader) -> bool:
    """True when the sign-in tables exist (the CLI made them)."""
    if dialect_of(conn).name == "postgresql":
        return bool(conn.execute(f"SELECT to_regclass('{USERS}') IS NOT NULL").fetchone()[0])
    found = conn.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN (?, ?, ?)", [USERS, TOKENS, SECRET]
    ).fetchone()[0]
    return found == 3


def read_counts(conn: Reader) -> tuple[int, int]:
    """How many users and tokens exist (0, 0 without the tables)."""
    if not read_tables_exist(conn):
        return 0, 0
    row = conn.execute(f"SELECT (SELECT count(*) FROM {USERS}), (SELECT count(*) FROM {TOKENS})", []).fetchone()
    return int(row[0]), int(row[1])


def read_has_accounts(conn: Reader) -> bool:
    """True when any user or token exists: then every page and route needs credentials."""
    if not read_tables_exist(conn):
        return False
    row = conn.execute(f"SELECT EXISTS (SELECT 1 FROM {USERS}) OR EXISTS (SELECT 1 FROM {TOKENS})", []).fetchone()
    return bool(row[0])


def read_password_hash(conn: Reader, name: str) -> str | None:
    if not read_tables_exist(conn):
        return None
    row = conn.execute(f"SELECT password_hash FROM {USERS} WHERE name = ?", [name]).fetchone()
    return row[0] if row else None


def read_token_name(conn: Reader, token: str) -> str | None:
    """The name of the token ``token`` (None when unknown or revoked)."""
    if not token.startswith(TOKEN_PREFIX) or not read_tables_exist(conn):
        return None
    row = conn.execute(f"SELECT name FROM {TOKENS} WHERE token_hash = ?", [hash_token(token)]).fetchone()
    return row[0] if row else None


def read_secret(conn: Reader) -> str | None:
    if not read_tables_exist(conn):
        return None
    row = conn.execute(f"SELECT secret FROM {SECRET} WHERE id = 1", []).fetchone()
    return row[0] if row else None


def connect_auth_file(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """A read-only connection to an auth file (for serving)."""
    file = Path(path)
    if not file.is_file():
        raise MoviedashError(
            f"auth file not found: {path}. Create it with 'moviedash users add NAME --auth-file {path}'", status=503
        )
    try:
        return sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
    except sqlite3.Error as exc:
        raise MoviedashError(f"cannot read the auth file {path}: {exc}", status=503) from None


@contextmanager
def reader(db: str | os.PathLike[str], auth_file: str | os.PathLike[str] | None) -> Iterator[Reader]:
    """A read-only connection to where the accounts are kept (outside a request)."""
    if auth_file:
        conn: Any = connect_auth_file(auth_file)
    else:
        conn = connect_readonly(db)
    try:
        yield conn
    finally:
        conn.close()


# --------------------------------------------------------------------------- #
# Writing (the command line).
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Entry:
    """A user or a token as listed: its name and when it was made."""

    name: str
    created_at: str


class Store:
    """A write connection to where the accounts are kept: the database, or an auth file.

    Use :meth:`open`; every change is one committed transaction.
    """

    def __init__(self, conn: Any, display: str, postgres: bool) -> None:
        self.conn = conn
        self.display = display
        self.postgres = postgres

    @classmethod
    @contextmanager
    def open(cls, db: str, auth_file: str | os.PathLike[str] | None = None) -> Iterator[Store]:
        """The store in ``auth_file`` (created if missing) or else in the existing database ``db``."""
        if auth_file:
            path = Path(auth_file)
            if not path.parent.is_dir():
                raise MoviedashError(f"folder does not exist: {path.parent}")
            try:
                conn: Any = sqlite3.connect(path, isolation_level=None, timeout=30)
            except sqlite3.Error as exc:
                raise MoviedashError(f"cannot open the auth file {auth_file}: {exc}") from None
            store = cls(conn, str(auth_file), postgres=False)
        else:
            target = parse_target(check_exists(db))  # a database to add users to must exist
            if target.is_postgres:
                store = cls(postgres.connect(target.location), target.display, postgres=True)
            else:
                conn = sqlite3.connect(
                    f"{target.path.resolve().as_uri()}?mode=rw", uri=True, isolation_level=None, timeout=30
                )
                store = cls(conn, target.display, postgres=False)
        try:
            yield store
        finally:
            store.conn.close()

    # -- plumbing ---------------------------------------------------------
    def _execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        if self.postgres:
            return self.conn.execute(postgres.translate(sql), list(params))
        return self.conn.execute(sql, list(params))

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One committed transaction; any database error becomes a one-line :class:`MoviedashError`."""
        if not self.postgres:
            self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except (sqlite3.Error, psycopg.Error) as exc:
            self.conn.rollback() if self.postgres else self.conn.execute("ROLLBACK")
            message = " ".join(str(exc).split())
            raise MoviedashError(f"cannot change the sign-in tables in {self.display}: {message}") from None
        except BaseException:
            self.conn.rollback() if self.postgres else self.conn.execute("ROLLBACK")
            raise
        self.conn.commit() if self.postgres else self.conn.execute("COMMIT")

    def _ensure_schema(self) -> None:
        """Create the tables and the session secret if missing (inside a transaction)."""
        for statement in SCHEMA:
            self._execute(statement)
        self._execute(
            f"INSERT INTO {SECRET} (id, secret) VALUES (1, ?) ON CONFLICT (id) DO NOTHING", [secrets.token_urlsafe(48)]
        )

    def _tables_exist(self) -> bool:
        return read_tables_exist(_Adapter(self))

    # -- users --------------------------------------------------------------
    def add_user(self, name: str, password: str) -> str:
        """Add ``name`` with ``password``; returns the stored (lower-case) name."""
        name = normalise_name(name)
        check_password(password)
        hashed = hash_password(password)
        with self._transaction():
            self._ensure_schema()
            if self._execute(f"SELECT 1 FROM {USERS} WHERE name = ?", [name]).fetchone():
                raise MoviedashError(f"user {name!r} already exists in {self.display}")
            self._execute(
                f"INSERT INTO {USERS} (name, password_hash, created_at) VALUES (?, ?, ?)", [name, hashed, _now()]
            )
        return name

    def users(self) -> list[Entry]:
        return self._list(USERS)

    def remove_user(self, name: str) -> str:
        name = normalise_name(name)
        self._delete(USERS, name, "user")
        return name

    # -- tokens ---------------------------------------------------------------
    def create_token(self, name: str) -> str:
        """Make token ``name``; returns the token itself (only its hash is stored)."""
        name = normalise_name(name, "token name")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._transaction():
            self._ensure_schema()
            if self._execute(f"SELECT 1 FROM {TOKENS} WHERE name = ?", [name]).fetchone():
                raise MoviedashError(f"token {name!r} already exists in {self.display}; revoke it first")
            self._execute(
                f"INSERT INTO {TOKENS} (name, token_hash, created_at) VALUES (?, ?, ?)",
                [name, hash_token(token), _now()],
            )
        return token

    def tokens(self) -> list[Entry]:
        return self._list(TOKENS)

    def revoke_token(self, name: str) -> str:
        name = normalise_name(name, "token name")
        self._delete(TOKENS, name, "token")
        return name

    # -- shared -----------------------------------------------------------------
    def _list(self, table: str) -> list[Entry]:
        with self._transaction():
            if not self._tables_exist():
                return []
            rows = self._execute(f"SELECT name, created_at FROM {table} ORDER BY name").fetchall()
        return [Entry(*row) for row in rows]

    def _delete(self, table: str, name: str, what: str) -> None:
        with self._transaction():
            found = self._tables_exist() and self._execute(f"DELETE FROM {table} WHERE name = ?", [name]).rowcount
            if not found:
                raise MoviedashError(f"no {what} {name!r} in {self.display}")


class _Adapter:
    """A :class:`Store` seen as a :class:`Reader` (``?`` placeholders, a dialect)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        if store.postgres:
            self.dialect = POSTGRES_DIALECT

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._store._execute(sql, params)
