"""The engagement and quality measures (completion, full watches, quality of experience), from the raw table.

Every number follows one rounding rule (:data:`moviedash.metrics.ROUNDING`):
each play's real values are taken to 4 decimals as integers in SQL (the
dialect's :meth:`units`), SQL only sums and counts integers, and Python
divides the integer totals exactly (:func:`moviedash.metrics.served`).  So
SQLite and PostgreSQL serve the same doubles, and additive totals are what a
rollup can keep.

Served from the rollups (``md_engagement``, :mod:`moviedash.rollups`) when they
are current and were built under the settings asked for: the time series of
every ratio measure (every resolution, shared filters), the breakdowns, the
whole-selection figures (:func:`overall`, the key figures) and the worst
segments -- each is a grouping of per-(day, dims) integer sums, so the
answers equal the raw table's exactly; from ``md_engagement_bins`` (whole
months from ``md_engagement_bins_month``) ``quality_p90`` (its series and
breakdowns: nearest rank over the summed 0.01-wide bins), the completion
distribution and completion by quality (summed bin counts), their default
views stored at load (:func:`moviedash.rollups.quantile_rows`,
:func:`moviedash.rollups.binned_rows`); and from the per-title engagement of
``md_title_day``/``md_title_month``, the top lists by ``completion`` and
``full_watches`` (per-title sums) and the stop curves (per-title plays per
completion decile).

The SQL is built from the declarations (:data:`moviedash.metrics.ENGAGEMENT`),
the dialect's fragments and a :class:`~moviedash.metrics.MeasureSettings`;
user values are only ever bound parameters.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import pandas as pd

from . import dimensions, metrics, rollups
from . import settings as data_settings
from .analysis import HAS_TITLE, cached, span, where
from .charts import Kpi, comparison_text
from .errors import MoviedashError
from .escapes import decode_escapes
from .metrics import (
    COMPLETION_BINS,
    COMPLETION_BY_QUALITY,
    COMPLETION_HISTOGRAM,
    UNITS,
    Distribution,
    Measure,
    MeasureSettings,
    Ratio,
)
from .params import Filters, SeriesQuery
from .periods import check_periods, period_labels, period_start
from .store import Connection, Dialect, check_deadline, dialect_of

#: The dimensions a measure can be broken down by.
BREAKDOWNS: tuple[str, ...] = dimensions.DIMS
#: The top list's engagement ranks (``rank=completion`` needs ``min_plays`` plays with a value).
RANKS: tuple[str, ...] = metrics.TITLE_RANKS
#: The stop curve's points (the completion histogram's bins: :data:`moviedash.metrics.COMPLETION_BINS`).
STOP_POINTS: tuple[int, ...] = metrics.STOP_POINTS
#: The session types the completion histogram sets side by side.
SESSION_TYPES: tuple[str, ...] = ("MOVIE", "SERIES")
#: How many worst segments are listed.
WORST_SEGMENTS = 10
_FULL = 100 * UNITS


def measure_settings(conn: Connection) -> MeasureSettings:
    """The settings the measures of ``conn``'s database follow (``moviedash settings``), read once per request."""
    return data_settings.load(conn)


def _plays_sql(dialect: Dialect, clause: str, settings: MeasureSettings, extra: Sequence[str] = ()) -> str:
    """The plays of a selection with their per-play unit columns (:data:`moviedash.metrics.PLAY_COLUMNS`)."""
    percentage = dialect.units("viewpercentage")
    running = dialect.integer("runningtime")
    minutes = f"COALESCE({dialect.integer('totalminuteswatched')}, 0)"
    completion = f"CASE WHEN {percentage} > {_FULL} THEN {_FULL} ELSE {percentage} END"
    # minutes / running time to 4 decimals, half away from zero, in integers (minutes of a play are >= 0).
    full_watch = f"CASE WHEN {running} > 0 THEN (2 * {minutes} * {UNITS} + {running}) / (2 * {running}) END"
    columns = ", ".join(extra)
    return (
        f"SELECT {columns + ', ' if columns else ''}{completion} AS completion, "
        f"{dialect.units('errorperception')} AS quality, {full_watch} AS full_watch "
        f"FROM movies WHERE {clause} AND {minutes} >= {int(settings.min_minutes)}"
    )


def _aggregate(part: metrics.Count | metrics.Sum, settings: MeasureSettings) -> str:
    return metrics.raw_aggregate(part).format(**settings.sql_values())


def _ratio_parts(ratio: Ratio, settings: MeasureSettings) -> list[str]:
    """The SQL totals of a ratio: numerator, denominator (1 without one) and plays."""
    denominator = "1" if ratio.denominator is None else _aggregate(ratio.denominator, settings)
    return [_aggregate(ratio.numerator, settings), denominator, _aggregate(ratio.counted, settings)]


def _bin_sql(distribution: Distribution) -> str:
    """The uniform bin of the distribution's integer expression (floor division, also below 0)."""
    if not distribution.bin_units:
        raise ValueError("only distributions of uniform bins (bin_units) are served")
    x, b = distribution.expression, distribution.bin_units
    return f"CASE WHEN {x} >= 0 THEN {x} / {b} ELSE -((-{x} + {b - 1}) / {b}) END"


def _engagement(name: str) -> Measure:
    measure = metrics.measure(name)
    if not isinstance(measure.aggregation, (Ratio, Distribution)):
        raise ValueError(f"{name} is not an engagement measure")
    return measure


def _int(value: Any) -> int:
    return 0 if value is None else int(value)


class Group(NamedTuple):
    """A measure's value for one group, the plays it comes from and, for a share, the plays counted."""

    value: float | None
    plays: int
    #: For a share of plays (:attr:`moviedash.metrics.Ratio.of_plays`): the plays in the numerator.
    hits: int | None = None


def from_rollups(conn: Connection, settings: MeasureSettings) -> bool:
    """Whether the rollups may answer: current, and built under ``settings`` (those stored in the database)."""
    status = rollups.status(conn)
    return status is not None and status.usable and settings == measure_settings(conn)


def grouped_values(
    conn: Connection, name: str, key: str, filters: Filters, dialect: Dialect, settings: MeasureSettings,
    extra: Sequence[str], *, dated: bool = False, condition: str = "", rollup_view: str | None = None,
) -> dict[Any, Group]:
    """:func:`_grouped_values`, cached per data version (:func:`moviedash.analysis.cached`).

    ``rollup_view``: the same grouping over the rollups (:data:`moviedash.rollups.VIEWS`: a
    resolution's periods, ``by:<dimension>``, ``all``), for a ratio measure (``md_engagement``) or a
    distribution with a rollup (``md_engagement_bins``) answered from the rollups when
    :func:`from_rollups`; ``None``: only the raw table can.
    """
    aggregation = _engagement(name).aggregation
    served_by_rollups = isinstance(aggregation, Ratio) or (
        isinstance(aggregation, Distribution) and aggregation.rollup is not None
    )
    use_rollups = rollup_view is not None and served_by_rollups and from_rollups(conn, settings)
    cache_key = ("engagement", name, key, filters, dialect, settings, tuple(extra), dated, condition, use_rollups)
    # Cached as a tuple of (group, Group) pairs, all immutable: a hit is a new dict, not a deep copy.
    if use_rollups:
        assert rollup_view is not None
        view = rollup_view
        return dict(cached(conn, cache_key, lambda: tuple(
            _rollup_values(conn, name, view, filters, dialect, settings).items()
        )))
    return dict(cached(conn, cache_key, lambda: tuple(_grouped_values(
        conn, name, key, filters, dialect, settings, extra, dated=dated, condition=condition
    ).items())))


def _key(row: Sequence[Any], width: int) -> Any:
    """A rollup row's group, as :func:`moviedash.rollups.engagement_rows` keys it."""
    return row[0] if width == 1 else (tuple(row[:width]) if width else 1)


def _rollup_values(
    conn: Connection, name: str, view: str, filters: Filters, dialect: Dialect, settings: MeasureSettings,
) -> dict[Any, Group]:
    """:func:`_grouped_values` from the rollups (one group per group of ``view`` with a play): a ratio
    from ``md_engagement``'s sums, a distribution's quantile from ``md_engagement_bins``' summed bins
    (:func:`moviedash.rollups.quantile_rows`: the default views' are stored at load)."""
    aggregation = _engagement(name).aggregation
    if isinstance(aggregation, Distribution):
        rows = rollups.quantile_rows(conn, name, view, filters, settings, dialect)
        check_deadline(conn)
        return {group: Group(value, plays) for group, value, plays in rows}
    if not isinstance(aggregation, Ratio):
        raise ValueError(f"{name} is not a ratio")
    columns = metrics.ratio_rollups(aggregation)
    if columns is None:
        raise ValueError(f"no rollup answers {name}")
    numerator, denominator, counted = columns
    summed = [numerator, counted] if denominator is None else [numerator, counted, denominator]
    out: dict[Any, Group] = {}
    keys = rollups.view_keys(view, dialect)
    width = len(keys)
    for row in rollups.engagement_rows(conn, keys, summed, filters, stored=view):
        k = _key(row, width)
        total, plays = _int(row[width]), _int(row[width + 1])
        below = 1 if denominator is None else _int(row[width + 2])
        out[k] = Group(aggregation.value(total, below, plays), plays, total if aggregation.of_plays else None)
    check_deadline(conn)
    return out


def _grouped_values(
    conn: Connection, name: str, key: str, filters: Filters, dialect: Dialect, settings: MeasureSettings,
    extra: Sequence[str], *, dated: bool = False, condition: str = "",
) -> dict[Any, Group]:
    """``{group: (value, plays)}`` of the measure ``name`` grouped by the SQL ``key`` over the plays.

    ``extra``: the raw columns the key reads (selected into the plays subquery).
    Groups with plays but no value have ``(None, 0)``.  ``condition``: a further
    SQL condition on the plays (code constants only).
    """
    aggregation = _engagement(name).aggregation
    clause, params = where(filters, dated=dated)
    plays = _plays_sql(dialect, f"{clause} AND {condition}" if condition else clause, settings, extra)
    out: dict[Any, Group] = {}
    if isinstance(aggregation, Ratio):
        parts = ", ".join(_ratio_parts(aggregation, settings))
        sql = f"SELECT {key} AS k, {parts} FROM ({plays}) AS p GROUP BY {key}"
        for k, numerator, denominator, counted in conn.execute(sql, params).fetchall():
            hits = _int(numerator) if aggregation.of_plays else None
            out[k] = Group(aggregation.value(_int(numerator), _int(denominator), _int(counted)), _int(counted), hits)
    elif isinstance(aggregation, Distribution):
        distribution = aggregation.under(settings)
        sql = (
            f"SELECT {key} AS k, {_bin_sql(distribution)} AS b, COUNT(*) FROM ({plays}) AS p "
            f"WHERE {distribution.expression} IS NOT NULL GROUP BY {key}, {_bin_sql(distribution)}"
        )
        counts: dict[Any, dict[int, int]] = {}
        for k, b, n in conn.execute(sql, params).fetchall():
            counts.setdefault(k, {})[int(b)] = int(n)
        # Groups with plays but no value: every group of the plays.
        for (k,) in conn.execute(f"SELECT DISTINCT {key} FROM ({plays}) AS p", params).fetchall():
            found = counts.get(k, {})
            out[k] = Group(distribution.bin_quantile(found), sum(found.values()))
    else:
        raise ValueError(f"{name} is not an engagement measure")
    check_deadline(conn)
    return out


def series(conn: Connection, name: str, query: SeriesQuery, dialect: Dialect | None = None,
           settings: MeasureSettings | None = None) -> pd.DataFrame:
    """An engagement measure per period: columns ``date``, ``values`` (``None`` where no play has a value).

    Every period from the first to the last event (or of the selected range) is present.
    """
    return series_detail(conn, name, query, dialect, settings)[["date", "values"]]


def series_detail(conn: Connection, name: str, query: SeriesQuery, dialect: Dialect | None = None,
                  settings: MeasureSettings | None = None) -> pd.DataFrame:
    """:func:`series` with the counts behind each value, for hover texts: ``plays`` (the plays
    with a value, 0 in a gap) and ``hits`` (for a share, the plays counted; else ``None``)."""
    dialect = dialect or dialect_of(conn)
    settings = settings or measure_settings(conn)
    key = dialect.bucket(query.resolution)
    groups = grouped_values(conn, name, key, query.filters, dialect, settings, ["event_date"], dated=True,
                            rollup_view=query.resolution)
    found = {str(k)[:10]: g for k, g in groups.items() if k is not None}
    frame = _filled({d: g.value for d, g in found.items()}, query.resolution, query.filters.start,
                    query.filters.end)
    aggregation = _engagement(name).aggregation
    empty = Group(None, 0, 0 if isinstance(aggregation, Ratio) and aggregation.of_plays else None)
    counts = [found.get(str(d), empty) for d in frame["date"]]
    frame["plays"] = pd.Series([g.plays for g in counts], dtype="int64")
    frame["hits"] = pd.Series([g.hits for g in counts], dtype=object)
    return frame


def _filled(values: dict[str, float | None], resolution: str, start: dt.date | None,
            end: dt.date | None) -> pd.DataFrame:
    if not values:
        return pd.DataFrame({"date": pd.Series([], dtype=object), "values": pd.Series([], dtype=object)})
    first = period_start(start, resolution) if start else dt.date.fromisoformat(min(values))
    last = period_start(end, resolution) if end else dt.date.fromisoformat(max(values))
    check_periods(first, last, resolution)
    labels = period_labels(first, last, resolution)
    return pd.DataFrame({
        "date": pd.Series(labels, dtype=object),
        "values": pd.Series([values.get(label) for label in labels], dtype=object),
    })


#: A dimension's value with the placeholders of a missing value as ``unknown`` (:mod:`.dimensions`).
_bucket = dimensions.bucket


def _order(key: str) -> tuple[bool, str]:
    return (key == dimensions.UNKNOWN, key)


def breakdown(conn: Connection, name: str, by: str, filters: Filters, dialect: Dialect | None = None,
              settings: MeasureSettings | None = None) -> pd.DataFrame:
    """The measure ``name`` per value of ``by``: columns ``<by>``, ``values``, ``plays``.

    One row per value with a play (missing values together as ``unknown``);
    ``plays`` counts the plays with a value.  Most plays first, then by value
    (``unknown`` last).
    """
    if by not in BREAKDOWNS:
        raise MoviedashError(f"by must be one of {', '.join(BREAKDOWNS)}", parameter="by")
    dialect = dialect or dialect_of(conn)
    settings = settings or measure_settings(conn)
    groups = grouped_values(conn, name, _bucket(by), filters, dialect, settings, [by], rollup_view=f"by:{by}")
    rows = sorted(((str(k), g.value, g.plays) for k, g in groups.items()), key=lambda r: (-r[2], _order(r[0])))
    return pd.DataFrame({
        by: pd.Series([r[0] for r in rows], dtype=object),
        "values": pd.Series([r[1] for r in rows], dtype=object),
        "plays": pd.Series([r[2] for r in rows], dtype="int64"),
    })


@dataclass(frozen=True)
class RankedTitle:
    """A title of an engagement top list."""

    title: str
    value: float
    plays: int


def toplist(conn: Connection, rank: str, num: int, min_plays: int, filters: Filters,
            dialect: Dialect | None = None, settings: MeasureSettings | None = None) -> pd.DataFrame:
    """The top ``num`` titles by ``rank`` (``completion``: at least ``min_plays`` plays with a value):
    columns ``title``, ``values``, ``plays``; highest value first, then plays, then the title as shown."""
    if rank not in RANKS:
        raise MoviedashError(f"rank must be one of {', '.join(RANKS)}", parameter="rank")
    dialect = dialect or dialect_of(conn)
    settings = settings or measure_settings(conn)
    needed = min_plays if rank == "completion" else 1
    if from_rollups(conn, settings):  # cached ranked (the titles' values would cost a deep copy per hit)
        key = ("engagement_top", rank, num, needed, filters, dialect, settings)
        return cached(conn, key, lambda: _ranked(_rollup_title_values(conn, rank, filters, needed), needed, num))
    groups = grouped_values(conn, rank, "title", filters, dialect, settings, ["title"], condition=HAS_TITLE)
    return _ranked(groups, needed, num)


def _ranked(groups: dict[Any, Group], needed: int, num: int) -> pd.DataFrame:
    """The top list of titles' ``groups``: the ``num`` best with a value from at least ``needed`` plays."""
    ranked = sorted(
        (RankedTitle(decode_escapes(str(title)), g.value, g.plays) for title, g in groups.items()
         if g.value is not None and g.plays >= needed),
        key=lambda r: (-r.value, -r.plays, r.title),
    )[:num]
    return pd.DataFrame({
        "title": pd.Series([r.title for r in ranked], dtype=object),
        "values": pd.Series([r.value for r in ranked], dtype=object),
        "plays": pd.Series([r.plays for r in ranked], dtype="int64"),
    })


def _rollup_title_values(conn: Connection, name: str, filters: Filters, needed: int) -> dict[Any, Group]:
    """The raw ``grouped_values`` by ``title`` of a top-list rank from the per-title rollups, for the
    stored titles with at least ``needed`` (and 1) plays counted: no other can be listed."""
    aggregation = _engagement(name).aggregation
    if not isinstance(aggregation, Ratio):
        raise ValueError(f"{name} is not a ratio")
    columns = metrics.ratio_rollups(aggregation)
    if columns is None:
        raise ValueError(f"no per-title rollup answers {name}")
    numerator, denominator, counted = columns
    ids, totals = rollups.title_engagement(conn, filters)
    plays = totals[counted]
    kept = plays >= max(needed, 1)
    names = rollups.title_names(conn, ids[kept].tolist())
    tops = totals[numerator][kept].tolist()
    bottoms = totals[denominator][kept].tolist() if denominator is not None else [1] * len(tops)
    out: dict[Any, Group] = {}
    for title_id, total, below, n in zip(ids[kept].tolist(), tops, bottoms, plays[kept].tolist(), strict=True):
        out[names[title_id]] = Group(aggregation.value(total, below, n), n, total if aggregation.of_plays else None)
    check_deadline(conn)
    return out


def _share(part: int, whole: int) -> float | None:
    return metrics.served(100 * part, whole, 2) if whole else None


def _completion_distribution(conn: Connection, filters: Filters, dialect: Dialect | None = None,
                            settings: MeasureSettings | None = None) -> pd.DataFrame:
    """Plays per 10 % bin of capped completion, movies and series side by side.

    Columns ``from``, ``to``, ``movie_plays``, ``series_plays``, ``movie_share``,
    ``series_share`` (% of that session type's plays, 2 decimals; ``None`` without plays).
    A capped or full play (100 %) is in the last bin, one below 0 % in the first.  From
    ``md_engagement_bins`` when :func:`from_rollups`, else from ``movies``.
    """
    dialect = dialect or dialect_of(conn)
    settings = settings or measure_settings(conn)
    counts = {t: [0] * COMPLETION_BINS for t in SESSION_TYPES}
    types = f"sessiontype IN ({', '.join('?' * len(SESSION_TYPES))})"
    if from_rollups(conn, settings):  # the summed histograms of the rows of each session type
        for sessiontype, summed in rollups.binned_rows(conn, "completion_histogram", filters, dialect):
            if sessiontype in counts:
                counts[sessiontype] = [int(n) for n in summed]
    else:
        clause, params = where(filters)
        plays = _plays_sql(dialect, clause, settings, ["sessiontype"])
        width, last = COMPLETION_HISTOGRAM.bin_units, COMPLETION_BINS - 1
        # As metrics.completion_bin: 100 % in the last bin, below 0 % in the first.
        bin_sql = (f"CASE WHEN completion >= {_FULL} THEN {last} WHEN completion < 0 THEN 0 "
                   f"ELSE completion / {width} END")
        sql = (
            f"SELECT sessiontype, {bin_sql} AS b, COUNT(*) FROM ({plays}) AS p "
            f"WHERE completion IS NOT NULL AND {types} GROUP BY sessiontype, {bin_sql}"
        )
        for sessiontype, b, n in conn.execute(sql, [*params, *SESSION_TYPES]).fetchall():
            counts[str(sessiontype)][int(b)] += int(n)
    check_deadline(conn)
    totals = {t: sum(c) for t, c in counts.items()}
    step = 100 // COMPLETION_BINS
    return pd.DataFrame([
        {
            "from": step * b, "to": step * (b + 1),
            "movie_plays": counts["MOVIE"][b], "series_plays": counts["SERIES"][b],
            "movie_share": _share(counts["MOVIE"][b], totals["MOVIE"]),
            "series_share": _share(counts["SERIES"][b], totals["SERIES"]),
        }
        for b in range(COMPLETION_BINS)
    ], columns=["from", "to", "movie_plays", "series_plays", "movie_share", "series_share"]).astype(
        {"movie_share": object, "series_share": object}
    )


def _stops(conn: Connection, title: str, filters: Filters, dialect: Dialect | None = None,
          settings: MeasureSettings | None = None) -> pd.DataFrame:
    """Where people stop in ``title``: the share of its plays still watching at 10 %, 20 %, … 100 %.

    Columns ``at``, ``values`` (% of the title's plays with a percentage whose capped
    completion is at least ``at``; 2 decimals, ``None`` without such plays), ``plays``.
    """
    dialect = dialect or dialect_of(conn)
    settings = settings or measure_settings(conn)
    if from_rollups(conn, settings):  # the title's plays per completion decile: those at or above each point
        deciles = rollups.title_deciles(conn, title, filters)
        row = [int(deciles.sum())] + [int(deciles[at * UNITS // rollups.DECILE_UNITS:].sum()) for at in STOP_POINTS]
    else:
        clause, params = where(filters)
        plays = _plays_sql(dialect, f"{clause} AND title = ?", settings)
        reached = ", ".join(
            f"COALESCE(SUM(CASE WHEN completion >= {at * UNITS} THEN 1 ELSE 0 END), 0)" for at in STOP_POINTS
        )
        row = conn.execute(
            f"SELECT COUNT(*), {reached} FROM ({plays}) AS p WHERE completion IS NOT NULL", [*params, title]
        ).fetchone()
    check_deadline(conn)
    total = int(row[0])
    return pd.DataFrame({
        "at": pd.Series(STOP_POINTS, dtype="int64"),
        "values": pd.Series([_share(int(n), total) for n in row[1:]], dtype=object),
        "plays": pd.Series([total] * len(STOP_POINTS), dtype="int64"),
    })


def _worst_segments(conn: Connection, resolution: str, filters: Filters, num: int = WORST_SEGMENTS,
                   dialect: Dialect | None = None, settings: MeasureSettings | None = None) -> pd.DataFrame:
    """Device × market × period segments with the largest excess of poor plays.

    With ``P`` poor of ``N`` plays with a quality value in the selection, a segment
    with ``poor`` of ``n`` has impact ``poor - n * P / N`` (the poor plays beyond the
    overall rate; ranked exactly on ``poor * N - n * P``).  Only positive impacts,
    largest first (then date, device, market; ``unknown`` last).  Columns ``device``,
    ``market``, ``date``, ``plays``, ``poor``, ``poor_share`` (%), ``impact`` (2 decimals).
    The segments' counts come from ``md_engagement`` when :func:`from_rollups`, else from ``movies``.
    """
    dialect = dialect or dialect_of(conn)
    settings = settings or measure_settings(conn)
    if from_rollups(conn, settings):  # the rollups' quality plays and poor plays per (device, market, period)
        found = [
            row for row in rollups.engagement_rows(
                conn, rollups.segment_keys(resolution, dialect), rollups.SEGMENT_COLUMNS, filters,
                stored=f"segments:{resolution}",
            ) if _int(row[3])
        ]
    else:
        values = settings.sql_values()
        clause, params = where(filters, dated=True)
        plays = _plays_sql(dialect, clause, settings, ["event_date", "device", "market"])
        sql = (
            f"SELECT {_bucket('device')}, {_bucket('market')}, {dialect.bucket(resolution)}, COUNT(*), "
            f"SUM(CASE WHEN quality {values['poor_op']} {values['poor']} THEN 1 ELSE 0 END) "
            f"FROM ({plays}) AS p WHERE quality IS NOT NULL GROUP BY 1, 2, 3"
        )
        found = conn.execute(sql, params).fetchall()
    segments = [(str(d), str(m), str(day)[:10], int(n), int(poor)) for d, m, day, n, poor in found]
    check_deadline(conn)
    big_n = sum(s[3] for s in segments)
    big_p = sum(s[4] for s in segments)
    ranked = sorted(
        ((poor * big_n - n * big_p, day, device, market, n, poor) for device, market, day, n, poor in segments
         if poor * big_n - n * big_p > 0),
        key=lambda r: (-r[0], r[1], _order(r[2]), _order(r[3])),
    )[:num]
    return pd.DataFrame(
        [{"device": device, "market": market, "date": day, "plays": n, "poor": poor,
          "poor_share": metrics.served(100 * poor, n, 2), "impact": metrics.served(excess, big_n, 2)}
         for excess, day, device, market, n, poor in ranked],
        columns=["device", "market", "date", "plays", "poor", "poor_share", "impact"],
    )


def _completion_by_quality(conn: Connection, filters: Filters, dialect: Dialect | None = None,
                          settings: MeasureSettings | None = None) -> pd.DataFrame:
    """Average completion per one-unit bin of ``errorperception`` (do poorer plays stop earlier?).

    Bins ``[b, b + 1)`` ascending, only those with a play that has both values.
    Columns ``from``, ``to``, ``values`` (average capped completion, 2 decimals), ``plays``.
    From ``md_engagement_bins`` when :func:`from_rollups`, else from ``movies``.
    """
    dialect = dialect or dialect_of(conn)
    settings = settings or measure_settings(conn)
    if from_rollups(conn, settings):  # the summed (bin, plays, completion units) of the selection
        rows = [
            (b, total, n) for _whole, *found in rollups.binned_rows(conn, "completion_by_quality", filters, dialect)
            for b, n, total in zip(*found, strict=True) if n
        ]
    else:
        clause, params = where(filters)
        plays = _plays_sql(dialect, clause, settings)
        unit_bin = _bin_sql(COMPLETION_BY_QUALITY)
        sql = (
            f"SELECT {unit_bin} AS b, COALESCE(SUM(completion), 0), COUNT(*) FROM ({plays}) AS p "
            f"WHERE {COMPLETION_BY_QUALITY.expression} IS NOT NULL AND completion IS NOT NULL "
            f"GROUP BY {unit_bin} ORDER BY 1"
        )
        rows = [(int(b), int(total), int(n)) for b, total, n in conn.execute(sql, params).fetchall()]
    check_deadline(conn)
    return pd.DataFrame(
        [{"from": b, "to": b + 1, "values": metrics.served(total, n * UNITS, 2), "plays": n} for b, total, n in rows],
        columns=["from", "to", "values", "plays"],
    )


def completion_distribution(
    conn: Connection, filters: Filters, dialect: Dialect | None = None,
    settings: MeasureSettings | None = None,
) -> pd.DataFrame:
    """:func:`_completion_distribution`, cached per data version (:func:`moviedash.analysis.cached`)."""
    dialect = dialect or dialect_of(conn)
    settings = settings or measure_settings(conn)
    key = ("completion_distribution", filters, dialect, settings)
    return cached(conn, key, lambda: _completion_distribution(conn, filters, dialect, settings))


def stops(
    conn: Connection, title: str, filters: Filters, dialect: Dialect | None = None,
    settings: MeasureSettings | None = None,
) -> pd.DataFrame:
    """:func:`_stops`, cached per data version (:func:`moviedash.analysis.cached`)."""
    dialect = dialect or dialect_of(conn)
    settings = settings or measure_settings(conn)
    key = ("stops", title, filters, dialect, settings)
    return cached(conn, key, lambda: _stops(conn, title, filters, dialect, settings))


def worst_segments(
    conn: Connection, resolution: str, filters: Filters, num: int = WORST_SEGMENTS,
    dialect: Dialect | None = None, settings: MeasureSettings | None = None,
) -> pd.DataFrame:
    """:func:`_worst_segments`, cached per data version (:func:`moviedash.analysis.cached`)."""
    dialect = dialect or dialect_of(conn)
    settings = settings or measure_settings(conn)
    key = ("worst_segments", resolution, filters, num, dialect, settings)
    return cached(conn, key, lambda: _worst_segments(conn, resolution, filters, num, dialect, settings))


def completion_by_quality(
    conn: Connection, filters: Filters, dialect: Dialect | None = None,
    settings: MeasureSettings | None = None,
) -> pd.DataFrame:
    """:func:`_completion_by_quality`, cached per data version (:func:`moviedash.analysis.cached`)."""
    dialect = dialect or dialect_of(conn)
    settings = settings or measure_settings(conn)
    key = ("completion_by_quality", filters, dialect, settings)
    return cached(conn, key, lambda: _completion_by_quality(conn, filters, dialect, settings))


#: The engagement page's key figures: (card name, measure, label).
KPI_MEASURES: tuple[tuple[str, str, str], ...] = (
    ("completion-rate", "completion_rate", "Completion rate"),
    ("poor-quality", "poor_quality", "Poor-quality plays"),
)
#: One group for the whole selection (an expression: PostgreSQL refuses a bare constant in GROUP BY).
_WHOLE = "CAST(1 AS integer)"


def overall(conn: Connection, name: str, filters: Filters, dialect: Dialect | None = None,
            settings: MeasureSettings | None = None) -> tuple[float | None, int]:
    """The measure ``name`` over the whole selection, and its plays with a value (``(None, 0)``: none)."""
    dialect = dialect or dialect_of(conn)
    settings = settings or measure_settings(conn)
    groups = grouped_values(conn, name, _WHOLE, filters, dialect, settings, [], dated=True, rollup_view="all")
    found = next(iter(groups.values()), Group(None, 0))
    return found.value, found.plays


def kpis(conn: Connection, filters: Filters) -> list[Kpi]:
    """Completion rate and poor-quality share of the selection, each against the previous period of equal length.

    The change is in percentage points (both are shares); ``—`` when either period has no play with a value.
    """
    whole = span(conn)
    start, end = filters.start or whole.first, filters.end or whole.last
    previous: Filters | None = None
    days = 0
    if start is not None and end is not None and start <= end:
        days = (end - start).days + 1
        length = dt.timedelta(days=days)
        previous = filters.with_range(start - length, start - dt.timedelta(days=1))
    out = []
    for card, name, label in KPI_MEASURES:
        now, _ = overall(conn, name, filters)
        before = overall(conn, name, previous)[0] if previous is not None else None
        value = "—" if now is None else f"{now:,.1f} %"
        if now is None or before is None:
            change, direction = "—", "none"
        else:
            points = round(now - before, 1)
            change = f"{points:+.1f} pp"
            direction = "flat" if points == 0 else ("up" if points > 0 else "down")
        out.append(Kpi(card, label, value, change, direction, comparison_text(days) if days and change != "—" else ""))
    return out
