"""Sign-in on the web: the gate in front of every page and route, the login page, sessions and tokens.

* **When sign-in applies** (``MOVIEDASH_AUTH``): ``"auto"`` (the default, and
  ``moviedash serve`` on a loopback address) as soon as any user or token
  exists; ``"required"`` (a network address, ``gunicorn app:server``) always,
  and serving refuses to start without a user or token; ``"off"`` never
  (``--no-auth``).
* **Credentials:** a session cookie made by the login page (Flask-Login over
  Flask's signed cookie: HttpOnly, SameSite=Lax, Secure over HTTPS, for
  ``MOVIEDASH_SESSION_HOURS`` since the last request), or
  ``Authorization: Bearer <token>``.  The cookie names the user and a digest
  of the password hash, so removing the user (or re-adding them with a new
  password) ends their sessions.
* **Without them** the page ``/`` redirects to ``/login?next=...``; every other
  path (``/data/...``, ``/figures/...``, Dash's ``/_dash-...``) answers 401 in
  the standard JSON shape with ``WWW-Authenticate: Bearer``.  Only the login
  page, its static files (``/assets/...``) and the favicon are public.
* **The login form** carries a CSRF token (Flask-WTF); failed sign-ins are rate
  limited per client address and per user name (Flask-Limiter, in memory:
  each server process counts on its own).
* **The session secret** is ``MOVIEDASH_SECRET_KEY`` or the one the command
  line generated next to the users; it is read when first needed, so users
  added while the server runs can sign in without a restart.
"""
from __future__ import annotations

import datetime as dt
import hmac
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import (
    Blueprint,
    Flask,
    Request,
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
)
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from werkzeug.wrappers import Response as BaseResponse
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from ..errors import MoviedashError
from ..viewstate import PAGE_PATHS, SHOW_PREFIX
from ..web.context import get_connection
from ..web.errors import error_response
from . import store

MODES = ("auto", "required", "off")
LOGIN_PATH = "/login"
LOGOUT_PATH = "/logout"
#: Reachable without credentials: the login page, its stylesheet and scripts (no data), the favicon.
PUBLIC_PATHS = frozenset({LOGIN_PATH, LOGOUT_PATH, "/_favicon.ico"})
PUBLIC_PREFIXES = ("/assets/",)
DEFAULT_SESSION_HOURS = 12.0
#: Failed sign-ins allowed per client address and per user name (Flask-Limiter's notation).
DEFAULT_LIMIT_PER_IP = "20 per 15 minutes"
DEFAULT_LIMIT_PER_USER = "5 per 15 minutes"
REALM = 'Bearer realm="moviedash"'


class Account(UserMixin):
    """Who is asking: a signed-in user (``via="session"``) or a token (``via="token"``)."""

    def __init__(self, name: str, via: str, password_fingerprint: str = "") -> None:
        self.name = name
        self.via = via
        self.password_fingerprint = password_fingerprint

    def get_id(self) -> str:
        """What the session cookie keeps: the name and a digest of the password hash."""
        return f"{self.name}:{self.password_fingerprint}"


class LoginForm(FlaskForm):
    username = StringField("User name", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=store.MAX_PASSWORD)])


class SignOutForm(FlaskForm):
    """Only the CSRF token: signing out is a POST from the dashboard's header."""


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the secret read from the store and Secure cookies over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        # request.is_secure: served over HTTPS directly, or behind a proxy trusted with X-Forwarded-Proto.
        return bool(super().get_cookie_secure(app) or request.is_secure)

    def open_session(self, app: Flask, request: Request) -> Any:
        if not app.secret_key and not request.path.startswith(PUBLIC_PREFIXES):
            try:
                secret = store.read_secret(auth_connection())
            except MoviedashError as exc:
                # The gate answers it (503); kept so this request does not wait for the database twice.
                g._moviedash_auth_error = exc
                secret = None
            if secret:
                app.secret_key = secret  # the same value in every thread: no lock needed
        return super().open_session(app, request)


def auth_connection() -> store.Reader:
    """The request's read-only connection to where the accounts are kept."""
    failed = g.get("_moviedash_auth_error")
    if failed is not None:
        raise failed
    path = current_app.config.get("MOVIEDASH_AUTH_FILE")
    if not path:
        return get_connection()
    conn = g.get("_moviedash_auth_conn")
    if conn is None:
        conn = g._moviedash_auth_conn = store.connect_auth_file(path)
    return conn


def _close_auth_connection(_exc: BaseException | None = None) -> None:
    conn = g.pop("_moviedash_auth_conn", None)
    if conn is not None:
        conn.close()


def auth_active() -> bool:
    """True when this request needs credentials."""
    mode = current_app.config.get("MOVIEDASH_AUTH", "auto")
    if mode == "off":
        return False
    if mode == "required":
        return True
    return store.read_has_accounts(auth_connection())


def safe_next(target: str | None) -> str:
    """``target`` when it is a path on this server, else ``/``: never an open redirect.

    Refused: absolute and scheme-relative URLs (``//host``), backslashes (which
    browsers read as slashes) and any whitespace or control character (which
    browsers strip, so ``/\\t/host`` would become ``//host``).
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    if "\\" in target or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


def login_location(next_path: str) -> str:
    """The login page's relative URL, remembering where to go after signing in."""
    return f"{LOGIN_PATH}?{urlencode({'next': next_path})}" if next_path != "/" else LOGIN_PATH


def session_user() -> str | None:
    """The name of the user signed in with a session cookie on this request (not a token), or None."""
    if getattr(current_app, "login_manager", None) is None:
        return None
    if current_user.is_authenticated and getattr(current_user, "via", None) == "session":
        return current_user.name
    return None


# --------------------------------------------------------------------------- #
# Loading the account of a request (Flask-Login callbacks).
# --------------------------------------------------------------------------- #


def load_session_user(user_id: str) -> Account | None:
    name, _, print_ = user_id.rpartition(":")
    if not store.NAME_RE.fullmatch(name):
        return None
    stored = store.read_password_hash(auth_connection(), name)
    if stored is None or not hmac.compare_digest(store.fingerprint(stored), print_):
        return None  # removed, or re-added with a new password
    return Account(name, "session", print_)


def load_token_user(req: Request) -> Account | None:
    header = req.headers.get("Authorization")
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    name = store.read_token_name(auth_connection(), token.strip()) if scheme.lower() == "bearer" else None
    if name is None:
        g._moviedash_bad_token = True
        return None
    return Account(name, "token")


# --------------------------------------------------------------------------- #
# The gate.
# --------------------------------------------------------------------------- #


def gate() -> BaseResponse | None:
    """Let the request through, or answer it: a redirect to the login page (``/``) or a 401."""
    path = request.path
    if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
        return None
    try:
        if not auth_active() or current_user.is_authenticated:
            return None
    except MoviedashError as exc:
        if exc.status == 503 and path == "/_dash-update-component":
            # The accounts cannot be read (the database is down): answer a callback as the
            # callbacks themselves do then, "no update", so the page keeps what it shows.
            return Response(status=204)
        raise
    if (path in PAGE_PATHS or path.startswith(SHOW_PREFIX)) and request.method in ("GET", "HEAD"):
        query = request.query_string.decode("utf-8", "replace")
        return redirect(login_location(path + (f"?{query}" if query else "")), code=302)
    if g.get("_moviedash_bad_token"):
        message, challenge = "invalid or revoked token", f'{REALM}, error="invalid_token"'
    else:
        message, challenge = "sign-in required: sign in at /login, or send 'Authorization: Bearer <token>'", REALM
    response = error_response(MoviedashError(message, status=401))
    response.headers["WWW-Authenticate"] = challenge
    return response


# --------------------------------------------------------------------------- #
# The login and logout views.
# --------------------------------------------------------------------------- #


def _page(form: LoginForm | None, message: str | None, status: int, headers: dict[str, str] | None = None) -> Response:
    response = Response(render_template("moviedash_auth/login.html", form=form, message=message), status=status,
                        mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def login() -> BaseResponse:
    """The login page (GET) and the sign-in (POST)."""
    target = safe_next(request.args.get("next"))
    if not auth_active():
        return redirect(target)
    if not current_app.secret_key:
        return _page(None, "No user can sign in yet: add one with 'moviedash users add NAME'.", 503)
    if request.method == "GET" and session_user():
        return redirect(target)
    form = LoginForm()
    if request.method == "GET":
        return _page(form, None, 200)
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            return _page(form, "The sign-in form expired or did not come from this page. Please try again.", 400)
        return _page(form, "Enter your user name and password.", 400)
    name = form.username.data.strip().lower()
    stored = store.read_password_hash(auth_connection(), name) if store.NAME_RE.fullmatch(name) else None
    if not store.verify_password(stored, form.password.data):
        g._moviedash_login_failed = True  # counted by the rate limits
        return _page(form, "Wrong user name or password.", 401, {"WWW-Authenticate": REALM})
    assert stored is not None  # verify_password refuses a missing hash
    session.clear()
    login_user(Account(name, "session", store.fingerprint(stored)))
    session.permanent = True  # expires PERMANENT_SESSION_LIFETIME after the last request
    # A new CSRF token for the sign-out form, in the session from now on. Made later, in the
    # layout's request, it would be lost to the page's concurrent callbacks, whose responses
    # re-send the cookie they came with.  (Flask-WTF caches the old one in g.)
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
    generate_csrf()
    return redirect(target)


def logout() -> BaseResponse:
    """End the session (POST with the CSRF token from the dashboard's header), then show the login page."""
    if current_app.secret_key and session_user():
        if not SignOutForm().validate_on_submit():
            raise MoviedashError("the sign-out form expired: reload the page and sign out again", status=400)
        logout_user()
        session.clear()
    return redirect(LOGIN_PATH)


def rate_limited(exc: RateLimitExceeded) -> Response:
    """Too many failed sign-ins: the login page again, with when to retry."""
    limit = current_app.extensions["moviedash_limiter"].current_limit
    wait = max(1, int(limit.reset_at - time.time())) if limit else 60
    minutes = max(1, round(wait / 60))
    form = LoginForm() if current_app.secret_key else None
    return _page(form, f"Too many failed sign-ins. Try again in {minutes} minute{'s' if minutes != 1 else ''}.",
                 429, {"Retry-After": str(wait)})


def _login_name() -> str:
    """The rate limit's key per user name: the name as it would be looked up."""
    return (request.form.get("username") or "").strip().lower()[:64] or "(none)"


def _failed(_response: Response) -> bool:
    return bool(g.get("_moviedash_login_failed"))


def _config_value(key: str, default: str) -> Callable[[], str]:
    return lambda: str(current_app.config.get(key) or default)


# --------------------------------------------------------------------------- #
# Wiring.
# --------------------------------------------------------------------------- #


def configure(server: Flask) -> None:
    """Check the sign-in settings and set the cookie options (before anything is registered)."""
    config = server.config
    mode = config.setdefault("MOVIEDASH_AUTH", "auto")
    if mode not in MODES:
        raise MoviedashError(f"MOVIEDASH_AUTH must be one of {', '.join(MODES)}, not {mode!r}")
    auth_file = config.get("MOVIEDASH_AUTH_FILE")
    if auth_file and not Path(auth_file).is_file():
        raise MoviedashError(f"auth file not found: {auth_file}. Create it with "
                             f"'moviedash users add NAME --auth-file {auth_file}'")
    hours = config.get("MOVIEDASH_SESSION_HOURS") or DEFAULT_SESSION_HOURS
    try:
        hours = float(hours)
    except (TypeError, ValueError):
        hours = -1.0
    if not 0 < hours <= 24 * 366:
        raise MoviedashError("the session lifetime must be a number of hours between 0 and 8784")
    config.update(
        SESSION_COOKIE_NAME="moviedash_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(config.get("MOVIEDASH_SECURE_COOKIES")),
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=hours),
        # The token lives as long as the session; the dashboard's sign-out form may stay open for hours.
        WTF_CSRF_TIME_LIMIT=None,
    )
    secret = config.get("MOVIEDASH_SECRET_KEY") or os.environ.get("MOVIEDASH_SECRET_KEY")
    if secret:
        server.secret_key = secret


def init_app(server: Flask) -> None:
    """Put sign-in in front of every page and route of ``server`` (see the module's docstring)."""
    configure(server)
    server.teardown_appcontext(_close_auth_connection)
    if server.config["MOVIEDASH_AUTH"] == "off":
        server.add_url_rule(LOGIN_PATH, "moviedash_login", lambda: redirect("/"), methods=["GET", "POST"])
        server.add_url_rule(LOGOUT_PATH, "moviedash_logout", lambda: redirect("/"), methods=["POST"])
        return
    server.session_interface = SessionInterface()

    manager = LoginManager()
    manager.init_app(server)
    manager.user_loader(load_session_user)
    manager.request_loader(load_token_user)

    limiter = Limiter(get_remote_address, app=server, storage_uri="memory://", strategy="moving-window")
    server.extensions["moviedash_limiter"] = limiter
    view = limiter.limit(_config_value("MOVIEDASH_LOGIN_LIMIT_PER_USER", DEFAULT_LIMIT_PER_USER),
                         key_func=_login_name, methods=["POST"], deduct_when=_failed, scope="login-user")(login)
    view = limiter.limit(_config_value("MOVIEDASH_LOGIN_LIMIT_PER_IP", DEFAULT_LIMIT_PER_IP),
                         key_func=get_remote_address, methods=["POST"], deduct_when=_failed, scope="login-ip")(view)

    pages = Blueprint("moviedash_auth", __name__, template_folder="templates")
    pages.add_url_rule(LOGIN_PATH, "login", view, methods=["GET", "POST"])
    pages.add_url_rule(LOGOUT_PATH, "logout", logout, methods=["POST"])
    server.register_blueprint(pages)
    server.register_error_handler(RateLimitExceeded, rate_limited)
    server.before_request(gate)


def check_serving(server: Flask, host: str | None, override: str) -> str:
    """One line saying how sign-in stands, or a :class:`MoviedashError` when serving must not start.

    ``host`` None means the address is not known here (``gunicorn app:server``);
    ``override`` names how to serve without sign-in anyway (in the refusal).
    """
    config = server.config
    where = host or "this address"
    if config.get("MOVIEDASH_AUTH") == "off":
        return f"sign-in: off ({override}): anyone who can reach {where} sees everything"
    with store.reader(config["MOVIEDASH_DB"], config.get("MOVIEDASH_AUTH_FILE")) as conn:
        users, tokens = store.read_counts(conn)
    if users or tokens:
        return f"sign-in: on ({users} user{'s' * (users != 1)}, {tokens} token{'s' * (tokens != 1)})"
    if config.get("MOVIEDASH_AUTH") == "required":
        raise MoviedashError(
            f"refusing to serve on {where} without sign-in: no users exist. Add one with "
            f"'moviedash users add NAME', or use {override} to serve without sign-in"
        )
    return "sign-in: off until a user exists (add one with 'moviedash users add NAME')"
