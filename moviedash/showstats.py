"""One show's numbers (``/data/show/?name=…``): per season and per episode, episode drop-off, the episode grid.

Which events belong to the show is :mod:`moviedash.shows`' rule (the title and the session type;
a CSV's ``show`` column wins).  Definitions, over the shared filters and date range:

- An **episode** is a (``seasonnumber``, ``episodenumber``) pair of the show's events; events
  without a number are grouped under ``null`` (a movie, its own show, is one ``null``/``null``
  episode).  Its ``episode_name`` is the episode part of its titles (the smallest as shown, when
  several titles share the numbers; ``null`` for a title that does not split).
- **plays**, **minutes** and **viewers** follow the top list (the data-quality settings:
  ``min_minutes`` plays, ``exclude_users`` left out of viewers); **completion** is the engagement
  measure ``completion`` (average capped completion of the plays with a percentage, 2 decimals).
  A season's viewers are distinct users over all its episodes.
- **Drop-off** (``share_of_first``): an episode's viewers as a % of the viewers of its season's
  first episode in episode order (episode 1 when there is one), 1 decimal; ``null`` when that
  episode has no viewers.  Unnumbered episodes come last.
- **Grid**: for each season with *N* episodes, how many of its viewers watched 1, 2, … *N*
  distinct episodes of it (every count listed, zeros included).

Answered from the rollups when they are current (:mod:`moviedash.rollups.show_serve`: the show's
per-title entries, mapped to their titles' season and episode, ``md_title_numbers``), unless a title
of the show is *mixed* (its events carry several season/episode pairs): then, as for a database
without rollups, from the raw table (one ``GROUP BY`` of the show's candidate titles).  Both paths
hand :func:`summarise_parts` equivalent :class:`Parts` (the same episodes, sums, names and viewer
pairs, viewers numbered apart), so their answers are byte-identical; either is kept per data version
in the analysis cache.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import metrics, rollups, shows
from . import settings as data_settings
from .analysis import HAS_TITLE, cached, play_condition, where
from .errors import MoviedashError
from .escapes import decode_escapes
from .metrics import UNITS, Ratio
from .params import Filters
from .rollups.aggregator import distinct
from .rollups.show_serve import ShowEntries, show_entries
from .rollups.showmap import named_shows
from .store import Connection, dialect_of

_FULL = 100 * UNITS
#: The completion measure the show page reports (issue 14's declaration).
COMPLETION: Ratio = metrics.measure("completion").aggregation  # type: ignore[assignment]

#: One ``GROUP BY`` row: title, session type, season, episode, viewer (or None), plays, minutes,
#: completion units and plays with a percentage.
Row = tuple[Any, ...]


#: An episode: its (season, episode) numbers, ``None`` for none.
Episode = tuple[int | None, int | None]


@dataclass
class Parts:
    """What the show page is computed from: per episode its sums and episode names, and who watched it.

    ``sums`` per episode: plays, minutes, completion units and plays with a percentage; ``pairs``:
    ``episode number << 32 | viewer number`` of every (episode, viewer), repeats allowed (the
    numbers index :attr:`episodes`, and number viewers densely, below ``2**32``).
    """

    episodes: list[Episode] = field(default_factory=list)
    sums: list[list[int]] = field(default_factory=list)
    names: list[set[str]] = field(default_factory=list)
    pairs: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    _index: dict[Episode, int] = field(default_factory=dict)

    def episode(self, season: Any, episode: Any) -> int:
        """The number of an episode (added on first sight)."""
        key = (None if season is None else int(season), None if episode is None else int(episode))
        found = self._index.get(key)
        if found is None:
            found = self._index[key] = len(self.episodes)
            self.episodes.append(key)
            self.sums.append([0, 0, 0, 0])
            self.names.append(set())
        return found

    def add(self, number: int, sums: Sequence[Any], title: str, sessiontype: object,
            named: dict[str, str] | None) -> None:
        """An episode's sums from one title of one session type (whose episode name it adds)."""
        totals = self.sums[number]
        for i, value in enumerate(sums):
            totals[i] += int(value)
        part = shows.split_title(title, sessiontype, named=named).episode
        if part is not None:
            self.names[number].add(decode_escapes(part))


def _record(sums: Sequence[int], viewers: int) -> dict[str, Any]:
    plays, minutes, units, rated = sums
    return {"plays": plays, "viewers": viewers, "minutes": minutes, "completion": COMPLETION.value(units, rated)}


def _order(number: int | None) -> tuple[bool, int]:
    """Numbered first, in order; ``None`` last."""
    return (number is None, number if number is not None else 0)


def show_rows(conn: Connection, name: str, filters: Filters) -> list[Row]:
    """The show's events grouped by (title, session type, season, episode, viewer), from the raw table."""
    dialect = dialect_of(conn)
    current = data_settings.load(conn)
    named = named_shows(conn)
    clause, params = where(filters)
    play, play_params = play_condition(current)
    viewer = f"CASE WHEN {play} THEN userid END"
    viewer_params = list(play_params)
    if current.exclude_users:
        excluded = sorted(current.exclude_users)
        viewer = f"CASE WHEN {play} AND userid NOT IN ({', '.join('?' * len(excluded))}) THEN userid END"
        viewer_params += excluded
    percentage = dialect.units("viewpercentage")
    completion = f"CASE WHEN {play} THEN (CASE WHEN {percentage} > {_FULL} THEN {_FULL} ELSE {percentage} END) END"
    prefix = name + shows.SEPARATOR
    # Candidates in SQL (the show's own title, titles starting "<show>, ", titles a CSV named it for);
    # the rule itself decides in Python, below.
    candidates = ["title = ?", "substr(title, 1, ?) = ?"]
    candidate_params: list[Any] = [name, len(prefix), prefix]
    named_titles = sorted(t for t, s in named.items() if s == name)
    if named_titles:
        candidates.append(f"title IN ({', '.join('?' * len(named_titles))})")
        candidate_params += named_titles
    sql = (
        "SELECT title, sessiontype, season, episode, viewer, SUM(play), SUM(m), "
        "COALESCE(SUM(completion), 0), SUM(CASE WHEN completion IS NOT NULL THEN 1 ELSE 0 END) FROM ("
        f"SELECT title, sessiontype, {dialect.integer('seasonnumber')} AS season, "
        f"{dialect.integer('episodenumber')} AS episode, {viewer} AS viewer, "
        f"CASE WHEN {play} THEN 1 ELSE 0 END AS play, COALESCE({metrics.MINUTES}, 0) AS m, "
        f"{completion} AS completion "
        f"FROM movies WHERE {clause} AND {HAS_TITLE} AND ({' OR '.join(candidates)})) AS events "
        "GROUP BY title, sessiontype, season, episode, viewer"
    )
    rows = conn.execute(sql, [*viewer_params, *play_params, *play_params, *params,
                              *candidate_params]).fetchall()
    return [r for r in rows if (shows.show_of(str(r[0]), r[1], named=named) or str(r[0])) == name]


def summarise(name: str, rows: Iterable[Row], named: dict[str, str] | None = None) -> dict[str, Any]:
    """The show page's numbers from :func:`show_rows`' rows (pure: the plain-Python reference checks it)."""
    return summarise_parts(name, summarise_rows(rows, named))


def summarise_rows(rows: Iterable[Row], named: dict[str, str] | None = None) -> Parts:
    """:class:`Parts` of :func:`show_rows`' rows: each row's sums and viewer go to its season and episode."""
    parts = Parts()
    viewers: dict[str, int] = {}
    pairs: list[int] = []
    for row in rows:
        title, sessiontype, season, episode, viewer = row[:5]
        number = parts.episode(season, episode)
        parts.add(number, row[5:9], str(title), sessiontype, named)
        if viewer is not None:
            pairs.append(number << 32 | viewers.setdefault(str(viewer), len(viewers)))
    parts.pairs = np.asarray(pairs, dtype=np.int64)
    return parts


def rollup_parts(entries: ShowEntries, named: dict[str, str] | None = None) -> Parts:
    """:class:`Parts` of the show's per-title rollup entries (:func:`~moviedash.rollups.show_serve.show_entries`):
    each title's entries and viewers go to its season and episode."""
    parts = Parts()
    numbers = {title: parts.episode(*pair) for title, pair in entries.numbers.items()}
    for title, series, *sums in zip(entries.titles.tolist(), entries.series.tolist(),
                                    *(s.tolist() for s in entries.sums), strict=True):
        parts.add(numbers[title], sums, entries.names[title], shows.SERIES if series else None, named)
    if len(entries.pairs):
        size = max(numbers) + 1
        episode_of = np.zeros(size, dtype=np.int64)
        episode_of[list(numbers)] = list(numbers.values())
        parts.pairs = (episode_of[entries.pairs >> 32] << 32) | (entries.pairs & 0xFFFFFFFF)
    return parts


def _counted(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct ``values`` (sorted) and how often each occurs (a sort: numpy's hashing ``unique`` is slower)."""
    ordered = np.sort(values)
    if not len(ordered):
        return ordered, ordered
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    return ordered[starts], np.diff(np.append(starts, len(ordered)))


def summarise_parts(name: str, parts: Parts) -> dict[str, Any]:
    """The show page's numbers (module docstring) from :class:`Parts`."""
    seasons = sorted({season for season, _ in parts.episodes}, key=_order)
    season_of = {season: i for i, season in enumerate(seasons)}
    episode_season = np.asarray([season_of[season] for season, _ in parts.episodes], dtype=np.int64)
    pairs = distinct(parts.pairs)  # distinct (episode, viewer)
    episode, viewer = pairs >> 32, pairs & 0xFFFFFFFF
    episode_viewers = np.bincount(episode, minlength=len(parts.episodes)).tolist()
    # Per (season, viewer) the distinct episodes watched: the grid; their count per season: its viewers.
    season_pairs, watched = _counted((episode_season[episode] << 32) | viewer)
    season_index = season_pairs >> 32
    season_viewers = np.bincount(season_index, minlength=len(seasons)).tolist()
    whole = [sum(column) for column in zip(*parts.sums, strict=True)] if parts.sums else [0, 0, 0, 0]
    season_list: list[dict[str, Any]] = []
    episode_list: list[dict[str, Any]] = []
    grid: list[dict[str, Any]] = []
    for s, season in enumerate(seasons):
        numbers = sorted((i for i, (of, _) in enumerate(parts.episodes) if of == season),
                         key=lambda i: _order(parts.episodes[i][1]))
        totals = [sum(column) for column in zip(*(parts.sums[i] for i in numbers), strict=True)]
        season_list.append({"season": season, "episodes": len(numbers), **_record(totals, season_viewers[s])})
        base = episode_viewers[numbers[0]]
        for i in numbers:
            shown = sorted(parts.names[i])
            episode_list.append({
                "season": season, "episode": parts.episodes[i][1], "episode_name": shown[0] if shown else None,
                **_record(parts.sums[i], episode_viewers[i]),
                "share_of_first": metrics.served(100 * episode_viewers[i], base, 1) if base else None,
            })
        counts = np.bincount(watched[season_index == s] - 1, minlength=len(numbers)).tolist()
        grid.extend({"season": season, "episodes_watched": k + 1, "viewers": n} for k, n in enumerate(counts))
    return {"show": name, **_record(whole, len(distinct(viewer))), "seasons": season_list,
            "episodes": episode_list, "grid": grid}


def show(conn: Connection, name: str, filters: Filters) -> dict[str, Any]:
    """The show page's numbers (module docstring); a 404 naming ``name`` for a show without any event."""
    status = rollups.status(conn)
    current = status is not None and status.usable

    def parts(selection: Filters, named: dict[str, str]) -> Parts | None:
        """The selection's :class:`Parts`, from the rollups when they can tell (``None``: no event)."""
        entries = show_entries(conn, name, selection) if current else None
        if entries is not None:
            return rollup_parts(entries, named) if len(entries.titles) else None
        rows = show_rows(conn, name, selection)
        return summarise_rows(rows, named) if rows else None

    def compute() -> dict[str, Any]:
        named = named_shows(conn)
        found = parts(filters, named)
        if found is None and (filters.is_default() or parts(Filters(), named) is None):
            raise MoviedashError(f"unknown show {name!r}", parameter="name", status=404)
        return summarise_parts(name, found or Parts())

    return cached(conn, ("show", name, filters, data_settings.load(conn)), compute)


#: The show page's tables, as frames (CSV export, the figures).
PARTS: tuple[str, ...] = ("seasons", "episodes", "grid")


def frame(result: dict[str, Any], part: str) -> pd.DataFrame:
    """One of the show's tables (:data:`PARTS`) as a frame."""
    if part not in PARTS:
        raise ValueError(part)
    records: Sequence[dict[str, Any]] = result[part]
    frame = pd.DataFrame.from_records(list(records), columns=_COLUMNS[part])
    for column in ("season", "episode"):  # numbers with gaps (null) stay integers, not floats
        if column in frame:
            frame[column] = frame[column].astype("Int64")
    return frame


_MEASURES = ["plays", "viewers", "minutes", "completion"]
_COLUMNS: dict[str, list[str]] = {
    "seasons": ["season", "episodes", *_MEASURES],
    "episodes": ["season", "episode", "episode_name", *_MEASURES, "share_of_first"],
    "grid": ["season", "episodes_watched", "viewers"],
}
