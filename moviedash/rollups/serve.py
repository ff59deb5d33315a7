"""Serving: the same answers as the raw-table SQL, from the rollup tables."""
from __future__ import annotations

import bisect
import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from pyroaring import BitMap

from .. import dimensions, metrics
from ..concentration import concentration_of, distribution_of
from ..escapes import decode_escapes
from ..params import RESOLUTIONS, Filters, SeriesQuery, TopQuery
from ..periods import period_start
from ..shows import is_series
from ..store import DIALECT, Dialect, Queryable, dialect_of
from .aggregator import distinct, group_sum, pair_sum
from .packing import unpack_codes, unpack_columns, unpack_pairs
from .showmap import ShowMap
from .tables import (
    BIN_ARRAYS,
    DECILES,
    DIMS,
    DIMS_PK,
    ENGAGEMENT_COLUMNS,
    TITLE_ENGAGEMENT_COLUMNS,
    unpack_rows,
)
from .viewer_sums import unpack_viewers

#: The additive columns of ``md_day`` a measure may sum.
_ADDITIVE_COLUMNS = ("plays", "minutes")

# --------------------------------------------------------------------------- #
# Serving: the same answers as the raw-table SQL, from the derived tables.
# --------------------------------------------------------------------------- #


def _stored(conn: Queryable, name: str) -> Any:
    row = conn.execute("SELECT value FROM md_results WHERE name = ?", (name,)).fetchone()
    return None if row is None else json.loads(row[0])




def where(filters: Filters, day_column: str = "day") -> tuple[str, list[Any]]:
    """WHERE clause over a derived table (day-level range, dims exactly as in ``analysis.where``)."""
    clauses: list[str] = ["1 = 1"]
    params: list[Any] = []
    if filters.start is not None:
        clauses.append(f"{day_column} >= ?")
        params.append(filters.start.isoformat())
    if filters.end is not None:
        clauses.append(f"{day_column} <= ?")
        params.append(filters.end.isoformat())
    for column in DIMS:
        values = getattr(filters, column)
        if values:
            clause, values_params = dimensions.condition(column, values, nullable=False)
            clauses.append(clause)
            params.extend(values_params)
    return " AND ".join(clauses), params


def users_by_bucket(rows: Iterable[Sequence[Any]], resolution: str) -> list[list[Any]]:
    """``(day, bitmap or its serialization)`` rows, ordered by day, into ``[label, distinct users]`` per period."""

    out: list[list[Any]] = []
    label: str | None = None
    maps: list[BitMap] = []
    cache: dict[str, str] = {}
    for day, blob in rows:
        bucket = cache.get(day)
        if bucket is None:
            bucket = cache[day] = period_start(dt.date.fromisoformat(day), resolution).isoformat()
        if bucket != label:
            if maps:
                out.append([label, len(BitMap.union(*maps))])
            label, maps = bucket, []
        maps.append(blob if isinstance(blob, BitMap) else BitMap.deserialize(blob))
    if maps:
        out.append([label, len(BitMap.union(*maps))])
    return out


def sum_rows(
    conn: Queryable, column: str, query: SeriesQuery, dialect: Dialect = DIALECT
) -> list[list[Any]]:
    """``[period label, total]`` rows of an additive ``md_day`` column (``plays``, ``minutes``)."""
    if column not in _ADDITIVE_COLUMNS:
        raise ValueError(column)
    clause, params = where(query.filters)
    return [
        list(r)
        for r in conn.execute(
            f"SELECT {dialect.bucket(query.resolution, dialect.day_as_date.format(column='day'))} AS date, "
            f"CAST(SUM({column}) AS bigint) FROM md_day "
            f"WHERE {clause} GROUP BY 1 ORDER BY 1",
            params,
        )
    ]


def minutes_rows(conn: Queryable, query: SeriesQuery, dialect: Dialect = DIALECT) -> list[list[Any]]:
    """``[period label, minutes]`` rows."""
    return sum_rows(conn, "minutes", query, dialect)


def series_rows(
    conn: Queryable, name: str, query: SeriesQuery, dialect: Dialect = DIALECT
) -> list[list[Any]]:
    """``[period label, value]`` rows of the declared measure ``name`` (not zero-filled).

    By its aggregation kind (:mod:`moviedash.metrics`): additive kinds sum their
    ``md_day`` column per period, distinct users take the size of the union of
    the period's user bitmaps.  The default view's rows are stored at load.
    """
    if query.filters.is_default():
        stored = _stored(conn, f"{name}:{query.resolution}")
        if stored is not None:
            return stored
    aggregation = metrics.measure(name).aggregation
    column = metrics.rollup_column(aggregation)
    if column is None:
        raise ValueError(f"no rollup answers {name}")
    if isinstance(aggregation, metrics.DistinctUsers):
        clause, params = where(query.filters)
        rows = conn.execute(f"SELECT day, {column} FROM md_day WHERE {clause} ORDER BY day", params)
        return users_by_bucket(rows, query.resolution)
    return sum_rows(conn, column, query, dialect)


def default_series(
    conn: Queryable, day_rows: Sequence[tuple[str, BitMap]], dialect: Dialect = DIALECT
) -> dict[str, list[list[Any]]]:
    """The unfiltered rows of every declared measure with a rollup, by ``name:resolution`` (stored at load).

    ``day_rows``: every ``(day, users bitmap)`` of ``md_day``, ordered by day (read once by the caller).
    """
    out: dict[str, list[list[Any]]] = {}
    for measure in metrics.MEASURES:
        column = metrics.rollup_column(measure.aggregation)
        if column is None:
            continue
        for resolution in RESOLUTIONS:
            if isinstance(measure.aggregation, metrics.DistinctUsers):
                rows = users_by_bucket(day_rows, resolution)
            else:
                rows = sum_rows(conn, column, SeriesQuery(resolution, Filters()), dialect)
            out[f"{measure.name}:{resolution}"] = rows
    return out


def month_bounds(filters: Filters) -> tuple[str | None, str | None, str | None, str | None, bool]:
    """Split a date range into whole months (monthly table) and edge days (daily table).

    Returns ``(first_month, last_month, start_day, end_day, whole_months)``: the
    monthly table answers months ``first_month..last_month`` (either may be
    open: ``None``) and the daily table the days of ``start_day..end_day``
    outside them.  ``whole_months`` is False when the range holds no whole month.
    """
    start, end = filters.start, filters.end
    first = None
    if start is not None:
        first = start if start.day == 1 else (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    last = None
    if end is not None:
        next_day = end + dt.timedelta(days=1)
        last = end.replace(day=1) if next_day.day == 1 else (end.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    whole = first is None or last is None or first <= last
    iso = lambda d: d.isoformat() if d else None  # noqa: E731
    return iso(first), iso(last), iso(start), iso(end), whole


def month_split(filters: Filters, month_column: str = "month") -> list[tuple[bool, str, list[Any]]]:
    """The parts covering a selection, each ``(monthly, condition, params)`` with its dimensions: its whole
    months from a monthly table (``condition`` over ``month_column``, a month's first day), then the days
    before and after them, or all its days without a whole month, from the daily one (over ``day``)."""
    dims_clause, dims_params = where(Filters(**{d: getattr(filters, d) for d in DIMS}))
    first, last, start, end, whole = month_bounds(filters)
    if not whole:
        clause, params = where(filters)
        return [(False, clause, params)]
    month_clause = [dims_clause]
    month_params = list(dims_params)
    if first is not None:
        month_clause.append(f"{month_column} >= ?")
        month_params.append(first)
    if last is not None:
        month_clause.append(f"{month_column} <= ?")
        month_params.append(last)
    parts: list[tuple[bool, str, list[Any]]] = [(True, " AND ".join(month_clause), month_params)]
    if start is not None and first is not None and start < first:  # days before the first whole month
        parts.append((False, f"{dims_clause} AND day >= ? AND day < ?", [*dims_params, start, first]))
    if end is not None and last is not None:
        after = (dt.date.fromisoformat(last).replace(day=28) + dt.timedelta(days=4)).replace(day=1).isoformat()
        if end >= after:  # days after the last whole month
            parts.append((False, f"{dims_clause} AND day >= ? AND day <= ?", [*dims_params, after, end]))
    return parts


def _title_queries(filters: Filters, columns: str) -> list[tuple[str, list[Any]]]:
    """The queries of ``columns`` over the per-title rollups covering a selection (:func:`month_split`): its
    whole months from ``md_title_month``, the other days from ``md_title_day``."""
    return [
        (f"SELECT titles, {columns} FROM {'md_title_month' if monthly else 'md_title_day'} WHERE {clause}", params)
        for monthly, clause, params in month_split(filters)
    ]


def top_from_tables(conn: Queryable, query: TopQuery) -> list[list[Any]]:
    column = {"plays": "plays", "minutes": "minutes"}[query.rank]
    parts = _title_queries(query.filters, column)
    ids: list[np.ndarray] = []
    values: list[np.ndarray] = []
    for sql, params in parts:
        for blob_ids, blob_values in conn.execute(sql, params):
            titles = np.frombuffer(blob_ids, dtype="<i4")
            ids.append(titles)
            values.append(unpack_columns(blob_values, 1, len(titles))[0])
    if not ids:
        return []
    title_ids, (totals,) = group_sum(np.concatenate(ids), [np.concatenate(values)])
    if column == "plays":  # a title whose events are all shorter than min_minutes has no plays: not listed
        played = totals > 0
        title_ids, totals = title_ids[played], totals[played]
    return _rank_titles(conn, title_ids, totals, query.num)


def rank_by_shown_title(rows: Iterable[tuple[str, int]], num: int) -> list[list[Any]]:
    """The ``num`` best ``[stored title, total]`` of ``rows``: most first, ties by the title as shown.

    Shown is with the course file's ``<e5>`` escapes decoded, compared by code
    point (as SQLite's binary collation and PostgreSQL's "C" compare): the
    same order whether the database holds ``<d8>isteins Blyant`` (made the
    course's way) or ``Øisteins Blyant`` (loaded).
    """
    ranked = sorted(rows, key=lambda r: (-r[1], decode_escapes(r[0]), r[0]))
    return [[title, int(n)] for title, n in ranked[:num]]


def _rank_titles(conn: Queryable, ids: np.ndarray, totals: np.ndarray, num: int) -> list[list[Any]]:
    """The ``num`` best ``[title, total]``: most first, ties by the title as shown (:func:`rank_by_shown_title`)."""
    if len(ids) > num:
        threshold = np.partition(totals, len(totals) - num)[len(totals) - num]
        keep = totals >= threshold
        ids, totals = ids[keep], totals[keep]
    wanted = ids.tolist()
    names = title_names(conn, wanted)
    return rank_by_shown_title(zip((names[i] for i in wanted), totals.tolist(), strict=False), num)


def top_rows(conn: Queryable, query: TopQuery) -> list[list[Any]]:
    """``[raw title, value]`` rows of the top list (``[raw show, value]`` with ``group=shows``).

    Distinct viewers per title of a filtered selection come from
    ``md_title_viewers``: the (title, user) pairs of the selected days and dims.
    """
    if query.group == "shows":
        return top_shows_from_tables(conn, query)
    if query.filters.is_default():
        stored = _stored(conn, f"top:{query.rank}")
        if stored is not None:
            return stored[: query.num]
    if query.rank == "viewers":
        return _top_viewers_from_tables(conn, query)
    return top_from_tables(conn, query)


def _top_viewers_from_tables(conn: Queryable, query: TopQuery) -> list[list[Any]]:
    """Distinct viewers per title of a selection: the distinct (title, user) pairs of its (day, dims) rows."""
    clause, params = where(query.filters)
    blobs = [bytes(blob) for (blob,) in conn.execute(f"SELECT pairs FROM md_title_viewers WHERE {clause}", params)]
    if not blobs:
        return []
    pairs = distinct(unpack_pairs(blobs)[0])
    viewers = np.bincount(pairs >> 32)
    ids = np.flatnonzero(viewers)
    return _rank_titles(conn, ids, viewers[ids], query.num)


def top_shows_from_tables(conn: Queryable, query: TopQuery) -> list[list[Any]]:
    """``[show, value]`` rows of the top list by show (``group=shows``): movies and whole shows together.

    Each per-title entry of a rollup row is mapped to its show by the row's session type
    (:class:`.showmap.ShowMap`), then summed per show (plays, minutes) or its (show, user)
    pairs counted once (viewers: distinct users over all the show's episodes, exactly).
    """
    shows = ShowMap(conn)
    ids: list[np.ndarray] = []
    values: list[np.ndarray] = []
    if query.rank == "viewers":
        whole = _all_time_show_viewers(conn, shows) if query.filters.is_default() else None
        if whole is not None:
            return _rank_shows(shows, *whole, query.num)
        clause, params = where(query.filters)
        rows = conn.execute(f"SELECT sessiontype, pairs FROM md_title_viewers WHERE {clause}", params).fetchall()
        if not rows:
            return []
        pairs, sizes = unpack_pairs([bytes(blob) for _, blob in rows])
        series = np.repeat(np.array([is_series(sessiontype) for sessiontype, _ in rows]), sizes)
        show_pairs = distinct((shows.of_rows(pairs >> 32, series) << 32) | (pairs & 0xFFFFFFFF))
        viewers = np.bincount(show_pairs >> 32)
        show_ids = np.flatnonzero(viewers)
        return _rank_shows(shows, show_ids, viewers[show_ids], query.num)
    column = {"plays": "plays", "minutes": "minutes"}[query.rank]
    for sql, params in _title_queries(query.filters, f"{column}, sessiontype"):
        for blob_ids, blob_values, sessiontype in conn.execute(sql, params):
            titles = np.frombuffer(blob_ids, dtype="<i4").astype(np.int64)
            ids.append(shows.of(titles, sessiontype))
            values.append(unpack_columns(blob_values, 1, len(titles))[0])
    if not ids:
        return []
    show_ids, (totals,) = group_sum(np.concatenate(ids), [np.concatenate(values)])
    if column == "plays":  # a show whose events are all shorter than min_minutes has no plays: not listed
        played = totals > 0
        show_ids, totals = show_ids[played], totals[played]
    return _rank_shows(shows, show_ids, totals, query.num)


def _all_time_show_viewers(conn: Queryable, shows: ShowMap) -> tuple[np.ndarray, np.ndarray] | None:
    """Every show's all-time viewers (show ids with at least one, and their counts), as the union of its
    titles' all-time viewer bitmaps (``md_title_users``): the whole data's pairs are millions at 10M events.

    ``None`` (the caller counts the pairs) when a title has entries of both kinds of session type, a
    series and another, that belong to two shows: its one bitmap holds the viewers of both.
    """
    size = len(shows.own)
    kinds = np.zeros(size, dtype=np.int8)  # per title id: 1 seen on a row of another type, 2 of a series
    for blob_ids, sessiontype in conn.execute("SELECT titles, sessiontype FROM md_title_month"):
        ids = np.frombuffer(blob_ids, dtype="<i4")
        if len(ids) and int(ids.max()) >= size:
            return None  # a title the show map does not hold (not expected: both are written by every load)
        kinds[ids] |= 2 if is_series(sessiontype) else 1
    if np.any((kinds == 3) & (shows.own != shows.split)):
        return None
    show_of = np.where(kinds & 2, shows.split, shows.own)
    ids_of = {str(t): int(i) for i, t in conn.execute("SELECT id, title FROM md_titles")}
    members: dict[int, list[BitMap]] = {}
    for title, blob in conn.execute("SELECT title, users FROM md_title_users"):
        found = ids_of.get(str(title))
        if found is None or found >= size or not kinds[found]:
            return None
        members.setdefault(int(show_of[found]), []).append(BitMap.deserialize(bytes(blob)))
    counted = [(show, len(BitMap.union(*maps))) for show, maps in members.items()]
    counted = [(show, n) for show, n in counted if n]
    return (np.array([s for s, _ in counted], dtype=np.int64), np.array([n for _, n in counted], dtype=np.int64))


def _rank_shows(shows: ShowMap, ids: np.ndarray, totals: np.ndarray, num: int) -> list[list[Any]]:
    """The ``num`` best ``[show, total]``: most first, ties by the show as shown (:func:`rank_by_shown_title`)."""
    if len(ids) > num:
        threshold = np.partition(totals, len(totals) - num)[len(totals) - num]
        keep = totals >= threshold
        ids, totals = ids[keep], totals[keep]
    wanted = ids.tolist()
    names = shows.names(wanted)
    return rank_by_shown_title(zip((names[i] for i in wanted), totals.tolist(), strict=False), num)


def heatmap_from_tables(conn: Queryable, filters: Filters) -> list[list[Any]]:
    clause, params = where(filters)
    grid = np.zeros((7, 24), dtype=np.int64)
    weekdays: dict[str, int] = {}
    for day, blob in conn.execute(f"SELECT day, hours FROM md_hour WHERE {clause}", params):
        weekday = weekdays.get(day)
        if weekday is None:
            weekday = weekdays[day] = dt.date.fromisoformat(day).weekday()
        grid[weekday] += np.frombuffer(blob, dtype="<i8")
    return [[w, h, int(grid[w, h])] for w in range(7) for h in range(24) if grid[w, h]]


def heatmap_rows(conn: Queryable, filters: Filters) -> list[list[Any]]:
    """``[weekday, hour, plays]`` rows (weekday 0 = Monday)."""
    if filters.is_default():
        stored = _stored(conn, "heatmap")
        if stored is not None:
            return stored
    return heatmap_from_tables(conn, filters)


def totals_from_tables(
    conn: Queryable, filters: Filters, day_rows: Iterable[Sequence[Any]] | None = None
) -> tuple[int, int, int]:
    clause, params = where(filters)
    if day_rows is None:
        day_rows = conn.execute(f"SELECT day, users FROM md_day WHERE {clause}", params)
    maps = [blob if isinstance(blob, BitMap) else BitMap.deserialize(blob) for _day, blob in day_rows]
    viewers = len(BitMap.union(*maps)) if maps else 0
    plays, minutes = conn.execute(
        f"SELECT COALESCE(SUM(plays), 0), COALESCE(SUM(minutes), 0) FROM md_day WHERE {clause}", params
    ).fetchone()
    return viewers, int(plays), int(minutes)


def totals_row(conn: Queryable, filters: Filters) -> tuple[int, int, int]:
    """``(viewers, plays, minutes)`` of a selection."""
    if filters.is_default():
        stored = _stored(conn, "totals")
        if stored is not None:
            return tuple(stored)
    return totals_from_tables(conn, filters)


def span_from_tables(conn: Queryable) -> tuple[str | None, str | None, int]:
    first, last, events = conn.execute("SELECT MIN(day), MAX(day), COALESCE(SUM(plays), 0) FROM md_day").fetchone()
    return first, last, int(events)


def span_row(conn: Queryable) -> tuple[str | None, str | None, int]:
    """``(first day, last day, events)``."""
    stored = _stored(conn, "span")
    return tuple(stored) if stored is not None else span_from_tables(conn)


def dim_values_from_tables(conn: Queryable) -> dict[str, list[str]]:
    """The distinct stored values of each dimension, ``''`` (NULL) included."""
    return {
        column: [str(r[0]) for r in conn.execute(f"SELECT DISTINCT {column} FROM md_day ORDER BY 1")]
        for column in DIMS
    }


def _dim_values(conn: Queryable) -> dict[str, frozenset[str]] | None:
    """The stored distinct values of each dimension (``None``: rollups stored before they were kept).

    Kept in a serving connection's ``memo`` for its request: one read of
    ``md_results`` checks every filter value (on PostgreSQL a look-up in
    ``md_day`` per value is planned over each of its partitions).
    """
    memo = getattr(conn, "memo", None)
    if memo is not None and _DIM_VALUES_MEMO in memo:
        return memo[_DIM_VALUES_MEMO]
    stored = _stored(conn, "dim_values")
    result = None if stored is None else {column: frozenset(stored[column]) for column in DIMS}
    if memo is not None:
        memo[_DIM_VALUES_MEMO] = result
    return result


_DIM_VALUES_MEMO = "rollups.dim_values"


def options(conn: Queryable) -> dict[str, list[str]]:
    """The filter values of each dimension (``unknown`` last when some events lack it, see :mod:`.dimensions`)."""
    # Stored under a name older databases do not have: theirs left out the missing values.
    stored = _stored(conn, "dim_values")
    raw = stored if stored is not None else dim_values_from_tables(conn)
    return {column: dimensions.known_values(raw[column]) for column in DIMS}


def has_value(conn: Queryable, column: str, value: str) -> bool:
    """Whether filter value ``value`` (``unknown`` for its bucket) matches an event in dimension ``column``."""
    if column not in DIMS:
        raise ValueError(column)
    stored = _dim_values(conn)
    if stored is not None:  # the stored distinct values: what the query below would find in md_day
        held = stored[column]
        if value == dimensions.UNKNOWN:
            return any(p in held for p in dimensions.PLACEHOLDERS)
        return value in held
    clause, params = dimensions.condition(column, [value], nullable=False)
    return bool(conn.execute(f"SELECT EXISTS (SELECT 1 FROM md_day WHERE {clause})", params).fetchone()[0])


def engagement_rows(
    conn: Queryable, keys: Sequence[str], columns: Sequence[str], filters: Filters, stored: str | None = None,
) -> list[tuple[Any, ...]]:
    """``(*keys, *sums)`` rows of ``md_engagement`` grouped by the SQL ``keys`` (code constants over its
    ``day`` and dimension columns), one per group with a play: the raw engagement SQL's groups.

    ``columns``: which of :data:`~.tables.ENGAGEMENT_COLUMNS` to sum (as 64-bit integers).
    ``stored``: the grouping's name in :func:`engagement_groupings`, whose unfiltered rows are
    stored at load (:func:`default_engagement`): read, not summed again, for an unfiltered selection.
    """
    unknown = set(columns) - set(ENGAGEMENT_COLUMNS)
    if unknown:
        raise ValueError(f"not engagement rollup columns: {sorted(unknown)}")
    if stored is not None and filters.is_default():
        found = _stored(conn, f"engagement:{stored}")
        # Checked, not trusted: the stored grouping must be this one and hold every column asked.
        grouping = engagement_groupings(dialect_of(conn)).get(stored)
        if (found is not None and grouping is not None and grouping[0] == list(keys)
                and set(columns) <= set(found["columns"])):
            width = len(keys)
            at = [width + found["columns"].index(c) for c in columns]
            return [(*row[:width], *(row[i] for i in at)) for row in found["rows"]]
    return _engagement_rows(conn, keys, columns, filters)


def _engagement_rows(
    conn: Queryable, keys: Sequence[str], columns: Sequence[str], filters: Filters,
) -> list[tuple[Any, ...]]:
    clause, params = where(filters)
    selected = ", ".join([*keys, *(f"CAST(SUM({c}) AS bigint)" for c in columns)])
    groups = ", ".join(str(i + 1) for i in range(len(keys)))
    sql = f"SELECT {selected} FROM md_engagement WHERE {clause}"
    if keys:
        sql += f" GROUP BY {groups} HAVING SUM(plays) > 0"
    else:
        sql += " HAVING SUM(plays) > 0"
    return [tuple(row) for row in conn.execute(sql, params).fetchall()]


def title_engagement(conn: Queryable, filters: Filters) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The title ids with an event in a selection and their summed :data:`~.tables.TITLE_ENGAGEMENT_COLUMNS`
    (int64, by column name), from the per-title rollups (whole months from ``md_title_month``)."""
    count = len(TITLE_ENGAGEMENT_COLUMNS)
    ids: list[np.ndarray] = []
    columns: list[list[np.ndarray]] = [[] for _ in TITLE_ENGAGEMENT_COLUMNS]
    for sql, params in _title_queries(filters, "engagement"):
        for blob_ids, blob in conn.execute(sql, params):
            titles = np.frombuffer(blob_ids, dtype="<i4")
            ids.append(titles)
            for parts, values in zip(columns, unpack_columns(blob, count, len(titles)), strict=True):
                parts.append(values)
    if not ids:
        return np.zeros(0, dtype=np.int64), {c: np.zeros(0, dtype=np.int64) for c in TITLE_ENGAGEMENT_COLUMNS}
    title_ids, totals = group_sum(np.concatenate(ids).astype(np.int64), [np.concatenate(c) for c in columns])
    return title_ids, dict(zip(TITLE_ENGAGEMENT_COLUMNS, totals, strict=True))


def viewer_totals(conn: Queryable, filters: Filters) -> tuple[np.ndarray, np.ndarray]:
    """Every viewer's plays and minutes in a selection (int64 arrays in user-id order; never the ids), from
    the per-viewer rollups (:mod:`.viewer_sums`): whole months from ``md_viewer_month``, the other days
    from ``md_viewer_day``, group-summed by user id."""
    blobs: list[bytes] = []
    for monthly, clause, params in month_split(filters):
        table = "md_viewer_month" if monthly else "md_viewer_day"
        blobs.extend(bytes(blob) for (blob,) in conn.execute(f"SELECT viewers FROM {table} WHERE {clause}", params))
    if not blobs:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    users, plays, minutes = unpack_viewers(blobs)
    # Exact in float64: a selection's sums stay far below 2**53 (at most MAX_MINUTES per event).
    played = np.bincount(users, weights=plays).astype(np.int64)
    watched = np.bincount(users, weights=minutes).astype(np.int64)
    viewers = played > 0
    return played[viewers], watched[viewers]


def default_viewers(conn: Queryable) -> dict[str, Any]:
    """The unfiltered concentration and heavy-viewer answers, stored at load (``md_results``): the whole
    data's per-viewer totals read every monthly row, too slow for a first view at 10M events."""
    plays, minutes = viewer_totals(conn, Filters())
    return {
        "viewers:concentration": concentration_of(minutes).stored(),
        **{f"viewers:{m}": distribution_of(m, plays if m == "plays" else minutes).as_json()
           for m in metrics.VIEWER_MEASURES},
    }


def stored_result(conn: Queryable, name: str) -> Any:
    """The JSON value a load stored in ``md_results`` under ``name`` (``None``: none)."""
    return _stored(conn, name)


def title_names(conn: Queryable, ids: Sequence[int]) -> dict[int, str]:
    """The stored titles of title ids (``md_titles``)."""
    if len(ids) > 900:  # beyond a safe number of bound parameters: the whole (small) dictionary
        return {int(i): str(t) for i, t in conn.execute("SELECT id, title FROM md_titles")}
    if not ids:
        return {}
    marks = ", ".join("?" * len(ids))
    return {int(i): str(t) for i, t in conn.execute(f"SELECT id, title FROM md_titles WHERE id IN ({marks})",
                                                      [int(i) for i in ids])}


def title_deciles(conn: Queryable, title: str, filters: Filters) -> np.ndarray:
    """The plays with a percentage of stored title ``title`` in a selection, per completion decile
    (:data:`~.tables.DECILES` counts, int64; all 0 for a title without such plays).

    An unfiltered selection's are stored at load for every title (:func:`all_title_deciles`): one
    title's curve would otherwise read every packed row of ``md_title_month`` (7 MB at 10M events).
    """
    counts = np.zeros(DECILES, dtype=np.int64)
    if filters.is_default():
        found = _stored(conn, "title_deciles")
        if found is not None:
            at = bisect.bisect_left(found["titles"], title)
            if at < len(found["titles"]) and found["titles"][at] == title:
                return np.asarray(found["counts"][DECILES * at:DECILES * (at + 1)], dtype=np.int64)
            return counts
    row = conn.execute("SELECT id FROM md_titles WHERE title = ?", (title,)).fetchone()
    if row is None:
        return counts
    wanted = int(row[0])
    count = len(TITLE_ENGAGEMENT_COLUMNS)
    rated_column = TITLE_ENGAGEMENT_COLUMNS.index("completion_plays")
    for sql, params in _title_queries(filters, "engagement, deciles"):
        for blob_ids, blob, blob_deciles in conn.execute(sql, params):
            titles = np.frombuffer(blob_ids, dtype="<i4")
            at = int(np.searchsorted(titles, wanted))
            if at == len(titles) or titles[at] != wanted:
                continue
            rated = unpack_columns(blob, count, len(titles))[rated_column]
            if not rated[at]:
                continue
            first = int(rated[:at].sum())
            codes = unpack_codes(blob_deciles, int(rated.sum()))[first:first + int(rated[at])]
            counts += np.bincount(codes, minlength=DECILES)
    return counts


def all_title_deciles(conn: Queryable) -> dict[str, list[Any]]:
    """Every title's plays per completion decile over all the data (for :func:`title_deciles`):
    ``titles`` (sorted; those with such plays) and ``counts``, :data:`~.tables.DECILES` per title in turn.
    By title, not id: the stored text is the same on either backend."""
    count = len(TITLE_ENGAGEMENT_COLUMNS)
    rated_column = TITLE_ENGAGEMENT_COLUMNS.index("completion_plays")
    owners: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    plays: list[np.ndarray] = []
    for blob_ids, blob, blob_deciles in conn.execute("SELECT titles, engagement, deciles FROM md_title_month"):
        titles = np.frombuffer(blob_ids, dtype="<i4").astype(np.int64)
        rated = unpack_columns(blob, count, len(titles))[rated_column]
        row_codes = unpack_codes(blob_deciles, int(rated.sum()))
        if not len(row_codes):
            continue
        # An entry's codes ascend (one per play): its runs of equal codes are its decile counts, found
        # without a title per play (10M plays at 10M events).
        ends = np.cumsum(rated)
        starts = np.empty(len(row_codes), dtype=bool)
        starts[0] = True
        np.not_equal(row_codes[1:], row_codes[:-1], out=starts[1:])
        starts[(ends - rated)[rated > 0]] = True
        at = np.flatnonzero(starts)
        owners.append(titles[np.searchsorted(ends, at, side="right")])
        codes.append(row_codes[at].astype(np.int64))
        plays.append(np.diff(np.append(at, len(row_codes))))
    if not owners:
        return {"titles": [], "counts": []}
    owner = np.concatenate(owners)
    ids = distinct(owner)
    # Float weights are exact here: a count of plays is far below 2**53.
    table = np.bincount(np.searchsorted(ids, owner) * DECILES + np.concatenate(codes),
                        weights=np.concatenate(plays), minlength=len(ids) * DECILES)
    names = title_names(conn, ids.tolist())
    order = sorted(range(len(ids)), key=lambda i: names[int(ids[i])])
    table = table.astype(np.int64).reshape(len(ids), DECILES)[order]
    return {"titles": [names[int(ids[i])] for i in order], "counts": table.reshape(-1).tolist()}


#: The groupings of the engagement answers (:mod:`moviedash.engagement`), by view: ``daily``,
#: ``weekly``, ``monthly`` (the periods of ``day``), ``by:<dimension>`` (its values, the missing ones as
#: ``unknown``) and ``all`` (the whole selection, one group ``1``).
VIEWS: tuple[str, ...] = (*RESOLUTIONS, *(f"by:{d}" for d in DIMS), "all")
#: The views whose groups are unions of whole months (so read whole months from the monthly companions).
MONTHLY_VIEWS: frozenset[str] = frozenset(v for v in VIEWS if v not in ("daily", "weekly"))


def view_keys(view: str, dialect: Dialect = DIALECT) -> list[str]:
    """The SQL keys (over a rollup table's ``day`` and dimension columns) grouping the rows of ``view``."""
    if view == "daily":  # a rollup's day is its canonical label already (no date function per row)
        return ["day"]
    if view in RESOLUTIONS:
        return [dialect.bucket(view, dialect.day_as_date.format(column="day"))]
    if view.startswith("by:") and view[3:] in DIMS:
        return [dimensions.bucket(view[3:])]
    if view == "all":
        return []
    raise ValueError(f"unknown view {view!r}")


def segment_keys(resolution: str, dialect: Dialect = DIALECT) -> list[str]:
    """The SQL keys of the worst segments' groups: device, market and the period of ``resolution``."""
    return [dimensions.bucket("device"), dimensions.bucket("market"),
            dialect.bucket(resolution, dialect.day_as_date.format(column="day"))]


#: The columns the worst segments sum.
SEGMENT_COLUMNS: tuple[str, ...] = ("quality_plays", "poor_plays")


def engagement_groupings(dialect: Dialect = DIALECT) -> dict[str, tuple[list[str], tuple[str, ...]]]:
    """The ``md_engagement`` groupings whose unfiltered rows are stored at load, by name: their keys and
    columns.  Each view of :data:`VIEWS` (every column) and the worst segments' weekly and monthly groups."""
    out = {view: (view_keys(view, dialect), ENGAGEMENT_COLUMNS) for view in VIEWS}
    # Not the daily segments: ten times the weekly rows (350 kB at 10M events) for a variant no first
    # layout shows; summed live when asked.
    out.update({f"segments:{r}": (segment_keys(r, dialect), SEGMENT_COLUMNS) for r in RESOLUTIONS if r != "daily"})
    return out


def default_engagement(conn: Queryable, dialect: Dialect = DIALECT) -> dict[str, Any]:
    """The unfiltered rows of every :func:`engagement_groupings` grouping (``engagement:<name>``) and
    every title's completion deciles (``title_deciles``), stored at load: the engagement page's first
    layout reads them instead of summing ``md_engagement`` and unpacking ``md_title_month`` again."""
    # Rows sorted: the same stored text on either backend (their GROUP BY orders differ).
    out: dict[str, Any] = {
        f"engagement:{name}": {"columns": list(columns),
                               "rows": sorted(_engagement_rows(conn, keys, columns, Filters()))}
        for name, (keys, columns) in engagement_groupings(dialect).items()
    }
    out["title_deciles"] = all_title_deciles(conn)
    return out


def _group(row: Sequence[Any], width: int) -> Any:
    """A row's group: the value of its one key, a tuple of several, ``1`` for none."""
    return row[0] if width == 1 else (tuple(row[:width]) if width else 1)


def _summed_bins(
    conn: Queryable, keys: Sequence[str], column: str, filters: Filters, monthly: bool,
) -> tuple[list[Any], np.ndarray, np.ndarray, list[np.ndarray]]:
    """The groups of a selection's ``md_engagement_bins`` rows by the SQL ``keys`` and their summed
    ``column``: ``(groups, owners, bins, sums)``, per distinct (group number, bin), sorted, the sums of
    the column's other arrays (:func:`.aggregator.pair_sum`).  ``monthly``: the keys group whole months
    together, so a range's whole months are read from ``md_engagement_bins_month`` (a row's ``day`` is
    its month's first day there)."""
    if column not in BIN_ARRAYS:
        raise ValueError(f"not an engagement bins column: {column}")
    count = BIN_ARRAYS[column]
    if monthly:
        month_rows = f"(SELECT month AS day, {DIMS_PK}, {column} FROM md_engagement_bins_month) AS m"
        parts = [(month_rows if by_month else "md_engagement_bins", clause, params)
                 for by_month, clause, params in month_split(filters, "day")]
    else:
        clause, params = where(filters)
        parts = [("md_engagement_bins", clause, params)]
    width = len(keys)
    rows: list[Sequence[Any]] = []
    for source, clause, params in parts:
        rows += conn.execute(f"SELECT {', '.join([*keys, column])} FROM {source} WHERE {clause}", params).fetchall()
    index: dict[Any, int] = {}
    owner = np.fromiter((index.setdefault(_group(row, width), len(index)) for row in rows),
                        dtype=np.int64, count=len(rows))
    lengths, arrays = unpack_rows([row[width] for row in rows], count)
    owners = np.repeat(owner, lengths)
    if count == 1:  # dense: the histogram's bins are each entry's place in its row
        bins = np.arange(len(owners), dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        owners, bins, sums = pair_sum(owners, bins, arrays)
    else:
        owners, bins, sums = pair_sum(owners, arrays[0], arrays[1:])
    return list(index), owners, bins, sums


def bin_rows(
    conn: Queryable, keys: Sequence[str], column: str, filters: Filters, *, monthly: bool = False,
) -> dict[Any, list[np.ndarray]]:
    """The binned counts of ``md_engagement_bins``' ``column`` summed per group of the SQL ``keys``
    (as :func:`engagement_rows`; a group is the key's value, a tuple of several, ``1`` for none).

    Per group, int64 arrays: a sparse column's bins (ascending, only those with a play) and their
    sums; the dense completion histogram's counts of its bins.  Groups whose rows hold no bin are
    left out.  ``monthly``: the keys group whole months together (a monthly period of ``day``,
    dimensions), so whole months are read from ``md_engagement_bins_month``.
    """
    groups, owners, bins, sums = _summed_bins(conn, keys, column, filters, monthly)
    ids = np.arange(len(groups))
    starts = np.searchsorted(owners, ids, side="left").tolist()
    ends = np.searchsorted(owners, ids, side="right").tolist()
    out = {}
    for key, a, b in zip(groups, starts, ends, strict=True):
        if a == b:
            continue
        if BIN_ARRAYS[column] == 1:  # every bin, empty ones too
            counts = np.zeros(metrics.COMPLETION_BINS, dtype=np.int64)
            counts[bins[a:b]] = sums[0][a:b]
            out[key] = [counts]
        else:
            out[key] = [bins[a:b], *(v[a:b] for v in sums)]
    return out


def _quantiles(distribution: metrics.Distribution, groups: int, owners: np.ndarray, bins: np.ndarray,
               counts: np.ndarray) -> tuple[list[float | None], list[int]]:
    """Per group number, the quantile of its summed bins (``owners``, ``bins`` sorted, ``counts``) and
    its count: :meth:`~moviedash.metrics.Distribution.bin_quantile` of every group at once."""
    ids = np.arange(groups)
    before = np.concatenate(([0], np.cumsum(counts)))  # before[i]: the counts of the entries before i
    base = before[np.searchsorted(owners, ids, side="left")]
    totals = before[np.searchsorted(owners, ids, side="right")] - base
    found = np.flatnonzero(totals > 0)
    ranks = np.array([distribution.rank(t) for t in totals[found].tolist()], dtype=np.int64)
    if distribution.descending:  # from the top: the highest bin with at least ``rank`` counts at or above it
        at = np.searchsorted(before[:-1], base[found] + totals[found] - ranks, side="right") - 1
    else:  # the lowest bin with at least ``rank`` counts at or below it
        at = np.searchsorted(before[1:], base[found] + ranks, side="left")
    values: list[float | None] = [None] * groups
    for g, b in zip(found.tolist(), bins[at].tolist(), strict=True):
        values[g] = distribution.bin_value(b)
    return values, totals.tolist()


def _distribution(name: str, settings: metrics.MeasureSettings) -> metrics.Distribution:
    aggregation = metrics.measure(name).aggregation
    if not isinstance(aggregation, metrics.Distribution) or aggregation.rollup is None:
        raise ValueError(f"no binned rollup answers {name}")
    return aggregation.under(settings)


def _quantile_rows(conn: Queryable, name: str, view: str, filters: Filters, settings: metrics.MeasureSettings,
                   dialect: Dialect) -> list[list[Any]]:
    distribution = _distribution(name, settings)
    keys = view_keys(view, dialect)
    groups, owners, bins, sums = _summed_bins(conn, keys, str(distribution.rollup), filters, view in MONTHLY_VIEWS)
    values, totals = _quantiles(distribution, len(groups), owners, bins, sums[0])
    found = {g: (v, n) for g, v, n in zip(groups, values, totals, strict=True) if n}
    width = len(keys)
    played = sorted(_group(row, width) for row in engagement_rows(conn, keys, ["plays"], filters))
    return [[group, *found.get(group, (None, 0))] for group in played]


def quantile_rows(
    conn: Queryable, name: str, view: str, filters: Filters, settings: metrics.MeasureSettings,
    dialect: Dialect = DIALECT,
) -> list[list[Any]]:
    """``[group, value, plays]`` of the declared distribution ``name`` per group of ``view``
    (:data:`VIEWS`) of a selection, one per group with a play (as :func:`engagement_rows`, in order): the
    quantile of its summed bins ranked as ``settings`` say, and the plays with a value (``None``
    and 0: plays without one).  The default views' rows are stored at load (:func:`default_binned`).
    """
    if filters.is_default():
        stored = _stored(conn, f"{name}:{view}")
        if stored is not None:
            return stored
    return _quantile_rows(conn, name, view, filters, settings, dialect)


#: The binned answers besides the distributions' quantiles, by name: a column of ``md_engagement_bins``
#: summed per group of a view (:mod:`moviedash.engagement`: the completion histogram, movies and series
#: side by side, and completion by quality over the whole selection).
BINNED: dict[str, tuple[str, str]] = {
    "completion_histogram": (str(metrics.COMPLETION_HISTOGRAM.rollup), "by:sessiontype"),
    "completion_by_quality": (str(metrics.COMPLETION_BY_QUALITY.rollup), "all"),
}


def _binned_rows(conn: Queryable, name: str, filters: Filters, dialect: Dialect) -> list[list[Any]]:
    column, view = BINNED[name]
    summed = bin_rows(conn, view_keys(view, dialect), column, filters, monthly=view in MONTHLY_VIEWS)
    return [[group, *(a.tolist() for a in summed[group])] for group in sorted(summed)]


def binned_rows(conn: Queryable, name: str, filters: Filters, dialect: Dialect = DIALECT) -> list[list[Any]]:
    """``[group, *arrays]`` of the binned answer ``name`` (:data:`BINNED`): per group of its view with a
    bin, in order, its column's summed arrays (:func:`bin_rows`) as lists.  The default view's rows are
    stored at load."""
    if filters.is_default():
        stored = _stored(conn, name)
        if stored is not None:
            return stored
    return _binned_rows(conn, name, filters, dialect)


def default_binned(conn: Queryable, settings: metrics.MeasureSettings, dialect: Dialect = DIALECT) -> dict[str, Any]:
    """The unfiltered rows of every binned answer (stored at load): each declared distribution with a
    rollup (:data:`moviedash.metrics.ENGAGEMENT`) in every view (``name:view``), and :data:`BINNED`."""
    out: dict[str, Any] = {}
    everything = Filters()
    for measure in metrics.ENGAGEMENT:
        aggregation = measure.aggregation
        if isinstance(aggregation, metrics.Distribution) and aggregation.rollup is not None:
            for view in VIEWS:
                out[f"{measure.name}:{view}"] = _quantile_rows(conn, measure.name, view, everything, settings, dialect)
    for name in BINNED:
        out[name] = _binned_rows(conn, name, everything, dialect)
    return out
