"""A realistic synthetic ``movies`` database, so a new user sees the product at once.

``moviedash demo`` writes it; tests and benchmarks use it too.  The data imitate
the course's viewing log, made up from scratch:

* events from ``2023-01-01 00:00:00`` to ``2024-12-31 23:59:59`` (local time, text
  ``YYYY-MM-DD HH:MM:SS``), in chronological order, with more viewing on Friday to
  Sunday, an evening peak (20-22 h, little at 3-6 h), a winter high, a
  Christmas bump and a mild growth trend;
* ``max(50, events // 15)`` users (32-hex ids; not all of them get an event),
  each with one market (NO/SE/DK/FI) and mostly one device (Computer/iPad/TV),
  and a **lifecycle**: a first active day and a last one, after which they churn.
  About 12 % were already viewers when the log begins (first day 2023-01-01,
  most of them loyal); the others arrive over the two years, twice as many a day
  at the end as at the start.  A quarter of the users are loyal (exponential
  lifetime, mean ~4 years, so most stay to the end), the rest casual (mean 45
  days).  A day's sittings are drawn among the users active that day in
  proportion to a heavy-tailed (lognormal) activity, so every week has new and
  returning viewers, weekly and monthly cohorts decay (about 40 % of a cohort
  is back the week after its first, about 20 % eight weeks on), and viewing is
  concentrated (Gini of minutes per viewer ~0.7; the top 10 % watch ~60 % of
  the minutes);
* **binge-watching**: 30 % of the users are binge-watchers.  A sitting is a single
  play or, with a user's own chance (14 % for binge-watchers, 1.2 % for
  others), a **run**: 3-8 consecutive episodes of one season of a show in
  episode order (3 most often, fewer the longer), each starting 0-30 minutes
  after the previous one ended (its start plus minutes watched), or, for 7 % of
  them, 2-4 hours later (which breaks the binge); runs go on after midnight.
  A run starts at a season's first episode three times as often as its
  popularity alone would have it (about a third of runs), else at a later one,
  and never runs past a season's end.  About 30 %
  of the series plays are in binges (>= 3 episodes, <= 2 h apart); single plays
  of series are fewer, so episodes stay about half of all events;
* a fixed catalogue of made-up movies (80-150 min) and series episodes (20-60
  min, titled ``"Show, Episode"`` with season and episode numbers), with Zipf-like
  popularity (a few hits and a long tail) and some non-ASCII titles;
* minutes watched consistent with the running time: many near-complete views,
  many early drop-offs, a few slightly over 100 % (as in the real data), and
  ``viewpercentage = round(100 * minutes / runningtime, 4)``.  Series episodes
  are finished more often than movies; each title has its own pull (about one
  work in eight loses viewers early, pilots are tried and left, later episodes
  are watched by fans); and poorer plays stop earlier.  A season's later
  episodes have fewer viewers (pilots are tried by more; popularity falls 8 %
  an episode and 30 % a season), so episode drop-off curves fall;
* a quality-of-experience score in ``errorperception`` (0-10, higher is worse,
  4 decimals), mostly good like the real sample (median ~5.5, 90th percentile
  ~7.2, ~13 % above 7): worse on iPads and in Finland (heavier upper tails),
  better on TVs, worse at the evening peak, and one incident: market
  :data:`INCIDENT_MARKET` (SE) is poor from 14 to 18 October 2024
  (:data:`INCIDENT_DAYS`).  Quality is measured from :data:`QUALITY_FROM`
  (2023-04-01) on, for ~72 % of the plays, hardly ever for content without
  metadata, so ~62 % of all events have a value (the sample: 1,209 of 2,000);
* about 3 % of events about content missing from the catalogue: their title,
  runningtime, viewpercentage, sessiontype, season and episode are NULL.

Generation is vectorised with numpy.  Every day has its own random streams
(seeded by the seed and the day; quality in a second stream of the day and the
sittings -- who, and which are runs -- in a third; the lifecycles in a stream of
the seed's own), so the rows depend only on ``(events, seed)``, not on the chunk
size.  ``events`` counts exactly: a day's share of them is its sittings' events,
and a run's episodes after midnight are carried to the next day (the span's
last hours keep theirs on the last day).  :func:`write_demo` writes a temporary
file next to the target and renames it into place, so an interrupted run never
leaves half a database behind.
"""
from __future__ import annotations

import functools
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from ..errors import MoviedashError
from ..rollups import FED_COLUMNS, Aggregator, refresh_derived
from ..rollups import clear as clear_rollups
from ..store import COLUMNS, is_postgres, postgres
from ..store import parse as parse_target
from ..store.sqlite import NewDatabase, insert_rows, resolve_path
from .loader import ARROW_TYPES

DEFAULT_EVENTS = 100_000
#: The most events one demo may hold: the generator keeps every user in memory
#: (~4 GB at this size, 32-hex ids), and the database takes ~30 GB of disk.
MAX_EVENTS = 200_000_000
DEFAULT_SEED = 42

# --------------------------------------------------------------------------- #
# Fixed shape of the data (not user-tunable: the demo must be reproducible).
# --------------------------------------------------------------------------- #

_FIRST_DAY = np.datetime64("2023-01-01", "D")
_LAST_DAY = np.datetime64("2024-12-31", "D")
_DAYS = int((_LAST_DAY - _FIRST_DAY).astype(np.int64)) + 1
_EPOCH_SECONDS = int(_FIRST_DAY.astype("datetime64[s]").astype(np.int64))

_DEVICES = np.array(["Computer", "iPad", "TV"], dtype=object)
_DEVICE_WEIGHTS = np.array([0.55, 0.25, 0.20])
_PRIMARY_DEVICE_SHARE = 0.75  # otherwise an event's device is drawn afresh
_MARKETS = np.array(["NO", "SE", "DK", "FI"], dtype=object)
_MARKET_WEIGHTS = np.array([0.45, 0.33, 0.13, 0.09])
_USER_ACTIVITY_SIGMA = 1.0  # lognormal; with the lifetimes, top 10 % of users make ~half the events
_EVENTS_PER_USER = 15
_MIN_USERS = 50
_MISSING_SHARE = 0.03
_UNLISTED_CONTENT = 64  # distinct contentids of the events without metadata
_SERIES_SHARE = 0.52

# Viewer lifecycles (their own stream, [seed, 3]): when each user starts and
# stops watching.  Some were already viewers when the log begins (their first
# active day is the first day; more of them are loyal, as the viewers present at
# any moment are mostly the long-lived ones); the others arrive over the span,
# more of them later (growth).  A user's lifetime is exponential: most are
# casual viewers who churn within weeks, a share are loyal for years.
_ALREADY_WATCHING = 0.12
_ALREADY_WATCHING_LOYAL = 0.6
_ARRIVAL_GROWTH = 1.0  # arrivals per day grow linearly to (1 + this) x the first day's
_LOYAL_SHARE = 0.25
_LOYAL_LIFETIME = 1500.0  # days, mean
_CASUAL_LIFETIME = 45.0  # days, mean
# Binge-watching: a share of users are binge-watchers; each sitting of a user is
# a run of consecutive episodes with this chance (else one play).
_BINGE_WATCHER_SHARE = 0.3
_RUN_CHANCE = (0.012, 0.14)  # (other users, binge-watchers)
_RUN_MIN, _RUN_MAX = 3, 8
_RUN_LENGTH_DECAY = 0.72  # P(length) ~ decay ** (length - 3), 3..8 episodes
_RUN_FROM_THE_START = 3.0  # a run starts at a season's first episode this many times as often
_PILOT_TRIALS = 1.4  # a single play is of a season's first episode this many times as often (tried, left)
_RUN_GAP = 1800  # seconds between one episode's end and the next's start: uniform 0..this ...
_RUN_BREAK_SHARE = 0.07  # ... except this share, which wait 2-4 h (breaking the run)
_RUN_BREAK = (7201, 14_400)

# Monday .. Sunday.
_WEEKDAY_FACTOR = np.array([0.86, 0.84, 0.88, 0.94, 1.14, 1.26, 1.22])
# Relative viewing by hour of day, 0 h .. 23 h.
_HOUR_WEIGHTS = np.array(
    [2.4, 1.3, 0.7, 0.35, 0.2, 0.25, 0.5, 0.9, 1.1, 1.2, 1.4, 1.6,
     1.9, 2.0, 2.1, 2.3, 2.7, 3.3, 4.3, 5.6, 7.2, 7.6, 6.3, 4.2]
)
_WEEKEND_DAYTIME_FACTOR = 1.7  # Saturday/Sunday 10-17 h
# Completion: (lowest fraction, width, exponent) of each kind of view - the
# fraction of the running time watched is ``low + width * u ** exponent`` for
# uniform ``u``.
_COMPLETION = (
    (0.002, 0.25, 2.0),   # early drop-off
    (0.10, 0.80, 1.0),    # watched part of it
    (1.00, -0.08, 2.0),   # (almost) to the end
    (1.00, 0.10, 1.0),    # a bit over the running time, as in the real log
)
# Shares of those kinds before a title's hook and the play's quality act on the
# early drop-offs: series episodes are finished more often than movies.
_KIND_SHARES = {
    "MOVIE": (0.22, 0.28, 0.45, 0.05),
    "SERIES": (0.13, 0.18, 0.63, 0.06),
}
# Titles: each work's early-stop factor is lognormal; some works lose viewers
# early; pilots are tried and left, later episodes are watched by fans.
_HOOK_SIGMA = 0.35
_EARLY_LOSER_SHARE = 0.12
_EARLY_LOSER_FACTOR = 4.0
_PILOT_FACTOR = 1.6
_LATER_EPISODE_FACTOR = 0.8

# Quality of experience (``errorperception``, higher is worse, 0-10 scale): a
# normal around _QUALITY_MEAN, shifted by device, market and hour, with a heavier
# upper tail on some devices and markets, and one incident.
_QUALITY_MEAN = 5.0
_QUALITY_SD = 1.2
_QUALITY_DEVICE_SHIFT = np.array([0.0, 0.35, -0.3])   # Computer, iPad, TV
_QUALITY_MARKET_SHIFT = {"NO": -0.1, "SE": 0.05, "DK": 0.0, "FI": 0.3}
_QUALITY_DEVICE_TAIL = np.array([0.03, 0.10, 0.02])  # chance of an extra exponential bump
_QUALITY_MARKET_TAIL = {"NO": 0.02, "SE": 0.03, "DK": 0.02, "FI": 0.10}
_QUALITY_TAIL_SCALE = 1.8
_QUALITY_EVENING_SHIFT = 0.6  # at the busiest hour, in proportion to the hour's viewing
#: The incident: the first and last day (inclusive), the market, the shift.
INCIDENT_MARKET = "SE"
INCIDENT_DAYS = ("2024-10-14", "2024-10-18")
_INCIDENT_SHIFT = 2.6
# Poorer plays stop earlier: the early drop-off weight is multiplied by
# ``exp(_QUALITY_STOP * (errorperception - _QUALITY_STOP_PIVOT))``.
_QUALITY_STOP = 0.45
_QUALITY_STOP_PIVOT = 5.5
#: Quality was measured from this day on (the real log has none before April).
QUALITY_FROM = "2023-04-01"
_QUALITY_RECORDED = 0.72  # share of plays with a value once measured
_QUALITY_RECORDED_UNLISTED = 0.03  # ... of events about content without metadata


def _cdf(weights: np.ndarray) -> np.ndarray:
    cdf = np.cumsum(np.asarray(weights, dtype=np.float64))
    cdf /= cdf[-1]
    cdf[-1] = 1.0
    return cdf


def _draw(cdf: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Categorical draw by inverse transform: ``u`` uniform in [0, 1)."""
    return np.searchsorted(cdf, u, side="right")


def _hex_ids(rng: np.random.Generator, count: int, nbytes: int) -> np.ndarray:
    """``count`` random lowercase hex strings of ``2 * nbytes`` digits (object array)."""
    raw = np.frombuffer(rng.bytes(count * nbytes), dtype=np.uint8).reshape(count, nbytes)
    digits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    text = np.empty((count, 2 * nbytes), dtype=np.uint8)
    text[:, 0::2] = digits[raw >> 4]
    text[:, 1::2] = digits[raw & 15]
    return text.view(f"S{2 * nbytes}").ravel().astype(str).astype(object)


_HOUR_CDF = np.stack([
    _cdf(_HOUR_WEIGHTS),
    _cdf(_HOUR_WEIGHTS * np.where((np.arange(24) >= 10) & (np.arange(24) < 18), _WEEKEND_DAYTIME_FACTOR, 1.0)),
])
_DEVICE_CDF = _cdf(_DEVICE_WEIGHTS)
_RUN_CHANCES = np.array(_RUN_CHANCE)
_RUN_LENGTH_CDF = _cdf(_RUN_LENGTH_DECAY ** np.arange(_RUN_MAX - _RUN_MIN + 1))
_COMPLETION_LOW = np.array([c[0] for c in _COMPLETION])
_COMPLETION_WIDTH = np.array([c[1] for c in _COMPLETION])
_COMPLETION_EXP = np.array([c[2] for c in _COMPLETION])
_MARKET_QUALITY_SHIFT = np.array([_QUALITY_MARKET_SHIFT[m] for m in _MARKETS])
_MARKET_QUALITY_TAIL = np.array([_QUALITY_MARKET_TAIL[m] for m in _MARKETS])
_EVENING = _QUALITY_EVENING_SHIFT * _HOUR_WEIGHTS / _HOUR_WEIGHTS.max()
_INCIDENT_FIRST = int((np.datetime64(INCIDENT_DAYS[0], "D") - _FIRST_DAY).astype(np.int64))
_INCIDENT_LAST = int((np.datetime64(INCIDENT_DAYS[1], "D") - _FIRST_DAY).astype(np.int64))
_QUALITY_FIRST = int((np.datetime64(QUALITY_FROM, "D") - _FIRST_DAY).astype(np.int64))


# --------------------------------------------------------------------------- #
# The catalogue: fixed, the same for every seed.
# --------------------------------------------------------------------------- #

_ADJECTIVES = (
    "Silent", "Broken", "Golden", "Hidden", "Crimson", "Northern", "Frozen", "Lost",
    "Wild", "Quiet", "Distant", "Burning", "Endless", "Secret", "Restless", "Hollow",
    "Bright", "Dark", "Little", "Savage", "Gentle", "Electric", "Midnight", "Velvet",
    "Iron", "Paper", "Glass", "Last", "Final", "Second", "Bitter", "Sweet", "Lonely",
    "Fearless", "Stolen", "Forgotten", "Perfect", "Strange", "Wicked", "Blue",
)
_NOUNS = (
    "Harbor", "River", "Garden", "Winter", "Summer", "Road", "Promise", "Kingdom",
    "Shadow", "Signal", "Orchard", "Island", "Letter", "Mirror", "Station", "Horizon",
    "Storm", "Forest", "Lighthouse", "Engine", "Crown", "Heart", "Voyage", "Frontier",
    "Witness", "Circle", "Ghost", "Detective", "Wedding", "Party", "Bridge", "Compass",
    "Lantern", "Valley", "Empire", "Dream", "Fortune", "Hunter", "Stranger", "Secret",
    "Echo", "Tide", "Journey", "Machine", "Diary", "Winterland", "Outpost", "Choir",
)
_PLURALS = (
    "Wolves", "Strangers", "Thieves", "Kings", "Sisters", "Brothers", "Giants",
    "Angels", "Lovers", "Dreamers", "Neighbours", "Saints", "Sailors", "Rebels",
)
_NAMES = (
    "Anna", "Henrik", "Maja", "Jonas", "Sofia", "Lars", "Elin", "Mikkel", "Ida",
    "Oskar", "Freja", "Emil", "Nora", "Viktor", "Astrid", "Leo", "Hanna", "Max",
)
_PLACES = (
    "Oslo", "Bergen", "Malmo", "Aarhus", "Tampere", "Paris", "Lisbon", "Brooklyn",
    "the North", "Nowhere", "the Valley", "the Coast", "Marrakesh", "Tokyo", "Rome",
)
_ROMAN = ("II", "III", "IV")
# Titles with letters outside ASCII, to exercise the encoding end to end.
_NORDIC_MOVIES = (
    "Sommaren på landet", "Mörkrets hjärta", "Ødegården", "Kärlek på Österlen",
    "Hämärän kaupunki", "Fiskerens sønn", "Så länge vi lever", "Blåbärsskogen",
    "Æblehaven", "Jäätynyt järvi", "Över gränsen", "Fjällets röst",
)
_NORDIC_SERIES = (
    ("Grannarna på Åsen", ("Förlossningen", "Midsommarafton", "Kräftskivan",
                           "Ölprovningen", "Flytten", "Bröllopet", "Julafton",
                           "Hämnden", "Båtturen", "Sjöbodarna")),
    ("Bryggeriet i Ærøskøbing", ("Første dag", "Øl og kærlighed", "Søsteren",
                                 "Gæsten", "Farvel")),
)
_N_MOVIES = 720
_N_SHOWS = 90
_CATALOGUE_SEED = 20_130_101


@dataclass(frozen=True)
class _Catalogue:
    """One row per playable item (a movie or an episode)."""

    contentid: np.ndarray   # object: 24-hex
    title: np.ndarray       # object: str
    sessiontype: np.ndarray  # object: "MOVIE" / "SERIES"
    runningtime: np.ndarray  # int64
    runningtime_obj: np.ndarray  # object: int
    season: np.ndarray      # object: int or None
    episode: np.ndarray     # object: int or None
    cdf: np.ndarray         # float64: popularity
    hook: np.ndarray        # float64: how readily a play stops early (1 = typical, > 2 = loses viewers early)
    solo_cdf: np.ndarray    # float64: popularity of a single play (series weighed down: runs add episodes)
    run_start: np.ndarray   # int64: the items a binge run may start at (>= _RUN_MIN episodes left in the season)
    run_cdf: np.ndarray     # float64: over run_start
    season_last: np.ndarray  # int64: the item of the last episode of each item's season (a movie: itself)


def _movie_title(rng: np.random.Generator) -> str:
    pick = lambda words: words[int(rng.integers(len(words)))]  # noqa: E731
    form = int(rng.integers(9))
    if form == 0:
        return f"The {pick(_ADJECTIVES)} {pick(_NOUNS)}"
    if form == 1:
        return f"{pick(_NOUNS)} of {pick(_PLURALS)}"
    if form == 2:
        return f"{pick(_NAMES)}'s {pick(_NOUNS)}"
    if form == 3:
        noun = pick(_NOUNS)
        return f"{'An' if noun[0] in 'AEIOU' else 'A'} {noun} in {pick(_PLACES)}"
    if form == 4:
        return f"{pick(_ADJECTIVES)} {pick(_NOUNS)}"
    if form == 5:
        return f"Return to {pick(_PLACES)}"
    if form == 6:
        return f"The {pick(_NOUNS)} {pick(_ROMAN)}"
    if form == 7:
        return f"{pick(_PLURALS)} of {pick(_PLACES)}"
    return f"The {pick(_NOUNS)} and the {pick(_NOUNS)}"


def _show_name(rng: np.random.Generator) -> str:
    pick = lambda words: words[int(rng.integers(len(words)))]  # noqa: E731
    form = int(rng.integers(5))
    if form == 0:
        return f"The {pick(_PLURALS)}"
    if form == 1:
        return f"{pick(_PLACES).removeprefix('the ').title()} {pick(_NOUNS)}"
    if form == 2:
        return f"{pick(_NAMES)} and {pick(_NAMES)}"
    if form == 3:
        return f"{pick(_ADJECTIVES)} {pick(_PLURALS)}"
    return f"The {pick(_NOUNS)}"


def _episode_title(rng: np.random.Generator) -> str:
    pick = lambda words: words[int(rng.integers(len(words)))]  # noqa: E731
    form = int(rng.integers(6))
    if form == 0:
        return f"The {pick(_NOUNS)}"
    if form == 1:
        return f"{pick(_ADJECTIVES)} {pick(_NOUNS)}"
    if form == 2:
        return f"{pick(_NAMES)}'s {pick(_NOUNS)}"
    if form == 3:
        return f"{pick(_NOUNS)} and {pick(_NOUNS)}"
    if form == 4:
        return f"{pick(_NOUNS)} Part {pick(_ROMAN)}"
    return f"Into the {pick(_NOUNS)}"


def _unique(make, rng: np.random.Generator, taken: set[str]) -> str:
    for attempt in range(1000):
        text = make(rng)
        if attempt >= 50:  # the word lists ran dry: make it unique by a number
            text = f"{text} {attempt - 48}"
        if text not in taken:
            taken.add(text)
            return text
    raise AssertionError("cannot make a unique title")  # pragma: no cover


@functools.lru_cache(maxsize=1)
def _catalogue() -> _Catalogue:
    """The fixed catalogue (a few thousand items; built once per process)."""
    rng = np.random.default_rng(_CATALOGUE_SEED)
    titles: list[str] = []
    types: list[str] = []
    running: list[int] = []
    seasons: list[int | None] = []
    episodes: list[int | None] = []
    weights: list[float] = []
    works: list[int] = []  # the movie or show each item belongs to

    # Popularity: Zipf-like over works (movies and shows), in a random order.
    n_works = _N_MOVIES + _N_SHOWS + len(_NORDIC_SERIES)
    work_weight = 1.0 / (rng.permutation(n_works) + 3.0) ** 1.1
    movie_weight = work_weight[:_N_MOVIES]
    show_weight = work_weight[_N_MOVIES:]
    movie_weight = movie_weight / movie_weight.sum() * (1.0 - _SERIES_SHARE)
    show_weight = show_weight / show_weight.sum() * _SERIES_SHARE

    taken: set[str] = set()
    for i in range(_N_MOVIES):
        if i < len(_NORDIC_MOVIES):
            name = _NORDIC_MOVIES[i]
            taken.add(name)
        else:
            name = _unique(_movie_title, rng, taken)
        titles.append(name)
        types.append("MOVIE")
        running.append(int(np.clip(round(rng.normal(108, 14)), 80, 150)))
        seasons.append(None)
        episodes.append(None)
        weights.append(float(movie_weight[i]))
        works.append(i)

    shows: list[tuple[str, list[str] | None]] = [(n, list(e)) for n, e in _NORDIC_SERIES]
    for _ in range(_N_SHOWS):
        shows.append((_unique(_show_name, rng, taken), None))
    for show, ((name, fixed_episodes), weight) in enumerate(zip(shows, show_weight, strict=True)):
        if fixed_episodes is not None:
            n_seasons, per_season = 1, len(fixed_episodes)
        else:
            n_seasons = int(rng.choice([1, 1, 2, 2, 3, 4, 5]))
            per_season = int(rng.choice([6, 8, 10, 10, 12, 13]))
        base = int(rng.choice([22, 25, 28, 42, 45, 50, 55]))
        # Later seasons and later episodes are watched less.
        shape = [
            (s, e, 0.7 ** (s - 1) * 0.92 ** (e - 1))
            for s in range(1, n_seasons + 1)
            for e in range(1, per_season + 1)
        ]
        total = sum(w for _, _, w in shape)
        episode_names: set[str] = set()
        for s, e, w in shape:
            if fixed_episodes is not None:
                episode = fixed_episodes[e - 1]
            elif s == 1 and e == 1:
                episode = "Pilot"
                episode_names.add(episode)
            else:
                episode = _unique(_episode_title, rng, episode_names)
            titles.append(f"{name}, {episode}")
            types.append("SERIES")
            running.append(int(np.clip(base + rng.integers(-3, 4), 20, 60)))
            seasons.append(s)
            episodes.append(e)
            weights.append(float(weight) * w / total)
            works.append(_N_MOVIES + show)

    n = len(titles)
    # ObjectId-like 24-hex ids: a timestamp, a machine part and a counter.
    counter = rng.integers(0, 2**20) + np.arange(n)
    machine = _hex_ids(rng, 1, 5)[0]
    contentid = np.array(
        [f"{0x63a0f000 + int(c) // 7:08x}{machine}{int(c):06x}" for c in counter], dtype=object
    )
    runningtime = np.array(running, dtype=np.int64)
    return _Catalogue(
        contentid=contentid,
        title=np.array(titles, dtype=object),
        sessiontype=np.array(types, dtype=object),
        runningtime=runningtime,
        runningtime_obj=np.array(running, dtype=object),
        season=np.array(seasons, dtype=object),
        episode=np.array(episodes, dtype=object),
        cdf=_cdf(np.array(weights)),
        hook=_hooks(np.array(works), np.array(seasons, dtype=object), np.array(episodes, dtype=object)),
        **_runs(np.array(weights), np.array(works), np.array([0 if e is None else e for e in episodes])),
    )


def _run_mean_length() -> float:
    """The mean length of a binge run before a season's end cuts it."""
    weights = _RUN_LENGTH_DECAY ** np.arange(_RUN_MAX - _RUN_MIN + 1)
    return float((weights * np.arange(_RUN_MIN, _RUN_MAX + 1)).sum() / weights.sum())


def _runs(weights: np.ndarray, works: np.ndarray, episodes: np.ndarray) -> dict[str, np.ndarray]:
    """What binge runs need of the catalogue: where each season ends, where a run
    may start, and single plays' popularity with series weighed down so that
    episodes stay about :data:`_SERIES_SHARE` of all events once runs add theirs.

    Items of one season are contiguous and in episode order (see :func:`_catalogue`).
    """
    n = len(weights)
    series = episodes > 0
    # A season ends where the next item is not its next episode.
    index = np.arange(n)
    ends = np.ones(n, dtype=bool)
    ends[:-1] = ~(series[1:] & (episodes[1:] == episodes[:-1] + 1) & (works[1:] == works[:-1]))
    season_last = np.minimum.accumulate(np.where(ends, index, n)[::-1])[::-1]
    left = season_last - index + 1
    start = series & (left >= _RUN_MIN)
    # Runs start more often at a season's first episode (a new viewer of the
    # season), else where a viewer left off (a later episode, by its popularity).
    run_weight = np.where(start, weights * np.where(episodes == 1, _RUN_FROM_THE_START, 1.0), 0.0)
    # Expected share of sittings that are runs, and the series share a single play
    # needs so that all events are ~_SERIES_SHARE episodes: (s (1 - q) + q L) / (1 - q + q L).
    low, high = _RUN_CHANCE
    q = _BINGE_WATCHER_SHARE * high + (1.0 - _BINGE_WATCHER_SHARE) * low
    mean = _run_mean_length()
    solo_series = (_SERIES_SHARE * (1.0 - q + q * mean) - q * mean) / (1.0 - q)
    trials = np.where(episodes == 1, _PILOT_TRIALS, 1.0)
    series_weight = weights * trials * series
    solo = np.where(
        series,
        series_weight * (solo_series / series_weight.sum()),
        weights * ((1.0 - solo_series) / weights[~series].sum()),
    )
    return {
        "solo_cdf": _cdf(solo),
        "run_start": np.flatnonzero(start),
        "run_cdf": _cdf(run_weight[start]),
        "season_last": season_last,
    }


def _hooks(works: np.ndarray, seasons: np.ndarray, episodes: np.ndarray) -> np.ndarray:
    """Each item's early-stop factor: the work's (lognormal, some works lose viewers
    early), a pilot's trial viewers, and the fans who reach later episodes.

    From its own stream, so the rest of the catalogue is as before.
    """
    rng = np.random.default_rng([_CATALOGUE_SEED, 1])
    n_works = int(works.max()) + 1
    per_work = rng.lognormal(0.0, _HOOK_SIGMA, n_works)
    per_work[rng.random(n_works) < _EARLY_LOSER_SHARE] *= _EARLY_LOSER_FACTOR
    hook = per_work[works]
    episode = np.array([0 if e is None else int(e) for e in episodes])
    season = np.array([0 if s is None else int(s) for s in seasons])
    hook[(season == 1) & (episode == 1)] *= _PILOT_FACTOR
    hook[(season > 1) | (episode > 3)] *= _LATER_EPISODE_FACTOR
    return hook


# --------------------------------------------------------------------------- #
# Users and days: depend on (events, seed).
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class _World:
    userid: np.ndarray      # object: 32-hex
    user_device: np.ndarray  # int: index into _DEVICES
    user_market: np.ndarray  # object: market code
    user_market_index: np.ndarray  # int: index into _MARKETS
    unlisted: np.ndarray    # object: 32-hex contentids without metadata
    day_counts: np.ndarray  # int64, one per day
    first_day: np.ndarray   # int16: the day each user starts watching
    last_day: np.ndarray    # int16: ... and the last day before they churn (capped at the last day)
    binge_watcher: np.ndarray  # bool: whether a user's sittings are runs with the higher of _RUN_CHANCE
    user_order: np.ndarray  # int32 (int64 beyond): users by first day, then last day descending
    activity_cum: np.ndarray  # float64: 0, then the cumulative activity over user_order
    cohort_start: np.ndarray  # int64: where each first day's users begin in user_order (one more at the end)
    alive: np.ndarray       # int64 [first day, day]: how many of that first day's users are active on the day


def _world(events: int, seed: int) -> _World:
    rng = np.random.default_rng([seed, 0])
    n_users = max(_MIN_USERS, events // _EVENTS_PER_USER)
    activity = rng.lognormal(0.0, _USER_ACTIVITY_SIGMA, n_users)
    user_device = _draw(_DEVICE_CDF, rng.random(n_users))
    user_market_index = _draw(_cdf(_MARKET_WEIGHTS), rng.random(n_users))
    user_market = _MARKETS[user_market_index]
    userid = _hex_ids(rng, n_users, 16)
    unlisted = _hex_ids(rng, _UNLISTED_CONTENT, 16)

    day = np.arange(_DAYS)
    dates = _FIRST_DAY + day
    weekday = (dates.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
    month_start = dates.astype("datetime64[M]")
    month = month_start.astype(np.int64) % 12 + 1
    day_of_month = (dates - month_start.astype("datetime64[D]")).astype(np.int64) + 1
    day_of_year = (dates - dates.astype("datetime64[Y]").astype("datetime64[D]")).astype(np.int64)
    weight = (
        _WEEKDAY_FACTOR[weekday]
        * (1.0 + 0.45 * day / (_DAYS - 1))  # growth
        * (1.0 + 0.12 * np.cos(2 * np.pi * (day_of_year - 15) / 365.25))  # winter high
        * np.where(((month == 12) & (day_of_month >= 24)) | ((month == 1) & (day_of_month == 1)), 1.25, 1.0)
        * rng.gamma(60.0, 1.0 / 60.0, _DAYS)  # day-to-day noise
    )
    day_counts = rng.multinomial(events, weight / weight.sum())
    first, last, binge_watcher = _lifecycles(seed, n_users)
    # Users by first day, and within a first day the longest-lived first: the users
    # active on day d are then, for each first day f <= d, a prefix of f's users,
    # so a day's draw needs one cumulative sum per first day, not one per user.
    order = np.lexsort((-last, first)).astype(np.int32 if n_users < 2**31 else np.int64)
    activity_cum = np.concatenate([[0.0], np.cumsum(activity[order])])
    cohort_start = np.searchsorted(first[order], np.arange(_DAYS + 1))
    ended = np.bincount(first * np.int64(_DAYS) + last, minlength=_DAYS * _DAYS).reshape(_DAYS, _DAYS)
    alive = np.cumsum(ended[:, ::-1], axis=1)[:, ::-1]
    return _World(
        userid, user_device, user_market, user_market_index, unlisted, day_counts,
        first, last, binge_watcher, order, activity_cum, cohort_start, alive,
    )


def _lifecycles(seed: int, n_users: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each user's first and last active day and whether they binge-watch, from
    the seed's own lifecycle stream (so the other draws of the world are as before)."""
    rng = np.random.default_rng([seed, 3])
    # One draw at a time (the same numbers as one (4, n) draw): at the largest
    # demo a float per user is ~100 MB.
    already = rng.random(n_users) < _ALREADY_WATCHING
    # Arrivals with a density growing linearly over the span (inverse of its CDF).
    g = _ARRIVAL_GROWTH
    arrival = (np.sqrt(1.0 + g * (2.0 + g) * rng.random(n_users)) - 1.0) / g
    first = np.where(already, 0, np.minimum((arrival * _DAYS).astype(np.int16), _DAYS - 1)).astype(np.int16)
    del arrival
    loyal = rng.random(n_users) < np.where(already, _ALREADY_WATCHING_LOYAL, _LOYAL_SHARE)
    binge_watcher = rng.random(n_users) < _BINGE_WATCHER_SHARE
    lifetime = rng.exponential(1.0, n_users) * np.where(loyal, _LOYAL_LIFETIME, _CASUAL_LIFETIME)
    last = np.minimum(first + np.minimum(lifetime, _DAYS), _DAYS - 1).astype(np.int16)
    return first, last, binge_watcher


def _active_users(world: _World, day: int, u: np.ndarray) -> np.ndarray:
    """Users drawn in proportion to their activity among those active on ``day``
    (``u`` uniform in [0, 1)): by first day, then within that first day's active prefix."""
    starts = world.cohort_start[: day + 1]
    counts = world.alive[: day + 1, day]
    cum = world.activity_cum
    weight = cum[starts + counts] - cum[starts]
    if not (weight > 0).any():  # nobody active (only with a handful of users): anyone
        index = np.searchsorted(cum, u * cum[-1], side="right") - 1
        return world.user_order[np.minimum(index, len(world.user_order) - 1)]
    before = np.cumsum(weight)
    x = u * before[-1]
    cohort = np.minimum(np.searchsorted(before, x, side="right"), np.flatnonzero(weight > 0)[-1])
    target = cum[starts[cohort]] + (x - (before[cohort] - weight[cohort]))
    index = np.searchsorted(cum, target, side="right") - 1
    index = np.clip(index, starts[cohort], starts[cohort] + counts[cohort] - 1)
    return world.user_order[index]


def _day_draws(seed: int, day: int, n: int, world: _World, catalogue: _Catalogue) -> dict[str, np.ndarray]:
    """One day's ``n`` events, from that day's own streams, in no particular order.

    The ``n`` events are the day's sittings: most are one play, some are a binge
    run (a user's consecutive episodes of one season, each starting a few minutes
    after the previous one ended), so a run's later episodes may fall on the next
    day (:func:`_chunks` carries them there).  The quality draws come from a
    second stream of the day and the sittings from a third, so adding either left
    the other draws as they were.
    """
    rng = np.random.default_rng([seed, 1, day])
    u = rng.random((8, n))
    weekend = ((int(_FIRST_DAY.astype(np.int64)) + day + 3) % 7) >= 5
    seconds = _draw(_HOUR_CDF[int(weekend)], u[0]) * 3600 + (u[1] * 3600).astype(np.int64)
    missing = rng.random(n) < _MISSING_SHARE
    unlisted = rng.integers(0, _UNLISTED_CONTENT, n)

    # Sittings: sitting j draws its user with u[2][j] among the users active
    # today, and may be a run; its events are the next ``length`` of the day's n.
    s = np.random.default_rng([seed, 3, day]).random((5, n))
    user = _active_users(world, day, u[2])
    run = np.flatnonzero(s[0] < _RUN_CHANCES[world.binge_watcher[user].astype(np.intp)])
    start = catalogue.run_start[_draw(catalogue.run_cdf, s[1][run])]
    length = np.ones(n, dtype=np.int64)
    length[run] = np.minimum(_RUN_MIN + _draw(_RUN_LENGTH_CDF, s[2][run]), catalogue.season_last[start] - start + 1)
    ends = np.cumsum(length)
    sittings = int(np.searchsorted(ends, n)) + 1  # the first sittings that make n events
    length = length[:sittings]
    length[-1] -= int(ends[sittings - 1]) - n  # the last one cut to fit
    sitting = np.repeat(np.arange(sittings), length)
    lead = (np.cumsum(length) - length)[sitting]  # each event's first event of its sitting
    position = np.arange(n) - lead
    first_item = np.full(n, -1)
    first_item[run] = start
    first_item = first_item[sitting]
    in_run = first_item >= 0
    user = user[sitting]
    item = np.where(in_run, first_item + position, _draw(catalogue.solo_cdf, u[5]))
    # One sitting, one device; a run's events are catalogued episodes.
    device = np.where(u[3] < _PRIMARY_DEVICE_SHARE, world.user_device[user], _draw(_DEVICE_CDF, u[4]))[lead]
    missing &= ~in_run

    d = {
        "ts": day * 86_400 + seconds,
        "user": user,
        "item": item,
        "device": device,
        "completion": u[6],
        "depth": u[7],
        "missing": missing,
        "unlisted": unlisted,
        **_quality_draws(seed, day, n),
        "position": position,
        "own_seconds": seconds,
        # The gap before a run's later episode: 0-30 min, some 2-4 h.
        "gap": np.where(
            s[3] < _RUN_BREAK_SHARE,
            _RUN_BREAK[0] + (s[4] * (_RUN_BREAK[1] - _RUN_BREAK[0])).astype(np.int64),
            (s[4] * (_RUN_GAP + 1)).astype(np.int64),
        ),
    }
    return d


def _time_runs(d: dict[str, np.ndarray], world: _World, catalogue: _Catalogue) -> None:
    """Set the start of each run's later episodes in ``d["ts"]``: the previous
    episode's start plus its minutes watched plus the gap, position by position.

    ``d`` holds whole days' draws (a run's episodes next to each other, in order);
    any number of days at once gives the same times, so it is done per chunk (a
    few calls) rather than per day.  The plays' minutes are worked out again for
    the whole chunk in :func:`_columns`, from the same draws.
    """
    ts, position = d["ts"], d["position"]
    ahead = np.flatnonzero(position[1:] > 0)  # events followed by their run's next episode
    for step in range(int(position.max(initial=0))):
        now = ahead[position[ahead] == step]
        _, minutes = _play({k: d[k][now] for k in _PLAY_INPUTS}, world, catalogue)
        following = now + 1
        later = ts[now] + 60 * minutes + d["gap"][following]
        # Past the span's last second: on the last day at the event's own hour
        # instead (only runs of the last hours are cut).
        ts[following] = np.where(later < _DAYS * 86_400, later, (_DAYS - 1) * 86_400 + d["own_seconds"][following])


def _quality_draws(seed: int, day: int, n: int) -> dict[str, np.ndarray]:
    """The random part of one day's quality scores and of which of them were recorded."""
    rng = np.random.default_rng([seed, 2, day])
    u = rng.random((2, n))
    return {
        "q_normal": rng.standard_normal(n),
        "q_tail": u[0],
        "q_bump": rng.exponential(_QUALITY_TAIL_SCALE, n),
        "q_recorded": u[1],
    }


def _soft_bounds(value: np.ndarray) -> np.ndarray:
    """Keep a score inside (0.2, 10) without a pile-up at the bounds: beyond 9.5
    and below 0.5 the value bends smoothly (slope 1 at the joint) towards the bound."""
    high = value > 9.5
    low = value < 0.5
    out = value.copy()
    out[high] = 10.0 - 0.5 * np.exp(-(value[high] - 9.5) / 0.5)
    out[low] = 0.2 + 0.3 * np.exp((value[low] - 0.5) / 0.3)
    return out


def _quality(d: dict[str, np.ndarray], world: _World) -> np.ndarray:
    """Each event's experienced quality (``errorperception`` scale, higher is worse)."""
    device = d["device"]
    market = world.user_market_index[d["user"]]
    day = d["ts"] // 86_400
    hour = (d["ts"] % 86_400) // 3600
    tail_chance = 1.0 - (1.0 - _QUALITY_DEVICE_TAIL[device]) * (1.0 - _MARKET_QUALITY_TAIL[market])
    incident = (
        (_MARKETS[market] == INCIDENT_MARKET) & (day >= _INCIDENT_FIRST) & (day <= _INCIDENT_LAST)
    )
    value = (
        _QUALITY_MEAN
        + _QUALITY_SD * d["q_normal"]
        + _QUALITY_DEVICE_SHIFT[device]
        + _MARKET_QUALITY_SHIFT[market]
        + _EVENING[hour]
        + np.where(d["q_tail"] < tail_chance, d["q_bump"], 0.0)
        + np.where(incident, _INCIDENT_SHIFT, 0.0)
    )
    return _soft_bounds(value)


_PLAY_INPUTS = ("ts", "user", "item", "device", "completion", "depth", "q_normal", "q_tail", "q_bump")


def _play(d: dict[str, np.ndarray], world: _World, catalogue: _Catalogue) -> tuple[np.ndarray, np.ndarray]:
    """Each play's experienced quality and minutes watched."""
    item = d["item"]
    quality = _quality(d, world)
    # The kind of view: the session type's shares, with the early drop-off weighted
    # by the title's hook and by how poorly the play went.
    shares = np.where(
        (catalogue.sessiontype[item] == "SERIES")[:, None],
        np.array(_KIND_SHARES["SERIES"]),
        np.array(_KIND_SHARES["MOVIE"]),
    )
    shares[:, 0] *= catalogue.hook[item] * np.exp(_QUALITY_STOP * (quality - _QUALITY_STOP_PIVOT))
    cdf = np.cumsum(shares, axis=1)
    kind = np.minimum((d["completion"][:, None] * cdf[:, -1:] >= cdf).sum(axis=1), len(_COMPLETION) - 1)
    fraction = _COMPLETION_LOW[kind] + _COMPLETION_WIDTH[kind] * d["depth"] ** _COMPLETION_EXP[kind]
    minutes = np.maximum(1, np.rint(fraction * catalogue.runningtime[item])).astype(np.int64)
    return quality, minutes


def _columns(d: dict[str, np.ndarray], world: _World, catalogue: _Catalogue) -> dict[str, np.ndarray]:
    """Turn a chunk's events (in date order) into the table's columns (object arrays and int64)."""
    n = len(d["ts"])
    stamps = (d["ts"] + _EPOCH_SECONDS).astype("datetime64[s]")
    text = np.datetime_as_string(stamps, unit="s").astype("U19")  # 'YYYY-MM-DDTHH:MM:SS'
    chars = text.view("U1").reshape(n, 19)
    chars[:, 10] = " "
    event_date = text.astype(object)

    item = d["item"]
    running = catalogue.runningtime[item]
    quality, minutes = _play(d, world, catalogue)
    percentage = np.round(100.0 * minutes / running, 4)

    missing = d["missing"]
    contentid = catalogue.contentid[item]
    contentid[missing] = world.unlisted[d["unlisted"][missing]]
    runningtime = catalogue.runningtime_obj[item]
    viewpercentage = percentage.astype(object)
    sessiontype = catalogue.sessiontype[item]
    title = catalogue.title[item]
    season = catalogue.season[item]
    episode = catalogue.episode[item]
    for column in (runningtime, viewpercentage, sessiontype, title, season, episode):
        column[missing] = None
    recorded = (d["ts"] // 86_400 >= _QUALITY_FIRST) & (
        d["q_recorded"] < np.where(missing, _QUALITY_RECORDED_UNLISTED, _QUALITY_RECORDED)
    )
    errorperception = np.round(quality, 4).astype(object)
    errorperception[~recorded] = None

    return {
        "event_date": event_date,
        "userid": world.userid[d["user"]],
        "contentid": contentid,
        "device": _DEVICES[d["device"]],
        "market": world.user_market[d["user"]],
        "totalminuteswatched": minutes,
        "runningtime": runningtime,
        "viewpercentage": viewpercentage,
        "errorperception": errorperception,
        "sessiontype": sessiontype,
        "title": title,
        "seasonnumber": season,
        "episodenumber": episode,
    }


def _check(events: int, seed: int, chunk_size: int = 1) -> None:
    for name, value, low in (("events", events, 1), ("seed", seed, 0), ("chunk_size", chunk_size, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise MoviedashError(f"{name} must be an integer >= {low}, got {value!r}", parameter=name)
    if events > MAX_EVENTS:
        raise MoviedashError(f"events must be at most {MAX_EVENTS:,}, got {events:,}", parameter="events")


def _chunks(events: int, seed: int, chunk_size: int) -> Iterator[dict[str, np.ndarray]]:
    """Columns of whole days at a time, about ``chunk_size`` rows per chunk."""
    catalogue = _catalogue()
    world = _world(int(events), int(seed))
    pending: list[dict[str, np.ndarray]] = []
    rows = 0
    carried: dict[str, np.ndarray] | None = None  # runs' episodes that fall after the last chunk
    last = len(world.day_counts) - 1
    for day, n in enumerate(world.day_counts.tolist()):
        if n:
            pending.append(_day_draws(int(seed), day, n, world, catalogue))
            rows += n
        if (pending or carried is not None) and (rows >= chunk_size or day == last):
            draws, carried = _whole_days(pending, carried, day, world, catalogue)
            yield _columns(draws, world, catalogue)
            pending, rows = [], 0


def _whole_days(
    pending: list[dict[str, np.ndarray]], carried: dict[str, np.ndarray] | None, day: int,
    world: _World, catalogue: _Catalogue,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray] | None]:
    """The events up to the end of ``day``, in time order, and those that fall later.

    ``pending`` are days' draws; ``carried`` the earlier chunks' run episodes that
    fell after them (already timed: their positions are zeroed, so none follows
    another).  Events are in the order of their day of draw, so the stable sort
    orders ties the same way whatever the chunk size.
    """
    parts = pending if carried is None else [carried, *pending]
    draws = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    _time_runs(draws, world, catalogue)
    later = draws["ts"] >= (day + 1) * 86_400
    ahead: dict[str, np.ndarray] | None = None
    if later.any():
        ahead = {k: v[later] for k, v in draws.items()}
        ahead["position"] = np.zeros_like(ahead["position"])
    now = np.flatnonzero(~later)
    now = now[np.argsort(draws["ts"][now], kind="stable")]
    return {k: v[now] for k, v in draws.items()}, ahead


def generate_events(
    events: int = DEFAULT_EVENTS, seed: int = DEFAULT_SEED, *, chunk_size: int = 500_000
) -> Iterator[pd.DataFrame]:
    """Yield the demo events as frames of about ``chunk_size`` rows, in date order.

    Columns are :data:`moviedash.db.COLUMNS` in order: ``event_date`` as text
    ``YYYY-MM-DD HH:MM:SS``, text columns as pandas strings, ``totalminuteswatched``
    int64, ``runningtime``/``seasonnumber``/``episodenumber`` nullable Int64,
    ``viewpercentage``/``errorperception`` float64 (NaN for NULL).  The rows depend
    only on ``(events, seed)``; a chunk holds whole days, so it can exceed
    ``chunk_size`` when a single day has more events.
    """
    _check(events, seed, chunk_size)

    def frames() -> Iterator[pd.DataFrame]:
        for columns in _chunks(events, seed, chunk_size):
            frame = pd.DataFrame({name: columns[name] for name in COLUMNS[:5]})
            frame["totalminuteswatched"] = columns["totalminuteswatched"]
            frame["runningtime"] = pd.array(columns["runningtime"], dtype="Int64")
            frame["viewpercentage"] = columns["viewpercentage"].astype(np.float64)
            frame["errorperception"] = columns["errorperception"].astype(np.float64)
            frame["sessiontype"] = pd.Series(columns["sessiontype"], dtype="str")
            frame["title"] = pd.Series(columns["title"], dtype="str")
            frame["seasonnumber"] = pd.array(columns["seasonnumber"], dtype="Int64")
            frame["episodenumber"] = pd.array(columns["episodenumber"], dtype="Int64")
            yield frame

    return frames()


def write_demo(
    path: str | os.PathLike[str],
    events: int = DEFAULT_EVENTS,
    seed: int = DEFAULT_SEED,
    *,
    force: bool = False,
) -> int:
    """Write the demo database to ``path`` and return the number of rows written.

    Refuses to replace an existing file unless ``force``.  The database is built
    in a temporary file in the same folder and renamed onto ``path`` when
    complete, so ``path`` is never a half-written database.
    """
    _check(events, seed)
    if is_postgres(path):
        return _write_demo_postgres(os.fspath(path), events, seed, force=force)
    target = resolve_path(path)
    if target.is_dir():
        raise MoviedashError(f"{path} is a folder, not a database file", parameter="path")
    if target.exists() and not force:
        raise MoviedashError(f"{path} exists; use --force to replace it", parameter="path")
    new = NewDatabase(target)  # checks the folder
    written = 0
    try:
        conn = new.connect()
        try:
            conn.execute("BEGIN")
            aggregator = Aggregator(conn)
            for columns in _chunks(events, seed, 500_000):
                lists = [columns[c].tolist() for c in COLUMNS]
                insert_rows(conn, zip(*lists, strict=True))
                written += len(lists[0])
                aggregator.add({c: columns[c] for c in FED_COLUMNS})
            refresh_derived(conn, aggregator)
            conn.execute("COMMIT")
        except BaseException:
            conn.close()
            raise
        new.place(conn, replace=force)
    except BaseException as exc:
        new.discard()
        if isinstance(exc, (sqlite3.Error, OSError)):
            raise MoviedashError(f"cannot write {path}: {exc}", status=500, parameter="path") from None
        raise
    return written


def _write_demo_postgres(url: str, events: int, seed: int, *, force: bool) -> int:
    """The demo events into PostgreSQL's ``movies`` (``COPY``), in one transaction.

    Refuses when ``movies`` holds rows, unless ``force``: then the table and the
    load ledger are emptied first (``TRUNCATE``), in the same transaction, so
    readers wait for the commit and see the new data, never a mix or an empty table.
    """
    display = parse_target(url).display
    types = ARROW_TYPES
    conn = postgres.connect_readwrite(url)
    db = postgres.PgConnection(conn, parse_target(url).location)
    written = 0
    try:
        postgres.lock_ledger(conn)
        if postgres.scalar(conn, "SELECT EXISTS (SELECT 1 FROM movies)"):
            if not force:
                raise MoviedashError(f"{display} already holds events; use --force to replace them", parameter="path")
            clear_rollups(db)  # before TRUNCATE: the new rows get new rollups (and a new instance)
            conn.execute("TRUNCATE movies, moviedash_loads")
        aggregator = Aggregator(db)  # after TRUNCATE: it starts from the empty table
        copy = postgres.MovieCopy(conn)
        try:
            for columns in _chunks(events, seed, 200_000):
                table = pa.Table.from_arrays(
                    [pa.array(columns[c], type=types.get(c, pa.string())) for c in COLUMNS], names=list(COLUMNS)
                )
                written += table.num_rows
                copy.send(table)
                aggregator.add({c: columns[c] for c in FED_COLUMNS})
        except BaseException as exc:
            copy.abort(exc)
            raise
        copy.end()
        refresh_derived(db, aggregator)
        conn.commit()
    except postgres.psycopg.Error as exc:
        raise MoviedashError(f"cannot write the demo into {display}: {exc}", status=500, parameter="path") from None
    finally:
        conn.close()  # without a commit: rolled back
    return written


