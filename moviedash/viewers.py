"""Concentration of viewing (Lorenz curve, Gini, top shares) and heavy viewers, for a selection (issue 15).

Who is a viewer here
    A distinct ``userid`` of the selection's plays (the shared filters and date range;
    ``min_minutes`` decides what a play is, as everywhere), leaving out

    - the ``exclude_users`` setting's ids (left out of every viewer count), and
    - the course's anonymous id (:data:`moviedash.settings.ANONYMOUS_USER`) always,
      whether or not it is excluded: it is many people, and counting it as one viewer
      would make it the heaviest "viewer" and distort every share below;
    - a NULL or empty ``userid`` (no one to attribute the viewing to).

    A viewer's **plays** are their plays in the selection; their **minutes** the sum of
    those plays' ``totalminuteswatched`` (NULL counts as 0; a negative value, which the
    loader refuses but a foreign database may hold, as 0 so that shares stay in 0..100 %).
    The minutes of the anonymous id and of excluded users are in no share: ``minutes``
    is the total of the viewers counted.

Concentration (``n`` viewers, ``M`` minutes, ``m(1) <= … <= m(n)`` sorted ascending)
    - **top p %**: the ``k = ceil(p * n / 100)`` viewers with the most minutes (at least one
      viewer when there is any); their share of ``M`` in %, 2 decimals.  Ties do not matter:
      tied viewers have the same minutes, so whichever of them is taken the sum is the same.
    - **Lorenz curve**: :data:`~moviedash.metrics.LORENZ_POINTS` points ``x = j / 100``
      (``j = 0 … 100``), ``y`` the share of ``M`` watched by the lightest ``x`` of the viewers,
      linear between the curve's corners ``(i / n, S(i) / M)`` (``S(i)`` the sum of the ``i``
      smallest): with ``t = j * n / 100`` and ``i = floor(t)``,
      ``y = (S(i) + (t - i) * m(i + 1)) / M``; so the curve has 101 points for 3 viewers or 3
      million.  ``y`` to 4 decimals.
    - **Gini**: the standard discrete formula ``G = 2 * Σ i * m(i) / (n * M) - (n + 1) / n``
      (``i = 1 … n``), i.e. the mean absolute difference over twice the mean; 0 when every
      viewer watched the same, ``(n - 1) / n`` when one viewer watched everything.  4 decimals.
    - With no viewer, or viewers but 0 minutes, the shares, the curve and the Gini are empty
      (``None`` / ``[]``): not an error.

Heavy viewers
    Per viewer, plays or minutes; a histogram over the declared bins
    (:data:`~moviedash.metrics.VIEWER_BINS`: ``[lower, next lower)``, the last open-ended) with
    each bin's viewers and their share of the viewers (%, 2 decimals), and the nearest-rank
    percentiles p50, p90, p99 (the value of rank ``ceil(p * n / 100)`` in ascending order) and
    the max.  Counts only: **no user id is ever returned** -- the SQL groups by ``userid`` but
    selects only the counts, so no id leaves the database.

Rounding: every share, ``y`` and the Gini are exact fractions of integer totals rounded half
away from zero (:func:`moviedash.metrics.served`), so SQLite and PostgreSQL serve the same
doubles.

Where the numbers come from: the per-viewer totals of a selection are a group-sum by user id of the
per-(day or month, dims) packed arrays of ``md_viewer_day``/``md_viewer_month``
(:mod:`moviedash.rollups.viewer_sums`, maintained by every load) when the rollups are current and
built under the settings in force; otherwise (a database without them, an older version, rows
appended behind moviedash's back: :func:`moviedash.rollups.status`) one ``GROUP BY userid`` over
``movies``.  Both give the same multiset of totals, so the same answers.  The unfiltered answers
are computed at load and stored (``md_results``: reading every monthly row is too slow for a first
view at 10M events).  Cached per data version (:func:`moviedash.analysis.cached`); user values are
bound parameters only.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from . import metrics, rollups
from . import settings as data_settings
from .analysis import cached, play_condition, where
from .concentration import (
    Bin,
    Concentration,
    TopShare,
    ViewerDistribution,
    concentration_of,
    distribution_of,
    nearest_rank,
    top_count,
)
from .engagement import from_rollups
from .metrics import VIEWER_BINS, MeasureSettings
from .params import Filters
from .store import Connection, check_deadline

__all__ = [
    "Bin", "Concentration", "TopShare", "Totals", "ViewerDistribution", "concentration", "concentration_of",
    "distribution_of", "heavy_viewers", "left_out", "nearest_rank", "top_count", "totals",
]

#: A play's minutes as summed per viewer: NULL and negative values count as 0.
_MINUTES = f"CASE WHEN COALESCE({metrics.MINUTES}, 0) > 0 THEN COALESCE({metrics.MINUTES}, 0) ELSE 0 END"


@dataclass(frozen=True)
class Totals:
    """Each viewer's plays and minutes in the selection (int64, read-only, in no meaningful order; never ids)."""

    plays: np.ndarray
    minutes: np.ndarray

    @classmethod
    def of(cls, plays: Any, minutes: Any) -> Totals:
        """From two equal-length integer sequences, made read-only (the value is cached and shared)."""
        arrays = [np.array(plays, dtype=np.int64), np.array(minutes, dtype=np.int64)]
        for array in arrays:
            array.flags.writeable = False
        return cls(*arrays)

    @property
    def viewers(self) -> int:
        return len(self.plays)


def left_out(settings: MeasureSettings) -> list[str]:
    """The user ids that are never viewers here: ``exclude_users`` and the anonymous id, sorted."""
    return sorted({*settings.exclude_users, data_settings.ANONYMOUS_USER})


def _totals(conn: Connection, filters: Filters, settings: MeasureSettings) -> Totals:
    clause, params = where(filters)
    play, play_params = play_condition(settings)
    excluded = left_out(settings)
    # Only the counts are selected: the ids stay in the database.
    sql = (
        f"SELECT COUNT(*), COALESCE(SUM({_MINUTES}), 0) FROM movies WHERE {clause} AND {play} "
        f"AND userid IS NOT NULL AND userid <> '' AND userid NOT IN ({', '.join('?' * len(excluded))}) "
        "GROUP BY userid"
    )
    rows = conn.execute(sql, [*params, *play_params, *excluded]).fetchall()
    check_deadline(conn)
    return Totals.of([int(p) for p, _ in rows], [int(m) for _, m in rows])


def _rollup_totals(conn: Connection, filters: Filters) -> Totals:
    plays, minutes = rollups.viewer_totals(conn, filters)
    check_deadline(conn)
    return Totals.of(plays, minutes)


def totals(conn: Connection, filters: Filters, settings: MeasureSettings | None = None) -> Totals:
    """Every viewer's plays and minutes in the selection, cached per data version: from the per-viewer
    rollups (``md_viewer_day``/``md_viewer_month``) when they are current and built under ``settings``
    (:func:`moviedash.engagement.from_rollups`), else from the raw table (:func:`_totals`)."""
    settings = settings or data_settings.load(conn)
    if from_rollups(conn, settings):
        return cached(conn, ("viewer_totals", filters, True), lambda: _rollup_totals(conn, filters))
    return cached(conn, ("viewer_totals", filters, settings), lambda: _totals(conn, filters, settings))


def _default(conn: Connection, filters: Filters, settings: MeasureSettings, name: str) -> Any:
    """The unfiltered answer ``name`` a load stored (:func:`moviedash.rollups.serve.default_viewers`), or ``None``
    (a filtered selection, stale rollups, other settings, or none stored)."""
    if not filters.is_default() or not from_rollups(conn, settings):
        return None
    return rollups.stored_result(conn, name)


def _concentration(conn: Connection, filters: Filters, settings: MeasureSettings) -> Concentration:
    stored = _default(conn, filters, settings, "viewers:concentration")
    if stored is not None:
        return Concentration.from_stored(stored)
    return concentration_of(totals(conn, filters, settings).minutes)


def concentration(conn: Connection, filters: Filters, settings: MeasureSettings | None = None) -> Concentration:
    """The concentration of the selection's minutes among its viewers, cached per data version."""
    settings = settings or data_settings.load(conn)
    return cached(conn, ("concentration", filters, settings), lambda: _concentration(conn, filters, settings))


def heavy_viewers(conn: Connection, measure: str, filters: Filters,
                  settings: MeasureSettings | None = None) -> ViewerDistribution:
    """The distribution of ``measure`` (plays or minutes) per viewer of the selection, cached per data version."""
    if measure not in VIEWER_BINS:
        raise ValueError(f"unknown per-viewer measure {measure!r}")
    settings = settings or data_settings.load(conn)
    chosen = settings
    return cached(conn, ("heavy_viewers", measure, filters, settings),
                  lambda: _heavy_viewers(conn, measure, filters, chosen))


def _heavy_viewers(conn: Connection, measure: str, filters: Filters, settings: MeasureSettings) -> ViewerDistribution:
    stored = _default(conn, filters, settings, f"viewers:{measure}")
    if stored is not None:
        return ViewerDistribution.from_json(stored)
    found = totals(conn, filters, settings)
    return distribution_of(measure, found.plays if measure == "plays" else found.minutes)
