"""A realistic synthetic ``movies`` database, so a new user sees the product at once.

``moviedash demo`` writes it; tests and benchmarks use it too.  The data imitate
the course's viewing log, made up from scratch:

* events from ``2023-01-01 00:00:00`` to ``2024-12-31 23:59:59`` (local time, text
  ``YYYY-MM-DD HH:MM:SS``), in chronological order, with more viewing on Friday to
  Sunday, an evening peak (20-22 h, little at 3-6 h), a winter high, a
  Christmas bump and a mild growth trend;
* ``max(50, events // 15)`` users (32-hex ids) with a heavy-tailed activity, so a
  minority of heavy viewers makes a large share of the events; each user has
  one market (NO/SE/DK/FI) and mostly one device (Computer/iPad/TV);
* a fixed catalogue of made-up movies (80-150 min) and series episodes (20-60
  min, titled ``"Show, Episode"`` with season and episode numbers), with Zipf-like
  popularity (a few hits and a long tail) and some non-ASCII titles;
* minutes watched consistent with the running time: many near-complete views,
  many early drop-offs, a few slightly over 100 % (as in the real data), and
  ``viewpercentage = round(100 * minutes / runningtime, 4)``.  Series episodes
  are finished more often than movies; each title has its own pull (about one
  work in eight loses viewers early, pilots are tried and left, later episodes
  are watched by fans); and poorer plays stop earlier;
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
(seeded by the seed and the day; quality in a second stream of the day, so it
left the other draws as they were), so the rows depend only on ``(events,
seed)``, not on the chunk size.  :func:`write_demo` writes a temporary file next to the
target and renames it into place, so an interrupted run never leaves half a
database behind.
"""
from __future__ import annotations

import functools
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import MoviedashError
from ..rollups import FED_COLUMNS, Aggregator, refresh_derived
from ..store import COLUMNS, is_postgres
from ..store import parse as parse_target
from ..store.sqlite import NewDatabase, insert_rows, resolve_path

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
_USER_ACTIVITY_SIGMA = 1.3  # lognormal: top 10 % of users make ~half the events
_EVENTS_PER_USER = 15
_MIN_USERS = 50
_MISSING_SHARE = 0.03
_UNLISTED_CONTENT = 64  # distinct contentids of the events without metadata
_SERIES_SHARE = 0.52

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
    )


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
    user_cdf: np.ndarray
    user_device: np.ndarray  # int: index into _DEVICES
    user_market: np.ndarray  # object: market code
    user_market_index: np.ndarray  # int: index into _MARKETS
    unlisted: np.ndarray    # object: 32-hex contentids without metadata
    day_counts: np.ndarray  # int64, one per day


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
    return _World(userid, _cdf(activity), user_device, user_market, user_market_index, unlisted, day_counts)


def _day_draws(seed: int, day: int, n: int, world: _World, catalogue: _Catalogue) -> dict[str, np.ndarray]:
    """The random part of one day's ``n`` events, from that day's own streams.

    The quality draws come from a second stream of the day, so adding them left
    the other columns' draws as they were.
    """
    rng = np.random.default_rng([seed, 1, day])
    u = rng.random((8, n))
    weekend = ((int(_FIRST_DAY.astype(np.int64)) + day + 3) % 7) >= 5
    seconds = _draw(_HOUR_CDF[int(weekend)], u[0]) * 3600 + (u[1] * 3600).astype(np.int64)
    user = _draw(world.user_cdf, u[2])
    device = np.where(u[3] < _PRIMARY_DEVICE_SHARE, world.user_device[user], _draw(_DEVICE_CDF, u[4]))
    return {
        "ts": day * 86_400 + seconds,
        "user": user,
        "item": _draw(catalogue.cdf, u[5]),
        "device": device,
        "completion": u[6],
        "depth": u[7],
        "missing": rng.random(n) < _MISSING_SHARE,
        "unlisted": rng.integers(0, _UNLISTED_CONTENT, n),
        **_quality_draws(seed, day, n),
    }


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


def _columns(draws: dict[str, np.ndarray], world: _World, catalogue: _Catalogue) -> dict[str, np.ndarray]:
    """Turn a chunk's draws into the table's columns (object arrays and int64)."""
    order = np.argsort(draws["ts"], kind="stable")
    d = {k: v[order] for k, v in draws.items()}
    n = len(order)

    stamps = (d["ts"] + _EPOCH_SECONDS).astype("datetime64[s]")
    text = np.datetime_as_string(stamps, unit="s").astype("U19")  # 'YYYY-MM-DDTHH:MM:SS'
    chars = text.view("U1").reshape(n, 19)
    chars[:, 10] = " "
    event_date = text.astype(object)

    item = d["item"]
    running = catalogue.runningtime[item]
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
    minutes = np.maximum(1, np.rint(fraction * running)).astype(np.int64)
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
    for day, n in enumerate(world.day_counts.tolist()):
        if n == 0:
            continue
        pending.append(_day_draws(int(seed), day, n, world, catalogue))
        rows += n
        if rows >= chunk_size:
            draws = {k: np.concatenate([p[k] for p in pending]) for k in pending[0]}
            yield _columns(draws, world, catalogue)
            pending, rows = [], 0
    if pending:
        draws = {k: np.concatenate([p[k] for p in pending]) for k in pending[0]}
        yield _columns(draws, world, catalogue)


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
    import pyarrow as pa

    from ..store import postgres

    display = parse_target(url).display
    from .loader import ARROW_TYPES as types
    conn = postgres.connect_readwrite(url)
    written = 0
    try:
        postgres.lock_ledger(conn)
        if conn.execute("SELECT EXISTS (SELECT 1 FROM movies)").fetchone()[0]:
            if not force:
                raise MoviedashError(f"{display} already holds events; use --force to replace them", parameter="path")
            conn.execute("TRUNCATE movies, moviedash_loads")

        def chunks() -> Iterator[memoryview]:
            nonlocal written
            for columns in _chunks(events, seed, 200_000):
                table = pa.Table.from_arrays(
                    [pa.array(columns[c], type=types.get(c, pa.string())) for c in COLUMNS], names=list(COLUMNS)
                )
                written += table.num_rows
                yield postgres.csv_chunk(table)

        postgres.copy_chunks(conn, chunks())
        conn.commit()
    except postgres.psycopg.Error as exc:
        raise MoviedashError(f"cannot write the demo into {display}: {exc}", status=500, parameter="path") from None
    finally:
        conn.close()  # without a commit: rolled back
    return written


