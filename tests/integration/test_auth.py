"""Sign-in: every page, route and callback needs a session or a token once a user exists."""
from __future__ import annotations

import json
import re
import time

import pytest
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import TimestampSigner

from moviedash import create_app
from moviedash.auth import store as auth_store
from moviedash.auth.store import Store
from moviedash.errors import MoviedashError
from moviedash.pipeline import CHARTS
from tests.helpers import event, query

PASSWORD = "correct horse battery"
EVENTS = [
    event("2013-01-06 23:59:59", "a", title="Skyfall", device="iPad"),
    event("2013-01-07 10:00:00", "b", title="Argo", sessiontype="SERIES", market="SE"),
]
#: Every GET route: the page, Dash's JSON, the data and figure routes, the OpenAPI document.
ROUTES = [
    "/", "/?users=weekly&top=5", "/engagement", "/engagement?market=SE", "/_dash-layout", "/_dash-dependencies",
    "/data/unique_users/", "/data/minutes_watched/?resolution=weekly", "/data/toplist/?num=3",
    "/data/toplist/?format=csv", "/data/openapi.json",
    *[f"/figures/{chart}.json" for chart in CHARTS],
]


def add_user(db, name: str = "alice", password: str = PASSWORD, auth_file=None) -> None:
    with Store.open(str(db), auth_file) as s:
        s.add_user(name, password)


def add_token(db, name: str = "ci", auth_file=None) -> str:
    with Store.open(str(db), auth_file) as s:
        return s.create_token(name)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


def sign_in(client, name: str = "alice", password: str = PASSWORD, next_: str | None = None):
    """Fill in and send the login form like a browser; returns the POST's response."""
    url = "/login" + (f"?next={next_}" if next_ is not None else "")
    page = client.get(url)
    assert page.status_code == 200, page.get_data(as_text=True)[:300]
    return client.post(url, data={"csrf_token": csrf_of(page.get_data(as_text=True)),
                                  "username": name, "password": password})


@pytest.fixture
def db(make_db):
    return make_db(EVENTS)


@pytest.fixture
def secured(db):
    """A database with user alice and a token; returns (db, token)."""
    add_user(db)
    return db, add_token(db)


def assert_denied(response, path: str) -> None:
    if path.startswith(("/?", "/engagement")) or path == "/":
        assert response.status_code == 302, path
        location = response.headers["Location"]
        assert location.startswith("/login"), location  # relative: never a Host header copied in
        if path.startswith("/?"):
            assert "next=%2F%3F" in location
        if path.startswith("/engagement"):
            assert "next=%2Fengagement" in location
    else:
        assert response.status_code == 401, path
        assert response.get_json()["error"].startswith("sign-in required")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Skyfall" not in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ROUTES)
def test_without_users_nothing_changes(db, path):
    response = create_app(db=db).server.test_client().get(path)
    assert response.status_code == 200, path
    assert "Set-Cookie" not in response.headers


def test_every_route_needs_a_session_or_a_token(secured):
    db, token = secured
    app = create_app(db=db)
    anonymous = app.server.test_client()
    for path in ROUTES:
        assert_denied(anonymous.get(path), path)
    assert anonymous.head("/").status_code == 302
    signed_in = app.server.test_client()
    assert sign_in(signed_in).status_code == 302
    bearer = app.server.test_client()
    for path in ROUTES:
        for client, headers in ((signed_in, {}), (bearer, {"Authorization": f"Bearer {token}"})):
            response = client.get(path, headers=headers)
            assert response.status_code == 200, (path, headers, response.get_data(as_text=True)[:200])
    assert bearer.get("/data/toplist/", headers={"Authorization": f"bearer {token}"}).status_code == 200
    assert "Set-Cookie" not in bearer.get("/data/toplist/", headers={"Authorization": f"Bearer {token}"}).headers


def callback_body(dep: dict) -> dict:
    """The request Dash's renderer sends for callback ``dep``, with empty values."""
    outputs = []
    for part in (dep["output"].strip(".").split("...") if dep["output"].startswith("..") else [dep["output"]]):
        component, prop = part.rsplit(".", 1)
        outputs.append({"id": component, "property": prop.split("@")[0]})
    inputs = [{**i, "value": None} for i in dep["inputs"]]
    return {
        "output": dep["output"],
        "outputs": outputs if dep["output"].startswith("..") else outputs[0],
        "inputs": inputs,
        "state": [{**s, "value": None} for s in dep.get("state", [])],
        "changedPropIds": [f"{i['id']}.{i['property']}" for i in inputs[:1]],
    }


def test_every_callback_needs_a_session_or_a_token(secured):
    db, token = secured
    app = create_app(db=db)
    app.server.testing = False  # production error handling
    signed_in = app.server.test_client()
    sign_in(signed_in)
    deps = [d for d in signed_in.get("/_dash-dependencies").get_json() if not d.get("clientside_function")]
    outputs = " ".join(d["output"] for d in deps)
    assert len(deps) >= 8 and "report-download" in outputs  # the report download is a callback too
    anonymous = app.server.test_client()
    bearer = app.server.test_client()
    for dep in deps:
        body = json.dumps(callback_body(dep))
        denied = anonymous.post("/_dash-update-component", data=body, content_type="application/json")
        assert denied.status_code == 401, dep["output"]
        assert denied.get_json()["error"].startswith("sign-in required")
        assert denied.headers["WWW-Authenticate"] == 'Bearer realm="moviedash"'
        for client, headers in ((signed_in, {}), (bearer, {"Authorization": f"Bearer {token}"})):
            response = client.post("/_dash-update-component", data=body, content_type="application/json",
                                   headers=headers)
            assert response.status_code in (200, 204), (dep["output"], response.get_data(as_text=True)[:300])
    # A malformed body is still refused, but only once the caller is known.
    assert anonymous.post("/_dash-update-component", data=b"{", content_type="application/json").status_code == 401
    assert signed_in.post("/_dash-update-component", data=b"{", content_type="application/json").status_code == 400


def test_the_login_page_and_its_assets_are_public_and_accessible(secured):
    db, _ = secured
    client = create_app(db=db).server.test_client()
    page = client.get("/login")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert '<html lang="en">' in html and "<title>Sign in · moviedash</title>" in html
    assert '<label class="control-label" for="username">' in html and 'id="username"' in html
    assert '<label class="control-label" for="password">' in html and 'type="password"' in html
    assert 'href="/assets/style.css"' in html
    assert page.headers["X-Content-Type-Options"] == "nosniff" and page.headers["Cache-Control"] == "no-store"
    style = client.get("/assets/style.css")
    assert style.status_code == 200 and ".signin-card" in style.get_data(as_text=True)
    style.close()
    assert client.get("/_favicon.ico").status_code == 200
    assert "Skyfall" not in html


def test_wrong_password_unknown_user_and_missing_fields_do_not_sign_in(secured):
    db, _ = secured
    client = create_app(db=db).server.test_client()
    for name, password in (("alice", "wrong password"), ("mallory", PASSWORD), ("ALICE", PASSWORD + "x")):
        response = sign_in(client, name, password)
        assert response.status_code == 401
        assert "Wrong user name or password." in response.get_data(as_text=True)
        assert client.get("/data/toplist/").status_code == 401
    assert sign_in(client, "alice", "").status_code == 400
    echoed = sign_in(client, '"><script>alert(1)</script>', PASSWORD).get_data(as_text=True)
    assert "<script>alert(1)" not in echoed and "&lt;script&gt;" in echoed  # the name is shown back escaped
    assert client.get("/data/toplist/").status_code == 401
    assert sign_in(client, " Alice ", PASSWORD).status_code == 302  # names are case-insensitive
    assert client.get("/data/toplist/").status_code == 200


def test_login_without_csrf_token_is_refused(secured):
    db, _ = secured
    client = create_app(db=db).server.test_client()
    client.get("/login")
    for data in ({"username": "alice", "password": PASSWORD},
                 {"username": "alice", "password": PASSWORD, "csrf_token": "forged"}):
        response = client.post("/login", data=data)
        assert response.status_code == 400
        assert "did not come from this page" in response.get_data(as_text=True)
        assert client.get("/data/toplist/").status_code == 401
    # A token from another browser's session does not do either.
    other = create_app(db=db).server.test_client()
    token = csrf_of(other.get("/login").get_data(as_text=True))
    fresh = create_app(db=db).server.test_client()
    fresh.get("/login")
    form = {"csrf_token": token, "username": "alice", "password": PASSWORD}
    assert fresh.post("/login", data=form).status_code == 400


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "https://evil.example/",
        "http:evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "/%0a/evil.example".replace("%0a", "\n"),
        "javascript:alert(1)",
        " //evil.example",
        "evil.example",
        "",
    ],
)
def test_next_never_leaves_the_site(secured, target):
    db, _ = secured
    client = create_app(db=db).server.test_client()
    from urllib.parse import quote

    response = sign_in(client, next_=quote(target, safe=""))
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_next_returns_to_the_view_asked_for(secured):
    db, _ = secured
    client = create_app(db=db).server.test_client()
    location = client.get("/?users=weekly&top=5").headers["Location"]
    assert location == "/login?next=%2F%3Fusers%3Dweekly%26top%3D5"
    page = client.get(location)
    response = client.post(
        location, data={"csrf_token": csrf_of(page.get_data(as_text=True)), "username": "alice", "password": PASSWORD}
    )
    assert response.headers["Location"] == "/?users=weekly&top=5"


def test_revoked_token_and_garbage_tokens_are_refused(secured):
    db, token = secured
    client = create_app(db=db).server.test_client()
    assert client.get("/data/toplist/", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    with Store.open(str(db)) as s:
        s.revoke_token("ci")
    for header in (f"Bearer {token}", f"Bearer {token[:-1]}", "Bearer mdt_x", "Bearer ", f"Basic {token}", token):
        response = client.get("/data/toplist/", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.headers["WWW-Authenticate"].startswith('Bearer realm="moviedash"')
    response = client.get("/data/toplist/", headers={"Authorization": f"Bearer {token}"})
    assert response.get_json() == {"error": "invalid or revoked token"}
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def session_cookie(client) -> str:
    cookie = client.get_cookie("moviedash_session")
    assert cookie is not None
    return cookie.value


def test_forged_and_tampered_cookies_are_refused(secured):
    db, _ = secured
    app = create_app(db=db)
    client = app.server.test_client()
    sign_in(client)
    good = session_cookie(client)
    with auth_store.reader(db, None) as conn:
        stored = auth_store.read_password_hash(conn, "alice")
    fingerprint = auth_store.fingerprint(stored)

    class Other:  # a server with another secret: what an attacker without the secret can sign
        secret_key = "not the secret"
        config = app.server.config

    serializer = SecureCookieSessionInterface().get_signing_serializer(Other)  # type: ignore[arg-type]
    forged = serializer.dumps({"_user_id": f"alice:{fingerprint}", "_fresh": True})
    payload = good.rpartition(".")[0]
    tampered = good[:-3] + ("aaa" if not good.endswith("aaa") else "bbb")
    for value in (forged, tampered, payload, "", "alice"):
        attacker = app.server.test_client()
        attacker.set_cookie("moviedash_session", value)
        assert attacker.get("/data/toplist/").status_code == 401, value
        assert attacker.get("/").status_code == 302
    thief = app.server.test_client()
    thief.set_cookie("moviedash_session", good)
    assert thief.get("/data/toplist/").status_code == 200  # the real cookie, as a control


def test_expired_cookie_is_refused(secured, monkeypatch):
    db, _ = secured
    app = create_app(db=db, MOVIEDASH_SESSION_HOURS=1)
    client = app.server.test_client()
    signed_long_ago = int(time.time()) - 3600 - 60  # one hour and a minute ago
    with monkeypatch.context() as m:
        m.setattr(TimestampSigner, "get_timestamp", lambda self: signed_long_ago)
        sign_in(client)
    assert client.get("/data/toplist/").status_code == 401
    assert client.get("/").headers["Location"] == "/login"
    fresh = app.server.test_client()
    sign_in(fresh)
    assert fresh.get("/data/toplist/").status_code == 200


def test_cookie_flags_and_lifetime(secured):
    db, _ = secured
    client = create_app(db=db, MOVIEDASH_SESSION_HOURS=2).server.test_client()
    set_cookie = sign_in(client).headers["Set-Cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie and "Secure" not in set_cookie
    assert "Expires=" in set_cookie  # a permanent session: 2 hours after the last request
    https = create_app(db=db).server.test_client()
    https_cookie = sign_in_over(https, "https://localhost")
    assert "Secure" in https_cookie
    forced = create_app(db=db, MOVIEDASH_SECURE_COOKIES=True).server.test_client()
    assert "Secure" in sign_in(forced).headers["Set-Cookie"]
    proxied = create_app(db=db, MOVIEDASH_BEHIND_PROXY=True).server.test_client()
    page = proxied.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in page.headers["Set-Cookie"]
    direct = create_app(db=db).server.test_client()  # without --behind-proxy the header is not trusted
    assert "Secure" not in direct.get("/login", headers={"X-Forwarded-Proto": "https"}).headers["Set-Cookie"]


def sign_in_over(client, base_url: str) -> str:
    page = client.get("/login", base_url=base_url)
    response = client.post(
        "/login",
        base_url=base_url,
        headers={"Referer": f"{base_url}/login"},
        data={"csrf_token": csrf_of(page.get_data(as_text=True)), "username": "alice", "password": PASSWORD},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return response.headers["Set-Cookie"]


def hidden_csrf(node) -> str | None:
    """The value of the hidden ``csrf_token`` input in a Dash layout (JSON)."""
    if isinstance(node, dict):
        props = node.get("props", {})
        if props.get("name") == "csrf_token":
            return props["value"]
        children = props.get("children") if "props" in node else list(node.values())
        return hidden_csrf(children)
    if isinstance(node, list):
        return next((v for v in map(hidden_csrf, node) if v), None)
    return None


def test_a_kept_page_shows_each_signed_in_user_their_own_header(secured):
    # The page is built once and kept (dashboard.layout.LAYOUT_CACHE); its header is each request's own.
    db, _token = secured
    add_user(db, "bob")
    app = create_app(db=db)
    alice, bob = app.server.test_client(), app.server.test_client()
    sign_in(alice)
    sign_in(bob, "bob")
    page = "http://localhost/series?device=TV"
    first, second, again = (json.loads(c.get("/_dash-layout", headers={"Referer": page}).get_data(as_text=True))
                            for c in (alice, bob, alice))
    assert '"alice"' in json.dumps(first) and '"bob"' not in json.dumps(first)
    assert '"bob"' in json.dumps(second) and '"alice"' not in json.dumps(second)
    assert hidden_csrf(first) and hidden_csrf(second) and hidden_csrf(first) != hidden_csrf(second)
    assert "\"alice\"" in json.dumps(again) and "\"bob\"" not in json.dumps(again)


def test_sign_out_needs_its_csrf_token_and_ends_the_session(secured):
    db, token = secured
    app = create_app(db=db)
    client = app.server.test_client()
    sign_in(client)
    layout = client.get("/_dash-layout").get_data(as_text=True)
    assert "Sign out" in layout and "Signed in as " in layout and '"alice"' in layout
    assert "Sign out" not in app.server.test_client().get(
        "/_dash-layout", headers={"Authorization": f"Bearer {token}"}
    ).get_data(as_text=True)
    assert client.post("/logout").status_code == 400  # no CSRF token: a cross-site form cannot sign anyone out
    assert client.get("/data/toplist/").status_code == 200
    response = client.post("/logout", data={"csrf_token": hidden_csrf(json.loads(layout))})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.get("/data/toplist/").status_code == 401
    assert client.get("/").status_code == 302


def test_removing_a_user_or_changing_the_password_ends_their_sessions(secured):
    db, _ = secured
    client = create_app(db=db).server.test_client()
    sign_in(client)
    assert client.get("/data/toplist/").status_code == 200
    with Store.open(str(db)) as s:
        s.remove_user("alice")
        s.add_user("alice", "another password")
    assert client.get("/data/toplist/").status_code == 401
    assert sign_in(client, password="another password").status_code == 302


def test_failed_sign_ins_are_rate_limited_per_user_name_and_per_address(secured):
    db, _ = secured
    add_user(db, "bob")
    app = create_app(db=db, MOVIEDASH_LOGIN_LIMIT_PER_USER="3 per hour", MOVIEDASH_LOGIN_LIMIT_PER_IP="5 per hour")
    # Per user name: from three different addresses.
    for n in range(3):
        client = app.server.test_client()
        client.environ_base["REMOTE_ADDR"] = f"10.0.0.{n + 1}"
        assert sign_in(client, "alice", "wrong password").status_code == 401
    client = app.server.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.0.0.9"
    response = sign_in(client, "alice", PASSWORD)  # even the right password, until the limit resets
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.get_data(as_text=True)
    assert int(response.headers["Retry-After"]) > 0
    assert client.get("/data/toplist/").status_code == 401
    assert sign_in(client, "bob", PASSWORD).status_code == 302  # another user is not locked out
    # Per address: five failures for different names, then this address is refused for anyone.
    attacker = app.server.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "10.9.9.9"
    for n in range(5):
        assert sign_in(attacker, f"user{n}", "wrong password").status_code == 401
    assert sign_in(attacker, "bob", PASSWORD).status_code == 429
    # Successful sign-ins are not counted.
    for _ in range(6):
        friend = app.server.test_client()
        friend.environ_base["REMOTE_ADDR"] = "10.1.1.1"
        assert sign_in(friend, "bob", PASSWORD).status_code == 302


def test_the_secret_survives_a_restart_or_comes_from_the_environment(secured, monkeypatch):
    db, _ = secured
    client = create_app(db=db).server.test_client()
    sign_in(client)
    cookie = session_cookie(client)
    restarted = create_app(db=db).server.test_client()
    restarted.set_cookie("moviedash_session", cookie)
    assert restarted.get("/data/toplist/").status_code == 200
    monkeypatch.setenv("MOVIEDASH_SECRET_KEY", "x" * 40)
    other_secret = create_app(db=db).server.test_client()
    other_secret.set_cookie("moviedash_session", cookie)
    assert other_secret.get("/data/toplist/").status_code == 401
    sign_in(other_secret)
    assert other_secret.get("/data/toplist/").status_code == 200


def test_users_added_while_serving_turn_sign_in_on(db):
    client = create_app(db=db).server.test_client()
    assert client.get("/data/toplist/").status_code == 200
    assert client.get("/login").headers["Location"] == "/"  # nothing to sign in to yet
    add_user(db)
    assert client.get("/data/toplist/").status_code == 401
    assert sign_in(client).status_code == 302
    assert client.get("/data/toplist/").status_code == 200


def test_a_token_alone_turns_sign_in_on(db):
    token = add_token(db)
    client = create_app(db=db).server.test_client()
    assert client.get("/data/toplist/").status_code == 401
    assert client.get("/data/toplist/", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_required_mode_without_users_refuses_everything(db):
    client = create_app(db=db, MOVIEDASH_AUTH="required").server.test_client()
    assert client.get("/data/toplist/").status_code == 401
    assert client.get("/").status_code == 302
    page = client.get("/login")
    assert page.status_code == 503 and "moviedash users add NAME" in page.get_data(as_text=True)


def test_no_auth_serves_openly_even_with_users(secured):
    db, _ = secured
    client = create_app(db=db, MOVIEDASH_AUTH="off").server.test_client()
    assert client.get("/data/toplist/").status_code == 200
    assert client.get("/").status_code == 200
    assert client.get("/login").headers["Location"] == "/"


@pytest.mark.sqlite_only
def test_auth_file_keeps_the_database_untouched(tmp_path, backend):
    from tests.helpers import build_db

    db = build_db(tmp_path / "m.db", EVENTS)
    before = db.read_bytes()
    auth_file = tmp_path / "auth.sqlite"
    add_user(db, auth_file=auth_file)
    token = add_token(db, auth_file=auth_file)
    assert db.read_bytes() == before
    assert {
        r[0] for r in query(db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'moviedash_%'")
    } == {"moviedash_loads", "moviedash_settings", "moviedash_shows"}  # the base schema: no auth tables
    assert create_app(db=db).server.test_client().get("/data/toplist/").status_code == 200  # not named: open
    app = create_app(db=db, MOVIEDASH_AUTH_FILE=str(auth_file))
    client = app.server.test_client()
    assert client.get("/data/toplist/").status_code == 401
    assert client.get("/data/toplist/", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert sign_in(client).status_code == 302 and client.get("/data/toplist/").status_code == 200
    with pytest.raises(MoviedashError, match="auth file not found"):
        create_app(db=db, MOVIEDASH_AUTH_FILE=str(tmp_path / "typo.sqlite"))


def test_only_hashes_are_stored(secured):
    db, token = secured
    rows = query(db, "SELECT name, token_hash FROM moviedash_tokens")
    assert rows == [("ci", auth_store.hash_token(token))] and token not in str(rows)
    ((name, password_hash),) = query(db, "SELECT name, password_hash FROM moviedash_users")
    assert name == "alice" and password_hash.startswith("$argon2id$") and PASSWORD not in password_hash


@pytest.mark.sqlite_only
def test_a_database_gone_while_serving_fails_closed(tmp_path, backend):
    import shutil

    from tests.helpers import build_db

    db = build_db(tmp_path / "live.db", EVENTS)
    add_user(db)
    backup = tmp_path / "backup.db"
    shutil.copy(db, backup)
    app = create_app(db=db)
    app.server.testing = False
    signed_in = app.server.test_client()
    sign_in(signed_in)
    deps = [d for d in signed_in.get("/_dash-dependencies").get_json() if not d.get("clientside_function")]
    body = json.dumps(callback_body(next(d for d in deps if "kpi" in d["output"])))
    for suffix in ("", "-wal", "-shm"):
        (tmp_path / f"live.db{suffix}").unlink(missing_ok=True)
    anonymous = app.server.test_client()
    for client in (anonymous, signed_in):
        response = client.get("/data/toplist/")
        assert response.status_code == 503 and "Skyfall" not in response.get_data(as_text=True)
        # A callback gets "no update", as the callbacks answer themselves when the database is gone.
        response = client.post("/_dash-update-component", data=body, content_type="application/json")
        assert response.status_code == 204 and response.get_data() == b""
    shutil.copy(backup, db)  # back: credentials count again
    assert anonymous.get("/data/toplist/").status_code == 401
    assert anonymous.post("/_dash-update-component", data=body, content_type="application/json").status_code == 401
    assert signed_in.get("/data/toplist/").status_code == 200


def test_sign_out_token_does_not_depend_on_the_layouts_cookie(secured):
    """The page's callbacks run alongside the layout's request and re-send the cookie they came with;
    the sign-out token must hold with the cookie from signing in (a race seen in the browser)."""
    db, _ = secured
    client = create_app(db=db).server.test_client()
    sign_in(client)
    cookie_at_sign_in = session_cookie(client)
    token = hidden_csrf(client.get("/_dash-layout").get_json())
    client.set_cookie("moviedash_session", cookie_at_sign_in)  # a callback's response won the race
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
