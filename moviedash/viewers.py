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
``movies``.  Both give the same multiset of totals, so the same answers.  Cached per data version
(:func:`moviedash.analysis.cached`); user values are bound parameters only.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from . import metrics, rollups
from . import settings as data_settings
from .analysis import cached, play_condition, where
from .engagement import from_rollups
from .metrics import GINI_DIGITS, LORENZ_POINTS, TOP_SHARES, VIEWER_BINS, VIEWER_PERCENTILES, MeasureSettings
from .params import Filters
from .store import Connection, check_deadline

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


# --------------------------------------------------------------------------- #
# Concentration
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class TopShare:
    """The top ``percent`` % of viewers: how many they are, their minutes and share of all (%)."""

    percent: int
    viewers: int
    minutes: int
    share: float | None


@dataclass(frozen=True)
class Concentration:
    """How concentrated the selection's minutes are among its viewers (see the module's definitions)."""

    viewers: int
    minutes: int
    top: tuple[TopShare, ...]
    gini: float | None
    lorenz: tuple[tuple[float, float], ...]

    def as_json(self) -> dict[str, Any]:
        """The route's body: ``viewers``, ``minutes``, ``top_shares``, ``top_viewers``, ``gini``, ``lorenz``."""
        return {
            "viewers": self.viewers,
            "minutes": self.minutes,
            "top_shares": {str(t.percent): t.share for t in self.top},
            "top_viewers": {str(t.percent): t.viewers for t in self.top},
            "gini": self.gini,
            "lorenz": [[x, y] for x, y in self.lorenz],
        }

    def lorenz_frame(self) -> pd.DataFrame:
        """The Lorenz curve: columns ``viewers_share``, ``minutes_share`` (fractions 0..1)."""
        return pd.DataFrame({
            "viewers_share": pd.Series([x for x, _ in self.lorenz], dtype="float64"),
            "minutes_share": pd.Series([y for _, y in self.lorenz], dtype="float64"),
        })

    def top_frame(self) -> pd.DataFrame:
        """The top shares: columns ``top`` (% of viewers), ``viewers``, ``minutes``, ``share`` (% of minutes)."""
        return pd.DataFrame({
            "top": pd.Series([t.percent for t in self.top], dtype="int64"),
            "viewers": pd.Series([t.viewers for t in self.top], dtype="int64"),
            "minutes": pd.Series([t.minutes for t in self.top], dtype="int64"),
            "share": pd.Series([t.share for t in self.top], dtype=object),
        })


def top_count(percent: int, n: int) -> int:
    """The viewers in the top ``percent`` % of ``n``: ``ceil(percent * n / 100)`` (exact, in integers)."""
    return (percent * n + 99) // 100


def concentration_of(minutes: Any) -> Concentration:
    """The concentration of per-viewer ``minutes`` (any integer sequence, one value per viewer)."""
    ordered = np.sort(np.asarray(minutes, dtype=np.int64))
    n = int(ordered.size)
    # cumulative[i]: the minutes of the i lightest viewers (cumulative[0] = 0); int64 holds 10M events' sums.
    cumulative = np.concatenate(([0], np.cumsum(ordered))).tolist()
    total = int(cumulative[-1])
    if total <= 0:
        empty = tuple(TopShare(p, top_count(p, n), 0, None) for p in TOP_SHARES)
        return Concentration(n, total, empty, None, ())
    top = []
    for p in TOP_SHARES:
        k = top_count(p, n)
        heaviest = total - int(cumulative[n - k])
        top.append(TopShare(p, k, heaviest, metrics.served(100 * heaviest, total, 2)))
    values = ordered.tolist()
    steps = LORENZ_POINTS - 1
    lorenz = []
    for j in range(LORENZ_POINTS):
        # t = j * n / steps = i + rest / steps: y = (S(i) + rest / steps * m(i + 1)) / M, scaled by steps.
        i, rest = divmod(j * n, steps)
        above = values[i] if rest else 0
        lorenz.append((metrics.served(j, steps, 2),
                       metrics.served(steps * int(cumulative[i]) + rest * above, steps * total, GINI_DIGITS)))
    ranked = sum(rank * value for rank, value in enumerate(values, start=1))
    gini = metrics.served(2 * ranked - (n + 1) * total, n * total, GINI_DIGITS)
    return Concentration(n, total, tuple(top), gini, tuple(lorenz))


def concentration(conn: Connection, filters: Filters, settings: MeasureSettings | None = None) -> Concentration:
    """The concentration of the selection's minutes among its viewers."""
    return concentration_of(totals(conn, filters, settings).minutes)


# --------------------------------------------------------------------------- #
# Heavy viewers
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Bin:
    """A histogram bin ``[lower, upper]`` (``upper`` ``None``: open-ended), its viewers and their share (%)."""

    lower: int
    upper: int | None
    viewers: int
    share: float | None

    @property
    def label(self) -> str:
        if self.upper is None:
            return f"{self.lower:,}+"
        return f"{self.lower:,}" if self.upper == self.lower else f"{self.lower:,}–{self.upper:,}"


@dataclass(frozen=True)
class ViewerDistribution:
    """The distribution of plays or minutes per viewer: histogram and percentiles, counts only."""

    measure: str
    viewers: int
    bins: tuple[Bin, ...]
    #: ``p50``, ``p90``, ``p99``, ``max`` (``None`` without viewers).
    percentiles: tuple[tuple[str, int | None], ...]

    def as_json(self) -> dict[str, Any]:
        """The route's body: ``measure``, ``viewers``, ``histogram`` (rows of :meth:`frame`), ``percentiles``."""
        return {
            "measure": self.measure,
            "viewers": self.viewers,
            "histogram": [
                {"from": b.lower, "to": b.upper, "label": b.label, "viewers": b.viewers, "share": b.share}
                for b in self.bins
            ],
            "percentiles": dict(self.percentiles),
        }

    def frame(self) -> pd.DataFrame:
        """The histogram: columns ``from``, ``to`` (``None``: open-ended), ``label``, ``viewers``, ``share``."""
        return pd.DataFrame({
            "from": pd.Series([b.lower for b in self.bins], dtype="int64"),
            "to": pd.Series([b.upper for b in self.bins], dtype="Int64"),
            "label": pd.Series([b.label for b in self.bins], dtype=object),
            "viewers": pd.Series([b.viewers for b in self.bins], dtype="int64"),
            "share": pd.Series([b.share for b in self.bins], dtype=object),
        })


def nearest_rank(ordered: list[int], percent: int) -> int | None:
    """The nearest-rank ``percent``-th percentile of ascending ``ordered``: rank ``ceil(percent * n / 100)``."""
    if not ordered:
        return None
    return ordered[max(top_count(percent, len(ordered)), 1) - 1]


def distribution_of(measure: str, values: Any) -> ViewerDistribution:
    """The distribution of per-viewer ``values`` of ``measure`` (plays or minutes) over its declared bins."""
    edges = VIEWER_BINS[measure]
    ordered = np.sort(np.asarray(values, dtype=np.int64))
    n = int(ordered.size)
    # Each value's bin: the last lower edge at or below it (values below the first edge join the first bin).
    index = np.clip(np.searchsorted(np.asarray(edges, dtype=np.int64), ordered, side="right") - 1, 0, None)
    counts = np.bincount(index, minlength=len(edges)).tolist()
    bins = tuple(
        Bin(lower, edges[b + 1] - 1 if b + 1 < len(edges) else None, int(counts[b]),
            metrics.served(100 * int(counts[b]), n, 2) if n else None)
        for b, lower in enumerate(edges)
    )
    listed = ordered.tolist()
    percentiles = (*((f"p{p}", nearest_rank(listed, p)) for p in VIEWER_PERCENTILES),
                   ("max", listed[-1] if listed else None))
    return ViewerDistribution(measure, n, bins, percentiles)


def heavy_viewers(conn: Connection, measure: str, filters: Filters,
                  settings: MeasureSettings | None = None) -> ViewerDistribution:
    """The distribution of ``measure`` (plays or minutes) per viewer of the selection."""
    if measure not in VIEWER_BINS:
        raise ValueError(f"unknown per-viewer measure {measure!r}")
    found = totals(conn, filters, settings)
    return distribution_of(measure, found.plays if measure == "plays" else found.minutes)
