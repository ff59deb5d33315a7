"""Pure figure builders: ``DataFrame + options -> plotly Figure`` (no Dash, no database).

The dashboard, the reports and the figures API all draw with these, from the
frames :mod:`moviedash.analysis` returns.
"""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

EMPTY_MESSAGE = "No data for this selection"

_SERIES_TITLES = {
    "unique_users": ("Unique users", "Unique users"),
    "minutes_watched": ("Minutes watched", "Minutes watched"),
}
_PERIOD = {"daily": "Day", "weekly": "Week (starting Monday)", "monthly": "Month"}


def empty_figure(message: str = EMPTY_MESSAGE, title: str | None = None) -> go.Figure:
    """A figure with no axes and a centred message, for an empty selection."""
    fig = go.Figure()
    fig.update_layout(
        title=title,
        xaxis={"visible": False},
        yaxis={"visible": False},
        annotations=[
            {"text": message, "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5,
             "showarrow": False, "font": {"size": 16}}
        ],
    )
    return fig


def timeseries_figure(df: pd.DataFrame, metric: str, resolution: str) -> go.Figure:
    """A line chart of a ``date``/``values`` frame for ``unique_users`` or ``minutes_watched``."""
    title, y_title = _SERIES_TITLES[metric]
    if df.empty:
        return empty_figure(title=title)
    fig = go.Figure(
        go.Scatter(x=list(df["date"]), y=[int(v) for v in df["values"]], mode="lines", name=title)
    )
    fig.update_layout(title=title, xaxis_title=_PERIOD[resolution], yaxis_title=y_title)
    return fig
