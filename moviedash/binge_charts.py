"""The binge charts (issue 15): pure functions from a frame of :mod:`moviedash.binge` to a ``go.Figure``.

No Dash and no database here; the theme, the empty figure and the layout
helpers are :mod:`moviedash.charts`', so these charts look like the others.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd
import plotly.graph_objects as go

from .charts import (
    _PERIOD_AXIS,
    DEFAULT_TITLE,
    _figure,
    _nullable,
    _points,
    _short,
    _title,
    _value_margin,
    empty_figure,
    palette,
    period_label,
    plotly_text,
    toplist_height,
)


def sessions_figure(df: pd.DataFrame, resolution: str, *, theme: str = "light",
                    title: str | None = DEFAULT_TITLE) -> go.Figure:
    """Bars of the binge sessions started per period (``binge.per_period``'s ``date`` and ``sessions``)."""
    title = _title(title, "Binge sessions")
    if df.empty or not int(df["sessions"].sum()):
        return empty_figure(title=title, theme=theme)
    labels = [str(d) for d in df["date"]]
    periods = [period_label(dt.date.fromisoformat(d), resolution) for d in labels]
    values = [int(v) for v in df["sessions"]]
    trace = {
        "type": "bar", "x": labels, "y": values, "customdata": _points(periods),
        "hovertemplate": "<b>%{customdata}</b><br>%{y:,} binge sessions started<extra></extra>",
        "marker": {"color": palette(theme).users}, "name": "Binge sessions",
    }
    return _figure([trace], theme, title, {
        "hovermode": "x",
        "xaxis": {"title": {"text": _PERIOD_AXIS[resolution]}, "type": "date"},
        "yaxis": {"title": {"text": "Sessions started"}, "rangemode": "tozero"},
        "margin": _value_margin(values),
    })


def share_figure(df: pd.DataFrame, resolution: str, *, theme: str = "light",
                 title: str | None = DEFAULT_TITLE) -> go.Figure:
    """A line of the share of series minutes watched in binges per period (a gap without series minutes)."""
    title = _title(title, "Share of series minutes in binges")
    values = _nullable(df["share"]) if not df.empty else []
    if not any(v is not None for v in values):
        return empty_figure(title=title, theme=theme)
    colour = palette(theme).minutes
    labels = [str(d) for d in df["date"]]
    custom = [[period_label(dt.date.fromisoformat(d), resolution), int(b), int(m)]
              for d, b, m in zip(labels, df["binge_minutes"], df["series_minutes"], strict=True)]
    trace = {
        "type": "scatter", "x": labels, "y": values, "customdata": _points(custom),
        "hovertemplate": ("<b>%{customdata[0]}</b><br>%{y:,} % of series minutes"
                          " · %{customdata[1]:,} of %{customdata[2]:,} minutes<extra></extra>"),
        "mode": "lines+markers", "connectgaps": False,
        "line": {"color": colour, "width": 2}, "marker": {"size": 5, "color": colour}, "name": "Binge share",
    }
    return _figure([trace], theme, title, {
        "hovermode": "x",
        "xaxis": {"title": {"text": _PERIOD_AXIS[resolution]}, "type": "date"},
        "yaxis": {"title": {"text": "% of series minutes"}, "rangemode": "tozero"},
        "margin": _value_margin(values),
    })


def shows_figure(df: pd.DataFrame, *, theme: str = "light", title: str | None = DEFAULT_TITLE) -> go.Figure:
    """Horizontal bars of the most binged shows' sessions, the first at the top, with viewers and
    episodes per session in the hover text."""
    title = _title(title, f"Top {len(df)} binged shows" if len(df) else "Top binged shows")
    if df.empty:
        return empty_figure(title=title, theme=theme)
    p = palette(theme)
    names = [str(s) for s in df["show"]]
    values = [int(v) for v in df["sessions"]]
    custom = [[plotly_text(n), int(v), float(e)]
              for n, v, e in zip(names, df["viewers"], df["episodes_per_session"], strict=True)]
    trace = {
        "type": "bar", "x": values, "y": names, "orientation": "h", "customdata": _points(custom),
        "hovertemplate": ("<b>%{customdata[0]}</b><br>%{x:,} sessions · %{customdata[1]:,} viewers"
                          " · %{customdata[2]:,} episodes per session<extra></extra>"),
        "marker": {"color": p.bars}, "name": "Binge sessions",
    }
    return _figure([trace], theme, title, {
        "height": toplist_height(len(names)) + (36 if title else 0),
        "bargap": 0.18,
        "xaxis": {"title": {"text": "Binge sessions"}, "rangemode": "tozero"},
        "yaxis": {
            "type": "category", "autorange": "reversed", "tickmode": "array", "tickvals": names,
            "ticktext": [plotly_text(_short(n)) for n in names], "automargin": True,
        },
    })
