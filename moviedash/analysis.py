"""The analysis: pure functions over a database connection.

Aggregation runs in SQL (GROUP BY in the database); pandas only receives the
grouped rows and shapes them (zero-fill, pivots).  Every function takes the
validated value objects from :mod:`moviedash.params`, so the JSON routes, the
dashboard callbacks and the reports compute their numbers the same way.

Two sources answer, with identical results:

- the derived tables of :mod:`moviedash.derived` when they are present and
  current (every load keeps them so) -- small, so fast at millions of events;
- the raw ``movies`` table otherwise (a database made the course's way, or rows
  added behind moviedash's back).

Answers from derived data are kept in :data:`CACHE`, keyed by the database
(file and instance), its data version and the query, so a repeated selection
costs one query.
"""
from __future__ import annotations

import copy
import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

import pandas as pd

from . import dimensions, metrics, rollups, shows
from . import settings as data_settings
from .errors import MoviedashError
from .escapes import decode_escapes
from .params import DATE_MAX, DATE_MIN, Filters, SeriesQuery, TopQuery
from .periods import check_periods, period_labels, period_start
from .rollups.showmap import named_shows
from .store import Connection, Dialect, check_deadline, dialect_of

#: Minutes as an integer, also in databases made with sqlite's ``.import``
#: (where an empty field is the string '' rather than NULL).
MINUTES = metrics.MINUTES
#: A title that counts in the top list: not NULL and not empty.
HAS_TITLE = "title IS NOT NULL AND title <> ''"

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


T = TypeVar("T")


class ResultCache:
    """A thread-safe LRU of analysis results keyed by ``(database, version, function, query)``.

    Entries of an older data version are never asked for again (the key holds
    the version) and age out.  Callers get copies, so nothing they do can
    change a cached result.
    """

    def __init__(self, maxsize: int = 512) -> None:
        self.maxsize = maxsize
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable) -> tuple[bool, Any]:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                self.hits += 1
                return True, self._data[key]
            self.misses += 1
            return False, None

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._data)


#: The process's result cache (explicit keys; see :class:`ResultCache`).
CACHE = ResultCache()


def _copy(value: T) -> T:
    if isinstance(value, pd.DataFrame):
        return value.copy()
    if isinstance(value, dict):
        return copy.deepcopy(value)
    return value


def _answer(
    conn: Connection, key: tuple, from_derived: Callable[[], T], from_movies: Callable[[], T],
    cache: ResultCache = CACHE,
) -> T:
    """``from_derived()`` (cached in ``cache``) when the derived data are current, else ``from_movies()``."""
    status = rollups.status(conn)
    if status is None or not status.usable:
        return from_movies()
    if not status.database:  # an in-memory database has no name to key a cache on
        return from_derived()
    full_key = (status.database, status.instance, status.version, *key)
    found, value = cache.get(full_key)
    if not found:
        value = from_derived()
        cache.put(full_key, value)
    return _copy(value)


def cached(conn: Connection, key: tuple, compute: Callable[[], T], cache: ResultCache = CACHE) -> T:
    """``compute()``, kept in :data:`CACHE` while the database's data version holds.

    For answers computed from the raw table that do not change until the data does:
    cached only when the rollups are current (a load moved the version), never
    for a database changed behind moviedash's back.  ``cache``: another
    :class:`ResultCache` for values of another size (e.g. a page's figures).
    """
    return _answer(conn, key, compute, compute, cache)


def read_frame(conn: Connection, sql: str, params: list[Any]) -> pd.DataFrame:
    """The rows of ``sql`` as a frame, columns named as selected.

    Through the connection's own ``execute`` (not ``pd.read_sql_query``, which
    only knows sqlite3 and SQLAlchemy), so SQLite and PostgreSQL connections
    give the same Python values and so the same frames.
    """
    cursor = conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return pd.DataFrame.from_records(cursor.fetchall(), columns=names, coerce_float=True)


def where(filters: Filters, dated: bool = False) -> tuple[str, list[Any]]:
    """The WHERE clause (always valid SQL) and its bound parameters for ``filters``.

    Only placeholders are formatted into the SQL; every value is a parameter.
    With ``dated`` (queries that place events in time: series, heatmap, span)
    an open range is the served one (:data:`~moviedash.params.DATE_MIN` ..
    ``DATE_MAX``): events of a database made elsewhere dated outside it (year
    0, 9999-12-31) or not stored as ISO text (``12/31/2013``, epoch numbers,
    which SQLite sorts before any text) are never placed on a chart.
    """
    clauses: list[str] = ["event_date IS NOT NULL"]
    params: list[Any] = []
    start = filters.start or (DATE_MIN if dated else None)
    end = filters.end or (DATE_MAX if dated else None)
    if start is not None:
        clauses.append("event_date >= ?")
        params.append(start.isoformat())
    if end is not None:
        # Dates are stored as 'YYYY-MM-DD HH:MM:SS' text (a timestamp on
        # PostgreSQL), so "before the next day" includes the whole of the end day.
        clauses.append("event_date < ?")
        params.append((end + dt.timedelta(days=1)).isoformat())
    for column in dimensions.DIMS:
        values = getattr(filters, column)
        if values:
            clause, values_params = dimensions.condition(column, values)
            clauses.append(clause)
            params.extend(values_params)
    return " AND ".join(clauses), params


# --------------------------------------------------------------------------- #
# The data-quality settings in the raw SQL (the rollups embody them when built).
# --------------------------------------------------------------------------- #


def play_condition(current: data_settings.Settings) -> tuple[str, list[Any]]:
    """A condition true for the events that are plays (``min_minutes``; NULL minutes are 0), and its parameters."""
    if not current.min_minutes:
        return "1 = 1", []
    return f"COALESCE({MINUTES}, 0) >= ?", [current.min_minutes]


def plays_aggregate(current: data_settings.Settings) -> tuple[str, list[Any]]:
    """The SQL aggregate counting plays, and its parameters (``COUNT(*)`` under the defaults)."""
    if not current.min_minutes:
        return "COUNT(*)", []
    condition, params = play_condition(current)
    return f"COUNT(CASE WHEN {condition} THEN 1 END)", params


def viewer_condition(current: data_settings.Settings) -> tuple[str, list[Any]]:
    """A condition true for the events that make their user a viewer (plays, ``exclude_users`` left
    out; ``1 = 1`` under the defaults), and its parameters: one rule for every viewer count."""
    conditions: list[str] = []
    params: list[Any] = []
    if current.min_minutes:
        condition, params = play_condition(current)
        conditions.append(condition)
    if current.exclude_users:
        excluded = sorted(current.exclude_users)
        conditions.append(f"userid NOT IN ({', '.join('?' * len(excluded))})")
        params = [*params, *excluded]
    return (" AND ".join(conditions) or "1 = 1"), params


def viewers_aggregate(current: data_settings.Settings) -> tuple[str, list[Any]]:
    """The SQL aggregate counting viewers: distinct users of plays, ``exclude_users`` left out."""
    if current.is_play_default():
        return "COUNT(DISTINCT userid)", []
    condition, params = viewer_condition(current)
    return f"COUNT(DISTINCT CASE WHEN {condition} THEN userid END)", params


def _rank_aggregate(conn: Connection, rank: str) -> tuple[str, list[Any]]:
    current = data_settings.load(conn)
    if rank == "plays":
        return plays_aggregate(current)
    if rank == "viewers":
        return viewers_aggregate(current)
    if rank == "minutes":
        return f"COALESCE(SUM({MINUTES}), 0)", []
    raise ValueError(rank)


def _raw_aggregate(
    conn: Connection, aggregation: metrics.Additive | metrics.DistinctUsers
) -> tuple[str, list[Any]]:
    """The measure's raw-table aggregate under the database's settings (plays and viewers follow them)."""
    if isinstance(aggregation, metrics.Count):
        return plays_aggregate(data_settings.load(conn))
    if isinstance(aggregation, metrics.DistinctUsers):
        return viewers_aggregate(data_settings.load(conn))
    return metrics.raw_aggregate(aggregation), []


def _label_date(text: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(text)[:10])
    except ValueError:
        return None


def zero_fill(
    df: pd.DataFrame,
    resolution: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> pd.DataFrame:
    """Give every period between the first and last (or of ``start``..``end``) a row, 0 if absent.

    ``df`` has columns ``date`` (``YYYY-MM-DD`` labels) and ``values``.  An empty
    frame stays empty: there is nothing to show for an empty selection.  More
    than :data:`MAX_PERIODS` periods is a 400 (:func:`check_periods`).
    """
    df = df.dropna(subset=["date"])
    if df.empty:
        return pd.DataFrame({"date": pd.Series([], dtype=object), "values": pd.Series([], dtype="int64")})
    first = period_start(start, resolution) if start else _label_date(df["date"].min())
    last = period_start(end, resolution) if end else _label_date(df["date"].max())
    if first is None or last is None:
        raise MoviedashError("the database holds event dates that are not YYYY-MM-DD", status=503)
    check_periods(first, last, resolution)
    labels = period_labels(first, last, resolution)
    values = df.set_index("date")["values"].reindex(labels, fill_value=0).astype("int64")
    return pd.DataFrame({"date": pd.Series(labels, dtype=object), "values": values.to_numpy()})


def series(conn: Connection, name: str, query: SeriesQuery, dialect: Dialect | None = None) -> pd.DataFrame:
    """The declared measure ``name`` (:mod:`moviedash.metrics`) per period, zero-filled: columns ``date``, ``values``.

    From the rollups when the measure has a rollup column and they are current,
    else from the raw table with the measure's SQL aggregate.
    """
    measure = metrics.measure(name)
    aggregation = measure.aggregation
    if not isinstance(aggregation, (metrics.Count, metrics.Sum, metrics.DistinctUsers)):
        raise NotImplementedError(f"{name}: {type(aggregation).__name__} series are not served yet")
    dialect = dialect or dialect_of(conn)

    def from_rollups() -> pd.DataFrame:
        rows = rollups.series_rows(conn, name, query, dialect)
        check_deadline(conn)
        df = pd.DataFrame(
            {"date": pd.Series([r[0] for r in rows], dtype=object),
             "values": pd.Series([r[1] for r in rows], dtype="int64")}
        )
        return zero_fill(df, query.resolution, query.filters.start, query.filters.end)

    def from_movies() -> pd.DataFrame:
        aggregate, aggregate_params = _raw_aggregate(conn, aggregation)
        return _raw_series(conn, query, aggregate, dialect, aggregate_params)

    if metrics.rollup_column(aggregation) is None:
        return from_movies()
    return _answer(conn, (name, query, dialect), from_rollups, from_movies)


def _raw_series(
    conn: Connection, query: SeriesQuery, aggregate: str, dialect: Dialect,
    aggregate_params: list[Any] | None = None,
) -> pd.DataFrame:
    clause, params = where(query.filters, dated=True)
    params = [*(aggregate_params or []), *params]
    key = dialect.bucket_key(query.resolution)
    sql = (
        f"SELECT {dialect.bucket(query.resolution)} AS date, {aggregate} AS n "
        f"FROM movies WHERE {clause} GROUP BY {key} ORDER BY {key}"
    )
    df = read_frame(conn, sql, params).rename(columns={"n": "values"})
    check_deadline(conn)
    return zero_fill(df, query.resolution, query.filters.start, query.filters.end)


def unique_users(conn: Connection, query: SeriesQuery, dialect: Dialect | None = None) -> pd.DataFrame:
    """Distinct ``userid`` per period, zero-filled: columns ``date``, ``values``."""
    return series(conn, "unique_users", query, dialect)


def minutes_watched(conn: Connection, query: SeriesQuery, dialect: Dialect | None = None) -> pd.DataFrame:
    """Sum of ``totalminuteswatched`` per period, zero-filled: columns ``date``, ``values``."""
    return series(conn, "minutes_watched", query, dialect)


def toplist(conn: Connection, query: TopQuery) -> pd.DataFrame:
    """The top N titles, most first, ties by the title as shown: columns ``title``, ``values``.

    "As shown" is the title with the course file's ``<e5>`` escapes decoded
    (a database made the course's way still holds them), in code point order:
    ``<d8>isteins Blyant`` ranks as ``Øisteins Blyant``, after ``Abraham Lincoln``,
    on every path (raw SQL on SQLite and PostgreSQL, derived data).

    ``values`` is the number of events (``rank="plays"``, the course's
    definition), minutes watched, or distinct viewers.
    """

    def from_derived() -> pd.DataFrame:
        rows = rollups.top_rows(conn, query)
        return _top_frame([r[0] for r in rows], [r[1] for r in rows])

    return _answer(conn, ("toplist", query), from_derived, lambda: _raw_toplist(conn, query))


def _top_frame(titles: list[Any], values: Any) -> pd.DataFrame:
    # A database imported the course's way still holds the file's '<e5>' escapes.
    decoded = [decode_escapes(str(t)) for t in titles]
    return pd.DataFrame({"title": pd.Series(decoded, dtype=object), "values": pd.Series(values, dtype="int64")})


def _raw_toplist(conn: Connection, query: TopQuery) -> pd.DataFrame:
    if query.group == "shows":
        top = _raw_top_shows(conn, query)
        return _top_frame([t for t, _ in top], [n for _, n in top])
    # RANK() keeps every title tied with the N-th: which of them make the list
    # is decided by the shown (decoded) title, which SQL cannot order by.
    clause, params = where(query.filters)
    aggregate, aggregate_params = _rank_aggregate(conn, query.rank)
    # Under the settings a title may have events but no plays or viewers: it is not listed (as from the rollups).
    having, having_params = (f" HAVING {aggregate} > 0", aggregate_params) if aggregate_params else ("", [])
    sql = (
        f"SELECT title, n FROM (SELECT title, {aggregate} AS n, "
        f"RANK() OVER (ORDER BY {aggregate} DESC) AS place FROM movies "
        f"WHERE {clause} AND {HAS_TITLE} GROUP BY title{having}) AS ranked WHERE place <= ?"
    )
    rows = conn.execute(sql, [*aggregate_params, *aggregate_params, *params, *having_params, query.num]).fetchall()
    top = rollups.rank_by_shown_title([(str(title), int(n)) for title, n in rows], query.num)
    return _top_frame([t for t, _ in top], [n for _, n in top])


def _raw_top_shows(conn: Connection, query: TopQuery) -> list[list[Any]]:
    """The top list by show from the raw table: SQL groups by (title, session type), the rule of
    :mod:`moviedash.shows` (in Python, its one place) maps each group to its show.

    Viewers: the distinct (title, session type, user) of the plays of counted users, mapped to
    (show, user) and counted once per show (a user of several episodes is one viewer of the show).
    """
    clause, params = where(query.filters)
    current = data_settings.load(conn)
    named = named_shows(conn)
    totals: dict[str, int] = {}
    if query.rank == "viewers":
        conditions: list[str] = ["userid IS NOT NULL"]
        condition_params: list[Any] = []
        if current.min_minutes:
            condition, condition_params = play_condition(current)
            conditions.append(condition)
        if current.exclude_users:
            excluded = sorted(current.exclude_users)
            conditions.append(f"userid NOT IN ({', '.join('?' * len(excluded))})")
            condition_params = [*condition_params, *excluded]
        rows = conn.execute(
            f"SELECT title, sessiontype, userid FROM movies WHERE {clause} AND {HAS_TITLE} "
            f"AND {' AND '.join(conditions)} GROUP BY title, sessiontype, userid",
            [*params, *condition_params],
        ).fetchall()
        viewers: dict[str, set[str]] = {}
        for title, sessiontype, user in rows:
            show = shows.show_of(str(title), sessiontype, named=named) or str(title)
            viewers.setdefault(show, set()).add(str(user))
        totals = {show: len(users) for show, users in viewers.items()}
    else:
        aggregate, aggregate_params = _rank_aggregate(conn, query.rank)
        rows = conn.execute(
            f"SELECT title, sessiontype, {aggregate} FROM movies WHERE {clause} AND {HAS_TITLE} "
            "GROUP BY title, sessiontype",
            [*aggregate_params, *params],
        ).fetchall()
        for title, sessiontype, n in rows:
            show = shows.show_of(str(title), sessiontype, named=named) or str(title)
            totals[show] = totals.get(show, 0) + int(n)
        if query.rank == "plays":  # a show without plays under the settings is not listed (as a title is not)
            totals = {show: n for show, n in totals.items() if n > 0}
    return rollups.rank_by_shown_title(totals.items(), query.num)


@dataclass(frozen=True)
class Totals:
    """Headline numbers of a selection."""

    viewers: int
    plays: int
    minutes: int

    @property
    def hours(self) -> float:
        return self.minutes / 60

    @property
    def minutes_per_viewer(self) -> float | None:
        return self.minutes / self.viewers if self.viewers else None


def totals(conn: Connection, filters: Filters) -> Totals:
    """Unique viewers, plays (events) and minutes watched of a selection."""

    def from_derived() -> Totals:
        viewers, plays, minutes = rollups.totals_row(conn, filters)
        return Totals(viewers=int(viewers), plays=int(plays), minutes=int(minutes))

    return _answer(conn, ("totals", filters), from_derived, lambda: _raw_totals(conn, filters))


def _raw_totals(conn: Connection, filters: Filters) -> Totals:
    clause, params = where(filters)
    current = data_settings.load(conn)
    viewers, viewers_params = viewers_aggregate(current)
    plays, plays_params = plays_aggregate(current)
    row = conn.execute(
        f"SELECT {viewers}, {plays}, COALESCE(SUM({MINUTES}), 0) FROM movies WHERE {clause}",
        [*viewers_params, *plays_params, *params],
    ).fetchone()
    return Totals(viewers=int(row[0]), plays=int(row[1]), minutes=int(row[2]))


def heatmap(conn: Connection, filters: Filters, dialect: Dialect | None = None) -> pd.DataFrame:
    """Plays by weekday (rows ``Mon``..``Sun``) and hour started (columns 0..23), zero-filled."""
    dialect = dialect or dialect_of(conn)

    def from_derived() -> pd.DataFrame:
        rows = rollups.heatmap_rows(conn, filters)
        return _grid(pd.DataFrame(rows, columns=["weekday", "hour", "n"], dtype="int64"))

    return _answer(conn, ("heatmap", filters, dialect), from_derived, lambda: _raw_heatmap(conn, filters, dialect))


def _raw_heatmap(conn: Connection, filters: Filters, dialect: Dialect) -> pd.DataFrame:
    clause, params = where(filters, dated=True)
    plays, plays_params = plays_aggregate(data_settings.load(conn))
    sql = (
        f"SELECT {dialect.weekday()} AS weekday, {dialect.hour()} AS hour, {plays} AS n "
        f"FROM movies WHERE {clause} GROUP BY 1, 2"
    )
    return _grid(read_frame(conn, sql, [*plays_params, *params]).dropna())


def _grid(df: pd.DataFrame) -> pd.DataFrame:
    grid = (
        df.pivot_table(index="weekday", columns="hour", values="n", aggfunc="sum", fill_value=0)
        .reindex(index=range(7), columns=range(24), fill_value=0)
        .astype("int64")
    )
    grid.index = pd.Index(WEEKDAYS, name="weekday")
    grid.columns = pd.Index(range(24), name="hour")
    return grid


@dataclass(frozen=True)
class Span:
    """What the database holds: first and last event day and the number of plays.

    Plays are the events under the default settings.
    """

    first: dt.date | None
    last: dt.date | None
    events: int


def span(conn: Connection) -> Span:
    """First and last event day and the event count (``None`` dates when empty).

    Memoized on a serving connection (:class:`moviedash.db.ServingConnection`):
    one request's callback asks for it several times, and without derived data
    it costs a table scan.
    """
    memo = getattr(conn, "memo", None)
    if memo is not None and "span" in memo:
        return memo["span"]
    result = _answer(conn, ("span",), lambda: _span(*rollups.span_row(conn)), lambda: _raw_span(conn))
    if memo is not None:
        memo["span"] = result
    return result


def _span(first: Any, last: Any, events: Any) -> Span:
    as_date = lambda v: _label_date(v) if v else None  # noqa: E731
    return Span(as_date(first), as_date(last), int(events))


def _raw_span(conn: Connection) -> Span:
    clause, params = where(Filters(), dated=True)  # events a chart can place
    plays, plays_params = plays_aggregate(data_settings.load(conn))
    first, last, events = conn.execute(
        f"SELECT MIN(event_date), MAX(event_date), {plays} FROM movies WHERE {clause}", [*plays_params, *params]
    ).fetchone()
    return _span(first, last, events)


def options(conn: Connection) -> dict[str, list[str]]:
    """The filter values of each dimension: its distinct values, sorted, then ``unknown`` if any are missing.

    See :mod:`moviedash.dimensions` for what falls in the Unknown bucket.
    """
    return _answer(conn, ("options",), lambda: rollups.options(conn), lambda: _raw_options(conn))


def _raw_options(conn: Connection) -> dict[str, list[str]]:
    return {
        column: dimensions.known_values(r[0] for r in conn.execute(f"SELECT DISTINCT {column} FROM movies"))
        for column in dimensions.DIMS
    }


# --------------------------------------------------------------------------- #
# Dashboard additions: the KPI comparison and membership checks.
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class PeriodComparison:
    """A selection's totals next to those of the previous period of equal length.

    ``start``..``end`` is the concrete current range (an open bound of the
    selection is the data's first or last day); ``previous`` is ``None`` when
    the previous period holds no events (nothing to compare with).
    """

    current: Totals
    previous: Totals | None
    start: dt.date | None
    end: dt.date | None

    @property
    def days(self) -> int:
        """Length of the compared periods in days (0 for an empty database)."""
        if self.start is None or self.end is None:
            return 0
        return (self.end - self.start).days + 1


def compare_previous(conn: Connection, filters: Filters) -> PeriodComparison:
    """Totals of ``filters`` and of the same value filters over the preceding equal-length period.

    For ``2013-03-01..2013-03-30`` (30 days) the previous period is
    ``2013-01-30..2013-02-28``.
    """
    current = totals(conn, filters)
    whole = span(conn)
    start = filters.start or whole.first
    end = filters.end or whole.last
    if start is None or end is None or end < start:
        return PeriodComparison(current, None, start, end)
    length = dt.timedelta(days=(end - start).days + 1)
    previous = totals(conn, filters.with_range(start - length, start - dt.timedelta(days=1)))
    return PeriodComparison(current, previous if previous.plays else None, start, end)


def unknown_values(conn: Connection, filters: Filters) -> dict[str, tuple[str, ...]]:
    """The filter values of ``filters`` that match nothing in their column, by column.

    Equivalent to checking membership in :func:`options`, but each check stops
    at the first matching row, so real values cost next to nothing (and on
    derived data it looks in the small per-day table).  ``unknown`` is a member
    when any event lacks the value; a placeholder such as ``0`` never is (it
    belongs to ``unknown``).
    """
    if not (filters.sessiontype or filters.device or filters.market):
        return {}  # nothing to look up (the default view)
    status = rollups.status(conn)
    usable = status is not None and status.usable

    def exists(column: str, value: str) -> bool:
        if value != dimensions.UNKNOWN and dimensions.is_unknown(value):
            return False
        if usable:
            return rollups.has_value(conn, column, value)
        clause, params = dimensions.condition(column, [value])
        return bool(conn.execute(f"SELECT EXISTS (SELECT 1 FROM movies WHERE {clause})", params).fetchone()[0])

    out: dict[str, tuple[str, ...]] = {}
    for column in dimensions.DIMS:
        missing = tuple(value for value in getattr(filters, column) if not exists(column, value))
        if missing:
            out[column] = missing
    return out


def check_known(conn: Connection, filters: Filters) -> None:
    """Raise :class:`MoviedashError` (400) naming the first filter value that matches nothing, and the known values.

    An unknown value would otherwise select nothing and look like real zeros.
    The known values are listed only on that error path (cheap on derived data).
    """
    unknown = unknown_values(conn, filters)
    if not unknown:
        return
    column, values = next(iter(unknown.items()))
    known = options(conn)[column]
    listed = ", ".join(known) if known else "none (the database holds no events)"
    raise MoviedashError(f"{column} {values[0]!r} is not in the data; known values: {listed}", parameter=column)
