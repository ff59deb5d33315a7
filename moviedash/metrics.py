"""The metric model: every measure of the events, declared once (the dimensions are in :mod:`.dimensions`).

A :class:`Measure` names an answer (``/data/<name>/``), says how people read
it (label, unit, the words of its chart) and how it aggregates.  Everything
else is derived from these declarations:

- the raw-table SQL of each dialect (:func:`raw_aggregate`, used by :mod:`moviedash.analysis`),
- the rollup query (:mod:`moviedash.rollups.serve`, by aggregation kind) and
  whether a rollup can answer at all (:func:`rollup_column`),
- the JSON routes, the OpenAPI paths and the query-parameter validation,
- the pipeline's chart registry, the figures API, the report's sections and
  the dashboard's time-series cards.

The aggregation kinds, in the spirit of a semantic layer's measures:

- :class:`Count` -- events; additive, so a rollup's per-(day, dims) counts are summed;
- :class:`Sum` -- the sum of an integer expression; additive likewise;
- :class:`DistinctUsers` -- distinct ``userid``; not additive, answered from the
  rollups' per-(day, dims) bitmaps of users (their union's size);
- :class:`Ratio` -- ``round(sum(numerator) / sum(denominator), digits)`` per period,
  ``None`` where the denominator is 0 (the components are additive);
- :class:`Distribution` -- counts of events per bin of an expression, for quantiles
  (additive per bin; a quantile is read off the summed bins).

Adding a measure is adding one :class:`Measure` to :data:`MEASURES`.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .dimensions import DIMENSIONS, DIMS, Dimension

#: Minutes watched as SQL reads them (a database made with sqlite's ``.import`` stores text).
MINUTES = "CAST(totalminuteswatched AS integer)"


@dataclass(frozen=True)
class Count:
    """The number of events; ``rollup``: the rollup column holding it per (day, dims)."""

    rollup: str | None = "plays"


@dataclass(frozen=True)
class Sum:
    """The sum of the integer SQL ``expression`` (0 for no events); ``rollup``: its rollup column."""

    expression: str
    rollup: str | None = None


@dataclass(frozen=True)
class DistinctUsers:
    """Distinct ``userid``; ``rollup``: the rollup column of serialized user bitmaps."""

    rollup: str | None = "users"


@dataclass(frozen=True)
class Ratio:
    """``sum(numerator) / sum(denominator)`` rounded to ``digits``; ``None`` where the denominator is 0.

    Both parts are additive, so a period's ratio is computed from its two totals
    (from the rollups or the raw table alike), never averaged from smaller ratios.
    """

    numerator: Count | Sum
    denominator: Count | Sum
    digits: int = 1

    def value(self, numerator: int, denominator: int) -> float | None:
        """The ratio of two totals: ``None`` for a zero denominator."""
        return None if denominator == 0 else round(numerator / denominator, self.digits)


@dataclass(frozen=True)
class Distribution:
    """Events counted per bin of the SQL ``expression``: bin ``i`` holds ``edges[i] <= value < edges[i + 1]``."""

    expression: str
    edges: tuple[float, ...]

    def quantile(self, counts: Sequence[int], q: float) -> float | None:
        """The lower edge of the bin holding the ``q``-quantile (nearest rank) of binned ``counts``.

        ``counts[i]`` is the number of events in bin ``i``; ``None`` without events.
        Bins add up across days and dims, so any selection's quantile comes from summed bins.
        """
        if len(counts) != len(self.edges) - 1 or not 0 < q <= 1:
            raise ValueError("one count per bin and 0 < q <= 1")
        total = sum(counts)
        if total == 0:
            return None
        rank = math.ceil(q * total)
        seen = 0
        for edge, count in zip(self.edges, counts, strict=False):
            seen += count
            if seen >= rank:
                return edge
        raise AssertionError("unreachable: the counts sum to total")


Additive = Count | Sum
Aggregation = Count | Sum | DistinctUsers | Ratio | Distribution


@dataclass(frozen=True)
class Measure:
    """One measure of the events, as every route, chart and report shows it.

    ``name`` is its route (``/data/<name>/``), chart and file name; ``label``
    its title; ``unit`` the word after a number ("1,234 unique users") and
    ``short_unit`` the one in sentences about it.  ``key`` names its chart in
    the dashboard (component ids, the URL parameter of its resolution) and
    ``colour`` the palette entry it is drawn in (:class:`moviedash.charts.Palette`).
    """

    name: str
    label: str
    unit: str
    short_unit: str
    aggregation: Aggregation
    #: The OpenAPI summary of its route.
    description: str
    #: The dashboard card's subtitle.
    subtitle: str
    key: str
    colour: str
    #: Hover text adds the value in hours (a measure of minutes).
    hours: bool = False

    @property
    def chart_words(self) -> str:
        """How texts name its chart: ``unique-users``."""
        return self.label.lower().replace(" ", "-")


#: Every measure served per period, in the order of the routes, the dashboard and the report.
MEASURES: tuple[Measure, ...] = (
    Measure(
        name="unique_users", label="Unique users", unit="unique users", short_unit="users",
        aggregation=DistinctUsers(), description="Distinct users per period.",
        subtitle="Distinct viewers per period", key="users", colour="users",
    ),
    Measure(
        name="minutes_watched", label="Minutes watched", unit="minutes", short_unit="minutes",
        aggregation=Sum(MINUTES, rollup="minutes"), description="The sum of minutes watched per period.",
        subtitle="Total minutes watched per period", key="minutes", colour="minutes", hours=True,
    ),
    Measure(
        name="plays", label="Plays", unit="plays", short_unit="plays",
        aggregation=Count(rollup="plays"), description="The number of plays (events) per period.",
        subtitle="Viewing events per period", key="plays", colour="bars",
    ),
)

#: The measures by name.
BY_NAME: dict[str, Measure] = {m.name: m for m in MEASURES}
#: The time-series measures' names (routes ``/data/<name>/``, charts, figures API).
SERIES: tuple[str, ...] = tuple(BY_NAME)
#: The dashboard keys of the time-series charts (URL parameters of their resolutions).
SERIES_KEYS: tuple[str, ...] = tuple(m.key for m in MEASURES)

__all__ = [
    "BY_NAME", "DIMENSIONS", "DIMS", "MEASURES", "MINUTES", "SERIES", "SERIES_KEYS", "Additive", "Aggregation",
    "Count", "Dimension", "DistinctUsers", "Distribution", "Measure", "Ratio", "Sum", "measure", "raw_aggregate",
    "rollup_column",
]


def measure(name: str) -> Measure:
    """The measure called ``name``; ``KeyError`` if none is declared."""
    return BY_NAME[name]


def raw_aggregate(aggregation: Additive | DistinctUsers) -> str:
    """The SQL aggregate over ``movies`` of an additive or distinct-count aggregation (the same on every dialect)."""
    if isinstance(aggregation, Count):
        return "COUNT(*)"
    if isinstance(aggregation, Sum):
        return f"COALESCE(SUM({aggregation.expression}), 0)"
    return "COUNT(DISTINCT userid)"


def rollup_column(aggregation: Aggregation) -> str | None:
    """The rollup column answering ``aggregation``, or ``None`` when only the raw table can."""
    if isinstance(aggregation, (Count, Sum, DistinctUsers)):
        return aggregation.rollup
    return None


def _check(measures: tuple[Measure, ...]) -> None:
    names = [m.name for m in measures]
    keys = [m.key for m in measures]
    if len(set(names)) != len(names) or len(set(keys)) != len(keys):
        raise ValueError("measure names and keys must be unique")
    # Keys share the dashboard's query string, names the /data/ routes: neither may shadow another parameter.
    reserved = {"toplist", "top", "rank", "num", "start", "end", "resolution", "format", "theme", *DIMS}
    clash = set(names + keys) & reserved
    if clash:
        raise ValueError(f"measure names and keys must not be route or parameter names: {sorted(clash)}")


_check(MEASURES)
