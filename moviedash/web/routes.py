"""The JSON routes: the course's ``/data/...`` and the dashboard's charts at ``/figures/<chart>.json``.

Same URLs and JSON shapes as the course (``[{"date": ..., "values": ...}]`` and
``[{"title": ..., "values": ...}]``), with validated parameters, shared filters
and an optional ``format=csv``.
"""
from __future__ import annotations

from urllib.parse import urlencode

import pandas as pd
from flask import Blueprint, Response, request
from plotly.io.json import to_json_plotly

from .. import analysis, csvsafe, metrics, pipeline
from ..charts import THEMES, plotly_config
from ..errors import MoviedashError
from ..params import series_query_from_args, top_query_from_args
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
    compute = SERIES.get(metric)
    if compute is None:
        choices = ", ".join([*SERIES, "toplist"])
        raise MoviedashError(f"unknown metric {metric!r}; one of {choices}", status=404)
    query, fmt = series_query_from_args(_args())
    conn = get_connection()
    analysis.check_known(conn, query.filters)  # a value not in the data: 400, not a series of zeros
    return frame_response(compute(conn, query), fmt, f"{metric}_{query.resolution}")


def toplist() -> Response:
    """The N most watched titles."""
    query, fmt = top_query_from_args(_args())
    conn = get_connection()
    analysis.check_known(conn, query.filters)
    return frame_response(analysis.toplist(conn, query), fmt, f"toplist_{query.rank}")


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


@figures_bp.route("/", defaults={"rest": ""})
@figures_bp.route("/<path:rest>")
def figure_not_found(rest: str) -> Response:
    """Everything else under /figures is a JSON 404 (not Dash's catch-all page)."""
    raise MoviedashError(f"not found: /figures/{rest}; charts are at /figures/<chart>.json", status=404)
