"""The dashboard header's account part: who is signed in, and "Sign out" (a POST with the CSRF token)."""
from __future__ import annotations

from dash import dcc, html
from flask_wtf.csrf import generate_csrf

from .web import LOGOUT_PATH, session_user


def account_controls() -> list[html.Form]:
    """"Signed in as NAME" and a "Sign out" button, for a request signed in with a session; else nothing."""
    name = session_user()
    if name is None:
        return []
    return [
        html.Form(
            [
                dcc.Input(type="hidden", name="csrf_token", value=generate_csrf()),
                html.Span(["Signed in as ", html.Strong(name)], id="account-name", className="account-name"),
                html.Button("Sign out", id="sign-out", type="submit", className="btn-signout"),
            ],
            method="POST",
            action=LOGOUT_PATH,
            className="signout",
        )
    ]
