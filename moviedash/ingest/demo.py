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
  ``viewpercentage = round(100 * minutes / runningtime, 4)``;
* about 3 % of events about content missing from the catalogue: their title,
  runningtime, viewpercentage, sessiontype, season and episode are NULL.

Generation is vectorised with numpy.  Every day has its own random stream
(seeded by the seed and the day), so the rows depend only on ``(events, seed)``,
not on the chunk size.  :func:`write_demo` writes a temporary file next to the
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
from ..rollups import clear as clear_rollups
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
# Completion: (share of views, lowest fraction, width, exponent) - fraction of
# the running time watched is ``low + width * u ** exponent`` for uniform ``u``.
_COMPLETION = (
    (0.30, 0.002, 0.25, 2.0),   # early drop-off
    (0.26, 0.10, 0.80, 1.0),    # watched part of it
    (0.39, 1.00, -0.08, 2.0),   # (almost) to the end
    (0.05, 1.00, 0.10, 1.0),    # a bit over the running time, as in the real log
)


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
_COMPLETION_CDF = _cdf(np.array([c[0] for c in _COMPLETION]))
_COMPLETION_LOW = np.array([c[1] for c in _COMPLETION])
_COMPLETION_WIDTH = np.array([c[2] for c in _COMPLETION])
_COMPLETION_EXP = np.array([c[3] for c in _COMPLETION])


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

    shows: list[tuple[str, list[str] | None]] = [(n, list(e)) for n, e in _NORDIC_SERIES]
    for _ in range(_N_SHOWS):
        shows.append((_unique(_show_name, rng, taken), None))
    for (name, fixed_episodes), weight in zip(shows, show_weight):
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
    )


# --------------------------------------------------------------------------- #
# Users and days: depend on (events, seed).
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class _World:
    userid: np.ndarray      # object: 32-hex
    user_cdf: np.ndarray
    user_device: np.ndarray  # int: index into _DEVICES
    user_market: np.ndarray  # object: market code
    unlisted: np.ndarray    # object: 32-hex contentids without metadata
    day_counts: np.ndarray  # int64, one per day


def _world(events: int, seed: int) -> _World:
    rng = np.random.default_rng([seed, 0])
    n_users = max(_MIN_USERS, events // _EVENTS_PER_USER)
    activity = rng.lognormal(0.0, _USER_ACTIVITY_SIGMA, n_users)
    user_device = _draw(_DEVICE_CDF, rng.random(n_users))
    user_market = _MARKETS[_draw(_cdf(_MARKET_WEIGHTS), rng.random(n_users))]
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
    return _World(userid, _cdf(activity), user_device, user_market, unlisted, day_counts)


def _day_draws(seed: int, day: int, n: int, world: _World, catalogue: _Catalogue) -> dict[str, np.ndarray]:
    """The random part of one day's ``n`` events, from that day's own stream."""
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
    }


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
    kind = _draw(_COMPLETION_CDF, d["completion"])
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

    return {
        "event_date": event_date,
        "userid": world.userid[d["user"]],
        "contentid": contentid,
        "device": _DEVICES[d["device"]],
        "market": world.user_market[d["user"]],
        "totalminuteswatched": minutes,
        "runningtime": runningtime,
        "viewpercentage": viewpercentage,
        "errorperception": np.full(n, None, dtype=object),
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
            frame["errorperception"] = np.full(len(frame), np.nan)
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
                insert_rows(conn, zip(*lists))
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
    db = postgres.PgConnection(conn, parse_target(url).location)
    written = 0
    try:
        postgres.lock_ledger(conn)
        if conn.execute("SELECT EXISTS (SELECT 1 FROM movies)").fetchone()[0]:
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


