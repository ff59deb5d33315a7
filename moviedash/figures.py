"""Figures for notebooks and scripts: one function per chart of the dashboard.

    from moviedash import figures
    figures.unique_users("moviedb", resolution="weekly").show()
    figures.top_titles("moviedb", num=20, rank="minutes", start="2024-06-01", device=["TV"])
    figures.kpis("moviedb", start="2024-12-01", end="2024-12-31")      # a DataFrame

Each takes a database (a path, ``sqlite:///path``, a ``postgresql://`` URL, or
an open connection) and the dashboard's options, validates them like the JSON routes
(a bad option raises :class:`~moviedash.errors.MoviedashError` naming it), and
returns a ``plotly.graph_objects.Figure`` built by the same pipeline as the
dashboard, so the numbers are the same everywhere.
"""
from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import pandas as pd
import plotly.graph_objects as go

from . import analysis, charts, metrics, pipeline
from .errors import MoviedashError
from .params import (
    BREAKDOWN_KEYS,
    NUM_DEFAULT,
    Filters,
    SeriesQuery,
    TopQuery,
    parse_group,
    parse_num,
    parse_period,
    parse_rank,
    parse_resolution,
    parse_title,
)
from .store import Connection, connect_readonly

Database = str | os.PathLike[str] | Connection
Values = str | Sequence[str] | None

__all__ = ["series", "unique_users", "minutes_watched", "top_titles", "top_shows", "show", "heatmap", "kpis",
           "engagement", "binge", "audience", "cohorts", "viewers"]


@contextmanager
def connection(db: Database) -> Iterator[Connection]:
    """A read-only connection to ``db``; one that was passed in is left open."""
    if not isinstance(db, (str, os.PathLike)):  # an open connection (sqlite3 or moviedash.store.postgres)
        yield db
        return
    conn = connect_readonly(db)
    try:
        yield conn
    finally:
        conn.close()


def _filters(start: object, end: object, sessiontype: Values, device: Values, market: Values) -> Filters:
    return Filters.create(start=start, end=end, sessiontype=sessiontype, device=device, market=market)


def series(
    metric: str, db: Database, resolution: str = "daily", *, start: object = None, end: object = None,
    sessiontype: Values = None, device: Values = None, market: Values = None,
    theme: str = "light", title: str | None = charts.DEFAULT_TITLE,
) -> go.Figure:
    """Any declared measure (:data:`moviedash.metrics.SERIES`, e.g. ``plays``) per day, week or month."""
    if metric not in metrics.SERIES:
        raise MoviedashError(f"unknown metric {metric!r}; one of {', '.join(metrics.SERIES)}", parameter="metric")
    query = SeriesQuery(parse_resolution(resolution), _filters(start, end, sessiontype, device, market))
    with connection(db) as conn:
        return pipeline.series_figure(conn, metric, query, theme=theme, title=title)[0]


def _series(
    metric: str, db: Database, resolution: str, start: object, end: object,
    sessiontype: Values, device: Values, market: Values, theme: str, title: str | None,
) -> go.Figure:
    return series(metric, db, resolution, start=start, end=end, sessiontype=sessiontype, device=device,
                  market=market, theme=theme, title=title)


def unique_users(
    db: Database, resolution: str = "daily", *, start: object = None, end: object = None,
    sessiontype: Values = None, device: Values = None, market: Values = None,
    theme: str = "light", title: str | None = charts.DEFAULT_TITLE,
) -> go.Figure:
    """Distinct viewers per day, week (labelled by its Monday) or month."""
    return _series("unique_users", db, resolution, start, end, sessiontype, device, market, theme, title)


def minutes_watched(
    db: Database, resolution: str = "daily", *, start: object = None, end: object = None,
    sessiontype: Values = None, device: Values = None, market: Values = None,
    theme: str = "light", title: str | None = charts.DEFAULT_TITLE,
) -> go.Figure:
    """Minutes watched per day, week or month."""
    return _series("minutes_watched", db, resolution, start, end, sessiontype, device, market, theme, title)


def top_titles(
    db: Database, num: int = 10, rank: str = "plays", *, start: object = None, end: object = None,
    sessiontype: Values = None, device: Values = None, market: Values = None,
    theme: str = "light", title: str | None = charts.DEFAULT_TITLE, group: str = "titles",
) -> go.Figure:
    """The ``num`` most watched titles by ``plays``, ``minutes`` or ``viewers`` (``group="shows"``: movies
    and whole shows together, a series' episodes summed into their show)."""
    rank = parse_rank(rank)
    query = TopQuery(parse_num(num), rank, _filters(start, end, sessiontype, device, market),
                     group=parse_group(group, rank))
    with connection(db) as conn:
        return pipeline.top_figure(conn, query, theme=theme, title=title)[0]


def heatmap(
    db: Database, *, start: object = None, end: object = None,
    sessiontype: Values = None, device: Values = None, market: Values = None,
    theme: str = "light", title: str | None = charts.DEFAULT_TITLE,
) -> go.Figure:
    """Plays by weekday and hour of day the viewing started."""
    filters = _filters(start, end, sessiontype, device, market)
    with connection(db) as conn:
        return pipeline.heatmap_figure(conn, filters, theme=theme, title=title)[0]


def engagement(
    chart: str, db: Database, option: str | None = None, *, start: object = None, end: object = None,
    sessiontype: Values = None, device: Values = None, market: Values = None,
    theme: str = "light", title: str | None = charts.DEFAULT_TITLE,
) -> go.Figure:
    """An engagement or quality chart (:data:`moviedash.pipeline.ENGAGEMENT_CHARTS`).

    ``option`` is the chart's own parameter: the resolution of a measure's series
    (default daily) or of ``quality_worst_segments``, ``by`` of a ``<measure>_breakdown``
    (device, market or sessiontype), the title of ``completion_stops``::

        figures.engagement("completion_rate", "moviedb", "weekly", device=["TV"])
        figures.engagement("quality_breakdown", "moviedb", "market")
    """
    if chart not in pipeline.ENGAGEMENT_CHARTS:
        raise MoviedashError(f"unknown chart {chart!r}; one of {', '.join(pipeline.ENGAGEMENT_CHARTS)}",
                             parameter="chart")
    own = pipeline.ENGAGEMENT_CHART_PARAMS[chart]
    if own == ("resolution",):
        option = parse_resolution(option or "daily")
    elif own == ("by",) and option not in BREAKDOWN_KEYS:
        raise MoviedashError(f"by must be one of {', '.join(BREAKDOWN_KEYS)}", parameter="by")
    elif own == ("title",) and not option:
        raise MoviedashError("the title of the stops chart is required", parameter="title")
    filters = _filters(start, end, sessiontype, device, market)
    with connection(db) as conn:
        return pipeline.engagement_figure(conn, chart, filters, option, theme=theme, title=title)[0]


def top_shows(
    db: Database, num: int = 10, rank: str = "plays", *, start: object = None, end: object = None,
    sessiontype: Values = None, device: Values = None, market: Values = None,
    theme: str = "light", title: str | None = charts.DEFAULT_TITLE,
) -> go.Figure:
    """The ``num`` most watched shows and movies (:func:`top_titles` with ``group="shows"``)."""
    return top_titles(db, num, rank, start=start, end=end, sessiontype=sessiontype, device=device, market=market,
                      theme=theme, title=title, group="shows")


def show(
    chart: str, db: Database, name: str, *, start: object = None, end: object = None,
    sessiontype: Values = None, device: Values = None, market: Values = None,
    theme: str = "light", title: str | None = charts.DEFAULT_TITLE,
) -> go.Figure:
    """A chart of the show ``name`` (:data:`moviedash.pipeline.SHOW_CHARTS`): ``show_episodes`` (viewers per
    episode), ``show_dropoff`` (episode drop-off), ``show_grid`` (episodes watched per viewer)::

        figures.show("show_dropoff", "moviedb", "Game of Thrones", market=["NO"])
    """
    if chart not in pipeline.SHOW_CHARTS:
        raise MoviedashError(f"unknown chart {chart!r}; one of {', '.join(pipeline.SHOW_CHARTS)}",
                             parameter="chart")
    name = parse_title({"name": [name]}, "name")
    filters = _filters(start, end, sessiontype, device, market)
    with connection(db) as conn:
        return pipeline.show_figure(conn, chart, name, filters, theme=theme, title=title)[0]


def binge(
    chart: str, db: Database, option: str | int | None = None, *, start: object = None, end: object = None,
    sessiontype: Values = None, device: Values = None, market: Values = None,
    theme: str = "light", title: str | None = charts.DEFAULT_TITLE,
) -> go.Figure:
    """A binge chart (:data:`moviedash.pipeline.BINGE_CHARTS`, :mod:`moviedash.binge`).

    ``option`` is the chart's own parameter: the resolution of ``binge_sessions`` and
    ``binge_share`` (default daily), ``num`` of ``binge_shows`` (default 10)::

        figures.binge("binge_sessions", "moviedb", "weekly", device=["TV"])
        figures.binge("binge_shows", "moviedb", 20)
    """
    if chart not in pipeline.BINGE_CHARTS:
        raise MoviedashError(f"unknown chart {chart!r}; one of {', '.join(pipeline.BINGE_CHARTS)}",
                             parameter="chart")
    if pipeline.BINGE_CHART_PARAMS[chart] == ("num",):
        value: str | int = parse_num(NUM_DEFAULT if option is None else option)
    else:
        value = parse_resolution(option or "daily")
    filters = _filters(start, end, sessiontype, device, market)
    with connection(db) as conn:
        return pipeline.binge_figure(conn, chart, filters, value, theme=theme, title=title)[0]


def audience(
    db: Database, resolution: str = "weekly", *, start: object = None, end: object = None,
    sessiontype: Values = None, device: Values = None, market: Values = None,
    theme: str = "light", title: str | None = charts.DEFAULT_TITLE,
) -> go.Figure:
    """New (first seen in the whole database in the period) and returning viewers per day, week or month."""
    query_resolution = parse_resolution(resolution)
    filters = _filters(start, end, sessiontype, device, market)
    with connection(db) as conn:
        return pipeline.audience_figure(conn, "audience", filters, query_resolution, theme=theme, title=title)[0]


def cohorts(
    db: Database, period: str = "month", *, start: object = None, end: object = None,
    sessiontype: Values = None, device: Values = None, market: Values = None,
    theme: str = "light", title: str | None = charts.DEFAULT_TITLE,
) -> go.Figure:
    """The cohort retention triangle: viewers by the ``week`` or ``month`` first seen, the share active later."""
    cohort_period = parse_period(period)
    filters = _filters(start, end, sessiontype, device, market)
    with connection(db) as conn:
        return pipeline.audience_figure(conn, "cohorts", filters, cohort_period, theme=theme, title=title)[0]


def viewers(
    chart: str, db: Database, *, start: object = None, end: object = None,
    sessiontype: Values = None, device: Values = None, market: Values = None,
    theme: str = "light", title: str | None = charts.DEFAULT_TITLE,
) -> go.Figure:
    """A concentration or heavy-viewers chart (:data:`moviedash.pipeline.VIEWER_CHARTS`): the Lorenz curve
    with its Gini (``viewer_lorenz``), the top shares, or plays or minutes per viewer::

        figures.viewers("viewer_lorenz", "moviedb", start="2024-01-01", device=["TV"])
    """
    if chart not in pipeline.VIEWER_CHARTS:
        raise MoviedashError(f"unknown chart {chart!r}; one of {', '.join(pipeline.VIEWER_CHARTS)}",
                             parameter="chart")
    filters = _filters(start, end, sessiontype, device, market)
    with connection(db) as conn:
        return pipeline.viewer_figure(conn, chart, filters, theme=theme, title=title)[0]


def kpis(
    db: Database, *, start: object = None, end: object = None,
    sessiontype: Values = None, device: Values = None, market: Values = None,
) -> pd.DataFrame:
    """The KPI summary: unique viewers, plays, hours watched, average minutes per viewer.

    One row per measure: its ``value`` and the ``previous`` period's (of equal
    length, just before; ``None`` without data), the value as the dashboard
    shows it (``text``), the ``change`` ("+12%", or "—") and what it is
    ``compared_with``.
    """
    filters = _filters(start, end, sessiontype, device, market)
    with connection(db) as conn:
        comparison = analysis.compare_previous(conn, filters)
    rows = charts.kpis(comparison.current, comparison.previous, comparison.days)

    def numbers(totals: analysis.Totals | None) -> list[float | None]:
        if totals is None:
            return [None] * 4
        return [totals.viewers, totals.plays, totals.hours, totals.minutes_per_viewer]

    return pd.DataFrame(
        {
            "measure": [k.label for k in rows],
            "value": numbers(comparison.current),
            "previous": numbers(comparison.previous),
            "text": [k.value for k in rows],
            "change": [k.change for k in rows],
            "compared_with": [k.comparison for k in rows],
        },
        index=pd.Index([k.name for k in rows], name="kpi"),
    )
