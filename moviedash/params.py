"""Parse and validate request parameters once, into small immutable value objects.

The JSON routes, the Dash callbacks, the figures API and the report all build
their queries from these objects, so a selection means the same thing
everywhere.  Every problem is a :class:`~moviedash.errors.MoviedashError` that
names the parameter at fault.
"""
from __future__ import annotations

import calendar
import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .dimensions import DIMS
from .errors import MoviedashError
from .metrics import VIEWER_MEASURES

RESOLUTIONS: tuple[str, ...] = ("daily", "weekly", "monthly")
#: The cohort periods of ``/data/cohorts/`` (``period``) and the resolution each groups first-seen days by.
COHORT_PERIODS: dict[str, str] = {"week": "weekly", "month": "monthly"}
RANKS: tuple[str, ...] = ("plays", "minutes", "viewers")
#: The ranks of the ``/data/toplist/`` route: also the engagement measures (:mod:`moviedash.engagement`).
TOP_RANKS: tuple[str, ...] = (*RANKS, "completion", "full_watches")
#: What the top list ranks (``group``): each title, or whole shows and movies together (:mod:`moviedash.shows`).
GROUPS: tuple[str, ...] = ("titles", "shows")
#: The ranks ``group=shows`` serves (a show's engagement ranks are not declared yet).
SHOW_RANKS: tuple[str, ...] = RANKS
#: ``rank=completion`` counts a title with at least this many plays with a percentage (``min_plays``).
MIN_PLAYS_DEFAULT, MIN_PLAYS_MAX = 5, 1_000_000
#: The dimensions an engagement measure is broken down by (``by``).
BREAKDOWN_KEYS: tuple[str, ...] = DIMS
FORMATS: tuple[str, ...] = ("json", "csv")
#: The filter parameters: the declared dimensions (:mod:`moviedash.dimensions`).
FILTER_KEYS: tuple[str, ...] = DIMS
NUM_MIN, NUM_MAX, NUM_DEFAULT = 1, 1000, 10
#: Guards against absurd requests; real filters have a handful of values.
MAX_VALUES, MAX_VALUE_LENGTH = 100, 200
#: The dates a selection may name.  Wider ranges only zero-fill (a daily series from
#: year 1000 to 9998 is 100 MB of JSON), years before 1000 were labelled without
#: their leading zeros and 9999-12-31 overflowed into a 500.
DATE_MIN, DATE_MAX = dt.date(1900, 1, 1), dt.date(2099, 12, 31)
#: The most periods a time series may have (54 years of days; any weekly or monthly
#: series of the dates above fits).  Longer is a 400 naming ``resolution``.
MAX_PERIODS = 20_000

# ASCII digits only: ``\d`` also matches other scripts' digits ("５", "٥"), which
# int() and date parsing accept, so "num=５" would pass as 5.  No sign either.
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_INT_RE = re.compile(r"[0-9]{1,9}")
#: The longest query time limit a setting may name (a day); 0 means no limit.
TIMEOUT_MAX = 86_400.0


def _one(name: str, values: Sequence[str]) -> str:
    if len(values) != 1:
        raise MoviedashError(f"{name} may be given only once", parameter=name)
    return values[0]


def parse_resolution(value: Any, name: str = "resolution") -> str:
    """``daily``, ``weekly`` or ``monthly``."""
    if value not in RESOLUTIONS:
        raise MoviedashError(f"{name} must be one of {', '.join(RESOLUTIONS)}", parameter=name)
    return str(value)


def parse_period(value: Any, name: str = "period") -> str:
    """A cohort period: ``week`` or ``month``."""
    if value not in COHORT_PERIODS:
        raise MoviedashError(f"{name} must be one of {', '.join(COHORT_PERIODS)}", parameter=name)
    return str(value)


def parse_rank(value: Any, name: str = "rank", ranks: tuple[str, ...] = RANKS) -> str:
    """``plays``, ``minutes`` or ``viewers`` (or one of ``ranks``)."""
    if value not in ranks:
        raise MoviedashError(f"{name} must be one of {', '.join(ranks)}", parameter=name)
    return str(value)


def parse_num(value: Any, name: str = "num", maximum: int = NUM_MAX) -> int:
    """An integer from 1 to ``maximum`` (given as int or decimal text)."""
    if isinstance(value, bool):
        value = None  # True is an int in Python, never a valid N
    if isinstance(value, str) and _INT_RE.fullmatch(value.strip()):
        value = int(value.strip())
    if not isinstance(value, int) or not NUM_MIN <= value <= maximum:
        raise MoviedashError(
            f"{name} must be an integer from {NUM_MIN} to {maximum}", parameter=name
        )
    return value


def parse_timeout(value: Any, name: str = "MOVIEDASH_QUERY_TIMEOUT") -> float:
    """A query time limit in seconds: a finite number from 0 (no limit) to :data:`TIMEOUT_MAX`.

    ``nan``, ``inf`` and negative numbers are refused: each compares false
    against the deadline (or lies before it), which silently disabled the limit.
    """
    number: float | None = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value) if value.strip().isascii() else None
        except ValueError:
            number = None
    if number is None or not math.isfinite(number) or not 0 <= number <= TIMEOUT_MAX:
        raise MoviedashError(
            f"{name} must be a number of seconds from 0 (no limit) to {TIMEOUT_MAX:,.0f}, not {value!r}",
            parameter=name,
        )
    return number


#: A real date, shown in messages about dates that are not.
DATE_EXAMPLE = "2024-02-29"


def date_problem(text: str) -> str:
    """Why ``text`` is not a date, with an example: the one wording of the CLI, the API and the loader.

    A value shaped like a date that does not exist (``2024-02-30``) is "not a
    real date", and the example is the last day of that month when the month exists.
    """
    head = text[:10]
    example = DATE_EXAMPLE
    if _DATE_RE.fullmatch(head):
        year, month = int(head[:4]), int(head[5:7])
        if year >= 1 and 1 <= month <= 12:
            example = dt.date(year, month, calendar.monthrange(year, month)[1]).isoformat()
        return f"{text} is not a real date (expected YYYY-MM-DD, e.g. {example})"
    return f"{text!r} is not a date (expected YYYY-MM-DD, e.g. {example})"


def parse_date_text(text: str) -> dt.date:
    """A ``YYYY-MM-DD`` date; ``ValueError`` saying why (:func:`date_problem`) otherwise."""
    if _DATE_RE.fullmatch(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    raise ValueError(date_problem(text))


def parse_date(value: Any, name: str) -> dt.date | None:
    """A ``YYYY-MM-DD`` date from ``DATE_MIN`` to ``DATE_MAX``; ``None`` or an omitted value means unbounded."""
    if value is None:
        return None
    date: dt.date | None = None
    if isinstance(value, dt.datetime):
        date = value.date()
    elif isinstance(value, dt.date):
        date = value
    elif isinstance(value, str):
        try:
            date = parse_date_text(value)
        except ValueError as exc:
            raise MoviedashError(f"{name}: {exc}", parameter=name) from None
    if date is None:
        raise MoviedashError(f"{name} must be a date YYYY-MM-DD (e.g. {DATE_EXAMPLE})", parameter=name)
    if not DATE_MIN <= date <= DATE_MAX:
        raise MoviedashError(
            f"{name} must be a date from {DATE_MIN.isoformat()} to {DATE_MAX.isoformat()}", parameter=name
        )
    return date


def _parse_values(value: Any, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise MoviedashError(f"{name} must be a list of strings", parameter=name)
    if len(value) > MAX_VALUES:
        raise MoviedashError(f"{name} may be given at most {MAX_VALUES} times", parameter=name)
    out: list[str] = []
    for item in value:
        if not isinstance(item, str) or not item or len(item) > MAX_VALUE_LENGTH:
            raise MoviedashError(
                f"{name} values must be non-empty strings of at most {MAX_VALUE_LENGTH} characters",
                parameter=name,
            )
        if "\x00" in item:
            # No stored value can hold NUL (PostgreSQL text cannot): refuse it on every backend alike.
            raise MoviedashError(f"{name} values must not contain NUL characters", parameter=name)
        if item not in out:
            out.append(item)
    return tuple(sorted(out))


@dataclass(frozen=True)
class Filters:
    """The selection shared by every metric: an inclusive date range and value filters.

    Empty tuples mean "no filter".  Values are kept sorted and de-duplicated so
    that equal selections compare (and cache) equal.
    """

    start: dt.date | None = None
    end: dt.date | None = None
    sessiontype: tuple[str, ...] = ()
    device: tuple[str, ...] = ()
    market: tuple[str, ...] = ()

    @classmethod
    def create(
        cls,
        start: Any = None,
        end: Any = None,
        sessiontype: Any = None,
        device: Any = None,
        market: Any = None,
    ) -> Filters:
        """Validate loose values (strings, dates, lists) into a :class:`Filters`."""
        start_d = parse_date(start, "start")
        end_d = parse_date(end, "end")
        if start_d and end_d and end_d < start_d:
            raise MoviedashError("end must not be before start", parameter="end")
        return cls(
            start=start_d,
            end=end_d,
            sessiontype=_parse_values(sessiontype, "sessiontype"),
            device=_parse_values(device, "device"),
            market=_parse_values(market, "market"),
        )

    def with_range(self, start: dt.date | None, end: dt.date | None) -> Filters:
        """The same value filters over another date range."""
        return replace(self, start=start, end=end)

    def is_default(self) -> bool:
        """True when nothing is filtered."""
        return self == Filters()


@dataclass(frozen=True)
class SeriesQuery:
    """A time series: a metric's resolution over a selection."""

    resolution: str = "daily"
    filters: Filters = field(default_factory=Filters)


@dataclass(frozen=True)
class TopQuery:
    """A top list: N titles ranked by plays, minutes or viewers over a selection."""

    num: int = NUM_DEFAULT
    rank: str = "plays"
    filters: Filters = field(default_factory=Filters)
    #: With ``rank="completion"``: the fewest plays with a percentage a listed title has.
    min_plays: int = MIN_PLAYS_DEFAULT
    #: ``titles`` (each title, the course's list) or ``shows`` (a series' episodes summed into their show).
    group: str = "titles"


def _check_known(args: Mapping[str, list[str]], allowed: Iterable[str]) -> None:
    allowed = set(allowed)
    for key in args:
        if key not in allowed:
            raise MoviedashError(
                f"unknown parameter {key!r}; allowed: {', '.join(sorted(allowed))}",
                parameter=key,
            )


def _filters_from_args(args: Mapping[str, list[str]]) -> Filters:
    def single(name: str) -> str | None:
        return _one(name, args[name]) if name in args else None

    return Filters.create(
        start=single("start"),
        end=single("end"),
        **{key: args.get(key) for key in FILTER_KEYS},
    )


def _format_from_args(args: Mapping[str, list[str]]) -> str:
    value = _one("format", args["format"]) if "format" in args else "json"
    if value not in FORMATS:
        raise MoviedashError(f"format must be one of {', '.join(FORMATS)}", parameter="format")
    return value


SERIES_PARAMS = ("resolution", "start", "end", *FILTER_KEYS, "format")
TOP_PARAMS = ("num", "rank", "min_plays", "group", "start", "end", *FILTER_KEYS, "format")
#: The shared selection's parameters, and those plus ``format`` (the engagement routes').
SELECTION_PARAMS = ("start", "end", *FILTER_KEYS)
FILTER_PARAMS = (*SELECTION_PARAMS, "format")
BREAKDOWN_PARAMS = ("by", *FILTER_PARAMS)
STOPS_PARAMS = ("title", *FILTER_PARAMS)
SHOW_PARAMS = ("name", "table", *FILTER_PARAMS)
#: The tables of the show route (``table``, with ``format=csv``; the JSON holds them all).
SHOW_TABLES: tuple[str, ...] = ("episodes", "seasons", "grid")


def parse_show_table(args: Mapping[str, list[str]]) -> str:
    """The show route's ``table`` (default ``episodes``)."""
    value = _one("table", args["table"]) if "table" in args else "episodes"
    if value not in SHOW_TABLES:
        raise MoviedashError(f"table must be one of {', '.join(SHOW_TABLES)}", parameter="table")
    return value


#: The top binged shows' parameters (``/data/binge/shows/``); the per-period binge route takes
#: :data:`SERIES_PARAMS`, its overall sibling :data:`FILTER_PARAMS`.
BINGE_SHOWS_PARAMS = ("num", *FILTER_PARAMS)


#: ``/data/cohorts/``'s parameters (``/data/audience/`` takes :data:`SERIES_PARAMS`).
COHORT_PARAMS = ("period", *FILTER_PARAMS)


#: The heavy-viewers route's parameters (``measure``: plays or minutes per viewer).
VIEWER_PARAMS = ("measure", *FILTER_PARAMS)


def series_query_from_args(args: Mapping[str, list[str]]) -> tuple[SeriesQuery, str]:
    """Parse a time-series route's query string (``{key: [values]}``) and output format."""
    _check_known(args, SERIES_PARAMS)
    resolution = parse_resolution(_one("resolution", args["resolution"])) if "resolution" in args else "daily"
    return SeriesQuery(resolution, _filters_from_args(args)), _format_from_args(args)


def top_query_from_args(args: Mapping[str, list[str]]) -> tuple[TopQuery, str]:
    """Parse the top-list route's query string (``{key: [values]}``) and output format."""
    _check_known(args, TOP_PARAMS)
    num = parse_num(_one("num", args["num"])) if "num" in args else NUM_DEFAULT
    rank = parse_rank(_one("rank", args["rank"]), ranks=TOP_RANKS) if "rank" in args else "plays"
    min_plays = MIN_PLAYS_DEFAULT
    if "min_plays" in args:
        min_plays = parse_num(_one("min_plays", args["min_plays"]), "min_plays", MIN_PLAYS_MAX)
    group = parse_group(_one("group", args["group"]), rank) if "group" in args else "titles"
    return TopQuery(num, rank, _filters_from_args(args), min_plays, group), _format_from_args(args)


def parse_group(value: Any, rank: str = "plays", name: str = "group") -> str:
    """``titles`` or ``shows``; ``shows`` only with a rank of :data:`SHOW_RANKS`."""
    if value not in GROUPS:
        raise MoviedashError(f"{name} must be one of {', '.join(GROUPS)}", parameter=name)
    if value == "shows" and rank not in SHOW_RANKS:
        raise MoviedashError(f"{name}=shows ranks by {', '.join(SHOW_RANKS)} only, not {rank}", parameter=name)
    return str(value)


def filters_from_args(args: Mapping[str, list[str]], allowed: Iterable[str] = FILTER_PARAMS) -> tuple[Filters, str]:
    """Parse a route's shared filters and output format; any parameter outside ``allowed`` is a 400."""
    _check_known(args, allowed)
    return _filters_from_args(args), _format_from_args(args)


def parse_by(args: Mapping[str, list[str]]) -> str:
    """The required ``by`` of a breakdown: one of :data:`BREAKDOWN_KEYS`."""
    if "by" not in args:
        raise MoviedashError(f"by is required: one of {', '.join(BREAKDOWN_KEYS)}", parameter="by")
    value = _one("by", args["by"])
    if value not in BREAKDOWN_KEYS:
        raise MoviedashError(f"by must be one of {', '.join(BREAKDOWN_KEYS)}", parameter="by")
    return value


def parse_title(args: Mapping[str, list[str]], name: str = "title") -> str:
    """The required ``title`` (or ``name``) of a per-title route: a non-empty text of at most
    MAX_VALUE_LENGTH characters."""
    if name not in args:
        raise MoviedashError(f"{name} is required", parameter=name)
    value = _one(name, args[name])
    if not value or len(value) > MAX_VALUE_LENGTH or "\x00" in value:
        raise MoviedashError(
            f"{name} must be a non-empty text of at most {MAX_VALUE_LENGTH} characters without NUL", parameter=name
        )
    return value


def binge_shows_from_args(args: Mapping[str, list[str]]) -> tuple[int, Filters, str]:
    """Parse ``/data/binge/shows/``: ``num`` (1..:data:`NUM_MAX`, default :data:`NUM_DEFAULT`), filters, format."""
    _check_known(args, BINGE_SHOWS_PARAMS)
    num = parse_num(_one("num", args["num"])) if "num" in args else NUM_DEFAULT
    return num, _filters_from_args(args), _format_from_args(args)


def cohort_query_from_args(args: Mapping[str, list[str]]) -> tuple[str, Filters, str]:
    """Parse ``/data/cohorts/``'s query string: the cohort ``period`` (default ``week``), filters and format."""
    _check_known(args, COHORT_PARAMS)
    period = parse_period(_one("period", args["period"])) if "period" in args else "week"
    return period, _filters_from_args(args), _format_from_args(args)


def parse_viewer_measure(args: Mapping[str, list[str]]) -> str:
    """The heavy-viewers route's ``measure``: ``plays`` (the default) or ``minutes`` per viewer."""
    if "measure" not in args:
        return VIEWER_MEASURES[0]
    value = _one("measure", args["measure"])
    if value not in VIEWER_MEASURES:
        raise MoviedashError(f"measure must be one of {', '.join(VIEWER_MEASURES)}", parameter="measure")
    return value
