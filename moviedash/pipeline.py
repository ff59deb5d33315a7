"""The one path from a validated selection to data frames and figures.

selection (:mod:`moviedash.params` objects) -> SQL (:mod:`moviedash.analysis`)
-> pure figure (:mod:`moviedash.charts`).  The JSON routes, the dashboard
callbacks, the ``/figures/<chart>.json`` route, the figures API and the
reports all call these functions with a connection, so for the same selection
they show the same numbers.  No Dash and no Flask here.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

from . import (
    analysis,
    audience,
    audience_charts,
    binge,
    binge_charts,
    charts,
    engagement,
    metrics,
    show_charts,
    showstats,
    viewer_charts,
    viewers,
)
from .escapes import decode_escapes
from .params import Filters, SeriesQuery, TopQuery
from .store import Connection, check_deadline

SeriesFunction = Callable[[Connection, SeriesQuery], pd.DataFrame]


def _series_function(name: str) -> SeriesFunction:
    def compute(conn: Connection, query: SeriesQuery) -> pd.DataFrame:
        return analysis.series(conn, name, query)

    compute.__doc__ = f"{metrics.measure(name).label} per period, zero-filled: columns ``date``, ``values``."
    return compute


#: The time-series metrics (the declared measures of :mod:`moviedash.metrics`, also the JSON
#: routes') and the function computing each.
SERIES: dict[str, SeriesFunction] = {name: _series_function(name) for name in metrics.SERIES}
#: Every chart, by the name used in file names, routes and the figures API.
CHARTS: tuple[str, ...] = (*SERIES, "top_titles", "heatmap")


@dataclass(frozen=True)
class ChartData:
    """The frame behind a chart, the validated query it answers, and the file name of its exports."""

    frame: pd.DataFrame
    query: SeriesQuery | TopQuery | Filters
    name: str

    @property
    def filters(self) -> Filters:
        return self.query if isinstance(self.query, Filters) else self.query.filters


def export_name(base: str, filters: Filters) -> str:
    """A file name (no extension) naming the chart and the date range.

    For example ``unique_users_weekly_2013-03-01_2013-06-30``.
    """
    parts = [base]
    if filters.start or filters.end:
        parts.append(f"{filters.start or 'start'}_{filters.end or 'end'}")
    return "_".join(parts)


def series_data(conn: Connection, metric: str, query: SeriesQuery) -> ChartData:
    """A declared measure per period (e.g. ``unique_users``, ``completion``), as ``/data/<metric>/`` serves it.

    The engagement measures have ``None`` where a period has no play with a value.
    """
    if metric in metrics.ENGAGEMENT_SERIES:
        frame = engagement.series(conn, metric, query)
    else:
        frame = SERIES[metric](conn, query)
    return ChartData(frame, query, export_name(f"{metric}_{query.resolution}", query.filters))


def top_data(conn: Connection, query: TopQuery) -> ChartData:
    """The top titles, as ``/data/toplist/`` serves them (``rank=completion|full_watches`` adds ``plays``)."""
    if query.rank in engagement.RANKS:
        frame = engagement.toplist(conn, query.rank, query.num, query.min_plays, query.filters)
    else:
        frame = analysis.toplist(conn, query)
    shows = "_shows" if query.group == "shows" else ""  # the course's file names unchanged for titles
    return ChartData(frame, query, export_name(f"toplist{shows}_{query.rank}_top{query.num}", query.filters))


def show_result(conn: Connection, name: str, filters: Filters) -> dict:
    """One show's numbers, as ``/data/show/`` serves them (:mod:`moviedash.showstats`); 404 for an unknown show."""
    return showstats.show(conn, name, filters)


def show_data(conn: Connection, name: str, part: str, filters: Filters) -> ChartData:
    """One of a show's tables (``seasons``, ``episodes``, ``grid``): the CSV exports of the show page."""
    frame = showstats.frame(show_result(conn, name, filters), part)
    return ChartData(frame, filters, export_name(f"show_{part}", filters))


def breakdown_data(conn: Connection, name: str, by: str, filters: Filters) -> ChartData:
    """An engagement measure per device, market or session type: columns ``<by>``, ``values``, ``plays``."""
    frame = engagement.breakdown(conn, name, by, filters)
    return ChartData(frame, filters, export_name(f"{name}_by_{by}", filters))


def distribution_data(conn: Connection, filters: Filters) -> ChartData:
    """Plays per 10 % completion bin, movies and series side by side."""
    return ChartData(engagement.completion_distribution(conn, filters), filters,
                     export_name("completion_distribution", filters))


def stops_data(conn: Connection, title: str, filters: Filters) -> ChartData:
    """Where people stop in ``title``: the share of plays still watching at 10 %, 20 %, …"""
    return ChartData(engagement.stops(conn, title, filters), filters, export_name("completion_stops", filters))


def worst_segments_data(conn: Connection, resolution: str, filters: Filters) -> ChartData:
    """The device × market × period segments with the most poor plays beyond the overall rate (top 10)."""
    query = SeriesQuery(resolution, filters)
    return ChartData(engagement.worst_segments(conn, resolution, filters), query,
                     export_name(f"quality_worst_segments_{resolution}", filters))


def quality_completion_data(conn: Connection, filters: Filters) -> ChartData:
    """Average completion per one-unit bin of the quality score."""
    return ChartData(engagement.completion_by_quality(conn, filters), filters,
                     export_name("completion_by_quality", filters))


def engagement_series_figure(
    conn: Connection, metric: str, query: SeriesQuery, *, theme: str = "light",
    title: str | None = charts.DEFAULT_TITLE,
) -> tuple[go.Figure, ChartData]:
    """The chart of an engagement measure per period (gaps where no play has a value)."""
    detail = engagement.series_detail(conn, metric, query)
    check_deadline(conn)
    data = ChartData(detail[["date", "values"]], query, export_name(f"{metric}_{query.resolution}", query.filters))
    return charts.ratio_series_figure(detail, metric, query.resolution, theme=theme, title=title), data


def breakdown_figure(
    conn: Connection, name: str, by: str, filters: Filters, *, theme: str = "light",
    title: str | None = charts.DEFAULT_TITLE,
) -> tuple[go.Figure, ChartData]:
    """Bars of an engagement measure per value of ``by``."""
    data = breakdown_data(conn, name, by, filters)
    return charts.breakdown_figure(data.frame, name, by, theme=theme, title=title), data


def distribution_figure(
    conn: Connection, filters: Filters, *, theme: str = "light", title: str | None = charts.DEFAULT_TITLE
) -> tuple[go.Figure, ChartData]:
    """The completion histogram, movies and series side by side."""
    data = distribution_data(conn, filters)
    return charts.distribution_figure(data.frame, theme=theme, title=title), data


def stops_figure(
    conn: Connection, title_name: str, filters: Filters, *, theme: str = "light",
    title: str | None = charts.DEFAULT_TITLE,
) -> tuple[go.Figure, ChartData]:
    """The "where people stop" curve of one title."""
    data = stops_data(conn, title_name, filters)
    return charts.stops_figure(data.frame, title_name, theme=theme, title=title), data


def worst_segments_figure(
    conn: Connection, resolution: str, filters: Filters, *, theme: str = "light",
    title: str | None = charts.DEFAULT_TITLE,
) -> tuple[go.Figure, ChartData]:
    """Bars of the worst segments' impact."""
    data = worst_segments_data(conn, resolution, filters)
    return charts.worst_segments_figure(data.frame, theme=theme, title=title), data


def quality_completion_figure(
    conn: Connection, filters: Filters, *, theme: str = "light", title: str | None = charts.DEFAULT_TITLE
) -> tuple[go.Figure, ChartData]:
    """Average completion per quality bin."""
    data = quality_completion_data(conn, filters)
    return charts.quality_completion_figure(data.frame, theme=theme, title=title), data


def audience_data(conn: Connection, query: SeriesQuery) -> ChartData:
    """New and returning viewers per period, as ``/data/audience/`` serves them: ``date``, ``new``, ``returning``."""
    return ChartData(audience.new_returning(conn, query), query,
                     export_name(f"audience_{query.resolution}", query.filters))


def cohorts_data(conn: Connection, period: str, filters: Filters) -> ChartData:
    """The cohort triangle (one row per cohort and offset), as ``/data/cohorts/?format=csv`` serves it."""
    return ChartData(audience.cohorts(conn, period, filters), filters, export_name(f"cohorts_{period}", filters))


def heatmap_data(conn: Connection, filters: Filters) -> ChartData:
    """Plays by weekday and hour started."""
    return ChartData(analysis.heatmap(conn, filters), filters, export_name("heatmap", filters))


def date_bounds(conn: Connection, filters: Filters) -> tuple[dt.date, dt.date] | None:
    """The first and last day the selection covers (open ends: the data's span)."""
    whole = analysis.span(conn)
    start, end = filters.start or whole.first, filters.end or whole.last
    return (start, end) if start and end else None


def series_figure(
    conn: Connection, metric: str, query: SeriesQuery, *, theme: str = "light",
    title: str | None = charts.DEFAULT_TITLE,
) -> tuple[go.Figure, ChartData]:
    """The chart of a declared measure per period and the data behind it."""
    data = series_data(conn, metric, query)
    bounds = date_bounds(conn, query.filters)
    check_deadline(conn)
    figure = charts.timeseries_figure(
        data.frame, metric, query.resolution, theme=theme, title=title, bounds=bounds
    )
    return figure, data


def top_figure(
    conn: Connection, query: TopQuery, *, theme: str = "light", title: str | None = charts.DEFAULT_TITLE
) -> tuple[go.Figure, ChartData]:
    """The top-titles bar chart (top shows with ``group=shows``) and the data behind it."""
    data = top_data(conn, query)
    check_deadline(conn)
    if query.group == "shows":
        return show_charts.top_shows_figure(data.frame, query.rank, theme=theme, title=title), data
    return charts.toplist_figure(data.frame, query.rank, theme=theme, title=title), data


#: The show page's charts (:mod:`moviedash.show_charts`), each drawn from one of the show's tables.
SHOW_CHARTS: tuple[str, ...] = show_charts.SHOW_CHARTS


def show_figure(
    conn: Connection, chart: str, name: str, filters: Filters, *, theme: str = "light",
    title: str | None = charts.DEFAULT_TITLE,
) -> tuple[go.Figure, ChartData]:
    """A chart of the show ``name`` (:data:`SHOW_CHARTS`) and its table (404 for an unknown show)."""
    data = show_data(conn, name, show_charts.SHOW_CHART_PARTS[chart], filters)
    check_deadline(conn)
    shown = decode_escapes(name)
    return show_charts.SHOW_FIGURES[chart](data.frame, shown, theme=theme, title=title), data


def heatmap_figure(
    conn: Connection, filters: Filters, *, theme: str = "light", title: str | None = charts.DEFAULT_TITLE
) -> tuple[go.Figure, ChartData]:
    """The weekday x hour heatmap and the data behind it."""
    data = heatmap_data(conn, filters)
    check_deadline(conn)
    return charts.heatmap_figure(data.frame, theme=theme, title=title), data


def kpis(conn: Connection, filters: Filters) -> list[charts.Kpi]:
    """The four KPIs of the selection, each against the previous period of equal length."""
    comparison = analysis.compare_previous(conn, filters)
    check_deadline(conn)
    return charts.kpis(comparison.current, comparison.previous, comparison.days)


#: The engagement and quality charts of ``/figures/engagement/<chart>.json``.
ENGAGEMENT_CHARTS: tuple[str, ...] = (
    *metrics.ENGAGEMENT_SERIES,
    *(f"{name}_breakdown" for name in metrics.ENGAGEMENT_SERIES),
    "completion_distribution", "completion_stops", "quality_worst_segments", "completion_by_quality",
)
#: Each engagement chart's own parameter (besides the shared filters and ``theme``).
ENGAGEMENT_CHART_PARAMS: dict[str, tuple[str, ...]] = {
    **{name: ("resolution",) for name in metrics.ENGAGEMENT_SERIES},
    **{f"{name}_breakdown": ("by",) for name in metrics.ENGAGEMENT_SERIES},
    "completion_distribution": (),
    "completion_stops": ("title",),
    "quality_worst_segments": ("resolution",),
    "completion_by_quality": (),
}


def engagement_figure(
    conn: Connection, chart: str, filters: Filters, option: str | None = None, *, theme: str = "light",
    title: str | None = charts.DEFAULT_TITLE,
) -> tuple[go.Figure, ChartData]:
    """The engagement chart ``chart`` (:data:`ENGAGEMENT_CHARTS`); ``option`` is its own parameter's value
    (the resolution, ``by`` or the title; see :data:`ENGAGEMENT_CHART_PARAMS`)."""
    own = ENGAGEMENT_CHART_PARAMS[chart]
    if own and option is None:
        raise ValueError(f"{chart} needs its {own[0]}")
    if chart in metrics.ENGAGEMENT_SERIES:
        return engagement_series_figure(conn, chart, SeriesQuery(str(option), filters), theme=theme, title=title)
    if chart.endswith("_breakdown"):
        return breakdown_figure(conn, chart.removesuffix("_breakdown"), str(option), filters, theme=theme, title=title)
    if chart == "completion_distribution":
        return distribution_figure(conn, filters, theme=theme, title=title)
    if chart == "completion_stops":
        return stops_figure(conn, str(option), filters, theme=theme, title=title)
    if chart == "quality_worst_segments":
        return worst_segments_figure(conn, str(option), filters, theme=theme, title=title)
    return quality_completion_figure(conn, filters, theme=theme, title=title)


# --------------------------------------------------------------------------- #
# Binge sessions (issue 15, :mod:`moviedash.binge`)
# --------------------------------------------------------------------------- #

#: The binge charts of ``/figures/binge/<chart>.json`` and the figures API, and each one's own
#: parameter (besides the shared filters and ``theme``).
BINGE_CHART_PARAMS: dict[str, tuple[str, ...]] = {
    "binge_sessions": ("resolution",),
    "binge_share": ("resolution",),
    "binge_shows": ("num",),
}
BINGE_CHARTS: tuple[str, ...] = tuple(BINGE_CHART_PARAMS)


def binge_data(conn: Connection, query: SeriesQuery) -> ChartData:
    """Binge sessions, minutes in binges, series minutes and the binge share per period, as ``/data/binge/``."""
    return ChartData(binge.per_period(conn, query), query, export_name(f"binge_{query.resolution}", query.filters))


def binge_overall_data(conn: Connection, filters: Filters) -> ChartData:
    """The selection's binge figures in one row, as ``/data/binge/overall/``."""
    return ChartData(binge.overall(conn, filters), filters, export_name("binge_overall", filters))


def binge_shows_data(conn: Connection, num: int, filters: Filters) -> ChartData:
    """The ``num`` most binged shows, as ``/data/binge/shows/``."""
    return ChartData(binge.top_shows(conn, num, filters), filters, export_name(f"binge_shows_top{num}", filters))


def binge_figure(
    conn: Connection, chart: str, filters: Filters, option: str | int, *, theme: str = "light",
    title: str | None = charts.DEFAULT_TITLE,
) -> tuple[go.Figure, ChartData]:
    """The binge chart ``chart`` (:data:`BINGE_CHARTS`) and the data behind it (exported as CSV);
    ``option`` is its own parameter's value: the resolution, or ``num`` of the top shows."""
    if chart == "binge_shows":
        data = binge_shows_data(conn, int(option), filters)
        check_deadline(conn)
        return binge_charts.shows_figure(data.frame, theme=theme, title=title), data
    query = SeriesQuery(str(option), filters)
    data = binge_data(conn, query)
    check_deadline(conn)
    if chart == "binge_sessions":
        frame = data.frame[["date", "sessions"]]
        figure = binge_charts.sessions_figure(frame, query.resolution, theme=theme, title=title)
        return figure, ChartData(frame, query, export_name(f"binge_sessions_{query.resolution}", filters))
    frame = data.frame[["date", "binge_minutes", "series_minutes", "share"]]
    figure = binge_charts.share_figure(frame, query.resolution, theme=theme, title=title)
    return figure, ChartData(frame, query, export_name(f"binge_share_{query.resolution}", filters))


#: The audience charts of ``/figures/audience/<chart>.json`` (the ``/audience`` page's cards,
#: :data:`moviedash.audience_cards.CARDS`), and each one's own parameter.
AUDIENCE_CHARTS: tuple[str, ...] = ("audience", "cohorts")
AUDIENCE_CHART_PARAMS: dict[str, tuple[str, ...]] = {"audience": ("resolution",), "cohorts": ("period",)}


def audience_figure(
    conn: Connection, chart: str, filters: Filters, option: str | None = None, *, theme: str = "light",
    title: str | None = charts.DEFAULT_TITLE,
) -> tuple[go.Figure, ChartData]:
    """The audience chart ``chart`` (:data:`AUDIENCE_CHARTS`) and the data behind it; ``option`` is its own
    parameter's value (the resolution of ``audience``, the period of ``cohorts``)."""
    if chart == "audience":
        data = audience_data(conn, SeriesQuery(str(option or "daily"), filters))
        check_deadline(conn)
        return audience_charts.audience_figure(data.frame, str(option or "daily"), theme=theme, title=title), data
    if chart == "cohorts":
        data = cohorts_data(conn, str(option or "week"), filters)
        check_deadline(conn)
        return audience_charts.cohorts_figure(data.frame, str(option or "week"), theme=theme, title=title), data
    raise ValueError(f"unknown audience chart {chart!r}")


#: The concentration and heavy-viewer charts (issue 15, :mod:`moviedash.viewers`): the figures API's
#: ``/figures/viewers/<chart>.json``, the reports' viewer sections and the audience page's cards.
VIEWER_CHARTS: tuple[str, ...] = ("viewer_lorenz", "viewer_top_shares", "viewer_plays", "viewer_minutes")


def concentration(conn: Connection, filters: Filters) -> viewers.Concentration:
    """The selection's concentration of minutes among viewers, as ``/data/concentration/`` serves it."""
    return viewers.concentration(conn, filters)


def heavy_viewers(conn: Connection, measure: str, filters: Filters) -> viewers.ViewerDistribution:
    """The distribution of plays or minutes per viewer, as ``/data/viewers/`` serves it (counts, never ids)."""
    return viewers.heavy_viewers(conn, measure, filters)


def viewer_data(conn: Connection, chart: str, filters: Filters) -> ChartData:
    """The frame behind a viewer chart (:data:`VIEWER_CHARTS`), for its CSV export."""
    if chart == "viewer_lorenz":
        frame = concentration(conn, filters).lorenz_frame()
    elif chart == "viewer_top_shares":
        frame = concentration(conn, filters).top_frame()
    elif chart in ("viewer_plays", "viewer_minutes"):
        frame = heavy_viewers(conn, chart.removeprefix("viewer_"), filters).frame()
    else:
        raise ValueError(f"unknown viewer chart {chart!r}")
    return ChartData(frame, filters, export_name(chart, filters))


def viewer_figure(
    conn: Connection, chart: str, filters: Filters, *, theme: str = "light", title: str | None = charts.DEFAULT_TITLE
) -> tuple[go.Figure, ChartData]:
    """A viewer chart (:data:`VIEWER_CHARTS`) and the data behind it."""
    data = viewer_data(conn, chart, filters)
    check_deadline(conn)
    if chart == "viewer_lorenz":
        gini = concentration(conn, filters).gini
        return viewer_charts.lorenz_figure(data.frame, gini, theme=theme, title=title), data
    if chart == "viewer_top_shares":
        return viewer_charts.top_shares_figure(data.frame, theme=theme, title=title), data
    return viewer_charts.histogram_figure(data.frame, chart.removeprefix("viewer_"), theme=theme, title=title), data
