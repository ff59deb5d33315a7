"""One error type and one JSON error shape for the whole application.

Every problem a user can cause (a bad query parameter, a missing database, an
unknown chart) is raised as :class:`MoviedashError`.  The web layer (:mod:`moviedash.web.errors`) turns it
into ``{"error": ..., "parameter": ...}`` with its HTTP status; the CLI turns it
into a clean one-line message.  Nothing user-facing ever shows a traceback.
"""
from __future__ import annotations

import logging
from typing import Any


class MoviedashError(Exception):
    """A problem to report to the user, with the HTTP status it maps to."""

    def __init__(self, message: str, *, status: int = 400, parameter: str | None = None):
        super().__init__(message)
        self.message = message
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

    def __init__(self, detail: str, *, status: int = 503):
        super().__init__(detail, status=status)

    @property
    def public_message(self) -> str:
        return DATABASE_UNREADABLE


class DatabaseNotFound(DatabaseUnavailable):
    """The database path named by the user does not exist."""

    def __init__(self, path: str):
        super().__init__(f"database not found: {path}")
        self.path = path


def query_timeout_error(limit: float) -> MoviedashError:
    """The 503 answered for a query stopped by the time limit of ``limit`` seconds (any backend)."""
    return MoviedashError(f"the query took longer than the limit of {limit:g} s and was stopped", status=503)


def log_database_error(error: DatabaseUnavailable) -> None:
    """Write a database fault's details (path, server, cause) to the server log: one line, no traceback."""
    logging.getLogger("moviedash").warning("%s", error.message)
