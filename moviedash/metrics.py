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

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

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


def round_ratio(numerator: int, denominator: int, digits: int) -> int:
    """``numerator / denominator`` rounded half away from zero to ``digits``, as an integer of ``10**-digits``.

    Exact (integers only), so every backend and the rollups serve the same number.
    """
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    scaled = abs(numerator) * 10**digits
    rounded = (2 * scaled + denominator) // (2 * denominator)
    return -rounded if numerator < 0 else rounded


def served(numerator: int, denominator: int, digits: int) -> float:
    """The number served for ``numerator / denominator``: the double nearest the rounded decimal."""
    return round_ratio(numerator, denominator, digits) / 10**digits


@dataclass(frozen=True)
class Ratio:
    """``multiplier * sum(numerator) / (sum(denominator) * divisor)`` rounded to ``digits``; ``None`` without plays.

    Both parts are additive integers, so a period's ratio is computed from its
    totals (from the rollups or the raw table alike), never averaged from smaller
    ratios, and rounded exactly (:func:`round_ratio`: half away from zero).
    ``denominator`` may be ``None`` (a sum in fixed units, e.g. full watches in
    0.0001 units with ``divisor=10000``).  ``plays`` counts the plays the value is computed from
    (``None`` where it is 0; by default the denominator).
    """

    numerator: Count | Sum
    denominator: Count | Sum | None
    digits: int = 1
    multiplier: int = 1
    divisor: int = 1
    plays: Count | Sum | None = None
    #: The numerator counts plays, so the value is a share of them (shown as "412 of 606 plays").
    of_plays: bool = False

    def value(self, numerator: int, denominator: int, plays: int | None = None) -> float | None:
        """``multiplier * numerator / (denominator * divisor)``, exactly rounded; ``None`` for no plays.

        ``denominator`` is 1 for a ratio without one (a sum in fixed units).
        """
        if denominator == 0 or plays == 0:
            return None
        return served(int(numerator) * self.multiplier, int(denominator) * self.divisor, self.digits)

    @property
    def counted(self) -> Count | Sum:
        """What counts the plays the value comes from (the breakdowns' ``plays``)."""
        if self.plays is not None:
            return self.plays
        if self.denominator is None:
            raise ValueError("a ratio without a denominator needs plays")
        return self.denominator


@dataclass(frozen=True)
class Distribution:
    """Events counted per bin of the SQL ``expression``, and the ``q``-quantile read off them.

    With ``edges``, bin ``i`` holds ``edges[i] <= value < edges[i + 1]``.  With
    ``bin_units`` instead, the bins are uniform: ``expression`` is a 4-decimal
    integer (0.0001 units) and bin ``b`` holds ``b * bin_units <= value < (b + 1) * bin_units``
    (``bin_units=100``: 0.01-wide bins).  ``descending`` counts ranks from the top
    (a "90th percentile" of a measure where higher is better).
    """

    expression: str
    edges: tuple[float, ...] = ()
    q: float = 0.5
    bin_units: int = 0
    descending: bool = False
    #: Ranks follow ``errorperception``'s configured direction (descending when higher is better).
    directed: bool = False
    #: The rollup column of its per-(day, dims) bin counts (sparse, ``bin_units`` wide), or ``None``.
    rollup: str | None = None

    def bin_of(self, units: Any) -> Any:
        """The uniform bin of 4-decimal integer ``units`` (an int or an int64 array): floor division, also below 0."""
        if not self.bin_units:
            raise ValueError("only distributions of uniform bins (bin_units) have bins")
        return units // self.bin_units

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

    def bin_quantile(self, counts: Mapping[int, int]) -> float | None:
        """The ``q``-quantile (nearest rank) of uniform-bin ``counts`` (``{bin: events}``): its bin's lower edge.

        Exact to one bin: the true nearest-rank value lies in ``[answer, answer + width)``.
        ``None`` without events.
        """
        total = sum(counts.values())
        if total == 0:
            return None
        rank = self.rank(total)
        seen = 0
        for b in sorted(counts, reverse=self.descending):
            seen += counts[b]
            if seen >= rank:
                return self.bin_value(b)
        raise AssertionError("unreachable: the counts sum to total")

    def rank(self, total: int) -> int:
        """The nearest rank of the ``q``-quantile of ``total`` events (at least 1): ``ceil(q * total)``,
        in integers (``q`` taken to 4 decimals), so no float rounding can move it."""
        q_units = round(self.q * 10_000)
        return (q_units * total + 9_999) // 10_000

    def bin_value(self, b: int) -> float:
        """The value served for uniform bin ``b``: its lower edge, to the decimals of the bin width."""
        digits = len(str(10_000 // self.bin_units)) - 1 if self.bin_units else 0
        return served(b * self.bin_units, 10_000, digits)

    def under(self, settings: MeasureSettings) -> Distribution:
        """The distribution as ``settings`` rank it: a :attr:`directed` one counts from the top when a
        higher ``errorperception`` is better."""
        if self.directed and not settings.errorperception_higher_is_worse:
            return dataclasses.replace(self, descending=not self.descending)
        return self


@dataclass(frozen=True)
class FirstSeenSplit:
    """Distinct viewers per period split by their first-seen day over all data (:mod:`moviedash.audience`):
    ``new`` (first seen in the period) and ``returning`` (before it); they add up to :class:`DistinctUsers`.
    ``rollup``: the table of per-day bitmaps of the users first seen that day."""

    rollup: str | None = "md_first_day"


@dataclass(frozen=True)
class Retention:
    """Cohorts of viewers by the ``period`` (week or month) of their first-seen day over all data, and
    per later period the share of each cohort active under the filters (:mod:`moviedash.audience`)."""

    digits: int = 2
    rollup: str | None = "md_first_day"


Additive = Count | Sum
Aggregation = Count | Sum | DistinctUsers | Ratio | Distribution | FirstSeenSplit | Retention


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

#: 4-decimal integer units: every real value is taken to ``floor(value * 10000 + 0.5)`` (see :data:`ROUNDING`).
UNITS = 10_000
#: How every engagement and quality value is computed and rounded (also the OpenAPI text).
ROUNDING = (
    "Each real value (viewpercentage, errorperception, minutes ÷ running time) is first taken to 4 decimals "
    "as an integer (floor(value × 10000 + 0.5); a full-watch share exactly, half away from zero); sums and "
    "counts are integers; the answer is the exact fraction of two integer totals rounded half away from zero "
    "to the measure's decimals. Quantiles are nearest-rank over 0.01-wide bins (the lower edge of the bin; "
    "the exact value is less than 0.01 above it). The same on every backend, from rollups or the raw table."
)


def quantise(value: float) -> int:
    """A value taken to 4 decimals, as an integer of 0.0001 units (the SQL does the same in double)."""
    return math.floor(float(value) * UNITS + 0.5)


@dataclass(frozen=True)
class MeasureSettings:
    """The data-quality rules the engagement and quality measures follow (issue 14's database settings).

    Declared once here; :mod:`moviedash.settings` stores them in the database
    (``moviedash settings set``) and reads them back as one of these
    (:func:`moviedash.settings.load`).  The measure SQL takes it (:meth:`sql_values`).

    - ``min_minutes``: events shorter than this are not plays (an event of exactly it is one);
    - ``watched_threshold``: a play at or above it (capped completion, %) is completed;
    - ``poor_quality_threshold`` and ``errorperception_higher_is_worse``: a play is poor when
      its ``errorperception`` is strictly above the threshold (below it when higher is better);
    - ``exclude_users``: left out of viewer counts only; their plays count in these measures;
    - ``binge_min_episodes`` and ``binge_max_gap_minutes``: what a binge session is
      (:mod:`moviedash.binge`): at least this many episodes of one show, each starting at
      most this many minutes after the previous one ended.
    """

    min_minutes: int = 0
    watched_threshold: float = 90.0
    poor_quality_threshold: float = 7.0
    errorperception_higher_is_worse: bool = True
    exclude_users: frozenset[str] = frozenset()
    binge_min_episodes: int = 3
    binge_max_gap_minutes: int = 120

    def is_play_default(self) -> bool:
        """True when every event is a play and every user a viewer (the raw SQL needs no condition)."""
        return self.min_minutes == 0 and not self.exclude_users

    def sql_values(self) -> dict[str, str]:
        """The values formatted into the measure SQL: integers and an operator, never user text."""
        return {
            "min_minutes": str(int(self.min_minutes)),
            "watched": str(quantise(self.watched_threshold)),
            "poor": str(quantise(self.poor_quality_threshold)),
            "poor_op": ">" if self.errorperception_higher_is_worse else "<",
        }


#: The defaults: today's answers, unchanged.
DEFAULT_SETTINGS = MeasureSettings()


def _has(column: str) -> Sum:
    """Plays with a value in the per-play unit column ``column`` (:data:`PLAY_COLUMNS`); rollup ``<column>_plays``."""
    return Sum(f"CASE WHEN {column} IS NOT NULL THEN 1 ELSE 0 END", rollup=f"{column}_plays")


#: The per-play columns the engagement measures' expressions read (``{watched}`` etc. are
#: :meth:`MeasureSettings.sql_values`): ``completion`` (capped at 100 %), ``quality`` and
#: ``full_watch`` (minutes ÷ running time) in 0.0001 units, NULL without a value.
PLAY_COLUMNS: tuple[str, ...] = ("completion", "quality", "full_watch")

#: The engagement and quality measures (issue 14), served per period, by dimension and in
#: the top list; the overview's cards show :data:`MEASURES` only.
ENGAGEMENT: tuple[Measure, ...] = (
    Measure(
        name="completion", label="Average completion", unit="% watched", short_unit="%",
        aggregation=Ratio(Sum("completion", rollup="completion_units"), _has("completion"), digits=2,
                          divisor=UNITS),
        description="Average completion in % of plays with a viewpercentage, each capped at 100 (2 decimals).",
        subtitle="Average % of a title watched per play", key="completion", colour="minutes",
    ),
    Measure(
        name="completion_rate", label="Completion rate", unit="% completed", short_unit="%",
        aggregation=Ratio(Sum("CASE WHEN completion >= {watched} THEN 1 ELSE 0 END", rollup="completed"),
                          _has("completion"),
                          digits=2, multiplier=100, of_plays=True),
        description="% of plays with a viewpercentage whose capped completion is at or above the watched "
        "threshold (2 decimals).",
        subtitle="Share of plays watched to the end", key="completion_rate", colour="users",
    ),
    Measure(
        name="full_watches", label="Full watches", unit="full watches", short_unit="full watches",
        aggregation=Ratio(Sum("full_watch", rollup="full_watch_units"), None, digits=2, divisor=UNITS,
                          plays=_has("full_watch")),
        description="Σ minutes watched ÷ running time over plays with a running time above 0 (rewatching "
        "counts; 2 decimals).",
        subtitle="Minutes watched in whole titles", key="full_watches", colour="bars",
    ),
    Measure(
        name="quality", label="Average quality score", unit="error perception", short_unit="score",
        aggregation=Ratio(Sum("quality", rollup="quality_units"), _has("quality"), digits=3, divisor=UNITS),
        description="Average errorperception of plays with a value (3 decimals).",
        subtitle="Average error perception per play", key="quality", colour="minutes",
    ),
    Measure(
        name="poor_quality", label="Poor-quality plays", unit="% poor", short_unit="%",
        aggregation=Ratio(Sum("CASE WHEN quality {poor_op} {poor} THEN 1 ELSE 0 END", rollup="poor_plays"),
                          _has("quality"),
                          digits=2, multiplier=100, of_plays=True),
        description="% of plays with an errorperception beyond the poor threshold (2 decimals).",
        subtitle="Share of plays above the poor threshold", key="poor_quality", colour="users",
    ),
    Measure(
        name="quality_p90", label="Quality score, 90th percentile", unit="error perception", short_unit="score",
        aggregation=Distribution("quality", q=0.9, bin_units=100, directed=True, rollup="quality_bins"),
        description="The 90th percentile of errorperception, nearest rank over 0.01-wide bins (2 decimals).",
        subtitle="The level 90 % of plays are at or better than", key="quality_p90", colour="bars",
    ),
)



def ratio_rollups(ratio: Ratio) -> tuple[str, str | None, str] | None:
    """The rollup columns of a ratio's numerator, denominator (``None`` without one) and plays, or ``None``."""
    parts = (ratio.numerator, ratio.denominator, ratio.counted)
    if any(p is not None and p.rollup is None for p in parts):
        return None
    numerator, denominator, counted = (None if p is None else p.rollup for p in parts)
    assert numerator is not None and counted is not None
    return numerator, denominator, counted


#: The additive per-(day, dims) rollup columns of the engagement ratios, in declaration order
#: (the integer sums a rollup keeps so that any selection's ratio is exact).
ENGAGEMENT_ROLLUPS: tuple[str, ...] = tuple(dict.fromkeys(
    column
    for m in ENGAGEMENT if isinstance(m.aggregation, Ratio)
    for column in (ratio_rollups(m.aggregation) or ()) if column is not None
))

#: The engagement measures the top list ranks titles by (``rank=completion|full_watches``).
TITLE_RANKS: tuple[str, ...] = ("completion", "full_watches")
#: The per-title rollup columns of those ranks' ratios (numerators, denominators, play counts),
#: in declaration order: what a rollup keeps per (period, dims, title) so that any selection's
#: per-title value is exact.
TITLE_ROLLUPS: tuple[str, ...] = tuple(dict.fromkeys(
    column
    for m in ENGAGEMENT if m.name in TITLE_RANKS and isinstance(m.aggregation, Ratio)
    for column in (ratio_rollups(m.aggregation) or ()) if column is not None
))
#: The points of the "where people stop" curve: % of a title's plays whose capped completion is at least each.
STOP_POINTS: tuple[int, ...] = tuple(range(10, 101, 10))
#: The completion histogram (``/data/completion/distribution/``): plays per 10 % bin of capped completion,
#: ``bin_units`` (0.0001 units) wide; 100 % is in the last bin and a value below 0 % in the first.
COMPLETION_BINS = 10
COMPLETION_HISTOGRAM = Distribution("completion", bin_units=100 * UNITS // COMPLETION_BINS, rollup="completion_bins")
#: Completion by quality (``/data/quality/completion/``): per one-unit bin of ``errorperception``, the
#: plays with both values and the sum of their capped completion (0.0001 units).
COMPLETION_BY_QUALITY = Distribution("quality", bin_units=UNITS, rollup="quality_completion")


def completion_bin(units: Any) -> Any:
    """The completion histogram's bin of capped completion ``units`` (an int or an int64 array): 0 … 9."""
    width = COMPLETION_HISTOGRAM.bin_units
    if isinstance(units, int):
        return min(max(units, 0) // width, COMPLETION_BINS - 1)
    return (units.clip(0, None) // width).clip(None, COMPLETION_BINS - 1)


#: Concentration of viewing (issue 15, :mod:`moviedash.viewers`): the shares of minutes watched by the
#: top 1 %, 10 % and 50 % of viewers (top k = ceil(p * n / 100) viewers), served in % with 2 decimals.
TOP_SHARES: tuple[int, ...] = (1, 10, 50)
#: The Lorenz curve's points: x = 0, 1/100, … 1 of the viewers (bounded whatever the number of viewers).
LORENZ_POINTS = 101
#: Decimals of the Lorenz curve's y values and of the Gini coefficient (exact, :func:`round_ratio`).
GINI_DIGITS = 4
#: Heavy viewers: the per-viewer measures (``/data/viewers/?measure=…``) and their histograms' bins,
#: each bin ``[lower, next lower)`` and the last open-ended (declared here, the same in every output).
VIEWER_MEASURES: tuple[str, ...] = ("plays", "minutes")
VIEWER_BINS: dict[str, tuple[int, ...]] = {
    "plays": (1, 2, 3, 6, 11, 21, 51, 101),
    "minutes": (0, 30, 60, 120, 300, 600, 1200, 3000, 6000),
}
#: The nearest-rank percentiles of plays and minutes per viewer (and ``max``).
VIEWER_PERCENTILES: tuple[int, ...] = (50, 90, 99)


#: The rollup columns of binned counts (``md_engagement_bins``): the distributions' sparse bins,
#: in declaration order, then the completion histogram and completion by quality.
BIN_ROLLUPS: tuple[str, ...] = tuple(dict.fromkeys([
    *(m.aggregation.rollup for m in ENGAGEMENT if isinstance(m.aggregation, Distribution) and m.aggregation.rollup),
    str(COMPLETION_HISTOGRAM.rollup), str(COMPLETION_BY_QUALITY.rollup),
]))

#: The audience measures (issue 15), each with its own route (``/data/<name>/``) and chart on the
#: ``/audience`` page; not per-period values of one number, so outside :data:`ALL_MEASURES`.
AUDIENCE: tuple[Measure, ...] = (
    Measure(
        name="audience", label="New and returning viewers", unit="viewers", short_unit="viewers",
        aggregation=FirstSeenSplit(),
        description="Viewers per period split into new (first seen in the whole database in that period) and "
        "returning (first seen earlier); new + returning = unique users.",
        subtitle="Viewers first seen in the period, and those who came back", key="audience", colour="users",
    ),
    Measure(
        name="cohorts", label="Cohort retention", unit="% active", short_unit="%",
        aggregation=Retention(),
        description="Viewers grouped by the week or month they were first seen (over all data); for each cohort, "
        "its size and the members active in each later period under the filters, and their share (2 decimals).",
        subtitle="Share of each cohort active in later periods", key="cohorts", colour="users",
    ),
)

#: Every measure served at ``/data/<name>/``.
ALL_MEASURES: tuple[Measure, ...] = (*MEASURES, *ENGAGEMENT)
#: The engagement measures' names.
ENGAGEMENT_SERIES: tuple[str, ...] = tuple(m.name for m in ENGAGEMENT)

#: The measures by name.
BY_NAME: dict[str, Measure] = {m.name: m for m in ALL_MEASURES}
#: The overview's time-series measures' names (its charts, the report, the figures API).
SERIES: tuple[str, ...] = tuple(m.name for m in MEASURES)
#: The dashboard keys of the time-series charts (URL parameters of their resolutions).
SERIES_KEYS: tuple[str, ...] = tuple(m.key for m in MEASURES)

__all__ = [
    "ALL_MEASURES", "AUDIENCE", "BIN_ROLLUPS", "FirstSeenSplit", "Retention",
    "BY_NAME", "COMPLETION_BINS", "COMPLETION_BY_QUALITY", "COMPLETION_HISTOGRAM",
    "DEFAULT_SETTINGS", "DIMENSIONS", "DIMS", "ENGAGEMENT", "ENGAGEMENT_ROLLUPS", "GINI_DIGITS", "LORENZ_POINTS",
    "TOP_SHARES", "VIEWER_BINS", "VIEWER_MEASURES", "VIEWER_PERCENTILES",
    "ENGAGEMENT_SERIES", "MEASURES",
    "MINUTES", "PLAY_COLUMNS", "ROUNDING", "SERIES", "SERIES_KEYS", "STOP_POINTS", "TITLE_RANKS", "TITLE_ROLLUPS",
    "UNITS", "Additive", "Aggregation", "Count",
    "Dimension", "DistinctUsers", "Distribution", "Measure", "MeasureSettings", "Ratio", "Sum", "measure", "quantise",
    "completion_bin", "ratio_rollups", "raw_aggregate", "rollup_column", "round_ratio", "served",
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


_check((*ALL_MEASURES, *AUDIENCE))
