"""Which database a ``--db`` value names: a SQLite file or a PostgreSQL server.

``--db`` / ``MOVIEDASH_DB`` accepts

* a path, or ``sqlite:///path`` (SQLite, the embedded default);
* ``postgresql://user:pass@host:5432/dbname`` -- also ``postgres://`` and
  SQLAlchemy's ``postgresql+psycopg://`` -- with libpq's query parameters
  (``?host=/run/postgresql`` for a Unix socket, ``sslmode``, ``options``...).

Nothing here connects; this module only parses and redacts, so the CLI and the
factory can decide early which backend to use and never show a password.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..errors import MoviedashError

#: URL schemes meaning PostgreSQL (``+psycopg`` is SQLAlchemy's spelling of the driver).
POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg3")


@dataclass(frozen=True)
class Target:
    """A parsed ``--db`` value: ``kind`` is ``"sqlite"`` or ``"postgresql"``.

    For SQLite ``location`` is the file path; for PostgreSQL it is the libpq
    connection URL (scheme ``postgresql://``, password included -- never print
    it: use :attr:`display`).
    """

    kind: str
    location: str
    display: str

    @property
    def is_postgres(self) -> bool:
        return self.kind == "postgresql"

    @property
    def path(self) -> Path:
        """The SQLite file (only for ``kind == "sqlite"``)."""
        if self.is_postgres:
            raise ValueError("a PostgreSQL target has no file path")
        return Path(self.location)


def _scheme(text: str) -> str:
    head, sep, _ = text.partition("://")
    return head.lower() if sep else ""


def is_postgres(db: str | os.PathLike[str]) -> bool:
    """True when ``db`` is a PostgreSQL URL (a cheap check, no parsing errors)."""
    return _scheme(os.fspath(db)) in POSTGRES_SCHEMES


def redact(url: str) -> str:
    """``url`` with its password (in the user part or a ``password=`` parameter) shown as ``***``."""
    parts = urlsplit(url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if at and ":" in userinfo:
        parts = parts._replace(netloc=f"{userinfo.partition(':')[0]}:***@{hostport}")
    if parts.query:
        query = "&".join(
            "password=***" if field.partition("=")[0].lower() == "password" else field
            for field in parts.query.split("&")
        )
        parts = parts._replace(query=query)
    # Not urlunsplit: it drops the empty host of "postgresql:///db?host=/socket".
    text = f"{parts.scheme}://{parts.netloc}{parts.path}"
    return text + (f"?{parts.query}" if parts.query else "") + (f"#{parts.fragment}" if parts.fragment else "")


def password(url: str) -> str | None:
    """The password in ``url`` (user part or ``password=`` parameter), to keep it out of messages."""
    parts = urlsplit(url)
    for field in parts.query.split("&"):
        key, _, value = field.partition("=")
        if key.lower() == "password" and value:
            return unquote(value)
    userinfo, at, _ = parts.netloc.rpartition("@")
    if at and ":" in userinfo:
        return unquote(userinfo.partition(":")[2]) or None
    return None


#: One host of a URL's host list: a name or a bracketed IPv6 address, and an optional port.
_HOST_RE = re.compile(r"(?:\[[0-9A-Fa-f:.%\w]*\]|[^\[\]:]*)(?::(?P<port>[^:]*))?")


def check_url(url: str) -> None:
    """Raise :class:`MoviedashError` for a PostgreSQL URL that cannot be parsed.

    The message never repeats the URL (it may hold a password).  libpq's host
    lists (``host1:5432,host2:5433``) are accepted; each port must be a number.
    """
    expected = "expected postgresql://user:pass@host:5432/dbname"
    try:
        netloc = urlsplit(url).netloc
    except ValueError as exc:
        raise MoviedashError(f"the PostgreSQL URL is malformed ({exc}); {expected}", parameter="db") from None
    for host in netloc.rpartition("@")[2].split(","):
        match = _HOST_RE.fullmatch(host)
        port = match and match.group("port")
        if match is None or (port is not None and not (port.isdigit() and 1 <= int(port) <= 65535)):
            raise MoviedashError(
                f"the PostgreSQL URL is malformed (a host or port is not valid); {expected}", parameter="db"
            )


def parse(db: str | os.PathLike[str]) -> Target:
    """Classify and normalise a ``--db`` value; :class:`MoviedashError` for a malformed URL."""
    text = os.fspath(db)
    scheme = _scheme(text)
    if scheme in POSTGRES_SCHEMES:
        # libpq understands postgresql:// and postgres:// but not the driver suffix.
        url = "postgresql://" + text.split("://", 1)[1]
        check_url(url)
        return Target("postgresql", url, redact(url))
    text = text.removeprefix("sqlite:///")
    return Target("sqlite", text, text)
