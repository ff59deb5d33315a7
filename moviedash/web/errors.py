"""The web face of :class:`moviedash.errors.MoviedashError`: one JSON error shape, one handler.

Every error answered over HTTP is ``{"error": ..., "parameter": ...}`` with the
status carried by the exception class (see :mod:`moviedash.errors`).
"""
from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from ..errors import DatabaseUnavailable, MoviedashError, log_database_error
from ..store import database_fault


def error_response(error: MoviedashError) -> Response:
    """Render ``error`` in the standard JSON shape."""
    response = jsonify(error.to_dict())
    response.status_code = error.status
    return response


def handle_exception(exc: Exception) -> Response:
    """The single error handler registered on the Flask server."""
    fault = database_fault(exc)  # an engine's error: the store's 503
    if fault is not None:
        exc = fault
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
    # Anything else is our bug: log it server-side, never show it to the client.
    logging.getLogger("moviedash").exception("unhandled error")
    return error_response(MoviedashError("internal error", status=500))


def register_error_handlers(server: Flask) -> None:
    """Route every exception raised while serving through :func:`handle_exception`."""
    server.register_error_handler(Exception, handle_exception)
