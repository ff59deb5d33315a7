"""The show charts: pure functions ``frame -> go.Figure`` (no Dash), drawn like :mod:`moviedash.charts`.

Frames are :func:`moviedash.showstats.frame`'s (``episodes``, ``grid``) and the top list's
(``title``, ``values``) with ``group=shows``.  Every text Plotly displays goes through
:func:`moviedash.charts.plotly_text`, so markup in a show or episode name shows literally.
"""
from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go

from . import charts
from .charts import DEFAULT_TITLE, _figure, _title, empty_figure, palette, plotly_text

#: The show page's charts (also the names of their figures and CSV files).
SHOW_CHARTS: tuple[str, ...] = ("show_episodes", "show_dropoff", "show_grid")
#: The table of :func:`moviedash.showstats.frame` behind each chart.
SHOW_CHART_PARTS: dict[str, str] = {"show_episodes": "episodes", "show_dropoff": "episodes", "show_grid": "grid"}
_RANK_WORDS = {"plays": "plays", "minutes": "minutes watched", "viewers": "unique viewers"}


def season_label(season: Any) -> str:
    """``Season 2``, or ``No season`` for events without a season number."""
    return "No season" if season is None or pd.isna(season) else f"Season {int(season)}"


def episode_label(season: Any, episode: Any) -> str:
    """``S2E5``; ``S2E?`` / ``S?E?`` where a number is missing."""
    s = "?" if season is None or pd.isna(season) else str(int(season))
    e = "?" if episode is None or pd.isna(episode) else str(int(episode))
    return f"S{s}E{e}"


def _seasons(df: pd.DataFrame) -> list[tuple[int | None, pd.DataFrame]]:
    """The frame's rows per season, in the frame's order (seasons in order, ``None`` last)."""
    seasons = [None if pd.isna(s) else int(s) for s in df["season"].tolist()]
    out: list[tuple[int | None, pd.DataFrame]] = []
    for season in dict.fromkeys(seasons):  # first appearance order
        out.append((season, df[[s == season for s in seasons]]))
    return out


def top_shows_figure(df: pd.DataFrame, rank: str, *, theme: str = "light",
                     title: str | None = DEFAULT_TITLE) -> go.Figure:
    """The top list by show (``group=shows``): :func:`moviedash.charts.toplist_figure` titled for shows."""
    standard = f"Top {len(df)} shows by {_RANK_WORDS[rank]}" if len(df) else "Top shows"
    return charts.toplist_figure(df, rank, theme=theme, title=_title(title, standard))


def episodes_figure(df: pd.DataFrame, show: str, *, theme: str = "light",
                    title: str | None = DEFAULT_TITLE) -> go.Figure:
    """Viewers of each episode, in episode order, a bar colour per season."""
    title = _title(title, f"Viewers per episode: {show}")
    if df.empty:
        return empty_figure(title=title, theme=theme)
    colours = _colours(theme)
    traces = []
    for i, (season, rows) in enumerate(_seasons(df)):
        labels = [episode_label(season, e) for e in rows["episode"].tolist()]
        names = [plotly_text(n) if isinstance(n, str) else "" for n in rows["episode_name"].tolist()]
        traces.append({
            "type": "bar", "x": labels, "y": [int(v) for v in rows["viewers"]], "name": season_label(season),
            "customdata": charts._points([[n, int(p), int(m)] for n, p, m in
                                          zip(names, rows["plays"], rows["minutes"], strict=True)]),
            "hovertemplate": "<b>%{x}</b> %{customdata[0]}<br>%{y:,} viewers · %{customdata[1]:,} plays · "
                             "%{customdata[2]:,} minutes<extra></extra>",
            "marker": {"color": colours[i % len(colours)]},
        })
    # Fixed margins that fit the tick labels (the template turns automargin off: it draws a chart twice).
    return _figure(traces, theme, title, {
        "showlegend": len(traces) > 1, "bargap": 0.15, "margin": charts._value_margin(df["viewers"]),
        "xaxis": {"type": "category", "title": {"text": "Episode"}},
        "yaxis": {"title": {"text": "Unique viewers"}, "rangemode": "tozero"},
    })


def dropoff_figure(df: pd.DataFrame, show: str, *, theme: str = "light",
                   title: str | None = DEFAULT_TITLE) -> go.Figure:
    """Episode drop-off: each episode's viewers as % of its season's first episode's, a line per season."""
    title = _title(title, f"Episode drop-off: {show}")
    if df.empty or not df["share_of_first"].notna().any():
        return empty_figure(title=title, theme=theme)
    colours = _colours(theme)
    traces = []
    for i, (season, rows) in enumerate(_seasons(df)):
        positions = list(range(1, len(rows) + 1))  # the season's episodes in order (numbers may have gaps)
        labels = [episode_label(season, e) for e in rows["episode"].tolist()]
        traces.append({
            "type": "scatter", "mode": "lines+markers", "x": positions,
            "y": [None if pd.isna(v) else float(v) for v in rows["share_of_first"]],
            "name": season_label(season), "customdata": charts._points(labels),
            "hovertemplate": "<b>%{customdata}</b><br>%{y} % of the first episode's viewers<extra></extra>",
            "line": {"color": colours[i % len(colours)], "width": 2}, "marker": {"size": 6},
        })
    return _figure(traces, theme, title, {
        "showlegend": len(traces) > 1, "margin": charts._value_margin([100]),
        "xaxis": {"title": {"text": "Episode of the season (in order)"}, "dtick": 1},
        "yaxis": {"title": {"text": "% of the first episode's viewers"}, "rangemode": "tozero"},
    })


def grid_figure(df: pd.DataFrame, show: str, *, theme: str = "light",
                title: str | None = DEFAULT_TITLE) -> go.Figure:
    """How many viewers watched 1, 2, … N episodes of each season: grouped bars, a colour per season."""
    title = _title(title, f"Episodes watched per viewer: {show}")
    if df.empty or not df["viewers"].astype(int).any():
        return empty_figure(title=title, theme=theme)
    colours = _colours(theme)
    traces = [
        {
            "type": "bar", "x": [int(k) for k in rows["episodes_watched"]], "y": [int(v) for v in rows["viewers"]],
            "name": season_label(season),
            "hovertemplate": f"<b>{season_label(season)}</b><br>%{{y:,}} viewers watched %{{x}} episodes"
                             "<extra></extra>",
            "marker": {"color": colours[i % len(colours)]},
        }
        for i, (season, rows) in enumerate(_seasons(df))
    ]
    return _figure(traces, theme, title, {
        "showlegend": len(traces) > 1, "barmode": "group", "bargap": 0.15,
        "margin": charts._value_margin(df["viewers"]),
        "xaxis": {"title": {"text": "Distinct episodes watched"}, "dtick": 1},
        "yaxis": {"title": {"text": "Viewers"}, "rangemode": "tozero"},
    })


def _colours(theme: str) -> list[str]:
    p = palette(theme)
    return [p.users, p.minutes, p.bars, p.muted]


#: Each show chart's figure function.
SHOW_FIGURES = {"show_episodes": episodes_figure, "show_dropoff": dropoff_figure, "show_grid": grid_figure}
