"""One error type and one JSON error shape for the whole application.

Every problem a user can cause (a bad query parameter, a missing database, an
unknown chart) is raised as :class:`MoviedashError`.  The web layer (:mod:`moviedash.web.errors`) turns it
into ``{"error": ..., "parameter": ...}`` with its HTTP status; the CLI turns it
into a clean one-line message.  Nothing user-facing ever shows a traceback.

The HTTP status is a class attribute (400 unless a subclass says otherwise:
:class:`QueryTimeout` and :class:`DatabaseUnavailable` are 503).  Engine errors
are translated into these types where they happen, in :mod:`moviedash.store`,
so this module imports nothing of the package.
"""
from __future__ import annotations

import logging
from typing import Any


class MoviedashError(Exception):
    """A problem to report to the user, with the HTTP status it maps to (``status``: the class's unless given)."""

    #: The HTTP status of this kind of error.
    status: int = 400

    def __init__(self, message: str, *, status: int | None = None, parameter: str | None = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.parameter = parameter

    @property
    def public_message(self) -> str:
        """What a web client is told (the CLI prints :attr:`message`, which may hold server details)."""
        return self.message

    def to_dict(self) -> dict[str, Any]:
        """The JSON error body: ``error`` always, ``parameter`` when one is to blame."""
        body: dict[str, Any] = {"error": self.public_message}
        if self.parameter is not None:
            body["parameter"] = self.parameter
        return body


#: What web clients are told of any database fault (the details go to the server log).
DATABASE_UNREADABLE = "the database cannot be read"


class DatabaseUnavailable(MoviedashError):
    """The database cannot be opened or read (missing, not a database, server down): a 503.

    :attr:`message` names the file or server and the cause, for the CLI and the
    server log; web clients get only :data:`DATABASE_UNREADABLE`, since a
    path or host name tells an outsider about the server.
    """

    status = 503

    def __init__(self, detail: str, *, status: int | None = None):
        super().__init__(detail, status=status)

    @property
    def public_message(self) -> str:
        return DATABASE_UNREADABLE


class DatabaseNotFound(DatabaseUnavailable):
    """The database path named by the user does not exist."""

    def __init__(self, path: str):
        super().__init__(f"database not found: {path}")
        self.path = path


class DatabaseFault(DatabaseUnavailable):
    """A database error met while answering (a ``movies`` table not in the form served, a value the driver
    cannot convert, a file swapped under a running server): a 503; the details go to the server log.
    """

    @property
    def public_message(self) -> str:
        return (
            "the database cannot be read: its movies table is not in the form moviedash serves "
            "(load the data with 'moviedash load')"
        )


class QueryTimeout(MoviedashError):
    """A request stopped by its time limit of ``limit`` seconds (either backend): a 503."""

    status = 503

    def __init__(self, limit: float):
        super().__init__(f"the query took longer than the limit of {limit:g} s and was stopped")
        self.limit = limit


def query_timeout_error(limit: float) -> QueryTimeout:
    """The 503 answered for a query stopped by the time limit of ``limit`` seconds (any backend)."""
    return QueryTimeout(limit)


def log_database_error(error: DatabaseUnavailable) -> None:
    """Write a database fault's details (path, server, cause) to the server log: one line, no traceback."""
    logging.getLogger("moviedash").warning("%s", error.message)
