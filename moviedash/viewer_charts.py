"""Pure figures of concentration and heavy viewers (issue 15): frame in, ``go.Figure`` out, no Dash.

Drawn with :mod:`moviedash.charts`' theme, palette and helpers, so they look like every
other chart; the frames are :mod:`moviedash.viewers`' (:meth:`~moviedash.viewers.Concentration.lorenz_frame`,
:meth:`~moviedash.viewers.Concentration.top_frame`, :meth:`~moviedash.viewers.ViewerDistribution.frame`).
None of them holds or shows a user id.
"""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from .charts import DEFAULT_TITLE, _figure, _nullable, _points, _title, _value_margin, empty_figure, palette

#: The axis and hover words of each per-viewer measure.
_MEASURE_WORDS = {"plays": ("Plays per viewer", "plays"), "minutes": ("Minutes per viewer", "minutes")}


def lorenz_figure(df: pd.DataFrame, gini: float | None, *, theme: str = "light",
                  title: str | None = DEFAULT_TITLE) -> go.Figure:
    """The Lorenz curve (share of minutes against share of viewers, lightest first), the equality
    diagonal, and the Gini coefficient in the title and an annotation."""
    standard = "Concentration of viewing" if gini is None else f"Concentration of viewing (Gini {gini:.4f})"
    title = _title(title, standard)
    if df.empty or gini is None:
        return empty_figure(title=title, theme=theme)
    p = palette(theme)
    x = [100 * float(v) for v in df["viewers_share"]]
    y = [100 * float(v) for v in df["minutes_share"]]
    traces = [
        {
            "type": "scatter", "x": [0, 100], "y": [0, 100], "mode": "lines", "name": "Equality",
            "line": {"color": p.muted, "width": 1, "dash": "dash"}, "hoverinfo": "skip",
        },
        {
            "type": "scatter", "x": x, "y": y, "mode": "lines", "name": "Lorenz curve",
            "line": {"color": p.users, "width": 2}, "fill": "tonexty", "fillcolor": "rgba(99, 102, 241, 0.12)",
            "hovertemplate": "<b>The lightest %{x:.0f} % of viewers</b><br>watched %{y:.2f} % of the minutes"
            "<extra></extra>",
        },
    ]
    return _figure(traces, theme, title, {
        "showlegend": True,
        "xaxis": {"title": {"text": "% of viewers (lightest first)"}, "range": [0, 100]},
        "yaxis": {"title": {"text": "% of minutes watched"}, "range": [0, 100]},
        "annotations": [{
            "text": f"Gini {gini:.4f}", "xref": "paper", "yref": "paper", "x": 0.04, "y": 0.96,
            "showarrow": False, "font": {"size": 14, "color": p.text},
        }],
        "margin": _value_margin([100]),
    })


def top_shares_figure(df: pd.DataFrame, *, theme: str = "light", title: str | None = DEFAULT_TITLE) -> go.Figure:
    """Bars of the share of minutes watched by the top 1 %, 10 % and 50 % of viewers."""
    title = _title(title, "Minutes watched by the heaviest viewers")
    shares = _nullable(df["share"]) if not df.empty else []
    if not any(v is not None for v in shares):
        return empty_figure(title=title, theme=theme)
    p = palette(theme)
    trace = {
        "type": "bar", "x": [f"Top {int(t)} %" for t in df["top"]], "y": shares,
        "customdata": _points([[int(n), int(m)] for n, m in zip(df["viewers"], df["minutes"], strict=True)]),
        "hovertemplate": "<b>%{x} of viewers</b><br>%{y:,} % of minutes · %{customdata[0]:,} viewers · "
        "%{customdata[1]:,} minutes<extra></extra>",
        "marker": {"color": p.minutes}, "name": "Share of minutes",
    }
    return _figure([trace], theme, title, {
        "xaxis": {"title": {"text": "Heaviest viewers"}, "type": "category"},
        "yaxis": {"title": {"text": "% of minutes watched"}, "range": [0, 100]},
        "margin": _value_margin([100]),
    })


def histogram_figure(df: pd.DataFrame, measure: str, *, theme: str = "light",
                     title: str | None = DEFAULT_TITLE) -> go.Figure:
    """Viewers per declared bin of plays or minutes per viewer (counts, with their share in the hover)."""
    axis, unit = _MEASURE_WORDS[measure]
    title = _title(title, f"{axis}: how many viewers")
    if df.empty or int(df["viewers"].sum()) == 0:
        return empty_figure(title=title, theme=theme)
    p = palette(theme)
    counts = [int(n) for n in df["viewers"]]
    trace = {
        "type": "bar", "x": [str(label) for label in df["label"]], "y": counts,
        "customdata": _points([0.0 if s is None else float(s) for s in df["share"]]),
        "hovertemplate": f"<b>%{{x}} {unit}</b><br>%{{y:,}} viewers · %{{customdata:,}} % of viewers<extra></extra>",
        "marker": {"color": p.bars if measure == "plays" else p.minutes}, "name": axis,
    }
    return _figure([trace], theme, title, {
        "xaxis": {"title": {"text": axis}, "type": "category"},
        "yaxis": {"title": {"text": "Viewers"}, "rangemode": "tozero"},
        "margin": _value_margin(counts),
    })
