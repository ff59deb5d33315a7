"""One error type and one JSON error shape for the whole application.

Every problem a user can cause (a bad query parameter, a missing database, an
unknown chart) is raised as :class:`MoviedashError`.  The web layer turns it
into ``{"error": ..., "parameter": ...}`` with its HTTP status; the CLI turns it
into a clean one-line message.  Nothing user-facing ever shows a traceback.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the CLI's load and demo never import Flask (a faster start)
    from flask import Flask, Response


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


def error_response(error: MoviedashError) -> Response:
    """Render ``error`` in the standard JSON shape."""
    from flask import jsonify

    response = jsonify(error.to_dict())
    response.status_code = error.status
    return response


def handle_exception(exc: Exception) -> Response:
    """The single error handler registered on the Flask server."""
    from werkzeug.exceptions import HTTPException

    if isinstance(exc, DatabaseUnavailable):
        log_database_error(exc)
        return error_response(exc)
    if isinstance(exc, MoviedashError):
        return error_response(exc)
    if isinstance(exc, HTTPException):
        code = exc.code or 500
        message = {404: "not found", 405: "method not allowed"}.get(code, exc.name.lower())
        response = error_response(MoviedashError(message, status=code))
        if code == 405 and exc.response is None:
            # Keep the Allow header werkzeug computed for the route.
            allow = exc.get_headers()
            for name, value in allow:
                if name.lower() == "allow":
                    response.headers["Allow"] = value
        return response
    from .context import database_fault, is_interrupted, timeout_error  # late: context imports this module

    if is_interrupted(exc):
        return error_response(timeout_error())
    fault = database_fault(exc)
    if fault is not None:
        return error_response(fault)
    # Anything else is our bug: log it server-side, never show it to the client.
    logging.getLogger("moviedash").exception("unhandled error")
    return error_response(MoviedashError("internal error", status=500))


def register_error_handlers(server: Flask) -> None:
    """Route every exception raised while serving through :func:`handle_exception`."""
    server.register_error_handler(Exception, handle_exception)
