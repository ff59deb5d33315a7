"""Dash callbacks, registered on a given app (no global ``@dash.callback``)."""
from __future__ import annotations

import dash
import plotly.graph_objects as go
from dash import Input, Output

from .. import analysis, charts
from ..context import get_connection
from ..params import SeriesQuery, parse_resolution


def register_callbacks(app: dash.Dash) -> None:
    """Attach every callback of the dashboard to ``app``."""

    @app.callback(Output("users-graph", "figure"), Input("users-resolution", "value"))
    def update_users(resolution: str) -> go.Figure:
        query = SeriesQuery(parse_resolution(resolution))
        return charts.timeseries_figure(analysis.unique_users(get_connection(), query), "unique_users", query.resolution)
