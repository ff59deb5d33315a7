"""Control values -> validated parameter objects, checked against the data.

The one place where what a browser sends (the filter bar, the chart controls,
or a crafted ``/_dash-update-component`` request) becomes a
:class:`~moviedash.params.Filters` / :class:`moviedash.viewstate.ViewState`.  Strict
functions raise :class:`~moviedash.errors.MoviedashError` naming the control
at fault; :func:`resolve_state` is the lenient variant used for URLs.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from .. import analysis
from ..charts import THEMES
from ..errors import MoviedashError
from ..metrics import SERIES_KEYS
from ..params import Filters, parse_date, parse_group, parse_rank, parse_resolution
from ..store import Connection
from ..viewstate import KEYS, ViewState, parse_query, parse_top

#: The session-type control's "no filter" choice ("" can never be a real value).
ALL = ""


def parse_theme(value: Any) -> str:
    """``light`` or ``dark``."""
    if value not in THEMES:
        raise MoviedashError("theme must be light or dark", parameter="theme")
    return str(value)


def _date_control(value: Any, name: str) -> dt.date | None:
    """The date picker sends ``YYYY-MM-DD`` text (or nothing); only that is accepted."""
    if value is not None and not isinstance(value, str):
        raise MoviedashError(f"{name} must be a date YYYY-MM-DD", parameter=name)
    return parse_date(value, name)


def filters_from_controls(
    conn: Connection,
    start_date: Any,
    end_date: Any,
    sessiontype: Any,
    device: Any,
    market: Any,
) -> Filters:
    """Validate the filter bar's values into :class:`Filters`.

    Dates must lie within the data's span and every value must occur in the
    data (the options offered).  The whole span means "no date filter", so the
    selection equals the JSON routes' without ``start``/``end``.
    """
    if sessiontype is not None and not isinstance(sessiontype, str):
        raise MoviedashError("sessiontype must be a single value", parameter="sessiontype")
    for name, value in (("device", device), ("market", market)):
        if value is not None and not isinstance(value, list):
            raise MoviedashError(f"{name} must be a list of values", parameter=name)
    start, end = _date_control(start_date, "start"), _date_control(end_date, "end")
    filters = Filters.create(
        start=start,
        end=end,
        sessiontype=None if sessiontype == ALL else sessiontype,
        device=device,
        market=market,
    )
    whole = analysis.span(conn)
    for name, day in (("start", filters.start), ("end", filters.end)):
        if day is None or whole.first is None or whole.last is None:
            continue  # no bound given, or no data to bound it
        if not whole.first <= day <= whole.last:
            raise MoviedashError(
                f"{name} must be within the data's range {whole.first} to {whole.last}", parameter=name
            )
    analysis.check_known(conn, filters)
    return replace(
        filters,
        start=None if filters.start == whole.first else filters.start,
        end=None if filters.end == whole.last else filters.end,
    )


def state_from_controls(conn: Connection, *controls: Any) -> ViewState:
    """Validate every control (in :data:`CONTROL_NAMES` order) into the :class:`ViewState` the URL records."""
    if len(controls) != len(CONTROL_NAMES):
        raise MoviedashError(f"expected {len(CONTROL_NAMES)} control values, got {len(controls)}")
    values = dict(zip(CONTROL_NAMES, controls, strict=False))
    filters = filters_from_controls(
        conn, values["start"], values["end"], values["sessiontype"], values["device"], values["market"]
    )
    return ViewState(
        resolutions=[parse_resolution(values[key], key) for key in SERIES_KEYS],
        top=parse_top(values["top"]),
        rank=parse_rank(values["rank"]),
        group=parse_group(values["group"]),
        start=filters.start,
        end=filters.end,
        sessiontype=filters.sessiontype[0] if filters.sessiontype else None,
        device=filters.device,
        market=filters.market,
    )


def resolve_state(conn: Connection, state: ViewState) -> tuple[ViewState, tuple[str, ...]]:
    """Fit a state read from a URL to the data, leniently.

    Dates are clamped to the data's span (outside it there is nothing to see)
    and the bounds of the span become "whole range"; filter values that do not
    occur in the data are dropped and their parameter names returned.
    """
    whole = analysis.span(conn)
    ignored: list[str] = []
    start, end = state.start, state.end
    if whole.first is not None and whole.last is not None:
        if start is not None and start > whole.last:
            start = None
            ignored.append("start")
        if end is not None and end < whole.first:
            end = None
            ignored.append("end")
        start = None if start is None or start <= whole.first else start
        end = None if end is None or end >= whole.last else end
    unknown = analysis.unknown_values(conn, state.filters)
    ignored.extend(unknown)

    def keep(column: str, values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(v for v in values if v not in unknown.get(column, ()))

    sessiontype = keep("sessiontype", (state.sessiontype,) if state.sessiontype else ())
    return (
        replace(
            state,
            start=start,
            end=end,
            sessiontype=sessiontype[0] if sessiontype else None,
            device=keep("device", state.device),
            market=keep("market", state.market),
        ),
        tuple(ignored),
    )


def controls_from_state(state: ViewState, whole: analysis.Span) -> dict[str, Any]:
    """The control values showing ``state``, keyed like :data:`CONTROL_NAMES`."""
    start = state.start or whole.first
    end = state.end or whole.last
    return {
        **dict(zip(SERIES_KEYS, state.resolutions, strict=False)),
        "top": state.top,
        "rank": state.rank,
        "group": state.group,
        "start": start.isoformat() if start else None,
        "end": end.isoformat() if end else None,
        "sessiontype": state.sessiontype or ALL,
        "device": list(state.device),
        "market": list(state.market),
    }


def restore(conn: Connection, search: str) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The control values a URL's query string names (leniently), and the names of the parameters ignored.

    Used for the page's first layout (the address the browser opened) and on
    back/forward (the restore callback): both show a URL the same way.
    """
    state, ignored = parse_query(search)
    state, dropped = resolve_state(conn, state)
    return controls_from_state(state, analysis.span(conn)), tuple(dict.fromkeys([*ignored, *dropped]))


#: The order of the controls in callbacks that take all of them (the URL's keys).
CONTROL_NAMES: tuple[str, ...] = KEYS
