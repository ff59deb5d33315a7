"""The JSON routes: the course's ``/data/...`` and the dashboard's charts at ``/figures/<chart>.json``.

Same URLs and JSON shapes as the course (``[{"date": ..., "values": ...}]`` and
``[{"title": ..., "values": ...}]``), with validated parameters, shared filters
and an optional ``format=csv``.
"""
from __future__ import annotations

import json
from urllib.parse import urlencode

import pandas as pd
from flask import Blueprint, Response, jsonify, request
from plotly.io.json import to_json_plotly

from .. import analysis, audience, csvsafe, metrics, pipeline
from ..charts import THEMES, plotly_config
from ..errors import MoviedashError
from ..params import (
    BREAKDOWN_PARAMS,
    FILTER_PARAMS,
    NUM_DEFAULT,
    SELECTION_PARAMS,
    SHOW_PARAMS,
    STOPS_PARAMS,
    VIEWER_PARAMS,
    binge_shows_from_args,
    cohort_query_from_args,
    filters_from_args,
    parse_by,
    parse_num,
    parse_period,
    parse_resolution,
    parse_show_table,
    parse_title,
    parse_viewer_measure,
    series_query_from_args,
    top_query_from_args,
)
from ..pipeline import SERIES
from ..viewstate import ViewState, parse_query
from .context import get_connection

bp = Blueprint("data", __name__, url_prefix="/data")

def _args() -> dict[str, list[str]]:
    return {key: request.args.getlist(key) for key in request.args}


def frame_response(df: pd.DataFrame, fmt: str, name: str) -> Response:
    """Render a result frame as the course's JSON records, or as CSV (formula-like text neutralised)."""
    if fmt == "csv":
        return Response(
            csvsafe.to_csv(df),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return Response(df.to_json(orient="records"), mimetype="application/json")


@bp.get("/<metric>/")
def series(metric: str) -> Response:
    """A declared measure (unique users, minutes watched, ...) per day, week or month, zero-filled."""
    if metric == "toplist":
        return toplist()
    if metric not in SERIES and metric not in metrics.ENGAGEMENT_SERIES:
        choices = ", ".join([*SERIES, *metrics.ENGAGEMENT_SERIES, "toplist"])
        raise MoviedashError(f"unknown metric {metric!r}; one of {choices}", status=404)
    query, fmt = series_query_from_args(_args())
    conn = get_connection()
    analysis.check_known(conn, query.filters)  # a value not in the data: 400, not a series of zeros
    return frame_response(pipeline.series_data(conn, metric, query).frame, fmt, f"{metric}_{query.resolution}")


def toplist() -> Response:
    """The N most watched titles (or the most completed, the most fully watched)."""
    query, fmt = top_query_from_args(_args())
    conn = get_connection()
    analysis.check_known(conn, query.filters)
    data = pipeline.top_data(conn, query)
    return frame_response(data.frame, fmt, f"toplist{'_shows' if query.group == 'shows' else ''}_{query.rank}")


def _resolution(args: dict[str, list[str]]) -> str:
    values = args.get("resolution", ["daily"])
    if len(values) != 1:
        raise MoviedashError("resolution may be given only once", parameter="resolution")
    return parse_resolution(values[0])


def breakdown(measure: str) -> Response:
    """An engagement measure per device, market or session type."""
    args = _args()
    filters, fmt = filters_from_args(args, BREAKDOWN_PARAMS)
    by = parse_by(args)
    conn = get_connection()
    analysis.check_known(conn, filters)
    data = pipeline.breakdown_data(conn, measure, by, filters)
    return frame_response(data.frame, fmt, f"{measure}_by_{by}")


for _name in metrics.ENGAGEMENT_SERIES:
    bp.add_url_rule(f"/{_name}/breakdown/", f"breakdown_{_name}", lambda _m=_name: breakdown(_m), methods=["GET"])


@bp.get("/completion/distribution/")
def completion_distribution() -> Response:
    """Plays per 10 % completion bin, movies and series side by side."""
    filters, fmt = filters_from_args(_args())
    conn = get_connection()
    analysis.check_known(conn, filters)
    return frame_response(pipeline.distribution_data(conn, filters).frame, fmt, "completion_distribution")


@bp.get("/completion/stops/")
def completion_stops() -> Response:
    """Where people stop in one title."""
    args = _args()
    filters, fmt = filters_from_args(args, STOPS_PARAMS)
    title = parse_title(args)
    conn = get_connection()
    analysis.check_known(conn, filters)
    return frame_response(pipeline.stops_data(conn, title, filters).frame, fmt, "completion_stops")


@bp.get("/quality/worst_segments/")
def worst_segments() -> Response:
    """The device × market × period segments with the most poor plays beyond the overall rate."""
    args = _args()
    filters, fmt = filters_from_args(args, ("resolution", *FILTER_PARAMS))
    resolution = _resolution(args)
    conn = get_connection()
    analysis.check_known(conn, filters)
    data = pipeline.worst_segments_data(conn, resolution, filters)
    return frame_response(data.frame, fmt, f"quality_worst_segments_{resolution}")


@bp.get("/quality/completion/")
def quality_completion() -> Response:
    """Average completion per one-unit bin of the quality score."""
    filters, fmt = filters_from_args(_args())
    conn = get_connection()
    analysis.check_known(conn, filters)
    return frame_response(pipeline.quality_completion_data(conn, filters).frame, fmt, "completion_by_quality")


@bp.get("/show/")
def show() -> Response:
    """One show: per season and episode, episode drop-off and the episode grid (``format=csv``: one ``table``)."""
    args = _args()
    filters, fmt = filters_from_args(args, SHOW_PARAMS)
    name = parse_title(args, "name")
    table = parse_show_table(args)
    conn = get_connection()
    analysis.check_known(conn, filters)
    if fmt == "csv":
        return frame_response(pipeline.show_data(conn, name, table, filters).frame, fmt, f"show_{table}")
    return Response(json.dumps(pipeline.show_result(conn, name, filters)), mimetype="application/json")


@bp.get("/binge/")
def binge_series() -> Response:
    """Binge sessions started, minutes in binges, series minutes and the binge share per period, zero-filled."""
    query, fmt = series_query_from_args(_args())
    conn = get_connection()
    analysis.check_known(conn, query.filters)
    return frame_response(pipeline.binge_data(conn, query).frame, fmt, f"binge_{query.resolution}")


@bp.get("/binge/overall/")
def binge_overall() -> Response:
    """The selection's binge sessions, viewers, episodes and share of series minutes, in one row."""
    filters, fmt = filters_from_args(_args())
    conn = get_connection()
    analysis.check_known(conn, filters)
    return frame_response(pipeline.binge_overall_data(conn, filters).frame, fmt, "binge_overall")


@bp.get("/binge/shows/")
def binge_shows() -> Response:
    """The most binged shows: sessions, viewers, episodes and episodes per session."""
    num, filters, fmt = binge_shows_from_args(_args())
    conn = get_connection()
    analysis.check_known(conn, filters)
    return frame_response(pipeline.binge_shows_data(conn, num, filters).frame, fmt, f"binge_shows_top{num}")


@bp.get("/audience/")
def audience_series() -> Response:
    """New and returning viewers per day, week or month (first seen over all data), zero-filled."""
    query, fmt = series_query_from_args(_args())
    conn = get_connection()
    analysis.check_known(conn, query.filters)
    return frame_response(pipeline.audience_data(conn, query).frame, fmt, f"audience_{query.resolution}")


@bp.get("/cohorts/")
def cohorts() -> Response:
    """Cohort retention: per cohort (week or month first seen) its size and the share active in each later period.

    JSON nests each cohort's periods; CSV has one row per (cohort, offset).
    """
    period, filters, fmt = cohort_query_from_args(_args())
    conn = get_connection()
    analysis.check_known(conn, filters)
    frame = pipeline.cohorts_data(conn, period, filters).frame
    if fmt == "csv":
        return frame_response(frame, fmt, f"cohorts_{period}")
    return Response(json.dumps(audience.cohort_records(frame)), mimetype="application/json")


@bp.get("/concentration/")
def concentration() -> Response:
    """How concentrated the selection's minutes are: top 1/10/50 % shares, the Lorenz curve and its Gini.

    ``format=csv``: the Lorenz curve's points (the shares and the Gini are in the JSON).
    """
    filters, fmt = filters_from_args(_args())
    conn = get_connection()
    analysis.check_known(conn, filters)
    if fmt == "csv":
        return frame_response(pipeline.viewer_data(conn, "viewer_lorenz", filters).frame, fmt,
                              pipeline.export_name("concentration_lorenz", filters))
    return jsonify(pipeline.concentration(conn, filters).as_json())


@bp.get("/viewers/")
def heavy_viewers() -> Response:
    """The distribution of plays or minutes per viewer: histogram and percentiles, counts only (never ids).

    ``format=csv``: the histogram's rows.
    """
    args = _args()
    filters, fmt = filters_from_args(args, VIEWER_PARAMS)
    measure = parse_viewer_measure(args)
    conn = get_connection()
    analysis.check_known(conn, filters)
    if fmt == "csv":
        return frame_response(pipeline.viewer_data(conn, f"viewer_{measure}", filters).frame, fmt,
                              pipeline.export_name(f"viewers_{measure}", filters))
    return jsonify(pipeline.heavy_viewers(conn, measure, filters).as_json())


@bp.route("/", defaults={"rest": ""})
@bp.route("/<path:rest>")
def not_found(rest: str) -> Response:
    """Everything else under /data is a JSON 404 (not Dash's catch-all page)."""
    raise MoviedashError(f"not found: /data/{rest}", status=404)


figures_bp = Blueprint("figures", __name__, url_prefix="/figures")


def view_from_args() -> tuple[ViewState, str]:
    """The dashboard's query parameters (as in its shareable URL) plus ``theme``, strictly.

    Unlike the dashboard's own URL (lenient, so a shared link always opens),
    an API caller gets a 400 naming the first bad parameter.
    """
    args = request.args.to_dict(flat=False)
    theme_values = args.pop("theme", ["light"])
    if len(theme_values) != 1 or theme_values[0] not in THEMES:
        raise MoviedashError(f"theme must be one of {', '.join(THEMES)}", parameter="theme")
    state, _ = parse_query(urlencode(args, doseq=True), strict=True)
    return state, theme_values[0]


@figures_bp.get("/<chart>.json")
def figure(chart: str) -> Response:
    """A chart of the dashboard as Plotly figure JSON (``data``, ``layout`` and the ``config`` to draw it with)."""
    if chart not in pipeline.CHARTS:
        raise MoviedashError(f"unknown chart {chart!r}; one of {', '.join(pipeline.CHARTS)}", status=404)
    state, theme = view_from_args()
    conn = get_connection()
    analysis.check_known(conn, state.filters)
    if chart in SERIES:
        fig, data = pipeline.series_figure(conn, chart, state.series_query(metrics.measure(chart).key), theme=theme)
    elif chart == "top_titles":
        fig, data = pipeline.top_figure(conn, state.top_query(), theme=theme)
    else:
        fig, data = pipeline.heatmap_figure(conn, state.filters, theme=theme)
    # The figure plus the config to draw it with (no "Share chart…" upload to Plotly Cloud):
    # Plotly.newPlot(el, figure.data, figure.layout, figure.config).
    body = {**fig.to_plotly_json(), "config": plotly_config(data.name)}
    return Response(to_json_plotly(body), mimetype="application/json")


@figures_bp.get("/engagement/<chart>.json")
def engagement_figure(chart: str) -> Response:
    """An engagement or quality chart as Plotly figure JSON: the shared filters, ``theme`` and the chart's own
    parameter (``resolution`` for a series or the worst segments, ``by`` for a breakdown, ``title`` for stops)."""
    if chart not in pipeline.ENGAGEMENT_CHARTS:
        raise MoviedashError(
            f"unknown chart {chart!r}; one of {', '.join(pipeline.ENGAGEMENT_CHARTS)}", status=404
        )
    args = _args()
    theme_values = args.pop("theme", ["light"])
    if len(theme_values) != 1 or theme_values[0] not in THEMES:
        raise MoviedashError(f"theme must be one of {', '.join(THEMES)}", parameter="theme")
    own = pipeline.ENGAGEMENT_CHART_PARAMS[chart]
    filters, _ = filters_from_args(args, (*own, *SELECTION_PARAMS))
    conn = get_connection()
    option = {
        "resolution": lambda: _resolution(args),
        "by": lambda: parse_by(args),
        "title": lambda: parse_title(args),
    }
    value = option[own[0]]() if own else None
    analysis.check_known(conn, filters)
    fig, data = pipeline.engagement_figure(conn, chart, filters, value, theme=theme_values[0])
    body = {**fig.to_plotly_json(), "config": plotly_config(data.name)}
    return Response(to_json_plotly(body), mimetype="application/json")


@figures_bp.get("/binge/<chart>.json")
def binge_figure(chart: str) -> Response:
    """A binge chart as Plotly figure JSON: the shared filters, ``theme`` and the chart's own parameter
    (``resolution`` of the sessions and the share, ``num`` of the top shows)."""
    if chart not in pipeline.BINGE_CHARTS:
        raise MoviedashError(f"unknown chart {chart!r}; one of {', '.join(pipeline.BINGE_CHARTS)}", status=404)
    args = _args()
    theme_values = args.pop("theme", ["light"])
    if len(theme_values) != 1 or theme_values[0] not in THEMES:
        raise MoviedashError(f"theme must be one of {', '.join(THEMES)}", parameter="theme")
    own = pipeline.BINGE_CHART_PARAMS[chart]
    filters, _ = filters_from_args(args, (*own, *SELECTION_PARAMS))
    if own == ("num",):
        values = args.get("num", [str(NUM_DEFAULT)])
        if len(values) != 1:
            raise MoviedashError("num may be given only once", parameter="num")
        option: str | int = parse_num(values[0])
    else:
        option = _resolution(args)
    conn = get_connection()
    analysis.check_known(conn, filters)
    fig, data = pipeline.binge_figure(conn, chart, filters, option, theme=theme_values[0])
    body = {**fig.to_plotly_json(), "config": plotly_config(data.name)}
    return Response(to_json_plotly(body), mimetype="application/json")


@figures_bp.get("/audience/<chart>.json")
def audience_figure(chart: str) -> Response:
    """An audience chart as Plotly figure JSON: the shared filters, ``theme`` and the chart's own parameter
    (``resolution`` of ``audience``, ``period`` of ``cohorts``)."""
    if chart not in pipeline.AUDIENCE_CHARTS:
        raise MoviedashError(f"unknown chart {chart!r}; one of {', '.join(pipeline.AUDIENCE_CHARTS)}", status=404)
    args = _args()
    theme_values = args.pop("theme", ["light"])
    if len(theme_values) != 1 or theme_values[0] not in THEMES:
        raise MoviedashError(f"theme must be one of {', '.join(THEMES)}", parameter="theme")
    own = pipeline.AUDIENCE_CHART_PARAMS[chart]
    filters, _ = filters_from_args(args, (*own, *SELECTION_PARAMS))
    if own == ("resolution",):
        option: str = _resolution(args)
    else:
        values = args.get("period", ["week"])
        if len(values) != 1:
            raise MoviedashError("period may be given only once", parameter="period")
        option = parse_period(values[0])
    conn = get_connection()
    analysis.check_known(conn, filters)
    fig, data = pipeline.audience_figure(conn, chart, filters, option, theme=theme_values[0])
    body = {**fig.to_plotly_json(), "config": plotly_config(data.name)}
    return Response(to_json_plotly(body), mimetype="application/json")


@figures_bp.get("/viewers/<chart>.json")
def viewer_figure(chart: str) -> Response:
    """A concentration or heavy-viewers chart as Plotly figure JSON: the shared filters and ``theme``."""
    if chart not in pipeline.VIEWER_CHARTS:
        raise MoviedashError(f"unknown chart {chart!r}; one of {', '.join(pipeline.VIEWER_CHARTS)}", status=404)
    args = _args()
    theme_values = args.pop("theme", ["light"])
    if len(theme_values) != 1 or theme_values[0] not in THEMES:
        raise MoviedashError(f"theme must be one of {', '.join(THEMES)}", parameter="theme")
    filters, _ = filters_from_args(args, SELECTION_PARAMS)
    conn = get_connection()
    analysis.check_known(conn, filters)
    fig, data = pipeline.viewer_figure(conn, chart, filters, theme=theme_values[0])
    body = {**fig.to_plotly_json(), "config": plotly_config(data.name)}
    return Response(to_json_plotly(body), mimetype="application/json")


@figures_bp.route("/", defaults={"rest": ""})
@figures_bp.route("/<path:rest>")
def figure_not_found(rest: str) -> Response:
    """Everything else under /figures is a JSON 404 (not Dash's catch-all page)."""
    raise MoviedashError(f"not found: /figures/{rest}; charts are at /figures/<chart>.json", status=404)
