"""Audience: new vs returning viewers per period, and cohort retention.

Definitions (also in ``docs/series-and-audience.md``):

- A **viewer** follows the rule of every viewer count (``unique_users``): the user of a play
  (an event of at least ``min_minutes``), ``exclude_users`` left out, a NULL user id never counted
  (the anonymous id is a user like any other unless excluded).
- A viewer's **first-seen day** is the day of their first such event in the *whole database*,
  whatever the filters and the date range (events outside the served dates are never placed).
- **New vs returning** (``/data/audience/``): in each period (day, Monday-week, month) the
  viewers active under the shared filters and date range are split into *new* (first seen in that
  calendar period -- the whole period, even where the date range cuts it) and *returning* (first
  seen before it).  Every active viewer is first seen on or before their activity, so
  ``new + returning`` is exactly ``unique_users`` of the same selection.  A user first seen before
  ``start`` is returning; a user whose first event the filters exclude (another device, say) is
  still new only in the period of that first event, and returning after it.  Zero-filled like the
  course's series.
- **Cohorts** (``/data/cohorts/``): users grouped by the week or month of their first-seen day
  (membership and size fixed over all data; the filters never move a user between cohorts or change
  a size).  The cohorts listed are those of the periods from the date range's first to its last,
  within the data's span (the whole span when open), and for each, every period from its own (offset 0) to the last:
  the number of its members active in that period under the filters and the date range, and that
  number as a % of the cohort's size (2 decimals, exact rounding).  A cohort with no later activity
  shows 0 and 0.0 %, never a gap.

Answered from the rollups (``md_first_day`` bitmaps intersected with ``md_day``'s, see
:mod:`moviedash.rollups.firstseen`) when they are current, else from ``movies`` by SQL in either
dialect (:func:`_raw_audience`, :func:`_raw_cohorts`); the same numbers either way.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from . import analysis, metrics, rollups
from . import settings as data_settings
from .errors import MoviedashError
from .params import COHORT_PERIODS, Filters, SeriesQuery, parse_period
from .periods import check_periods, period_count, period_end, period_labels, period_start
from .rollups import firstseen_serve as firstseen
from .store import Connection, Dialect, check_deadline, dialect_of

#: The decimals of a cohort's share (the declared :class:`moviedash.metrics.Retention`).
SHARE_DIGITS = next(m.aggregation.digits for m in metrics.AUDIENCE if isinstance(m.aggregation, metrics.Retention))
#: The most cohort periods a triangle may span (ten years of weeks): wider is a 400 naming ``period``.
MAX_COHORT_PERIODS = 520
#: The columns of :func:`cohorts`' frame (and its CSV).
COHORT_COLUMNS: tuple[str, ...] = ("cohort", "size", "offset", "period", "active", "share")


def _from_rollups(conn: Connection) -> bool:
    status = rollups.status(conn)
    return status is not None and status.usable


def _firsts_sql(dialect: Dialect, resolution: str, viewer: str) -> str:
    """Each viewer and the period label of their first-seen day (over every placeable event)."""
    everything, _ = analysis.where(Filters(), dated=True)
    return (
        f"SELECT userid, {dialect.bucket(resolution, 'first_event')} AS cohort FROM ("
        f"SELECT userid, MIN(event_date) AS first_event FROM movies "
        f"WHERE {everything} AND userid IS NOT NULL AND {viewer} GROUP BY userid) AS u"
    )


def _raw_parts(conn: Connection, filters: Filters, resolution: str,
               dialect: Dialect) -> tuple[str, str, list[Any], list[Any]]:
    """The SQL of the active (period, user) pairs under ``filters`` and of the first-seen periods, and
    their parameters."""
    viewer, viewer_params = analysis.viewer_condition(data_settings.load(conn))
    clause, params = analysis.where(filters, dated=True)
    _, everything_params = analysis.where(Filters(), dated=True)
    active = (
        f"SELECT DISTINCT {dialect.bucket(resolution)} AS period, userid FROM movies "
        f"WHERE {clause} AND userid IS NOT NULL AND {viewer}"
    )
    return active, _firsts_sql(dialect, resolution, viewer), [*params, *viewer_params], [
        *everything_params, *viewer_params]


def _raw_audience(conn: Connection, filters: Filters, resolution: str, dialect: Dialect) -> list[list[Any]]:
    """``[label, new, returning]`` of every period with an event in the selection (as ``unique_users``
    groups it: a period of only non-viewer events is a row of zeros, not a gap to fill)."""
    viewer, viewer_params = analysis.viewer_condition(data_settings.load(conn))
    clause, params = analysis.where(filters, dated=True)
    _, first_params = analysis.where(Filters(), dated=True)
    sql = (
        f"SELECT a.period, COALESCE(SUM(CASE WHEN a.period = f.cohort THEN 1 ELSE 0 END), 0), COUNT(f.userid) "
        f"FROM (SELECT DISTINCT {dialect.bucket(resolution)} AS period, "
        f"CASE WHEN userid IS NOT NULL AND {viewer} THEN userid END AS userid FROM movies WHERE {clause}) AS a "
        f"LEFT JOIN ({_firsts_sql(dialect, resolution, viewer)}) AS f ON f.userid = a.userid GROUP BY a.period"
    )
    rows = conn.execute(sql, [*viewer_params, *params, *first_params, *viewer_params]).fetchall()
    return [[str(p)[:10], int(new), int(n) - int(new)] for p, new, n in rows]


def _raw_cohorts(conn: Connection, filters: Filters, resolution: str, first: str, last: str,
                 dialect: Dialect) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    active, firsts, active_params, first_params = _raw_parts(conn, filters, resolution, dialect)
    sizes = {
        str(c)[:10]: int(n) for c, n in conn.execute(
            f"SELECT cohort, COUNT(*) FROM ({firsts}) AS f WHERE cohort >= ? AND cohort <= ? GROUP BY cohort",
            [*first_params, first, last]).fetchall()
    }
    hits = {
        (str(c)[:10], str(p)[:10]): int(n) for c, p, n in conn.execute(
            f"SELECT f.cohort, a.period, COUNT(*) FROM ({active}) AS a JOIN ({firsts}) AS f "
            f"ON f.userid = a.userid WHERE f.cohort >= ? AND f.cohort <= ? GROUP BY f.cohort, a.period",
            [*active_params, *first_params, first, last]).fetchall()
    }
    return sizes, hits


def _audience_rows(conn: Connection, filters: Filters, resolution: str, dialect: Dialect) -> list[list[Any]]:
    if not _from_rollups(conn):
        return _raw_audience(conn, filters, resolution, dialect)
    if filters.is_default():
        stored = firstseen.stored_result(conn, f"audience:{resolution}")
        if stored is not None:
            return [list(row) for row in stored]
    return firstseen.audience_rows(conn, filters, resolution)


def new_returning(conn: Connection, query: SeriesQuery, dialect: Dialect | None = None) -> pd.DataFrame:
    """New and returning viewers per period, zero-filled: columns ``date``, ``new``, ``returning``."""
    dialect = dialect or dialect_of(conn)
    key = ("audience", query, dialect)
    rows = analysis.cached(conn, key, lambda: tuple(map(tuple, _audience_rows(
        conn, query.filters, query.resolution, dialect))))
    check_deadline(conn)
    dates = pd.Series([r[0] for r in rows], dtype=object)
    parts = {
        column: analysis.zero_fill(
            pd.DataFrame({"date": dates, "values": pd.Series([r[i] for r in rows], dtype="int64")}),
            query.resolution, query.filters.start, query.filters.end)
        for i, column in ((1, "new"), (2, "returning"))
    }
    return pd.DataFrame({
        "date": parts["new"]["date"], "new": parts["new"]["values"], "returning": parts["returning"]["values"],
    })


def _bounds(conn: Connection, filters: Filters, resolution: str) -> tuple[dt.date, dt.date] | None:
    """The first and last cohort period labels of the selection: of the date range within the data's span
    (no cohort is first seen outside it)."""
    whole = analysis.span(conn)
    if whole.first is None or whole.last is None:
        return None
    start, end = max(filters.start or whole.first, whole.first), min(filters.end or whole.last, whole.last)
    if start > end:
        return None
    first, last = period_start(start, resolution), period_start(end, resolution)
    check_periods(first, last, resolution)
    if period_count(first, last, resolution) > MAX_COHORT_PERIODS:
        raise MoviedashError(
            f"a cohort table from {first.isoformat()} to {last.isoformat()} spans more than "
            f"{MAX_COHORT_PERIODS} periods: choose period=month or a shorter range (start, end)",
            parameter="period",
        )
    return first, last


def _cohort_parts(conn: Connection, filters: Filters, resolution: str, first: dt.date, last: dt.date,
                  dialect: Dialect) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    if not _from_rollups(conn):
        return _raw_cohorts(conn, filters, resolution, first.isoformat(), last.isoformat(), dialect)
    if filters.is_default():
        stored = firstseen.stored_result(conn, f"cohorts:{resolution}")
        if stored is not None:
            return dict(stored["sizes"]), {(c, p): n for c, p, n in stored["hits"]}
    # Through the last cohort's whole period: a cohort's size is its members over all data, even when the
    # date range ends inside its period.
    return firstseen.cohort_rows(conn, filters, resolution, first.isoformat(), period_end(last, resolution).isoformat())


def cohorts(conn: Connection, period: str, filters: Filters, dialect: Dialect | None = None) -> pd.DataFrame:
    """The cohort triangle: one row per (cohort, offset 0 … to the last period), columns :data:`COHORT_COLUMNS`.

    ``share`` is the % of the cohort's size active in ``period`` (2 decimals).  Cohorts oldest first.
    """
    dialect = dialect or dialect_of(conn)
    resolution = COHORT_PERIODS[parse_period(period)]
    bounds = _bounds(conn, filters, resolution)
    if bounds is None:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in COHORT_COLUMNS})
    first, last = bounds
    key = ("cohorts", resolution, filters, dialect, first, last)

    def compute() -> pd.DataFrame:
        sizes, hits = _cohort_parts(conn, filters, resolution, first, last, dialect)
        check_deadline(conn)
        return _triangle(sizes, hits, period_labels(first, last, resolution))

    # The finished triangle is kept (thousands of cells for weeks; a copy is handed out).
    frame: pd.DataFrame = analysis.cached(conn, key, compute)
    return frame


def _triangle(sizes: dict[str, int], hits: dict[tuple[str, str], int], labels: list[str]) -> pd.DataFrame:
    """The rows of :func:`cohorts` from the cohorts' sizes and the (cohort, period) active counts."""
    rows = []
    for index, cohort in enumerate(labels):
        size = sizes.get(cohort, 0)
        if not size:
            continue
        for offset, label in enumerate(labels[index:]):
            n = hits.get((cohort, label), 0)
            rows.append((cohort, size, offset, label, n, metrics.served(100 * n, size, SHARE_DIGITS)))
    return pd.DataFrame(rows, columns=list(COHORT_COLUMNS)).astype(
        {"size": "int64", "offset": "int64", "active": "int64", "share": "float64"})


def cohort_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The JSON of ``/data/cohorts/``: per cohort its ``cohort`` label, ``size`` and ``periods``
    (``offset``, ``period``, ``active``, ``share``), offsets from 0."""
    out: list[dict[str, Any]] = []
    # Column by column as plain lists: row tuples of a frame are slow at thousands of cells.
    columns = [frame[c].tolist() for c in COHORT_COLUMNS]
    for cohort, size, offset, period, active, share in zip(*columns, strict=True):
        if not out or out[-1]["cohort"] != cohort:
            out.append({"cohort": cohort, "size": int(size), "periods": []})
        out[-1]["periods"].append({"offset": int(offset), "period": period, "active": int(active),
                                   "share": float(share)})
    return out
