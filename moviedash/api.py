"""The course's JSON routes: ``/data/unique_users/``, ``/data/minutes_watched/``, ``/data/toplist/``.

Same URLs and JSON shapes as the course (``[{"date": ..., "values": ...}]`` and
``[{"title": ..., "values": ...}]``), with validated parameters, shared filters
and an optional ``format=csv``.
"""
from __future__ import annotations

import pandas as pd
from flask import Blueprint, Response, request

from . import analysis
from .context import get_connection
from .errors import MoviedashError
from .params import series_query_from_args, top_query_from_args
from .pipeline import SERIES

bp = Blueprint("data", __name__, url_prefix="/data")

def _args() -> dict[str, list[str]]:
    return {key: request.args.getlist(key) for key in request.args}


def frame_response(df: pd.DataFrame, fmt: str, name: str) -> Response:
    """Render a result frame as the course's JSON records, or as CSV."""
    if fmt == "csv":
        return Response(
            df.to_csv(index=False),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return Response(df.to_json(orient="records"), mimetype="application/json")


@bp.get("/<metric>/")
def series(metric: str) -> Response:
    """Unique users or minutes watched per day, week or month, zero-filled."""
    if metric == "toplist":
        return toplist()
    compute = SERIES.get(metric)
    if compute is None:
        choices = ", ".join([*SERIES, "toplist"])
        raise MoviedashError(f"unknown metric {metric!r}; one of {choices}", status=404)
    query, fmt = series_query_from_args(_args())
    return frame_response(compute(get_connection(), query), fmt, f"{metric}_{query.resolution}")


def toplist() -> Response:
    """The N most watched titles."""
    query, fmt = top_query_from_args(_args())
    return frame_response(analysis.toplist(get_connection(), query), fmt, f"toplist_{query.rank}")


@bp.route("/", defaults={"rest": ""})
@bp.route("/<path:rest>")
def not_found(rest: str) -> Response:
    """Everything else under /data is a JSON 404 (not Dash's catch-all page)."""
    raise MoviedashError(f"not found: /data/{rest}", status=404)
