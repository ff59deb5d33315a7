"""Production safety: security headers, no debugger, embedding only where configured."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from moviedash import create_app
from moviedash.cli import main
from moviedash.errors import MoviedashError
from tests.helpers import event

PATHS = ["/", "/_dash-layout", "/data/toplist/", "/data/unique_users/?resolution=bad", "/data/nope/",
         "/figures/heatmap.json", "/assets/style.css"]


@pytest.fixture
def db(make_db):
    return make_db([event("2013-01-01 10:00:00", "a", title="Argo")])


@pytest.mark.parametrize("path", PATHS)
def test_security_headers_on_every_page_and_route(db, path):
    with create_app(db=db).server.test_client() as client:
        response = client.get(path)
        response.close()  # a file response (assets) holds the file open until closed
    assert response.status_code in (200, 400, 404)


def test_only_the_dashboard_and_its_routes_are_served(db):
    client = create_app(db=db).server.test_client()
    assert client.get("/").status_code == 200
    for path in ("/admin", "/index.html", "/.env", "/static/x.js", "/moviedb"):
        response = client.get(path)
        assert response.status_code == 404 and response.is_json, path
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "Content-Security-Policy" not in response.headers


def test_embedding_origins_use_csp_frame_ancestors(db):
    app = create_app(db=db, MOVIEDASH_FRAME_ANCESTORS=["https://intranet.example.com", "http://localhost:3000/"])
    response = app.server.test_client().get("/")
    assert response.headers["Content-Security-Policy"] == (
        "frame-ancestors 'self' https://intranet.example.com http://localhost:3000"
    )
    assert "X-Frame-Options" not in response.headers


@pytest.mark.parametrize("origin", ["intranet.example.com", "https://x.com/path", "https://a.com; script-src *", "*",
                                    "https://a.com:８０", "https://a.com:+80"])
def test_bad_embedding_origins_are_refused(db, origin):
    with pytest.raises(MoviedashError, match="not an origin"):
        create_app(db=db, MOVIEDASH_FRAME_ANCESTORS=[origin])
    result = CliRunner().invoke(main, ["serve", "--db", str(db), "--allow-embedding", origin])
    assert result.exit_code == 1 and "not an origin" in result.output


@pytest.mark.parametrize("path", ["/console", "/console?__debugger__=yes&cmd=resource&f=style.css", "/data/console"])
def test_no_werkzeug_debugger(db, path):
    response = create_app(db=db).server.test_client().get(path, follow_redirects=True)
    assert response.status_code == 404
    assert response.is_json and response.get_json()["error"]
    body = response.get_data(as_text=True)
    assert "__debugger__" not in body and "Werkzeug Debugger" not in body and "Traceback" not in body


def test_an_internal_error_shows_no_traceback_or_path(db, monkeypatch):
    import moviedash.analysis as analysis

    def broken(*args, **kwargs):
        raise RuntimeError("secret detail in /srv/app/moviedash/analysis.py")

    monkeypatch.setattr(analysis, "toplist", broken)
    app = create_app(db=db)
    app.server.testing = False  # as in production: errors are handled, not re-raised
    response = app.server.test_client().get("/data/toplist/")
    assert response.status_code == 500
    assert response.get_json() == {"error": "internal error"}
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and ".py" not in text and "secret" not in text and "__debugger__" not in text


# Paths under Dash's script route that name no file Dash registered: unknown files,
# unknown or non-Dash packages, ".." segments (raw and encoded), odd fingerprints, empty parts.
UNKNOWN_COMPONENT_PATHS = [
    "/_dash-component-suites/dash/nope.js",
    "/_dash-component-suites/nope/x.js",
    "/_dash-component-suites/os/path.js",
    "/_dash-component-suites/flask/__init__.py",
    "/_dash-component-suites/dash/../dash.py",
    "/_dash-component-suites/dash/..%2fdash.py",
    "/_dash-component-suites/dash/deps/..",
    "/_dash-component-suites/dash/x",
    "/_dash-component-suites/dash/.js",
    "/_dash-component-suites/dash/dash_table/bundle.v9.9.9m1.js",
    "/_dash-component-suites/dash/deps/react@18.v.min.js",
    "/_dash-component-suites/dash/deps/react@18.3.1.v4_4_1m1.min.js.map",
    "/_dash-component-suites/dash/deps/polyfill@7.v1_2_3m1.min.jsx",
    "/_dash-component-suites/dash/",
    "/_dash-component-suites/",
    "/_dash-component-suites",
    "/_dash-component-suites//dash/deps/polyfill@7.12.1.min.js",
]


def test_unknown_component_suite_paths_are_404_without_a_traceback(db, caplog):
    app = create_app(db=db)
    app.server.testing = False
    client = app.server.test_client()
    assert client.get("/").status_code == 200  # the page registers Dash's scripts
    for path in UNKNOWN_COMPONENT_PATHS:
        caplog.clear()
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.is_json and response.get_json()["error"].startswith("not found"), path
        assert not [r for r in caplog.records if r.exc_info or r.levelname in ("ERROR", "CRITICAL")], path
    # The page's own scripts are still served.
    page = client.get("/").get_data(as_text=True)
    scripts = [s for s in re.findall(r'src="([^"]+)"', page) if "_dash-component-suites" in s]
    assert scripts and all(client.get(s).status_code == 200 for s in scripts)


REDIRECTING = ["/data/unique_users", "/data/minutes_watched?resolution=weekly", "/data/toplist?num=3&rank=minutes",
               "/data/toplist", "/data"]


@pytest.mark.parametrize("host", ["evil.example.com", "evil.example.com:8443", "127.0.0.1:1@evil.example.com"])
def test_redirects_never_name_the_requested_host(db, host):
    client = create_app(db=db).server.test_client()
    for path in REDIRECTING:
        response = client.get(path, headers={"Host": host})
        assert response.status_code in (301, 302, 307, 308), path
        location = response.headers["Location"]
        assert urlsplit(location).netloc == "" and urlsplit(location).scheme == "", (path, location)
        assert location.startswith("/") and not location.startswith("//"), location
        path_only, _, query = path.partition("?")
        assert location == path_only + "/" + (f"?{query}" if query else ""), location
        assert client.get(location).status_code == (404 if location == "/data/" else 200), location
