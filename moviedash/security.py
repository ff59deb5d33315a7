"""Response headers that make the dashboard safe to put on a network.

Every page and route gets ``X-Content-Type-Options: nosniff`` and
``Referrer-Policy: same-origin``.  Framing is allowed from the same origin only
(``X-Frame-Options: SAMEORIGIN``) unless embedding origins are configured
(``MOVIEDASH_FRAME_ANCESTORS``, ``moviedash serve --allow-embedding ORIGIN``):
then a CSP ``frame-ancestors`` names them instead, since X-Frame-Options
cannot list several origins.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from flask import Flask, Response, request

from .errors import MoviedashError

#: A scheme://host[:port] origin, nothing more (no paths, spaces or quotes).
_ORIGIN_RE = re.compile(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?|https?://\*\.[A-Za-z0-9.-]+(:\d{1,5})?")


def parse_origins(origins: Iterable[str]) -> tuple[str, ...]:
    """Validate embedding origins such as ``https://intranet.example.com``."""
    out = []
    for origin in origins:
        origin = origin.strip().rstrip("/")
        if not _ORIGIN_RE.fullmatch(origin):
            raise MoviedashError(
                f"not an origin: {origin!r} (expected scheme://host[:port], e.g. https://intranet.example.com)",
                parameter="allow-embedding",
            )
        out.append(origin)
    return tuple(out)


#: What the server answers: the page at ``/``, Dash's own routes, assets and the JSON routes.
#: Everything else is a 404 (Dash alone would serve its page for any path, ``/console`` included).
SERVED_PREFIXES = ("/_dash-", "/_reload-hash", "/_favicon.ico", "/assets/", "/data", "/figures/")
#: Single pages: the dashboard, and sign-in's login and logout (:mod:`moviedash.auth`).
SERVED_PATHS = frozenset({"/", "/login", "/logout"})


def init_app(server: Flask) -> None:
    """Add the security headers to every response of ``server``; 404 for paths it does not serve."""
    origins = parse_origins(server.config.get("MOVIEDASH_FRAME_ANCESTORS", ()))

    @server.before_request
    def only_known_paths() -> None:
        if request.path not in SERVED_PATHS and not request.path.startswith(SERVED_PREFIXES):
            raise MoviedashError(f"not found: {request.path}", status=404)

    @server.after_request
    def add_headers(response: Response) -> Response:
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        if origins:
            response.headers["Content-Security-Policy"] = f"frame-ancestors 'self' {' '.join(origins)}"
        else:
            response.headers["X-Frame-Options"] = "SAMEORIGIN"
        return response


def _well_formed_callback_body(body: object, known_outputs: set[str]) -> bool:
    """The shape Dash's renderer sends to ``/_dash-update-component``."""
    if not isinstance(body, dict) or body.get("output") not in known_outputs:
        return False
    if not isinstance(body.get("outputs"), (dict, list)):
        return False
    for key in ("inputs", "state"):
        items = body.get(key, [])
        if not isinstance(items, list):
            return False
        for item in items:
            # Pattern-matching callbacks send lists of such dicts; this app uses none.
            if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not isinstance(item.get("property"), str):
                return False
    return isinstance(body.get("changedPropIds", []), list)


def guard_callbacks(app: "dash.Dash") -> None:  # noqa: F821 - dash is imported by the factory
    """Answer malformed ``/_dash-update-component`` bodies with 400 instead of letting Dash fail on them."""
    server: Flask = app.server

    @server.before_request
    def check_callback_body() -> None:
        if request.path != "/_dash-update-component" or request.method != "POST":
            return
        body = request.get_json(silent=True)
        if not _well_formed_callback_body(body, set(app.callback_map)):
            raise MoviedashError("malformed callback request", status=400)
