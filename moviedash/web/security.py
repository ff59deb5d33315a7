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
from urllib.parse import urlsplit, urlunsplit

from flask import Flask, Response, request

from ..errors import MoviedashError
from ..viewstate import PAGE_PATHS, SHOW_PREFIX

#: A scheme://host[:port] origin, nothing more (no paths, spaces or quotes).
_ORIGIN_RE = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?|https?://\*\.[A-Za-z0-9.-]+(:[0-9]{1,5})?")


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
SERVED_PREFIXES = ("/_dash-", "/_reload-hash", "/_favicon.ico", "/assets/", "/data", "/figures/", SHOW_PREFIX)
#: Single pages: the dashboard's pages, and sign-in's login and logout (:mod:`moviedash.auth`).
SERVED_PATHS = frozenset({*PAGE_PATHS, "/login", "/logout"})


def relative_location(response: Response) -> None:
    """Make a redirect's ``Location`` relative (path and query only).

    werkzeug builds the URL of its 308 redirects (``/data/unique_users`` ->
    ``/data/unique_users/``) from the request's ``Host`` header, which the
    client controls: ``Host: evil.example.com`` gave ``Location:
    http://evil.example.com/...``, a redirect to another host.  This server
    only ever redirects within itself, so scheme and host are dropped.
    """
    location = response.headers.get("Location")
    if location is None or not 300 <= response.status_code < 400:
        return
    parts = urlsplit(location)
    # "//host/..." would still name a host: keep a single leading slash.
    path = "/" + parts.path.lstrip("/\\")
    response.headers["Location"] = urlunsplit(("", "", path, parts.query, parts.fragment))


def security_headers(origins: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """The headers every answer carries (the application's and the WSGI server's own)."""
    headers = [("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "same-origin")]
    if origins:
        headers.append(("Content-Security-Policy", f"frame-ancestors 'self' {' '.join(origins)}"))
    else:
        headers.append(("X-Frame-Options", "SAMEORIGIN"))
    return headers


def init_app(server: Flask) -> None:
    """Add the security headers to every response of ``server``; 404 for paths it does not serve."""
    origins = parse_origins(server.config.get("MOVIEDASH_FRAME_ANCESTORS", ()))

    @server.before_request
    def only_known_paths() -> None:
        if request.path not in SERVED_PATHS and not request.path.startswith(SERVED_PREFIXES):
            raise MoviedashError(f"not found: {request.path}", status=404)

    headers = security_headers(origins)

    @server.after_request
    def add_headers(response: Response) -> Response:
        relative_location(response)
        for name, value in headers:
            response.headers[name] = value
        return response
