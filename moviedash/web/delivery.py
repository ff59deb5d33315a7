"""How the browser gets the page's files: compressed, and cached as long as is safe.

- **Compression** (flask-compress): brotli or gzip, whichever the browser
  accepts, for the page, Dash's JavaScript, the assets and every JSON
  answer.  Dash's JavaScript never changes while a server runs, so its
  compressed bodies are kept in memory (one compression per file and encoding
  per process, not one per request).
- **Cache lifetime**: Dash fingerprints the URLs of its component files
  (``/_dash-component-suites/dash/dcc/dash_core_components.v4_4_1m1700000000.js``)
  when it serves them locally and not in debug mode; a new release changes the
  URL, so those are ``public, max-age=31536000, immutable``.  Everything else
  (the page, plotly.js and the assets, whose URLs do not change with their
  content, and the data) is ``no-cache``: the browser revalidates with the
  ETag, and an unchanged file costs a 304.
"""
from __future__ import annotations

from dash.fingerprint import check_fingerprint
from flask import Flask, Response, request
from flask_compress import Compress, DictCache

#: Long-lived policy for Dash's fingerprinted files: their URL changes whenever their content does.
IMMUTABLE = "public, max-age=31536000, immutable"
#: Everything else: keep a copy, but ask the server (a cheap 304) before using it.
REVALIDATE = "no-cache"
COMPONENT_SUITES = "/_dash-component-suites/"
#: Dash's layout route: its answer depends on the page's address (see ``dashboard.layout``).
LAYOUT = "/_dash-layout"
#: Files whose body is the same on every request: their compressed form may be reused.
STATIC_PREFIXES = (COMPONENT_SUITES, "/assets/")


class StaticFilesCache(DictCache):
    """flask-compress's in-memory cache, restricted to static files.

    flask-compress offers every compressed body to the cache; keeping the data
    routes' answers too would grow without bound, so only static paths are kept
    (a few files, about 2 MB per encoding).
    """

    def set(self, key: str, value: bytes) -> None:
        _encoding, _, path = key.partition(";")
        if path.startswith(STATIC_PREFIXES):
            super().set(key, value)


def is_fingerprinted(path: str) -> bool:
    """True for a Dash component file whose URL carries its version and modification time."""
    return path.startswith(COMPONENT_SUITES) and check_fingerprint(path)[1]


def init_app(server: Flask) -> None:
    """Compress ``server``'s responses and give each one its cache lifetime."""
    server.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    # Quality 5 is as fast as flask-compress's default 4 and about 9 % smaller on large JavaScript files.
    server.config.setdefault("COMPRESS_BR_LEVEL", 5)
    server.config.setdefault("COMPRESS_CACHE_BACKEND", StaticFilesCache)
    server.config.setdefault("COMPRESS_CACHE_KEY", lambda req: req.full_path)
    Compress(server)

    @server.before_request
    def whole_files_only() -> None:
        # Flask answers a Range request for a file with that part (206), which
        # flask-compress would compress and cache as if it were the whole file,
        # for every later visitor.  The assets are small: always send them whole.
        if request.path.startswith("/assets/"):
            request.environ.pop("HTTP_RANGE", None)

    # Registered after flask-compress, so this runs before it (Flask runs them in reverse).
    @server.after_request
    def prepare(response: Response) -> Response:
        if request.path.startswith("/assets/") and response.direct_passthrough:
            # Flask streams files; flask-compress would then compress the stream
            # afresh on every request and lose the file's close().  A body in
            # memory (the file is closed with the response) is compressed once
            # and cached.
            response.direct_passthrough = False
            response.make_sequence()
        if is_fingerprinted(request.path) and response.status_code == 200:
            response.headers["Cache-Control"] = IMMUTABLE
        elif "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = REVALIDATE
        if request.path == LAYOUT:
            # The first layout shows the page's address, which the layout request carries as its Referer.
            response.vary.add("Referer")
        return response
