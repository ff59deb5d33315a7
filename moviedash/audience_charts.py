"""The audience page's figures, pure functions of their frames (no Dash): new vs returning viewers
(stacked bars per period) and the cohort retention triangle (a heat table, oldest cohort on top, as
Umami's retention report), in the dashboard's themes (:mod:`moviedash.charts`)."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from . import metrics
from .charts import (
    _PERIOD_AXIS,
    DEFAULT_TITLE,
    _figure,
    _points,
    _title,
    _value_margin,
    empty_figure,
    palette,
    period_label,
    tick_label_width,
)
from .params import COHORT_PERIODS

_MEASURES = {m.name: m for m in metrics.AUDIENCE}
_OFFSET_WORDS = {"week": "Week", "month": "Month"}


def audience_figure(df: pd.DataFrame, resolution: str, *, theme: str = "light",
                    title: str | None = DEFAULT_TITLE) -> go.Figure:
    """Returning viewers (below) and new viewers (on top) per period: each bar is the period's unique users."""
    title = _title(title, _MEASURES["audience"].label)
    if df.empty or int(df["new"].sum() + df["returning"].sum()) == 0:
        return empty_figure(title=title, theme=theme)
    p = palette(theme)
    labels = [str(d) for d in df["date"]]
    periods = [period_label(dt.date.fromisoformat(d), resolution) for d in labels]
    totals = [int(n) + int(r) for n, r in zip(df["new"], df["returning"], strict=True)]
    traces = [
        {
            "type": "bar", "x": labels, "y": [int(v) for v in df[column]], "name": name,
            "customdata": _points([[period, total] for period, total in zip(periods, totals, strict=True)]),
            "hovertemplate": f"<b>%{{customdata[0]}}</b><br>%{{y:,}} {name.lower()} viewers of "
            "%{customdata[1]:,}<extra></extra>",
            "marker": {"color": colour},
        }
        for column, name, colour in (("returning", "Returning", p.users), ("new", "New", p.minutes))
    ]
    return _figure(traces, theme, title, {
        "barmode": "stack", "showlegend": True, "hovermode": "x",
        "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
        "xaxis": {"title": {"text": _PERIOD_AXIS[resolution]}, "type": "date"},
        "yaxis": {"title": {"text": "Viewers"}, "rangemode": "tozero"},
        "margin": _value_margin(totals),
    })


def cohort_label(cohort: str, period: str) -> str:
    """How a cohort reads: ``Week of Mon 1 Jan 2024`` or ``January 2024``."""
    return period_label(dt.date.fromisoformat(cohort), COHORT_PERIODS[period])


#: The widest triangle (periods since first seen) whose cells print their share.
_CELL_TEXT_MAX = 12


def cohorts_figure(df: pd.DataFrame, period: str, *, theme: str = "light",
                   title: str | None = DEFAULT_TITLE) -> go.Figure:
    """The retention triangle: a row per cohort (its size in the label), a column per offset, the share of
    the cohort active in that period as the cell's colour and text; cells beyond the range are empty."""
    title = _title(title, _MEASURES["cohorts"].label)
    if df.empty:
        return empty_figure(title=title, theme=theme)
    p = palette(theme)
    cohorts = list(dict.fromkeys(str(c) for c in df["cohort"]))
    width = int(df["offset"].max()) + 1
    sizes = dict(zip(df["cohort"].astype(str), df["size"].astype(int), strict=False))
    rows = [f"{cohort_label(c, period)} · {sizes[c]:,}" for c in cohorts]
    # Whole arrays at once (numpy object arrays, validated as one array each): a triangle of weeks over
    # two years has thousands of cells, too many for a Python step per cell.
    shown: dict[str, str] = {}

    def label(day: str) -> str:
        found = shown.get(day)
        if found is None:
            found = shown[day] = cohort_label(day, period)
        return found

    at = {c: i for i, c in enumerate(cohorts)}
    rows_at = [at[str(c)] for c in df["cohort"]]
    cols_at = [int(k) for k in df["offset"]]
    shares = [float(v) for v in df["share"]]
    z = np.full((len(cohorts), width), None, dtype=object)
    # Per cell only what the row's label (the cohort and its size) does not say: its period and active members.
    custom = np.empty((len(cohorts), width, 2), dtype=object)
    custom[:, :, 0] = ""
    custom[:, :, 1] = 0
    z[rows_at, cols_at] = shares
    custom[rows_at, cols_at, 0] = [label(str(c)) for c in df["period"]]
    custom[rows_at, cols_at, 1] = [int(v) for v in df["active"]]
    in_cells = width <= _CELL_TEXT_MAX  # numbers in the cells only while they fit (the hover text keeps them)
    if in_cells:
        text = np.full((len(cohorts), width), "", dtype=object)
        text[rows_at, cols_at] = [f"{v:.1f}" for v in shares]
    word = _OFFSET_WORDS[period]
    scale = [[i / (len(p.scale) - 1), colour] for i, colour in enumerate(p.scale)]
    trace = {
        "type": "heatmap", "z": z, "x": [f"{word} {k}" for k in range(width)], "y": rows,
        **({"text": text, "texttemplate": "%{text}", "textfont": {"size": 10}} if in_cells else {}),
        "customdata": custom, "zmin": 0, "zmax": 100, "colorscale": scale, "xgap": 2, "ygap": 2,
        "hoverongaps": False,
        "hovertemplate": "<b>%{y} viewers</b><br>%{customdata[0]}: %{customdata[1]:,} active (%{z:.2f} %)"
        "<extra></extra>",
        "colorbar": {"title": {"text": "% active", "side": "top"}, "thickness": 10, "outlinewidth": 0,
                     "tickfont": {"color": p.muted, "size": 11}},
        "name": "Retention",
    }
    return _figure([trace], theme, title, {
        "margin": {"l": 24 + int(max(map(tick_label_width, rows))), "b": 44},
        "xaxis": {"title": {"text": f"{word}s since first seen"}, "type": "category", "showgrid": False,
                  "zeroline": False, "side": "top"},
        "yaxis": {"title": {"text": ""}, "autorange": "reversed", "type": "category", "showgrid": False,
                  "zeroline": False},
    })
