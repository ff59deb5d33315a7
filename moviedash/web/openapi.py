"""The OpenAPI 3 document of the JSON routes, served at ``/data/openapi.json``.

The document is built from the constants that the validators use
(:mod:`.params`, :mod:`.viewstate`, the chart and theme names), so it cannot
drift from what the routes accept.  The test suite runs schemathesis against
the app with this document.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask import Blueprint, Response, jsonify, request

from .. import analysis, dimensions, metrics, params, viewstate
from ..charts import THEMES
from ..errors import MoviedashError
from ..pipeline import (
    AUDIENCE_CHART_PARAMS,
    AUDIENCE_CHARTS,
    BINGE_CHART_PARAMS,
    BINGE_CHARTS,
    CHARTS,
    ENGAGEMENT_CHART_PARAMS,
    ENGAGEMENT_CHARTS,
    VIEWER_CHARTS,
)
from .context import get_connection

OPENAPI_PATH = "/data/openapi.json"

_ERROR_REF = {"$ref": "#/components/schemas/Error"}
_UNKNOWN = "Unknown query parameters are rejected with `400`."
_MAX_PERIODS_TEXT = (
    f"A series has at most {params.MAX_PERIODS:,} periods: a longer one (e.g. daily over more than 54 years) "
    "is a `400` naming `resolution`; choose a coarser resolution or a shorter range."
)
_RESOLUTION_TEXT = f"The period length. {_MAX_PERIODS_TEXT}"
#: The filter values of a database, by parameter (the served document's enums).
Known = Mapping[str, Sequence[str]]
#: What every filter parameter (sessiontype, device, market) accepts.
_VALUES_NOTE = (
    f"`{dimensions.UNKNOWN}` selects the events without a value (stored empty, NULL, `0` or `unknown`). "
    "A value that is not in the data is a `400` whose message lists the known values."
)


def _error_response(description: str, *, allow: bool = False) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": _ERROR_REF}},
    }
    if allow:
        response["headers"] = {
            "Allow": {"description": "The methods the route supports.", "schema": {"type": "string"}}
        }
    return response


def _errors(*, not_found: bool = True) -> dict[str, Any]:
    out = {
        "400": _error_response(
            "A bad, repeated or unknown query parameter; `parameter` names it.",
        ),
        "404": _error_response("Not found."),
        "405": _error_response("Method not allowed (only GET is served).", allow=True),
        "503": _error_response("The database is missing or unavailable."),
    }
    if not not_found:
        del out["404"]
    return out


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _single(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return _query(name, schema, f"{description} May be given only once.")


def _enum(values: tuple[str, ...], default: str) -> dict[str, Any]:
    return {"type": "string", "enum": list(values), "default": default}


def _values_schema(known: Sequence[str] | None = None) -> dict[str, Any]:
    """A filter value: with ``known`` (the served document), one of the database's values."""
    if known:
        return {"type": "string", "enum": list(known)}
    # No NUL character: no stored value can hold one (PostgreSQL text cannot).
    return {"type": "string", "minLength": 1, "maxLength": params.MAX_VALUE_LENGTH, "pattern": r"^[^\u0000]+$"}


def _multi(name: str, known: Known) -> dict[str, Any]:
    parameter = _query(
        name,
        {"type": "array", "items": _values_schema(known.get(name)), "maxItems": params.MAX_VALUES},
        f"Keep only events with one of these {name} values; repeat the parameter for several "
        f"(at most {params.MAX_VALUES} values of at most {params.MAX_VALUE_LENGTH} characters). "
        f"{_VALUES_NOTE}",
    )
    parameter.update(style="form", explode=True)
    return parameter


def _date_schema() -> dict[str, Any]:
    """A date from ``DATE_MIN`` to ``DATE_MAX``: ``format: date`` plus a pattern for the years."""
    first, last = params.DATE_MIN, params.DATE_MAX
    if (first.month, first.day, first.year % 100, last.month, last.day, last.year % 100) != (1, 1, 0, 12, 31, 99):
        raise AssertionError("the date pattern spells whole centuries; update it")
    centuries = "|".join(str(c) for c in range(first.year // 100, last.year // 100 + 1))
    return {"type": "string", "format": "date", "pattern": rf"^({centuries})\d{{2}}-\d{{2}}-\d{{2}}$"}


def _dates() -> list[dict[str, Any]]:
    bounds = f"from {params.DATE_MIN.isoformat()} to {params.DATE_MAX.isoformat()}"
    return [
        _single("start", _date_schema(), f"First day of the selection, inclusive (YYYY-MM-DD, {bounds})."),
        _single(
            "end", _date_schema(),
            f"Last day of the selection, inclusive (YYYY-MM-DD, {bounds}); not before `start` (else 400).",
        ),
    ]


def _format() -> dict[str, Any]:
    return _single("format", _enum(params.FORMATS, "json"), "`csv` returns the same rows as CSV.")


def _rows_response(item_ref: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/json": {"schema": {"type": "array", "items": {"$ref": item_ref}}},
            "text/csv": {"schema": {"type": "string"}},
        },
    }


def _series_operation(metric: str, summary: str, known: Known, *, engagement: bool = False) -> dict[str, Any]:
    if engagement:
        text = (f"Every period between the first and the last one is present, with null where no play has a value. "
                f"{metrics.ROUNDING} {_UNKNOWN}")
    else:
        text = f"Every period between the first and the last one is present, with 0 where nothing happened. {_UNKNOWN}"
    return {
        "get": {
            "operationId": metric,
            "summary": summary,
            "description": text,
            "parameters": [
                _single("resolution", _enum(params.RESOLUTIONS, "daily"), _RESOLUTION_TEXT),
                *_dates(),
                *[_multi(key, known) for key in params.FILTER_KEYS],
                _format(),
            ],
            "responses": {
                "200": _rows_response(
                    "#/components/schemas/" + ("EngagementRow" if engagement else "SeriesRow"), "One row per period."
                ),
                **_errors(),
            },
        }
    }


def _toplist_operation(known: Known) -> dict[str, Any]:
    num = {"type": "integer", "minimum": params.NUM_MIN, "maximum": params.NUM_MAX, "default": params.NUM_DEFAULT}
    min_plays = {"type": "integer", "minimum": params.NUM_MIN, "maximum": params.MIN_PLAYS_MAX,
                 "default": params.MIN_PLAYS_DEFAULT}
    return {
        "get": {
            "operationId": "toplist",
            "summary": "The N most watched titles, most first (ties by title).",
            "description": f"Empty or NULL titles are left out. {_UNKNOWN}",
            "parameters": [
                _single("num", num, "How many titles."),
                _single(
                    "rank", _enum(params.TOP_RANKS, "plays"),
                    "What the list counts: plays, minutes, viewers, or the engagement measures `completion` "
                    "(average completion of titles with at least `min_plays` plays with a percentage) and "
                    "`full_watches` (these rows add `plays`; ties by plays, then title).",
                ),
                _single("min_plays", min_plays, "With `rank=completion`: the fewest plays a listed title has."),
                _single(
                    "group", _enum(params.GROUPS, "titles"),
                    "`titles` ranks each title; `shows` ranks movies and whole shows together (a series' episodes "
                    "summed into their show, the part of the title before the first `\", \"`; `title` is then the "
                    f"show; viewers are distinct over all its episodes). `shows` takes rank "
                    f"{', '.join(params.SHOW_RANKS)} only.",
                ),
                *_dates(),
                *[_multi(key, known) for key in params.FILTER_KEYS],
                _format(),
            ],
            "responses": {
                "200": _rows_response("#/components/schemas/TopRow", "One row per title."),
                **_errors(),
            },
        }
    }


def _show_operation(known: Known) -> dict[str, Any]:
    name = _required(
        "name", {"type": "string", "minLength": 1, "maxLength": params.MAX_VALUE_LENGTH, "pattern": r"^[^\u0000]+$"},
        "The show (as the top list with `group=shows` names it; a movie is its own show).",
    )
    return {
        "get": {
            "operationId": "show",
            "summary": "One show: plays, viewers, minutes and completion per season and per episode, episode "
            "drop-off and the viewer × episode grid.",
            "description": "A show is the part of a series title before the first `\", \"` (a CSV's `show` column "
            "wins; a movie is its own show). An episode is a (season, episode) number pair (null: no number); "
            "`share_of_first` is the episode's viewers as % of its season's first episode's viewers; `grid` "
            "counts, per season of N episodes, the viewers who watched 1 … N distinct episodes of it. "
            "`format=csv` gives one `table` (default `episodes`). An unknown show is a `404` naming `name`; "
            f"a known show without events in the selection has empty tables. {metrics.ROUNDING} {_UNKNOWN}",
            "parameters": [
                name,
                _single("table", _enum(params.SHOW_TABLES, "episodes"),
                        "With `format=csv`: which table (the JSON holds them all)."),
                *_selection(known), _format(),
            ],
            "responses": {
                "200": {
                    "description": "The show's numbers.",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Show"}},
                        "text/csv": {"schema": {"type": "string"}},
                    },
                },
                **_errors(),
            },
        }
    }


def _show_schemas() -> dict[str, Any]:
    count = {"type": "integer", "minimum": 0}
    number = {"type": "integer", "nullable": True, "description": "null: events without a number."}
    measures = {
        "plays": count, "viewers": count, "minutes": count,
        "completion": _nullable_number("Average completion in % (null without a play with a percentage)."),
    }
    return {
        "Show": _rows({
            "show": {"type": "string"}, **measures,
            "seasons": {"type": "array", "items": {"$ref": "#/components/schemas/ShowSeason"}},
            "episodes": {"type": "array", "items": {"$ref": "#/components/schemas/ShowEpisode"}},
            "grid": {"type": "array", "items": {"$ref": "#/components/schemas/ShowGridCell"}},
        }, ["show", *measures, "seasons", "episodes", "grid"]),
        "ShowSeason": _rows({"season": number, "episodes": count, **measures},
                            ["season", "episodes", *measures]),
        "ShowEpisode": _rows({
            "season": number, "episode": number,
            "episode_name": {"type": "string", "nullable": True}, **measures,
            "share_of_first": _nullable_number("Viewers as % of the season's first episode's viewers."),
        }, ["season", "episode", "episode_name", *measures, "share_of_first"]),
        "ShowGridCell": _rows({"season": number, "episodes_watched": {"type": "integer", "minimum": 1},
                               "viewers": count}, ["season", "episodes_watched", "viewers"]),
    }


def _figure_operation(known: Known) -> dict[str, Any]:
    resolution = _enum(params.RESOLUTIONS, "daily")
    top = {"type": "integer", "minimum": viewstate.TOP_MIN, "maximum": viewstate.TOP_MAX,
           "default": params.NUM_DEFAULT}
    descriptions = {
        **{
            m.key: _single(m.key, resolution, f"Resolution of the {m.chart_words} chart. {_MAX_PERIODS_TEXT}")
            for m in metrics.MEASURES
        },
        "top": _single("top", top, "How many titles the top-titles chart shows."),
        "rank": _single("rank", _enum(params.RANKS, "plays"), "What the top-titles chart counts."),
        "group": _single("group", _enum(params.GROUPS, "titles"),
                         "The top-titles chart lists titles, or movies and whole shows together."),
        "sessiontype": _single(
            "sessiontype", _values_schema(known.get("sessiontype")), f"Keep only this session type. {_VALUES_NOTE}"
        ),
        "device": _multi("device", known),
        "market": _multi("market", known),
    }
    start, end = _dates()
    descriptions.update(start=start, end=end)
    missing = set(viewstate.KEYS) - set(descriptions)
    if missing:  # a new dashboard parameter must be documented here
        raise AssertionError(f"undocumented dashboard parameters: {sorted(missing)}")
    return {
        "get": {
            "operationId": "figure",
            "summary": "A chart of the dashboard as Plotly figure JSON, for embedding with plotly.js.",
            "description": "Takes the dashboard's query parameters (as in its shareable URL) plus "
            f"`theme`, strictly. {_UNKNOWN}",
            "parameters": [
                {
                    "name": "chart",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "enum": list(CHARTS)},
                    "description": "The chart.",
                },
                *[descriptions[key] for key in viewstate.KEYS],
                _single("theme", _enum(THEMES, "light"), "The colour theme."),
            ],
            "responses": {
                "200": {
                    "description": "A Plotly figure.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Figure"}}},
                },
                **_errors(),
            },
        }
    }


def _selection(known: Known) -> list[dict[str, Any]]:
    return [*_dates(), *[_multi(key, known) for key in params.FILTER_KEYS]]


def _engagement_operation(operation_id: str, summary: str, description: str, own: list[dict[str, Any]],
                          item: str, known: Known) -> dict[str, Any]:
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "description": f"{description} {metrics.ROUNDING} {_UNKNOWN}",
            "parameters": [*own, *_selection(known), _format()],
            "responses": {
                "200": _rows_response(f"#/components/schemas/{item}", "One row per group."),
                **_errors(),
            },
        }
    }


def _required(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    parameter = _single(name, schema, description)
    parameter["required"] = True
    return parameter


def _engagement_paths(known: Known) -> dict[str, Any]:
    resolution = _single("resolution", _enum(params.RESOLUTIONS, "daily"), _RESOLUTION_TEXT)
    by = _required("by", {"type": "string", "enum": list(params.BREAKDOWN_KEYS)}, "The dimension to break down by.")
    title = _required(
        "title", {"type": "string", "minLength": 1, "maxLength": params.MAX_VALUE_LENGTH, "pattern": r"^[^\u0000]+$"},
        "The title (as stored).",
    )
    paths: dict[str, Any] = {
        f"/data/{m.name}/breakdown/": _engagement_operation(
            f"{m.name}_breakdown", f"{m.label} by device, market or session type.",
            "One row per value with a play (missing values as `unknown`), most plays first; `plays` counts the "
            "plays with a value.", [by], "BreakdownRow", known,
        )
        for m in metrics.ENGAGEMENT
    }
    paths["/data/completion/distribution/"] = _engagement_operation(
        "completion_distribution", "Plays per 10 % bin of completion, movies and series side by side.",
        "Bins 0–10 … 90–100 (100 % and capped plays in the last); shares are % of the session type's plays.",
        [], "DistributionRow", known,
    )
    paths["/data/completion/stops/"] = _engagement_operation(
        "completion_stops", "Where people stop in a title: % of its plays still watching at 10 %, 20 %, … 100 %.",
        "`values` is null when the title has no play with a percentage.", [title], "StopRow", known,
    )
    paths["/data/quality/worst_segments/"] = _engagement_operation(
        "quality_worst_segments", "The 10 device × market × period segments with the most poor plays beyond the "
        "overall rate.",
        "impact = poor plays − plays × the selection's poor rate (as Mux ranks insights); only positive impacts.",
        [resolution], "SegmentRow", known,
    )
    paths["/data/quality/completion/"] = _engagement_operation(
        "quality_completion", "Average completion per one-unit bin of the quality score (errorperception).",
        "Bins with a play that has both values, ascending.", [], "QualityCompletionRow", known,
    )
    return paths


def _engagement_figure_operation(chart: str, known: Known) -> dict[str, Any]:
    """``/figures/engagement/<chart>.json`` (another chart's name: only the shared parameters)."""
    own = {
        "resolution": _single("resolution", _enum(params.RESOLUTIONS, "daily"), _RESOLUTION_TEXT),
        "by": _required("by", {"type": "string", "enum": list(params.BREAKDOWN_KEYS)}, "The breakdown's dimension."),
        "title": _required("title", {"type": "string", "minLength": 1, "maxLength": params.MAX_VALUE_LENGTH,
                                     "pattern": r"^[^\u0000]+$"}, "The title (as stored)."),
    }
    return {
        "get": {
            "operationId": f"figure_{chart}",
            "summary": f"The {chart.replace('_', ' ')} chart as Plotly figure JSON, for embedding with plotly.js.",
            "description": f"Takes the shared filters, `theme` and the chart's own parameter. {_UNKNOWN}",
            "parameters": [
                *[own[name] for name in ENGAGEMENT_CHART_PARAMS.get(chart, ())],
                *_selection(known),
                _single("theme", _enum(THEMES, "light"), "The colour theme."),
            ],
            "responses": {
                "200": {
                    "description": "A Plotly figure.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Figure"}}},
                },
                **_errors(),
            },
        }
    }


def _audience_paths(known: Known) -> dict[str, Any]:
    """``/data/audience/`` and ``/data/cohorts/`` (the declared :data:`moviedash.metrics.AUDIENCE`)."""
    measures = {m.name: m for m in metrics.AUDIENCE}
    first_seen = ("A viewer's first-seen day is their first play in the whole database, whatever the filters "
                  "(the viewer rules of unique users: min_minutes, exclude_users).")
    period = _single("period", _enum(tuple(params.COHORT_PERIODS), "week"),
                     "Cohorts by the week (Monday) or month their members were first seen.")
    cohorts = _engagement_operation(
        "cohorts", measures["cohorts"].description,
        f"{first_seen} The filters and the date range apply to activity only; the cohorts listed are those of "
        "the range's periods (the data's span when open), each with every period from its own (offset 0) to the "
        "last, 0 where none of its members was active. CSV: one row per (cohort, offset).",
        [period], "CohortRow", known,
    )
    cohorts["get"]["responses"]["200"]["description"] = "One object per cohort, oldest first."
    figures: dict[str, Any] = {}
    for chart in AUDIENCE_CHARTS:
        figure = _engagement_figure_operation("audience" if chart == "audience" else "retention", known)
        figure["get"]["operationId"] = f"figure_audience_{chart}"
        own = _single("resolution", _enum(params.RESOLUTIONS, "daily"), _RESOLUTION_TEXT) \
            if AUDIENCE_CHART_PARAMS[chart] == ("resolution",) else period
        figure["get"]["parameters"] = [own, *figure["get"]["parameters"]]
        figures[f"/figures/audience/{chart}.json"] = figure
    return {
        **figures,
        "/data/audience/": {"get": {
            **_series_operation("audience", measures["audience"].description, known)["get"],
            "description": f"{first_seen} Every period between the first and the last one is present, with 0 "
            f"where nothing happened. {_UNKNOWN}",
            "responses": {"200": _rows_response("#/components/schemas/AudienceRow", "One row per period."),
                          **_errors()},
        }},
        "/data/cohorts/": cohorts,
    }


def _audience_schemas() -> dict[str, Any]:
    count = {"type": "integer", "minimum": 0}
    period = {
        "type": "object", "additionalProperties": False, "required": ["offset", "period", "active", "share"],
        "properties": {
            "offset": count, "period": {"type": "string", "format": "date"}, "active": count,
            "share": {"type": "number", "minimum": 0, "maximum": 100, "description": "% of the cohort's size."},
        },
    }
    return {
        "AudienceRow": _rows({
            "date": {"type": "string", "format": "date", "description": "The first day of the period."},
            "new": count, "returning": count,
        }, ["date", "new", "returning"]),
        "CohortRow": _rows({
            "cohort": {"type": "string", "format": "date", "description": "The first day of the cohort's period."},
            "size": {"type": "integer", "minimum": 1}, "periods": {"type": "array", "items": period},
        }, ["cohort", "size", "periods"]),
    }


def _nullable_number(description: str) -> dict[str, Any]:
    return {"type": "number", "nullable": True, "description": description}


def _rows(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties, "additionalProperties": False}


def _engagement_schemas() -> dict[str, Any]:
    count = {"type": "integer", "minimum": 0}
    bound = {"type": "integer"}
    return {
        "EngagementRow": _rows({
            "date": {"type": "string", "format": "date", "description": "The first day of the period."},
            "values": _nullable_number("null where the period has no play with a value."),
        }, ["date", "values"]),
        "BreakdownRow": {
            "type": "object", "required": ["values", "plays"],
            "properties": {
                **{key: {"type": "string"} for key in params.BREAKDOWN_KEYS},
                "values": _nullable_number("null where no play of the group has a value."), "plays": count,
            },
            "minProperties": 3, "maxProperties": 3, "additionalProperties": False,
        },
        "DistributionRow": _rows({
            "from": bound, "to": bound, "movie_plays": count, "series_plays": count,
            "movie_share": _nullable_number("% of the movies' plays."),
            "series_share": _nullable_number("% of the series' plays."),
        }, ["from", "to", "movie_plays", "series_plays", "movie_share", "series_share"]),
        "StopRow": _rows({"at": bound, "values": _nullable_number("% still watching."), "plays": count},
                         ["at", "values", "plays"]),
        "SegmentRow": _rows({
            "device": {"type": "string"}, "market": {"type": "string"},
            "date": {"type": "string", "format": "date"}, "plays": count, "poor": count,
            "poor_share": {"type": "number"}, "impact": {"type": "number"},
        }, ["device", "market", "date", "plays", "poor", "poor_share", "impact"]),
        "QualityCompletionRow": _rows({"from": bound, "to": bound, "values": {"type": "number"}, "plays": count},
                                      ["from", "to", "values", "plays"]),
    }


_BINGE_TEXT = (
    "A binge session is a viewer's run of at least `binge_min_episodes` (default 3) episodes of one show, each "
    "starting at most `binge_max_gap_minutes` (default 120) after the previous one ended (database settings). "
    "Sessions are found over all the data and belong to the period and filter values of their first episode; "
    "minutes belong to their own event. `share` is % of series minutes, 2 decimals, null without series minutes."
)


def _binge_num() -> dict[str, Any]:
    return _single("num", {"type": "integer", "minimum": params.NUM_MIN, "maximum": params.NUM_MAX,
                           "default": params.NUM_DEFAULT}, "How many shows.")


def _binge_paths(known: Known) -> dict[str, Any]:
    resolution = _single("resolution", _enum(params.RESOLUTIONS, "daily"), _RESOLUTION_TEXT)
    return {
        "/data/binge/": _engagement_operation(
            "binge", "Binge sessions started, minutes in binges, series minutes and the binge share per period.",
            f"Every period between the first and the last series event (or of the range) is present. {_BINGE_TEXT}",
            [resolution], "BingeRow", known,
        ),
        "/data/binge/overall/": _engagement_operation(
            "binge_overall", "The selection's binge sessions, viewers, episodes and share of series minutes.",
            f"One row. {_BINGE_TEXT}", [], "BingeOverallRow", known,
        ),
        "/data/binge/shows/": _engagement_operation(
            "binge_shows", "The most binged shows: sessions, viewers, episodes and episodes per session.",
            f"Most sessions first, then most viewers, then the name. {_BINGE_TEXT}", [_binge_num()],
            "BingeShowRow", known,
        ),
    }


def _binge_figure_operation(chart: str, known: Known) -> dict[str, Any]:
    own = {"resolution": _single("resolution", _enum(params.RESOLUTIONS, "daily"), _RESOLUTION_TEXT),
           "num": _binge_num()}
    operation = _engagement_figure_operation("completion", known)
    operation["get"]["operationId"] = f"figure_{chart}"
    operation["get"]["summary"] = f"The {chart.replace('_', ' ')} chart as Plotly figure JSON, for embedding."
    operation["get"]["parameters"] = [*[own[name] for name in BINGE_CHART_PARAMS[chart]], *_selection(known),
                                      _single("theme", _enum(THEMES, "light"), "The colour theme.")]
    return operation


def _binge_schemas() -> dict[str, Any]:
    count = {"type": "integer", "minimum": 0}
    share = _nullable_number("% of series minutes in binges; null without series minutes.")
    minutes = {"binge_minutes": count, "series_minutes": count, "share": share}
    return {
        "BingeRow": _rows({"date": {"type": "string", "format": "date", "description": "The first day of the period."},
                           "sessions": count, **minutes},
                          ["date", "sessions", "binge_minutes", "series_minutes", "share"]),
        "BingeOverallRow": _rows({"sessions": count, "viewers": count, "episodes": count, **minutes},
                                 ["sessions", "viewers", "episodes", "binge_minutes", "series_minutes", "share"]),
        "BingeShowRow": _rows({"show": {"type": "string", "minLength": 1}, "sessions": count, "viewers": count,
                               "episodes": count, "episodes_per_session": {"type": "number", "minimum": 0}},
                              ["show", "sessions", "viewers", "episodes", "episodes_per_session"]),
    }


def _object_operation(operation_id: str, summary: str, description: str, own: list[dict[str, Any]],
                      schema: str, csv: str, known: Known) -> dict[str, Any]:
    """A route answering one JSON object (``csv``: what ``format=csv`` returns instead)."""
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "description": f"{description} `format=csv` returns {csv}. {_UNKNOWN}",
            "parameters": [*own, *_selection(known), _format()],
            "responses": {
                "200": {
                    "description": "The answer for the selection (counts only: never a user id).",
                    "content": {
                        "application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}},
                        "text/csv": {"schema": {"type": "string"}},
                    },
                },
                **_errors(),
            },
        }
    }


def _viewer_paths(known: Known) -> dict[str, Any]:
    """The concentration and heavy-viewers routes (issue 15) and their figures."""
    rule = (
        "Viewers are the distinct user ids of the selection's plays, without `exclude_users` and without the "
        "anonymous id (it is many people); a viewer's minutes are the sum of their plays' minutes."
    )
    measure = _single("measure", _enum(params.VIEWER_MEASURES, params.VIEWER_MEASURES[0]),
                      "Plays or minutes per viewer.")
    paths: dict[str, Any] = {
        "/data/concentration/": _object_operation(
            "concentration", "How concentrated viewing is: the share of minutes of the top 1 %, 10 % and 50 % of "
            "viewers, the Lorenz curve and its Gini coefficient.",
            f"{rule} Top p % = the ceil(p × n / 100) heaviest viewers; the Lorenz curve has "
            f"{metrics.LORENZ_POINTS} points (x = 0, 0.01, … 1 of the viewers, lightest first; y to 4 decimals); "
            "Gini = 2 Σ i·m(i) / (n M) − (n + 1) / n over ascending minutes (4 decimals). Shares, Gini and curve "
            "are null/empty without viewers or minutes. Exact fractions rounded half away from zero, the same on "
            "every backend.",
            [], "Concentration", "the Lorenz curve's points", known,
        ),
        "/data/viewers/": _object_operation(
            "heavy_viewers", "The distribution of plays or minutes per viewer: histogram and percentiles.",
            f"{rule} Declared bins (the last open-ended); shares are % of the viewers (2 decimals); percentiles "
            "are nearest rank (rank ceil(p × n / 100) ascending). Counts only: no user id is ever returned.",
            [measure], "ViewerDistribution", "the histogram's rows", known,
        ),
    }
    for chart in VIEWER_CHARTS:
        paths[f"/figures/viewers/{chart}.json"] = {
            "get": {
                "operationId": f"figure_{chart}",
                "summary": f"The {chart.replace('_', ' ')} chart as Plotly figure JSON, for embedding with plotly.js.",
                "description": f"Takes the shared filters and `theme`. {_UNKNOWN}",
                "parameters": [*_selection(known), _single("theme", _enum(THEMES, "light"), "The colour theme.")],
                "responses": {
                    "200": {
                        "description": "A Plotly figure.",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Figure"}}},
                    },
                    **_errors(),
                },
            }
        }
    return paths


def _viewer_schemas() -> dict[str, Any]:
    count = {"type": "integer", "minimum": 0}
    shares = {
        "type": "object", "required": [str(p) for p in metrics.TOP_SHARES],
        "properties": {str(p): _nullable_number(f"% of minutes of the top {p} % of viewers.")
                       for p in metrics.TOP_SHARES},
        "additionalProperties": False,
    }
    counts = {
        "type": "object", "required": [str(p) for p in metrics.TOP_SHARES],
        "properties": {str(p): count for p in metrics.TOP_SHARES}, "additionalProperties": False,
    }
    point = {"type": "array", "items": {"type": "number", "minimum": 0, "maximum": 1}, "minItems": 2, "maxItems": 2}
    rank = {"type": "integer", "nullable": True, "minimum": 0}
    return {
        "Concentration": _rows({
            "viewers": count, "minutes": count, "top_shares": shares, "top_viewers": counts,
            "gini": _nullable_number("The Gini coefficient of minutes per viewer (0 = equal)."),
            "lorenz": {"type": "array", "items": point, "maxItems": metrics.LORENZ_POINTS},
        }, ["viewers", "minutes", "top_shares", "top_viewers", "gini", "lorenz"]),
        "ViewerBin": _rows({
            "from": count, "to": {"type": "integer", "nullable": True, "description": "null: open-ended."},
            "label": {"type": "string"}, "viewers": count,
            "share": _nullable_number("% of the viewers; null without viewers."),
        }, ["from", "to", "label", "viewers", "share"]),
        "ViewerDistribution": _rows({
            "measure": {"type": "string", "enum": list(params.VIEWER_MEASURES)},
            "viewers": count,
            "histogram": {"type": "array", "items": {"$ref": "#/components/schemas/ViewerBin"}},
            "percentiles": _rows({f"p{p}": rank for p in metrics.VIEWER_PERCENTILES} | {"max": rank},
                                 [*(f"p{p}" for p in metrics.VIEWER_PERCENTILES), "max"]),
        }, ["measure", "viewers", "histogram", "percentiles"]),
    }


def _openapi_operation() -> dict[str, Any]:
    return {
        "get": {
            "operationId": "openapi",
            "summary": "This document.",
            "description": f"Takes no parameters. {_UNKNOWN}",
            "responses": {
                "200": {
                    "description": "The OpenAPI 3 document of the JSON routes.",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                **_errors(not_found=False),
            },
        }
    }


def build_document(known: Known | None = None) -> dict[str, Any]:
    """The OpenAPI 3.0 document of the JSON routes, as a dict.

    ``known``: the filter values of the database served (:func:`moviedash.analysis.options`),
    which become each filter parameter's ``enum``; without it, any value is described.
    """
    known = known or {}
    error = {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {"type": "string", "description": "What went wrong."},
            "parameter": {"type": "string", "description": "The parameter at fault, when one is."},
        },
        "additionalProperties": False,
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "moviedash JSON API",
            "version": "1",
            "description": "Viewing statistics over a SQLite log of movie/series events. Only GET is served. "
            "Every error is `{\"error\": ..., \"parameter\": ...}`; a bad, repeated or unknown "
            "parameter gives 400, an unknown route 404, a wrong method 405 and a missing database 503.",
        },
        "paths": {
            **{f"/data/{m.name}/": _series_operation(m.name, m.description, known) for m in metrics.MEASURES},
            **{
                f"/data/{m.name}/": _series_operation(m.name, m.description, known, engagement=True)
                for m in metrics.ENGAGEMENT
            },
            **_engagement_paths(known),
            **_binge_paths(known),
            **_audience_paths(known),
            "/data/toplist/": _toplist_operation(known),
            "/data/show/": _show_operation(known),
            "/figures/{chart}.json": _figure_operation(known),
            **{f"/figures/engagement/{c}.json": _engagement_figure_operation(c, known) for c in ENGAGEMENT_CHARTS},
            **{f"/figures/binge/{c}.json": _binge_figure_operation(c, known) for c in BINGE_CHARTS},
            **_viewer_paths(known),
            OPENAPI_PATH: _openapi_operation(),
        },
        "components": {
            "schemas": {
                "SeriesRow": {
                    "type": "object",
                    "required": ["date", "values"],
                    "properties": {
                        "date": {"type": "string", "format": "date", "description": "The first day of the period."},
                        "values": {"type": "number", "minimum": 0},
                    },
                    "additionalProperties": False,
                },
                "TopRow": {
                    "type": "object",
                    "required": ["title", "values"],
                    "properties": {
                        "title": {"type": "string", "minLength": 1},
                        "values": {"type": "number", "minimum": 0},
                        "plays": {"type": "integer", "minimum": 0, "description": "With an engagement rank."},
                    },
                    "additionalProperties": False,
                },
                "Figure": {
                    "type": "object",
                    "required": ["data", "layout", "config"],
                    "properties": {
                        "data": {"type": "array", "items": {"type": "object"}},
                        "layout": {"type": "object"},
                        "config": {
                            "type": "object",
                            "description": "The Plotly config to draw the chart with: modebar on hover, "
                            "no button that sends the chart to another host.",
                        },
                    },
                },
                **_engagement_schemas(),
                **_show_schemas(),
                **_binge_schemas(),
                **_audience_schemas(),
                **_viewer_schemas(),
                "Error": error,
            }
        },
    }


bp = Blueprint("openapi", __name__)


@bp.get(OPENAPI_PATH)
def openapi_document() -> Response:
    """Serve :func:`build_document` as JSON."""
    for key in request.args:
        raise MoviedashError(f"unknown parameter {key!r}; this route takes none", parameter=key)
    return jsonify(build_document(analysis.options(get_connection())))
