"""A pure-Python reference for the engagement and quality measures (issue 14).

Plain Python over a list of events, each a dict keyed by the course's 13 column
names (missing keys are NULL) or a tuple in :data:`COLUMNS` order.  No pandas, no
numpy, no product code: the SQL and rollup answers are compared with this, so it
must not share their mistakes.  Every function quotes the definition it follows.

What a play is (the data-quality settings, :class:`Settings`):

* ``min_minutes`` (default 0): "events shorter than this are not plays (they
  still count in minutes watched)".  An event of exactly ``min_minutes`` is a
  play.  A NULL ``totalminuteswatched`` counts as 0 minutes.
* ``watched_threshold`` (default 90 %): "a play at or above it is completed".
* ``exclude_users``: "user ids left out of viewer counts and audience measures
  and reported as anonymous plays".  Their plays still count in the play
  measures (completion, quality, full watches) and in minutes watched.
* ``viewpercentage`` above 100 "is capped at 100 for completion, and the number
  of capped rows is reported" (:func:`capped_rows`).
* ``poor_quality_threshold`` (default 7.0) and ``errorperception_higher_is_worse``
  (default true): a play is poor when its value is strictly above the threshold
  (strictly below it when higher is better).

Periods: daily, weekly (labelled by the Monday) or monthly (by the 1st), every
period from the selection's first to its last event (or of ``start``..``end``
when given) present, ``None`` where the period has no play with a value; an
empty selection is an empty series.

The rounding rule (one rule for every measure)
-------------------------------------------------
Averages of binary floats depend on the order of summation, and SQLite and
PostgreSQL sum in different orders (and rollups add partial sums), so a float
average cannot be byte-identical.  Instead:

1. **Each value is first taken to 4 decimals as an integer** number of 0.0001
   units: ``q = floor(value * 10000 + 0.5)``, computed in IEEE double (the same
   operations give the same bits in Python, SQLite and PostgreSQL).  In SQL:
   ``CAST(floor(v * 10000 + 0.5) AS BIGINT)`` -- ``floor`` first, because
   PostgreSQL's CAST of a double to an integer rounds (half to even) where
   SQLite's truncates; SQLite's ``floor`` needs its math functions (3.35+,
   built into Python's sqlite3 here).  tests/integration/test_reference_sql.py
   runs this rule on both backends.
   4 decimals is the precision ``viewpercentage`` is stored with; a capped
   completion is ``min(q, 1000000)``.  A play's share of a full watch is
   ``minutes / runningtime`` taken to 4 decimals the same way, but exactly, in
   integers (:func:`round_ratio` with 4 decimals).
2. **Sums and counts are integers**, so they are exact, the same on both
   backends and additive over rollups.
3. **The answer is the exact fraction of two integers, rounded half away from
   zero to the measure's decimals** (2 for percentages, completion and full
   watches, 3 for quality) in integer arithmetic: ``r = (2*|n|*10**d + den) //
   (2*den)`` with the sign of ``n`` -- integer division, which both engines do
   exactly.  Half away from zero is also what SQLite's and PostgreSQL's
   ``round()`` of an exact numeric do; Python's float ``round`` (half to even on
   the binary value) is not used anywhere.
4. **The number served is the double nearest to ``r / 10**d``** (``r / 100.0``
   in SQL; Python's ``int / int`` is correctly rounded too), so every backend
   hands the same double to the JSON encoder.

Quantiles (:func:`quality_p90`): the nearest-rank definition over 0.01-wide bins,
``bin = floor(q / 100)`` of the 4-decimal integer above, which is what a rollup
of bin counts can answer exactly.  The answer is the lower edge of the bin that
holds the value of rank ``ceil(0.9 * n)``; the exact nearest-rank value lies in
``[answer, answer + 0.01)``.
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

COLUMNS: tuple[str, ...] = (
    "event_date", "userid", "contentid", "device", "market", "totalminuteswatched", "runningtime",
    "viewpercentage", "errorperception", "sessiontype", "title", "seasonnumber", "episodenumber",
)
RESOLUTIONS = ("daily", "weekly", "monthly")
UNITS = 10_000  # values are taken to 4 decimals: integers of 0.0001
FULL = 100 * UNITS  # 100 % in those units

Event = Mapping[str, Any]
Value = float | None


@dataclass(frozen=True)
class Settings:
    """The database-level settings of issue 14, with their defaults."""

    min_minutes: int = 0
    watched_threshold: float = 90.0
    exclude_users: frozenset[str] = field(default_factory=frozenset)
    poor_quality_threshold: float = 7.0
    errorperception_higher_is_worse: bool = True
    binge_min_episodes: int = 3
    binge_max_gap_minutes: int = 120


DEFAULT = Settings()


# --------------------------------------------------------------------------- #
# Events, plays, rounding
# --------------------------------------------------------------------------- #


def as_events(rows: Iterable[Event | Sequence[Any]]) -> list[dict[str, Any]]:
    """Events as dicts of all 13 columns (tuples are in :data:`COLUMNS` order; missing keys are NULL)."""
    out: list[dict[str, Any]] = []
    for row in rows:
        if isinstance(row, Mapping):
            out.append({c: row.get(c) for c in COLUMNS})
        else:
            out.append(dict(zip(COLUMNS, row, strict=True)))
    return out


def select(events: Iterable[Event], start: dt.date | None = None, end: dt.date | None = None,
           **where: Any) -> list[dict[str, Any]]:
    """The events from ``start`` to ``end`` (days, inclusive) whose columns equal ``where``'s values."""
    out = []
    for e in as_events(events):
        day = event_day(e)
        if day is None or (start and day < start) or (end and day > end):
            continue
        if all(e[c] == v for c, v in where.items()):
            out.append(e)
    return out


def event_day(event: Event) -> dt.date | None:
    """The day of ``event_date`` (text ``YYYY-MM-DD HH:MM:SS``), ``None`` when it is not a date."""
    try:
        return dt.date.fromisoformat(str(event.get("event_date"))[:10])
    except ValueError:
        return None


def minutes(event: Event) -> int:
    """``totalminuteswatched``; NULL counts as 0."""
    value = event.get("totalminuteswatched")
    return 0 if value is None else int(value)


def is_play(event: Event, settings: Settings = DEFAULT) -> bool:
    """"events shorter than [min_minutes] are not plays": an event of exactly ``min_minutes`` is one."""
    return minutes(event) >= settings.min_minutes


def plays(events: Iterable[Event], settings: Settings = DEFAULT) -> list[Event]:
    """The plays among ``events`` (excluded users' plays included: they are anonymous, not dropped)."""
    return [e for e in events if is_play(e, settings)]


def quantise(value: float) -> int:
    """A value taken to 4 decimals, as an integer of 0.0001 units: ``floor(value * 10000 + 0.5)`` in double."""
    return math.floor(float(value) * UNITS + 0.5)


def round_ratio(numerator: int, denominator: int, decimals: int) -> int:
    """``numerator / denominator`` rounded half away from zero to ``decimals``, as an integer of 10**-decimals.

    Exact: integers only.  ``denominator`` must be positive.
    """
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    scaled = abs(numerator) * 10**decimals
    r = (2 * scaled + denominator) // (2 * denominator)
    return -r if numerator < 0 else r


def served(numerator: int, denominator: int, decimals: int) -> float:
    """The number served for ``numerator / denominator`` at ``decimals``: the double nearest the rounded decimal."""
    return round_ratio(numerator, denominator, decimals) / 10**decimals


def capped(event: Event) -> int | None:
    """The play's completion in 0.0001 % units, capped at 100 %; ``None`` without a ``viewpercentage``."""
    value = event.get("viewpercentage")
    return None if value is None else min(quantise(value), FULL)


def full_watch_share(event: Event) -> int | None:
    """``minutes / runningtime`` in 0.0001 units (exact, half away from zero); ``None`` unless running time > 0."""
    running = event.get("runningtime")
    if running is None or int(running) <= 0:
        return None
    return round_ratio(minutes(event), int(running), 4)


def quality_units(event: Event) -> int | None:
    """``errorperception`` in 0.0001 units; ``None`` without a value."""
    value = event.get("errorperception")
    return None if value is None else quantise(value)


def is_poor(units: int, settings: Settings = DEFAULT) -> bool:
    """"the share of plays above a configurable 'poor' threshold", in the column's configured direction."""
    threshold = quantise(settings.poor_quality_threshold)
    return units > threshold if settings.errorperception_higher_is_worse else units < threshold


# --------------------------------------------------------------------------- #
# Measures of one group of events (a period, a segment, a title)
# --------------------------------------------------------------------------- #


def completion_of(events: Iterable[Event], settings: Settings = DEFAULT) -> tuple[Value, int]:
    """"average completion in %, of plays with a viewpercentage, each capped at 100; 2 decimals".

    Returns (value, plays it was computed from); ``None`` without such a play.
    """
    values = [c for e in plays(events, settings) if (c := capped(e)) is not None]
    return (served(sum(values), len(values) * UNITS, 2) if values else None), len(values)


def completion_rate_of(events: Iterable[Event], settings: Settings = DEFAULT) -> tuple[Value, int, int]:
    """"% of those plays whose capped completion is at or above watched_threshold; 2 decimals".

    Returns (value, completed plays, plays with a viewpercentage).
    """
    threshold = quantise(settings.watched_threshold)
    values = [c for e in plays(events, settings) if (c := capped(e)) is not None]
    done = sum(1 for c in values if c >= threshold)
    return (served(100 * done, len(values), 2) if values else None), done, len(values)


def full_watches_of(events: Iterable[Event], settings: Settings = DEFAULT) -> tuple[Value, int]:
    """"Σ totalminuteswatched ÷ runningtime over plays with a running time above 0 (rewatching counts); 2 decimals".

    Each play's share is taken to 4 decimals first (see the module's rounding rule).
    """
    shares = [s for e in plays(events, settings) if (s := full_watch_share(e)) is not None]
    return (served(sum(shares), UNITS, 2) if shares else None), len(shares)


def quality_of(events: Iterable[Event], settings: Settings = DEFAULT) -> tuple[Value, int]:
    """"average errorperception of plays with a value; 3 decimals"."""
    values = [q for e in plays(events, settings) if (q := quality_units(e)) is not None]
    return (served(sum(values), len(values) * UNITS, 3) if values else None), len(values)


def poor_quality_of(events: Iterable[Event], settings: Settings = DEFAULT) -> tuple[Value, int, int]:
    """"% of those above the poor threshold; 2 decimals".  Returns (value, poor plays, plays with a value)."""
    values = [q for e in plays(events, settings) if (q := quality_units(e)) is not None]
    poor = sum(1 for q in values if is_poor(q, settings))
    return (served(100 * poor, len(values), 2) if values else None), poor, len(values)


def quality_p90_of(events: Iterable[Event], settings: Settings = DEFAULT) -> tuple[Value, int]:
    """The "90th percentile" of ``errorperception``: nearest rank over 0.01-wide bins.

    The bin of a value is ``floor(q / 100)`` (``q`` its 4-decimal integer).  The
    answer is the lower edge of the bin of the value of rank ``ceil(0.9 * n)``
    counted from the best play: ascending when higher is worse (the level 90 % of
    plays are at or below), descending when higher is better.  Exact to one bin:
    the true nearest-rank value is in ``[answer, answer + 0.01)``.
    """
    bins = sorted(
        (q // 100 for e in plays(events, settings) if (q := quality_units(e)) is not None),
        reverse=not settings.errorperception_higher_is_worse,
    )
    if not bins:
        return None, 0
    rank = (9 * len(bins) + 9) // 10  # ceil(0.9 n), in integers
    return served(bins[rank - 1], 100, 2), len(bins)


def quality_counted(events: Iterable[Event], settings: Settings = DEFAULT) -> tuple[int, int]:
    """"Events without a value are left out and counted": (plays with a value, plays without)."""
    ps = plays(events, settings)
    with_value = sum(1 for e in ps if e.get("errorperception") is not None)
    return with_value, len(ps) - with_value


MEASURES: dict[str, Callable[[Iterable[Event], Settings], tuple[Any, ...]]] = {
    "completion": completion_of,
    "completion_rate": completion_rate_of,
    "full_watches": full_watches_of,
    "quality": quality_of,
    "poor_quality": poor_quality_of,
    "quality_p90": quality_p90_of,
}


# --------------------------------------------------------------------------- #
# Settings semantics
# --------------------------------------------------------------------------- #


def capped_rows(events: Iterable[Event], settings: Settings = DEFAULT) -> int:
    """"viewpercentage above 100 ... is capped at 100 for completion, and the number of capped rows is reported".

    The plays whose 4-decimal ``viewpercentage`` is above 100.0000 (exactly 100 is not capped).
    """
    return sum(1 for e in plays(events, settings) if e.get("viewpercentage") is not None
               and quantise(e["viewpercentage"]) > FULL)


def viewers(events: Iterable[Event], settings: Settings = DEFAULT) -> int:
    """Distinct users of the plays, ``exclude_users`` "left out of viewer counts"."""
    return len({e.get("userid") for e in plays(events, settings) if e.get("userid") not in settings.exclude_users})


def anonymous_plays(events: Iterable[Event], settings: Settings = DEFAULT) -> int:
    """The plays of ``exclude_users``, "reported as anonymous plays"."""
    return sum(1 for e in plays(events, settings) if e.get("userid") in settings.exclude_users)


def minutes_watched(events: Iterable[Event]) -> int:
    """Σ ``totalminuteswatched`` of every event: short events "still count in minutes watched", as do excluded users."""
    return sum(minutes(e) for e in events)


# --------------------------------------------------------------------------- #
# Periods and time series
# --------------------------------------------------------------------------- #


def period_start(day: dt.date, resolution: str) -> dt.date:
    """The label of ``day``'s period: the day, its week's Monday, or its month's 1st."""
    if resolution == "daily":
        return day
    if resolution == "weekly":
        return day - dt.timedelta(days=day.weekday())
    if resolution == "monthly":
        return day.replace(day=1)
    raise ValueError(f"unknown resolution {resolution!r}")


def period_labels(events: Sequence[Event], resolution: str, start: dt.date | None = None,
                  end: dt.date | None = None) -> list[dt.date]:
    """Every period from the first to the last (of the events, or ``start``..``end``); none for no events."""
    days = [d for e in events if (d := event_day(e)) is not None]
    if not days:
        return []
    label = period_start(start or min(days), resolution)
    last = period_start(end or max(days), resolution)
    out = []
    while label <= last:
        out.append(label)
        if resolution == "daily":
            label += dt.timedelta(days=1)
        elif resolution == "weekly":
            label += dt.timedelta(days=7)
        else:
            label = dt.date(label.year + label.month // 12, label.month % 12 + 1, 1)
    return out


def series(events: Iterable[Event], measure: str, resolution: str, settings: Settings = DEFAULT,
           start: dt.date | None = None, end: dt.date | None = None) -> list[dict[str, Any]]:
    """``GET /data/<measure>/?resolution=…`` → ``[{"date": "YYYY-MM-DD", "values": …}]``.

    "every period of the range present, null where the period has no play with a value".
    ``events`` is the selection (filters applied); ``start``/``end`` bound the range when given.
    """
    selected = select(events, start, end)
    groups: dict[dt.date, list[Event]] = {}
    for e in selected:
        day = event_day(e)
        assert day is not None  # select() keeps dated events only
        groups.setdefault(period_start(day, resolution), []).append(e)
    compute = MEASURES[measure]
    return [
        {"date": label.isoformat(), "values": compute(groups.get(label, []), settings)[0]}
        for label in period_labels(selected, resolution, start, end)
    ]



def series_counts(events: Iterable[Event], measure: str, resolution: str, settings: Settings = DEFAULT,
                  start: dt.date | None = None, end: dt.date | None = None) -> list[tuple[int, int | None]]:
    """The counts behind each value of :func:`series` (a chart's hover text): per period, the plays
    the value comes from, and for a share of plays (completion rate, poor quality) the plays counted
    ("412 of 606 plays"); ``None`` for the other measures."""
    selected = select(events, start, end)
    groups: dict[dt.date, list[Event]] = {}
    for e in selected:
        day = event_day(e)
        assert day is not None
        groups.setdefault(period_start(day, resolution), []).append(e)
    out: list[tuple[int, int | None]] = []
    for label in period_labels(selected, resolution, start, end):
        result = MEASURES[measure](groups.get(label, []), settings)
        out.append((int(result[-1]), int(result[1]) if len(result) == 3 else None))
    return out

# --------------------------------------------------------------------------- #
# Breakdowns, top lists, distributions, segments
# --------------------------------------------------------------------------- #


def _key_order(key: Any) -> tuple[bool, str]:
    """Keys ascending as text, NULL last."""
    return (key is None, "" if key is None else str(key))


def breakdown(events: Iterable[Event], measure: str, by: str, settings: Settings = DEFAULT) -> list[dict[str, Any]]:
    """``GET /data/<measure>/breakdown/?by=device|market|sessiontype`` → ``[{"<by>": …, "values": …, "plays": …}]``.

    One row per value of ``by`` (NULL included) that has a play; ``plays`` is the
    number of plays the value was computed from (``values`` is ``None`` and
    ``plays`` 0 when none has a value).  Ordered by ``plays`` descending, then
    the key ascending (NULL last).
    """
    if by not in ("device", "market", "sessiontype"):
        raise ValueError(f"cannot break down by {by!r}")
    groups: dict[Any, list[Event]] = {}
    for e in plays(as_events(events), settings):
        groups.setdefault(e[by], []).append(e)
    rows: list[dict[str, Any]] = []
    for key, group in groups.items():
        result = MEASURES[measure](group, settings)
        # The last item of a measure's result is the number of plays its value was computed from.
        rows.append({by: key, "values": result[0], "plays": int(result[-1])})
    rows.sort(key=lambda r: (-r["plays"], _key_order(r[by])))
    return rows


def _by_title(events: Iterable[Event], settings: Settings) -> dict[str, list[Event]]:
    groups: dict[str, list[Event]] = {}
    for e in plays(as_events(events), settings):
        if e["title"] is not None:
            groups.setdefault(e["title"], []).append(e)
    return groups


def top_by_completion(events: Iterable[Event], num: int = 10, min_plays: int = 5,
                      settings: Settings = DEFAULT) -> list[dict[str, Any]]:
    """The top list with ``rank=completion``: titles by average completion, "min_plays ... so one lucky play
    does not top the list".

    A title needs at least ``min_plays`` plays with a ``viewpercentage``.  Ordered
    by the served (rounded) value descending, then plays descending, then title.
    ``[{"title": …, "values": …, "plays": …}]``.
    """
    rows: list[dict[str, Any]] = []
    for title, group in _by_title(events, settings).items():
        value, n = completion_of(group, settings)
        if value is not None and n >= min_plays:
            rows.append({"title": title, "values": value, "plays": n})
    rows.sort(key=lambda r: (-r["values"], -r["plays"], r["title"]))
    return rows[:num]


def top_by_full_watches(events: Iterable[Event], num: int = 10,
                        settings: Settings = DEFAULT) -> list[dict[str, Any]]:
    """The top list with ``rank=full_watches``: titles by Σ minutes ÷ running time (as the route), most first.

    Ordered by the served value descending, then plays descending, then title.
    """
    rows: list[dict[str, Any]] = []
    for title, group in _by_title(events, settings).items():
        value, n = full_watches_of(group, settings)
        if value is not None:
            rows.append({"title": title, "values": value, "plays": n})
    rows.sort(key=lambda r: (-r["values"], -r["plays"], r["title"]))
    return rows[:num]


def completion_histogram(events: Iterable[Event], settings: Settings = DEFAULT) -> list[dict[str, Any]]:
    """"a histogram of completion in 10 % bins (movies and series side by side)".

    Bins ``[0, 10)``, …, ``[80, 90)`` and ``[90, 100]`` of the capped completion
    (capped plays are in the last bin, a percentage below 0 in the first).  Each row has the plays of each session
    type in the bin and their share of that type's plays (2 decimals, ``None``
    when the type has none).  Plays without a session type or a percentage are
    left out.
    """
    counts = {"MOVIE": [0] * 10, "SERIES": [0] * 10}
    for e in plays(as_events(events), settings):
        c = capped(e)
        if c is not None and e["sessiontype"] in counts:
            counts[e["sessiontype"]][min(max(c, 0) // (10 * UNITS), 9)] += 1
    totals = {k: sum(v) for k, v in counts.items()}
    return [
        {
            "from": 10 * b,
            "to": 10 * b + 10,
            "movie_plays": counts["MOVIE"][b],
            "series_plays": counts["SERIES"][b],
            "movie_share": served(100 * counts["MOVIE"][b], totals["MOVIE"], 2) if totals["MOVIE"] else None,
            "series_share": served(100 * counts["SERIES"][b], totals["SERIES"], 2) if totals["SERIES"] else None,
        }
        for b in range(10)
    ]


def where_people_stop(events: Iterable[Event], title: str, settings: Settings = DEFAULT) -> list[dict[str, Any]]:
    """"a 'where people stop' curve per title (share of plays still watching at 10 %, 20 %, …)".

    Still watching at x % = capped completion at or above x.  Points at 10 … 100,
    each ``{"at": x, "values": share (2 decimals), "plays": n}``; ``values`` is
    ``None`` when the title has no play with a percentage.
    """
    values = [c for e in _by_title(events, settings).get(title, []) if (c := capped(e)) is not None]
    out = []
    for at in range(10, 101, 10):
        still = sum(1 for c in values if c >= at * UNITS)
        out.append({"at": at, "values": served(100 * still, len(values), 2) if values else None, "plays": len(values)})
    return out


def worst_segments(events: Iterable[Event], resolution: str, num: int = 10,
                   settings: Settings = DEFAULT) -> list[dict[str, Any]]:
    """"device × market × period with the largest excess of poor plays, ranked by impact = poor plays beyond
    the overall rate".

    With ``P`` poor plays of ``N`` plays with a value in the selection, a segment
    with ``poor`` of ``n`` has impact ``poor - n * P / N`` (exact; ordered on the
    integer ``poor * N - n * P``).  Only segments with a positive impact, the
    largest first, then date, device, market ascending (NULL last); ``impact``
    and ``poor_share`` served with 2 decimals.
    """
    segments: dict[tuple[Any, Any, str], list[int]] = {}
    for e in plays(as_events(events), settings):
        q = quality_units(e)
        day = event_day(e)
        if q is None or day is None:
            continue
        key = (e["device"], e["market"], period_start(day, resolution).isoformat())
        tally = segments.setdefault(key, [0, 0])
        tally[0] += is_poor(q, settings)
        tally[1] += 1
    big_n = sum(t[1] for t in segments.values())
    big_p = sum(t[0] for t in segments.values())
    rows = []
    for (device, market, date), (poor, n) in segments.items():
        excess = poor * big_n - n * big_p
        if excess > 0:
            rows.append((excess, date, device, market, poor, n))
    rows.sort(key=lambda r: (-r[0], r[1], _key_order(r[2]), _key_order(r[3])))
    return [
        {"device": device, "market": market, "date": date, "plays": n, "poor": poor,
         "poor_share": served(100 * poor, n, 2), "impact": served(excess, big_n, 2)}
        for excess, date, device, market, poor, n in rows[:num]
    ]


def completion_by_quality(events: Iterable[Event], settings: Settings = DEFAULT) -> list[dict[str, Any]]:
    """"quality against completion (do poorer plays stop earlier? a binned chart of completion by quality)".

    Bins of ``errorperception`` one unit wide, ``[b, b + 1)`` with ``b = floor(value)``
    (of the 4-decimal value), ascending; only bins with a play that has both values.
    ``[{"from": b, "to": b + 1, "values": completion (2 decimals), "plays": n}]``.
    """
    groups: dict[int, list[int]] = {}
    for e in plays(as_events(events), settings):
        q, c = quality_units(e), capped(e)
        if q is not None and c is not None:
            groups.setdefault(q // UNITS, []).append(c)
    return [
        {"from": b, "to": b + 1, "values": served(sum(cs), len(cs) * UNITS, 2), "plays": len(cs)}
        for b, cs in sorted(groups.items())
    ]


# --------------------------------------------------------------------------- #
# Shows (issue 15): the top list by show and the show page
# --------------------------------------------------------------------------- #


def show_of(event: Event, named: Mapping[str, str] | None = None) -> str | None:
    """The event's show under the one declared rule (:mod:`moviedash.shows`: the references share it)."""
    from moviedash.shows import show_of as rule

    title = event.get("title")
    return rule(title, event.get("sessiontype"), named=named) if title else None


def top_shows(events: Iterable[Event], num: int = 10, rank: str = "plays", settings: Settings = DEFAULT,
              named: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """The top list with ``group=shows``: "movies and whole shows together (a movie is its own show)".

    ``plays``: the shows' plays (a show without a play is not listed); ``minutes``: Σ minutes of every
    titled event; ``viewers``: "distinct users over all its episodes" (users of plays, ``exclude_users``
    left out).  Most first, ties by the show's name.  ``[{"title": show, "values": n}]``.
    """
    totals: dict[str, int] = {}
    users: dict[str, set[Any]] = {}
    for e in as_events(events):
        show = show_of(e, named)
        if show is None:
            continue
        if rank == "minutes":
            totals[show] = totals.get(show, 0) + minutes(e)
        elif rank == "plays":
            totals[show] = totals.get(show, 0) + int(is_play(e, settings))
        elif is_play(e, settings) and e.get("userid") is not None and e["userid"] not in settings.exclude_users:
            users.setdefault(show, set()).add(e["userid"])
    if rank == "viewers":
        totals = {show: len(u) for show, u in users.items()}
    if rank == "plays":
        totals = {show: n for show, n in totals.items() if n > 0}
    ranked = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
    return [{"title": show, "values": n} for show, n in ranked[:num]]


def _number(value: Any) -> int | None:
    return None if value is None or value == "" else int(value)


def _episode_record(group: list[dict[str, Any]], settings: Settings) -> dict[str, Any]:
    return {
        "plays": len(plays(group, settings)),
        "viewers": viewers(group, settings),
        "minutes": minutes_watched(group),
        "completion": completion_of(group, settings)[0],
    }


def show_page(events: Iterable[Event], name: str, settings: Settings = DEFAULT,
              named: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``/data/show/?name=…``: the show's events per season and per (season, episode) number (``None``
    last), episode drop-off ("viewers of each episode as a share of episode 1's viewers of that
    season, in episode order": the season's first episode, % with 1 decimal) and the grid ("how many
    viewers watched 1, 2, … N distinct episodes of a season", every count listed)."""
    from moviedash.shows import split_title

    mine = [e for e in as_events(events) if show_of(e, named) == name]
    order = lambda n: (n is None, n or 0)  # noqa: E731
    seasons = sorted({_number(e["seasonnumber"]) for e in mine}, key=order)
    out_seasons, out_episodes, grid = [], [], []
    for season in seasons:
        in_season = [e for e in mine if _number(e["seasonnumber"]) == season]
        numbers = sorted({_number(e["episodenumber"]) for e in in_season}, key=order)
        out_seasons.append({"season": season, "episodes": len(numbers), **_episode_record(in_season, settings)})
        by_episode = {n: [e for e in in_season if _number(e["episodenumber"]) == n] for n in numbers}
        first = viewers(by_episode[numbers[0]], settings)
        for n in numbers:
            group = by_episode[n]
            names = sorted({p for e in group if (p := split_title(e["title"], e["sessiontype"], named=named).episode)})
            record = _episode_record(group, settings)
            out_episodes.append({
                "season": season, "episode": n, "episode_name": names[0] if names else None, **record,
                "share_of_first": served(100 * record["viewers"], first, 1) if first else None,
            })
        watched: dict[Any, set[Any]] = {}
        for n, group in by_episode.items():
            for e in plays(group, settings):
                if e.get("userid") is not None and e["userid"] not in settings.exclude_users:
                    watched.setdefault(e["userid"], set()).add(n)
        for k in range(1, len(numbers) + 1):
            grid.append({"season": season, "episodes_watched": k,
                         "viewers": sum(1 for seen in watched.values() if len(seen) == k)})
    return {"show": name, **_episode_record(mine, settings), "seasons": out_seasons, "episodes": out_episodes,
            "grid": grid}
# Binge sessions (issue 15)
# --------------------------------------------------------------------------- #


def start_time(event: Event) -> dt.datetime | None:
    """``event_date`` to the second (its first 19 characters); ``None`` when it is not a date."""
    try:
        return dt.datetime.fromisoformat(str(event.get("event_date"))[:19])
    except ValueError:
        return None


def is_series_event(event: Event) -> bool:
    """"series events only are episodes": session type ``SERIES`` in any case, spaces around ignored."""
    value = event.get("sessiontype")
    return isinstance(value, str) and value.strip().upper() == "SERIES"


def show_name(title: str) -> str:
    """"the part of ``title`` before the first ``", "``"; a title that does not split is its own show."""
    head, found, tail = title.partition(", ")
    return head if found and head.strip() and tail.strip() else title


def binge_sessions(events: Iterable[Event], settings: Settings = DEFAULT) -> list[list[dict[str, Any]]]:
    """Every binge session of the database, each the list of its episodes in order.

    "a viewer's run of >= binge_min_episodes plays of episodes of the same show where
    each next episode starts at most binge_max_gap_minutes after the end of the
    previous one (end = event_date + totalminuteswatched minutes); gap exactly at the
    threshold counts".  Episodes: series plays with a title and a user not in
    ``exclude_users``; runs per (viewer, show), ordered by start then minutes; with
    overlapping episodes "the end of the previous one" is the latest end so far.
    """
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    # Not as_events(): the callers' events keep their "_id" (which event is in a binge).
    for e in (e for e in events if is_play(e, settings)):
        when = start_time(e)
        user, title = e.get("userid"), e.get("title")
        if when is None or not is_series_event(e) or not title or user is None or user in settings.exclude_users:
            continue
        runs.setdefault((user, show_name(title)), []).append({**e, "_start": when})
    sessions: list[list[dict[str, Any]]] = []
    gap = dt.timedelta(minutes=settings.binge_max_gap_minutes)
    for (user, show), episodes in runs.items():
        episodes.sort(key=lambda x: (x["_start"], minutes(x)))
        current: list[dict[str, Any]] = []
        latest_end = dt.datetime.min
        for x in episodes:
            if current and x["_start"] - latest_end > gap:
                if len(current) >= settings.binge_min_episodes:
                    sessions.append(current)
                current = []
            end = x["_start"] + dt.timedelta(minutes=minutes(x))
            latest_end = max(latest_end, end) if current else end
            current.append({**x, "_user": user, "_show": show})
        if len(current) >= settings.binge_min_episodes:
            sessions.append(current)
    return sessions


def _in_selection(event: Event, start: dt.date | None, end: dt.date | None, where: Mapping[str, Any]) -> bool:
    day = event_day(event)
    return (day is not None and not (start and day < start) and not (end and day > end)
            and all(event.get(c) == v for c, v in where.items()))


def _binge_parts(events: Sequence[Event], settings: Settings, start: dt.date | None, end: dt.date | None,
                 where: Mapping[str, Any]) -> tuple[list[list[dict[str, Any]]], list[tuple[Event, bool]]]:
    """The sessions whose first episode is selected, and the selected series events with "in a binge"."""
    sessions = binge_sessions(events, settings)
    in_binge = {id_ for s in sessions for id_ in (x["_id"] for x in s)}
    chosen = [s for s in sessions if _in_selection(s[0], start, end, where)]
    series_rows = [(e, e["_id"] in in_binge) for e in events
                   if is_series_event(e) and start_time(e) is not None and _in_selection(e, start, end, where)]
    return chosen, series_rows


def _numbered(events: Iterable[Event]) -> list[dict[str, Any]]:
    return [{**e, "_id": i} for i, e in enumerate(as_events(events))]


def binge_series(events: Iterable[Event], resolution: str, settings: Settings = DEFAULT,
                 start: dt.date | None = None, end: dt.date | None = None, **where: Any) -> list[dict[str, Any]]:
    """``GET /data/binge/?resolution=…`` → ``[{"date", "sessions", "binge_minutes", "series_minutes", "share"}]``.

    "sessions belong to the period -- and filter values -- of their first episode";
    minutes to their own event.  Every period from the selection's first to last series
    event (or ``start``..``end``); share = binge minutes / series minutes in %, 2 decimals.
    """
    numbered = _numbered(events)
    chosen, series_rows = _binge_parts(numbered, settings, start, end, where)
    days = [event_day(e) for e, _ in series_rows]
    if not days:
        return []
    label = period_start(start or min(d for d in days if d), resolution)
    last = period_start(end or max(d for d in days if d), resolution)
    table: dict[dt.date, list[int]] = {}
    while label <= last:
        table[label] = [0, 0, 0]
        if resolution == "daily":
            label += dt.timedelta(days=1)
        elif resolution == "weekly":
            label += dt.timedelta(days=7)
        else:
            label = dt.date(label.year + label.month // 12, label.month % 12 + 1, 1)
    for s in chosen:
        first_day = event_day(s[0])
        assert first_day is not None
        table[period_start(first_day, resolution)][0] += 1
    for e, binged in series_rows:
        day = event_day(e)
        assert day is not None
        row = table[period_start(day, resolution)]
        row[2] += minutes(e)
        if binged:
            row[1] += minutes(e)
    return [{"date": d.isoformat(), "sessions": n, "binge_minutes": b, "series_minutes": m,
             "share": served(100 * b, m, 2) if m else None} for d, (n, b, m) in table.items()]


def binge_overall(events: Iterable[Event], settings: Settings = DEFAULT, start: dt.date | None = None,
                  end: dt.date | None = None, **where: Any) -> dict[str, Any]:
    """``GET /data/binge/overall/`` → one row: sessions, viewers, episodes, binge and series minutes, share."""
    chosen, series_rows = _binge_parts(_numbered(events), settings, start, end, where)
    binged = sum(minutes(e) for e, b in series_rows if b)
    total = sum(minutes(e) for e, _ in series_rows)
    return {"sessions": len(chosen), "viewers": len({s[0]["_user"] for s in chosen}),
            "episodes": sum(len(s) for s in chosen), "binge_minutes": binged, "series_minutes": total,
            "share": served(100 * binged, total, 2) if total else None}


def binge_shows(events: Iterable[Event], num: int = 10, settings: Settings = DEFAULT, start: dt.date | None = None,
                end: dt.date | None = None, **where: Any) -> list[dict[str, Any]]:
    """``GET /data/binge/shows/?num=…`` → the most binged shows: most sessions, then viewers, then name."""
    chosen, _ = _binge_parts(_numbered(events), settings, start, end, where)
    by_show: dict[str, list[list[dict[str, Any]]]] = {}
    for s in chosen:
        by_show.setdefault(s[0]["_show"], []).append(s)
    rows = [{"show": show, "sessions": len(ss), "viewers": len({s[0]["_user"] for s in ss}),
             "episodes": sum(len(s) for s in ss), "episodes_per_session": served(sum(len(s) for s in ss), len(ss), 2)}
            for show, ss in by_show.items()]
    rows.sort(key=lambda r: (-r["sessions"], -r["viewers"], r["show"]))
    return rows[:num]


# Audience: new vs returning viewers, cohort retention (issue 15)
# --------------------------------------------------------------------------- #


def is_viewer_event(event: Event, settings: Settings = DEFAULT) -> bool:
    """An event that makes its user a viewer: a play whose user is not excluded ("left out of viewer
    counts and audience measures") and not NULL (a NULL user is nobody)."""
    user = event.get("userid")
    return user is not None and is_play(event, settings) and user not in settings.exclude_users


def first_seen(events: Iterable[Event], settings: Settings = DEFAULT) -> dict[str, dt.date]:
    """Each viewer's first-seen day: "the user's first event in the whole database", counting only the
    events that make them a viewer, whatever the filters."""
    out: dict[str, dt.date] = {}
    for e in as_events(events):
        day = event_day(e)
        if day is not None and is_viewer_event(e, settings):
            user = str(e["userid"])
            if user not in out or day < out[user]:
                out[user] = day
    return out


def _active(selected: Iterable[Event], resolution: str, settings: Settings) -> dict[dt.date, set[str]]:
    """The viewers of each period of the selection."""
    out: dict[dt.date, set[str]] = {}
    for e in selected:
        day = event_day(e)
        assert day is not None
        users = out.setdefault(period_start(day, resolution), set())
        if is_viewer_event(e, settings):
            users.add(str(e["userid"]))
    return out


def new_returning(events: Sequence[Event], resolution: str, settings: Settings = DEFAULT,
                  start: dt.date | None = None, end: dt.date | None = None, **where: Any) -> list[dict[str, Any]]:
    """``GET /data/audience/`` → ``[{"date", "new", "returning"}]``: "new = the user's first event in the
    whole database falls in the period; returning = active in the period (under the filters and date
    range) and first seen earlier", every period of the selection present (zero-filled)."""
    first = first_seen(events, settings)
    selected = select(events, start, end, **where)
    active = _active(selected, resolution, settings)
    out = []
    for label in period_labels(selected, resolution, start, end):
        users = active.get(label, set())
        new = sum(1 for u in users if period_start(first[u], resolution) == label)
        out.append({"date": label.isoformat(), "new": new, "returning": len(users) - new})
    return out


def cohorts(events: Sequence[Event], period: str, settings: Settings = DEFAULT,
            start: dt.date | None = None, end: dt.date | None = None, **where: Any) -> list[dict[str, Any]]:
    """The cohort triangle: "users grouped by the week or month of their first event" (over all data),
    for each cohort of the range's periods (within the data's span) and each period from its own to the
    range's last, the members active under the filters and their % of the cohort's size (2 decimals,
    :func:`served`); one row per (cohort, offset), cohorts with no later activity at 0."""
    resolution = {"week": "weekly", "month": "monthly"}[period]
    days = [d for e in as_events(events) if (d := event_day(e)) is not None]
    if not days:
        return []
    labels: list[dt.date] = []
    # The range within the data's span: no one is first seen before it, no one active after it.
    label = period_start(max(start or min(days), min(days)), resolution)
    last = period_start(min(end or max(days), max(days)), resolution)
    while label <= last:
        labels.append(label)
        label = label + dt.timedelta(days=7) if resolution == "weekly" else dt.date(
            label.year + label.month // 12, label.month % 12 + 1, 1)
    members: dict[dt.date, set[str]] = {}
    for user, day in first_seen(events, settings).items():
        members.setdefault(period_start(day, resolution), set()).add(user)
    active = _active(select(events, start, end, **where), resolution, settings)
    out = []
    for i, cohort in enumerate(labels):
        group = members.get(cohort, set())
        if not group:
            continue
        for offset, label in enumerate(labels[i:]):
            n = len(group & active.get(label, set()))
            out.append({"cohort": cohort.isoformat(), "size": len(group), "offset": offset,
                        "period": label.isoformat(), "active": n, "share": served(100 * n, len(group), 2)})
    return out


# Concentration and heavy viewers (issue 15)
# --------------------------------------------------------------------------- #

#: "the course data's anonymous user id (the MD5 of the empty string)": many people, never a viewer here.
ANONYMOUS_USER = "d41d8cd98f00b204e9800998ecf8427e"
#: "share of minutes watched by the top 1 %, 10 % and 50 % of viewers".
TOP_SHARES = (1, 10, 50)
#: The declared histogram bins: each a lower edge, ``[lower, next lower)``, the last open-ended.
VIEWER_BINS = {"plays": (1, 2, 3, 6, 11, 21, 51, 101), "minutes": (0, 30, 60, 120, 300, 600, 1200, 3000, 6000)}


def per_viewer(events: Iterable[Event], settings: Settings = DEFAULT) -> dict[str, tuple[int, int]]:
    """``{userid: (plays, minutes)}`` of the viewers of ``events``' plays.

    A viewer is a non-empty ``userid`` that is neither in ``exclude_users`` nor the anonymous id;
    their minutes are the sum of their plays' minutes, a negative value counting as 0.
    """
    out: dict[str, tuple[int, int]] = {}
    for e in plays(as_events(events), settings):
        user = e.get("userid")
        if not user or user in settings.exclude_users or user == ANONYMOUS_USER:
            continue
        n, m = out.get(user, (0, 0))
        out[user] = (n + 1, m + max(minutes(e), 0))
    return out


def concentration(events: Iterable[Event], settings: Settings = DEFAULT) -> dict[str, Any]:
    """"share of minutes watched by the top 1 %, 10 % and 50 % of viewers, the Lorenz curve and its Gini".

    Top p %: the ``ceil(p n / 100)`` heaviest viewers (by a sort, largest first).  Lorenz: the
    101 points ``x = j / 100``, ``y`` by linear interpolation of the cumulative shares of the
    ascending minutes (exact fractions).  Gini: the mean absolute difference over twice the mean,
    ``Σ_i Σ_j |m_i - m_j| / (2 n² μ)``, which equals the rank formula the product uses.  No
    viewers or no minutes: ``None`` shares and Gini, an empty curve.
    """
    values = sorted(m for _, m in per_viewer(events, settings).values())
    n, total = len(values), sum(values)
    ks = {p: math.ceil(Fraction(p * n, 100)) for p in TOP_SHARES}
    if total == 0:
        return {"viewers": n, "minutes": total, "top_shares": {str(p): None for p in TOP_SHARES},
                "top_viewers": {str(p): k for p, k in ks.items()}, "gini": None, "lorenz": []}
    heaviest = sorted(values, reverse=True)
    shares = {str(p): served(100 * sum(heaviest[:k]), total, 2) for p, k in ks.items()}
    lorenz = []
    for j in range(101):
        t = Fraction(j * n, 100)
        i = math.floor(t)
        y = Fraction(sum(values[:i])) + ((t - i) * values[i] if t > i else 0)
        y /= total
        lorenz.append([served(j, 100, 2), served(y.numerator, y.denominator, 4)])
    differences = sum(abs(a - b) for a in values for b in values)
    gini = Fraction(differences, 2 * n * total)  # 2 n² μ = 2 n M
    return {"viewers": n, "minutes": total, "top_shares": shares, "top_viewers": {str(p): k for p, k in ks.items()},
            "gini": served(gini.numerator, gini.denominator, 4), "lorenz": lorenz}


def heavy_viewers(events: Iterable[Event], measure: str, settings: Settings = DEFAULT) -> dict[str, Any]:
    """"distribution of plays and minutes per viewer (histogram, percentiles)", counts only.

    Histogram over :data:`VIEWER_BINS` with each bin's share of the viewers (%); the nearest-rank
    percentiles p50, p90, p99 (the value of rank ``ceil(p n / 100)`` ascending) and the max.
    """
    found = per_viewer(events, settings).values()
    values = sorted(p if measure == "plays" else m for p, m in found)
    n = len(values)
    edges = VIEWER_BINS[measure]
    rows = []
    for b, lower in enumerate(edges):
        upper = edges[b + 1] - 1 if b + 1 < len(edges) else None
        count = sum(1 for v in values if v >= lower and (upper is None or v <= upper))
        label = f"{lower:,}+" if upper is None else (f"{lower:,}" if upper == lower else f"{lower:,}–{upper:,}")
        rows.append({"from": lower, "to": upper, "label": label, "viewers": count,
                     "share": served(100 * count, n, 2) if n else None})

    def rank(p: int) -> int | None:
        return values[math.ceil(Fraction(p * n, 100)) - 1] if n else None

    return {"measure": measure, "viewers": n, "histogram": rows,
            "percentiles": {"p50": rank(50), "p90": rank(90), "p99": rank(99), "max": values[-1] if n else None}}
