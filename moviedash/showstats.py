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

Answered from the raw table (one ``GROUP BY`` of the show's candidate titles per request, kept
per data version in the analysis cache): the rollups hold no season and episode numbers.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from . import metrics, shows
from . import settings as data_settings
from .analysis import HAS_TITLE, cached, play_condition, where
from .errors import MoviedashError
from .escapes import decode_escapes
from .metrics import UNITS, Ratio
from .params import Filters
from .rollups.showmap import named_shows
from .store import Connection, dialect_of

_FULL = 100 * UNITS
#: The completion measure the show page reports (issue 14's declaration).
COMPLETION: Ratio = metrics.measure("completion").aggregation  # type: ignore[assignment]

#: One ``GROUP BY`` row: title, session type, season, episode, viewer (or None), plays, minutes,
#: completion units and plays with a percentage.
Row = tuple[Any, ...]


@dataclass
class _Totals:
    plays: int = 0
    minutes: int = 0
    completion_units: int = 0
    completion_plays: int = 0
    viewers: set[str] = field(default_factory=set)

    def add(self, row: Row) -> None:
        viewer, plays, minutes, units, rated = row[4:9]
        self.plays += int(plays)
        self.minutes += int(minutes)
        self.completion_units += int(units)
        self.completion_plays += int(rated)
        if viewer is not None:
            self.viewers.add(str(viewer))

    def record(self) -> dict[str, Any]:
        return {
            "plays": self.plays,
            "viewers": len(self.viewers),
            "minutes": self.minutes,
            "completion": COMPLETION.value(self.completion_units, self.completion_plays),
        }


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
    whole = _Totals()
    seasons: dict[int | None, _Totals] = defaultdict(_Totals)
    episodes: dict[tuple[int | None, int | None], _Totals] = defaultdict(_Totals)
    names: dict[tuple[int | None, int | None], set[str]] = defaultdict(set)
    watched: dict[int | None, dict[str, set[int | None]]] = defaultdict(lambda: defaultdict(set))
    for row in rows:
        title, sessiontype, season, episode, viewer = row[:5]
        season = None if season is None else int(season)
        episode = None if episode is None else int(episode)
        whole.add(row)
        seasons[season].add(row)
        episodes[(season, episode)].add(row)
        part = shows.split_title(str(title), sessiontype, named=named).episode
        if part is not None:
            names[(season, episode)].add(decode_escapes(part))
        if viewer is not None:
            watched[season][str(viewer)].add(episode)
    season_list: list[dict[str, Any]] = []
    episode_list: list[dict[str, Any]] = []
    grid: list[dict[str, Any]] = []
    for season in sorted(seasons, key=_order):
        numbers = sorted((e for s, e in episodes if s == season), key=_order)
        season_list.append({"season": season, "episodes": len(numbers), **seasons[season].record()})
        base = len(episodes[(season, numbers[0])].viewers)
        for number in numbers:
            totals = episodes[(season, number)]
            shown = sorted(names[(season, number)])
            episode_list.append({
                "season": season, "episode": number, "episode_name": shown[0] if shown else None,
                **totals.record(),
                "share_of_first": metrics.served(100 * len(totals.viewers), base, 1) if base else None,
            })
        counts = [0] * len(numbers)
        for seen in watched[season].values():
            counts[len(seen) - 1] += 1
        grid.extend({"season": season, "episodes_watched": k + 1, "viewers": n} for k, n in enumerate(counts))
    return {"show": name, **whole.record(), "seasons": season_list, "episodes": episode_list, "grid": grid}


def show(conn: Connection, name: str, filters: Filters) -> dict[str, Any]:
    """The show page's numbers (module docstring); a 404 naming ``name`` for a show without any event."""

    def compute() -> dict[str, Any]:
        rows = show_rows(conn, name, filters)
        if not rows and (filters.is_default() or not show_rows(conn, name, Filters())):
            raise MoviedashError(f"unknown show {name!r}", parameter="name", status=404)
        return summarise(name, rows, named_shows(conn))

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
