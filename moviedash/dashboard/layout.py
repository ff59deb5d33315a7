"""The dashboard page."""
from __future__ import annotations

from dash import dcc, html


def serve_layout() -> html.Div:
    """Build the page per request (nothing is read at import time)."""
    return html.Div(
        [
            html.H1("moviedash"),
            html.Label("Resolution", htmlFor="users-resolution"),
            dcc.Dropdown(
                id="users-resolution",
                options=[{"label": r.title(), "value": r} for r in ("daily", "weekly", "monthly")],
                value="daily",
                clearable=False,
            ),
            dcc.Graph(id="users-graph"),
        ]
    )
