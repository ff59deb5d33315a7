"""The dashboard's view state and its query string, both ways (pure functions, no Dash).

``?users=weekly&minutes=monthly&top=5&rank=plays&group=shows&start=2013-03-01&end=2013-06-30
&sessiontype=MOVIE&device=iPad&market=NO`` - multi-value keys repeat.  Defaults are
left out, so the plain page is ``/`` and every view has exactly one URL.

Reading is lenient (a shared link with one bad value still opens, with that
value at its default, and the names of the ignored parameters are reported);
membership in the data's options is checked later, in :mod:`.selection`.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode

from .errors import MoviedashError
from .metrics import SERIES_KEYS
from .params import (
    NUM_DEFAULT,
    Filters,
    SeriesQuery,
    TopQuery,
    parse_date,
    parse_group,
    parse_num,
    parse_rank,
    parse_resolution,
)

#: The top-N slider's range.
TOP_MIN, TOP_MAX = 1, 50
#: The dashboard's pages: the overview, the engagement page and the series page (the view's query applies to all).
ENGAGEMENT_PATH = "/engagement"
SERIES_PATH = "/series"
AUDIENCE_PATH = "/audience"
PAGE_PATHS: tuple[str, ...] = ("/", ENGAGEMENT_PATH, SERIES_PATH, AUDIENCE_PATH)
#: A show's page: ``/show/<name>`` (the name URL-encoded), with the same query.
SHOW_PREFIX = "/show/"
#: The query-string keys, in the order they are written: the resolution of each
#: time-series chart (keyed as declared in :mod:`moviedash.metrics`), then the rest.
KEYS: tuple[str, ...] = (*SERIES_KEYS, "top", "rank", "group", "start", "end", "sessiontype", "device", "market")
_MULTI = ("device", "market")
#: More fields than any real link has: refuse to parse absurd query strings.
_MAX_FIELDS = 200


@dataclass(frozen=True, init=False)
class ViewState:
    """Everything a shared link restores: chart controls and the filter bar.

    ``resolutions`` holds each time-series chart's resolution, in the order of
    :data:`~moviedash.metrics.SERIES_KEYS`; the constructor takes them by key
    (``ViewState(users="weekly")``).  ``start``/``end`` ``None`` mean the whole
    date range; empty tuples and a ``None`` session type mean "no filter".
    """

    resolutions: tuple[str, ...] = ("daily",) * len(SERIES_KEYS)
    top: int = NUM_DEFAULT
    rank: str = "plays"
    #: The top list's ``group``: ``titles`` or ``shows`` (:data:`moviedash.params.GROUPS`).
    group: str = "titles"
    start: dt.date | None = None
    end: dt.date | None = None
    sessiontype: str | None = None
    device: tuple[str, ...] = field(default_factory=tuple)
    market: tuple[str, ...] = field(default_factory=tuple)

    def __init__(
        self,
        *,
        resolutions: Sequence[str] | None = None,
        top: int = NUM_DEFAULT,
        rank: str = "plays",
        group: str = "titles",
        start: dt.date | None = None,
        end: dt.date | None = None,
        sessiontype: str | None = None,
        device: tuple[str, ...] = (),
        market: tuple[str, ...] = (),
        **series: str,
    ) -> None:
        unknown = set(series) - set(SERIES_KEYS)
        if unknown:
            raise TypeError(f"unknown chart keys: {sorted(unknown)}")
        base = tuple(resolutions) if resolutions is not None else ("daily",) * len(SERIES_KEYS)
        values = {
            "resolutions": tuple(series.get(key, base[i]) for i, key in enumerate(SERIES_KEYS)),
            "top": top, "rank": rank, "group": group, "start": start, "end": end, "sessiontype": sessiontype,
            "device": device, "market": market,
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)  # frozen: set once, here

    def resolution(self, key: str) -> str:
        """The resolution of the time-series chart ``key`` (e.g. ``users``)."""
        return self.resolutions[SERIES_KEYS.index(key)]

    @property
    def filters(self) -> Filters:
        """The selection every chart and KPI shares."""
        return Filters(
            start=self.start,
            end=self.end,
            sessiontype=(self.sessiontype,) if self.sessiontype else (),
            device=self.device,
            market=self.market,
        )

    def series_query(self, key: str) -> SeriesQuery:
        """The query of the time-series chart ``key`` (e.g. ``users``)."""
        return SeriesQuery(self.resolution(key), self.filters)

    def top_query(self) -> TopQuery:
        """The query of the top-titles chart (top shows with ``group=shows``)."""
        return TopQuery(self.top, self.rank, self.filters, group=self.group)


def parse_top(value: object) -> int:
    """The slider's N: an integer from 1 to 50."""
    return parse_num(value, "top", maximum=TOP_MAX)


def _single_text(values: list[str], name: str) -> str:
    if len(values) != 1 or not values[0]:
        raise MoviedashError(f"{name} must be given once, non-empty", parameter=name)
    return Filters.create(sessiontype=values[0]).sessiontype[0]  # same length/emptiness rules


def _resolution_parser(key: str) -> Callable[[object], str]:
    return lambda value: parse_resolution(value, key)


_SINGLE_PARSERS: dict[str, Callable[[object], object]] = {
    **{key: _resolution_parser(key) for key in SERIES_KEYS},
    "top": parse_top,
    "rank": parse_rank,
    "group": parse_group,
    "start": lambda v: parse_date(v, "start"),
    "end": lambda v: parse_date(v, "end"),
}


def parse_query(search: str | None, *, strict: bool = False) -> tuple[ViewState, tuple[str, ...]]:
    """Read a query string (with or without ``?``) into a :class:`ViewState`.

    Returns the state and the names of the parameters that were ignored
    (unknown, malformed or repeated): those keep their default.  With
    ``strict`` (API callers), the first such parameter raises
    :class:`MoviedashError` naming it instead.
    """
    text = (search or "").lstrip("?")
    try:
        args = parse_qs(text, keep_blank_values=True, max_num_fields=_MAX_FIELDS)
    except ValueError:
        if strict:
            raise MoviedashError(f"too many query parameters (at most {_MAX_FIELDS})", parameter="query") from None
        return ViewState(), ("query",)
    ignored: list[str] = [key for key in args if key not in KEYS]
    if strict and ignored:
        raise MoviedashError(
            f"unknown parameter {ignored[0]!r}; allowed: {', '.join(KEYS)}", parameter=ignored[0]
        )
    values: dict[str, object] = {}
    for key, parse in _SINGLE_PARSERS.items():
        if key not in args:
            continue
        try:
            if len(args[key]) != 1:
                raise MoviedashError(f"{key} may be given only once", parameter=key)
            values[key] = parse(args[key][0])
        except MoviedashError:
            if strict:
                raise
            ignored.append(key)
    if "sessiontype" in args:
        try:
            values["sessiontype"] = _single_text(args["sessiontype"], "sessiontype")
        except MoviedashError:
            if strict:
                raise
            ignored.append("sessiontype")
    for key in _MULTI:
        if key in args:
            try:
                values[key] = getattr(Filters.create(**{key: args[key]}), key)
            except MoviedashError:
                if strict:
                    raise
                ignored.append(key)
    start, end = values.get("start"), values.get("end")
    if isinstance(start, dt.date) and isinstance(end, dt.date) and end < start:
        if strict:
            raise MoviedashError("end must not be before start", parameter="end")
        del values["end"]
        ignored.append("end")
    return ViewState(**values), tuple(ignored)  # type: ignore[arg-type]


def to_query(state: ViewState) -> str:
    """The canonical query string of ``state``: ``""`` for the defaults, else ``"?..."``."""
    default = ViewState()
    pairs: list[tuple[str, str]] = []
    for key in SERIES_KEYS:
        if state.resolution(key) != default.resolution(key):
            pairs.append((key, state.resolution(key)))
    for name in KEYS[len(SERIES_KEYS):]:
        value = getattr(state, name)
        if value == getattr(default, name):
            continue
        if name in _MULTI:
            pairs.extend((name, item) for item in value)
        elif isinstance(value, dt.date):
            pairs.append((name, value.isoformat()))
        else:
            pairs.append((name, str(value)))
    pairs.sort(key=lambda pair: KEYS.index(pair[0]))  # stable: repeated keys keep their order
    return "?" + urlencode(pairs) if pairs else ""
