"""The arithmetic of concentration and heavy viewers (issue 15), over per-viewer totals: no database.

Pure functions of one integer per viewer (:func:`concentration_of`: minutes; :func:`distribution_of`:
plays or minutes) and the answers they make, with their JSON and frames.  The definitions (who is a
viewer, top shares, the Lorenz curve, the Gini, the bins and percentiles) are in :mod:`moviedash.viewers`
and docs/series-and-audience.md.  Here, below the rollups, so that a load can store the unfiltered
answers (:func:`moviedash.rollups.serve.default_viewers`) with the same code that serves the others.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from . import metrics
from .metrics import GINI_DIGITS, LORENZ_POINTS, TOP_SHARES, VIEWER_BINS, VIEWER_PERCENTILES


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

    def stored(self) -> dict[str, Any]:
        """:meth:`as_json` plus the top viewers' minutes: what a load stores (:meth:`from_stored` reads it)."""
        return {**self.as_json(), "top_minutes": {str(t.percent): t.minutes for t in self.top}}

    @classmethod
    def from_stored(cls, body: dict[str, Any]) -> Concentration:
        """The answer :meth:`stored` kept (the unfiltered one is stored at load)."""
        top = tuple(
            TopShare(p, int(body["top_viewers"][str(p)]), int(body["top_minutes"][str(p)]), body["top_shares"][str(p)])
            for p in TOP_SHARES
        )
        return cls(int(body["viewers"]), int(body["minutes"]), top, body["gini"],
                   tuple((float(x), float(y)) for x, y in body["lorenz"]))

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
    cumulative = np.concatenate(([0], np.cumsum(ordered)))
    total = int(cumulative[-1])
    if total <= 0:
        empty = tuple(TopShare(p, top_count(p, n), 0, None) for p in TOP_SHARES)
        return Concentration(n, total, empty, None, ())
    top = []
    for p in TOP_SHARES:
        k = top_count(p, n)
        heaviest = total - int(cumulative[n - k])
        top.append(TopShare(p, k, heaviest, metrics.served(100 * heaviest, total, 2)))
    steps = LORENZ_POINTS - 1
    lorenz = []
    for j in range(LORENZ_POINTS):
        # t = j * n / steps = i + rest / steps: y = (S(i) + rest / steps * m(i + 1)) / M, scaled by steps.
        i, rest = divmod(j * n, steps)
        above = int(ordered[i]) if rest else 0
        lorenz.append((metrics.served(j, steps, 2),
                       metrics.served(steps * int(cumulative[i]) + rest * above, steps * total, GINI_DIGITS)))
    ranks = np.arange(1, n + 1, dtype=np.int64)
    # Σ i * m(i): in int64 while it cannot overflow (n * M bounds it), else in Python's exact integers.
    if n * total < 2**62:
        ranked = int(ranks @ ordered)
    else:
        ranked = sum(r * v for r, v in zip(ranks.tolist(), ordered.tolist(), strict=True))
    gini = metrics.served(2 * ranked - (n + 1) * total, n * total, GINI_DIGITS)
    return Concentration(n, total, tuple(top), gini, tuple(lorenz))




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

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> ViewerDistribution:
        """The answer :meth:`as_json` made (the unfiltered ones are stored at load)."""
        bins = tuple(Bin(int(b["from"]), None if b["to"] is None else int(b["to"]), int(b["viewers"]), b["share"])
                     for b in body["histogram"])
        return cls(str(body["measure"]), int(body["viewers"]), bins, tuple(body["percentiles"].items()))

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
