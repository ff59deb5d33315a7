"""Binge sessions: who watches episode after episode of one show, and how much of series viewing that is.

Definitions (issue 15; the thresholds are the data-quality settings
``binge_min_episodes``, default 3, and ``binge_max_gap_minutes``, default 120,
of :mod:`moviedash.settings`):

- An **episode** is a *play* (``min_minutes``, NULL minutes are 0) of a series
  event (:func:`moviedash.shows.is_series`) with a title, a placed date (as every
  dated query: :func:`moviedash.analysis.where` with ``dated``) and a *viewer*:
  a ``userid`` that is not NULL and not in ``exclude_users`` -- the viewer rule of
  every viewer count.  Excluded users (and rows without a user) have no binge
  sessions; their minutes still count in series minutes, as in minutes watched.
  Its show is :func:`moviedash.shows.show_of` (with the shows a CSV named, when
  the database has them).
- Runs are **per (viewer, show)**: a viewer's episodes of one show, ordered by
  start (``event_date``).  Plays of another show (or a movie) in between do not
  break a run -- a viewer alternating two shows on one evening binges both.  An
  episode **continues** the run when it starts at most ``binge_max_gap_minutes``
  after the *end* of the episodes before it (end = ``event_date`` +
  ``totalminuteswatched`` minutes, to the second; with overlapping episodes, the
  latest end so far: a viewer still in a long episode has not stopped).  A gap
  of exactly the threshold continues it, one second more does not, and an
  episode starting before the previous one ended (overlap) continues it.
  So adding an episode never lengthens a gap: a late-arriving older event can
  join runs (or start its own), never split one.
- A **binge session** is a run of at least ``binge_min_episodes`` episodes.
  Runs cross midnight and year ends freely.

How a selection (dates and the shared filters) counts them:

- Sessions are found over **all** of a viewer's episodes, whatever the
  selection: a selection never cuts a session in two.
- A **session belongs to its first episode**: to that episode's period and to
  its session type, device and market.  It counts in a selection when its first
  episode does (a session started on 31 December at 23:00 is December's, and
  the previous year's).
- **Minutes belong to their own episode**: the binge share of a period is the
  minutes of the selection's series events (every series event, plays or not,
  any user) that are episodes of a binge session, over the minutes of all the
  selection's series events, in % to 2 decimals (the exact rounding of
  :func:`moviedash.metrics.served`; ``None`` without series minutes).  So a
  share never exceeds 100 %.
- The **top binged shows** rank shows by the sessions of the selection, then
  their viewers (distinct users with such a session), then the name;
  ``episodes_per_session`` is their episodes over their sessions (2 decimals).

The answers are computed in Python from integers (seconds and minutes), so
SQLite and PostgreSQL give the same numbers, from one of two sources holding the
same :class:`Binges` (the series and binge minutes per (day, session type,
device, market) and one row per session):

- the binge rollups (:mod:`moviedash.rollups.binges`: ``md_binge_day``,
  ``md_binges``), maintained incrementally by every load, when the rollups are
  current and were built under the settings in force;
- the raw rows otherwise (a database made the course's way, rollups of an older
  moviedash, rows appended behind moviedash's back): every series event is read
  and the runs found with the same functions.

Either is kept per data version (:func:`moviedash.analysis.cached`) and every
selection is answered from it.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from . import dimensions, metrics, rollups, shows
from . import settings as data_settings
from .analysis import cached, read_frame
from .escapes import decode_escapes
from .metrics import MeasureSettings
from .params import Filters, SeriesQuery
from .periods import check_periods, period_labels, period_start
from .rollups import binges as binge_rollups
from .rollups.binges import read_series
from .store import Connection, Dialect, check_deadline, dialect_of


@dataclass(frozen=True)
class Column:
    """One column of a binge answer: its name, how it reads and its unit (the charts' and docs' words)."""

    name: str
    label: str
    unit: str


#: The columns of ``/data/binge/`` (per period) and ``/data/binge/overall/`` (the selection), declared once.
PERIOD_COLUMNS: tuple[Column, ...] = (
    Column("sessions", "Binge sessions", "sessions started"),
    Column("binge_minutes", "Minutes in binges", "minutes"),
    Column("series_minutes", "Series minutes", "minutes"),
    Column("share", "Share of series minutes in binges", "%"),
)
OVERALL_COLUMNS: tuple[Column, ...] = (
    Column("sessions", "Binge sessions", "sessions"),
    Column("viewers", "Binge viewers", "viewers"),
    Column("episodes", "Episodes in binges", "episodes"),
    *PERIOD_COLUMNS[1:],
)
#: The columns of ``/data/binge/shows/``.
SHOW_COLUMNS: tuple[Column, ...] = (
    Column("show", "Show", ""),
    Column("sessions", "Binge sessions", "sessions"),
    Column("viewers", "Binge viewers", "viewers"),
    Column("episodes", "Episodes in binges", "episodes"),
    Column("episodes_per_session", "Episodes per session", "episodes"),
)
#: The share's decimals (a percentage, as the engagement shares).
SHARE_DIGITS = 2


def measure_settings(conn: Connection) -> MeasureSettings:
    """The settings of ``conn``'s database (the thresholds and the viewer rule), read once per request."""
    return data_settings.load(conn)


def share(part: int, whole: int) -> float | None:
    """``part`` of ``whole`` minutes in %, to :data:`SHARE_DIGITS` decimals exactly; ``None`` for no minutes."""
    return metrics.served(100 * part, whole, SHARE_DIGITS) if whole else None


class Binges(NamedTuple):
    """The database's binge figures, unfiltered, small enough to keep per data version.

    ``minutes``: per (``day``, ``sessiontype``, ``device``, ``market``) with a series
    event, ``series_minutes`` and ``binge_minutes`` (of its events in a binge session).
    ``sessions``: one row per binge session: its first episode's ``day`` and values,
    ``user``, ``show`` and ``episodes``.  Missing values are ``''`` (as in the rollups).
    """

    minutes: pd.DataFrame
    sessions: pd.DataFrame


_KEYS = ["day", *dimensions.DIMS]


def _raw_binges(conn: Connection, dialect: Dialect, settings: MeasureSettings) -> Binges:
    """:class:`Binges` from the raw rows: the runs of every (viewer, show) (:func:`~.rollups.binges.runs`)."""
    frame, seconds = read_series(conn)
    named = binge_rollups.named_shows(conn, dialect)
    by_title = {t: shows.show_of(t, "SERIES", named=named) for t in frame["title"].dropna().unique()}
    frame["show"] = frame["title"].map(by_title).astype(object)
    frame["start"] = seconds
    episodes = frame[binge_rollups.episode_mask(frame, settings)]
    sessions, binged = binge_rollups.sessions_of(episodes, settings)
    frame["binge_minutes"] = 0
    frame.loc[episodes.index[binged], "binge_minutes"] = episodes["minutes"][binged]
    minutes = frame.groupby(_KEYS, sort=True).agg(
        series_minutes=("minutes", "sum"), binge_minutes=("binge_minutes", "sum")).reset_index()
    started = sessions.groupby(_KEYS).size().rename("sessions")
    minutes = minutes.join(started, on=_KEYS).fillna({"sessions": 0}).astype({"sessions": "int64"})
    return Binges(minutes, sessions[[*_KEYS, "userid", "show", "episodes"]])


def _stored_minutes(conn: Connection) -> pd.DataFrame:
    """:attr:`Binges.minutes` from ``md_binge_day``."""
    keys = ", ".join(_KEYS)
    minutes = read_frame(conn, f"SELECT {keys}, series_minutes, binge_minutes, sessions FROM md_binge_day", [])
    check_deadline(conn)
    return minutes.astype({k: object for k in _KEYS}
                          | {"series_minutes": "int64", "binge_minutes": "int64", "sessions": "int64"})


def _stored_sessions(conn: Connection, texts: bool = False) -> pd.DataFrame:
    """:attr:`Binges.sessions` from ``md_binges`` (``userid``: the viewer's ``md_users`` id, or with ``texts``
    the user id itself; ``show``: its name).  Ids serve as well as texts: only distinct viewers are counted."""
    keys = ", ".join(f"b.{k}" for k in _KEYS)
    user = "u.userid" if texts else "b.user_id"
    join = " JOIN md_users u ON u.id = b.user_id" if texts else ""
    sessions = read_frame(
        conn, f"SELECT {keys}, {user} AS userid, b.show_id, b.episodes FROM md_binges b{join}", [])
    names = {int(i): str(n) for i, n in conn.execute("SELECT id, show FROM md_binge_shows").fetchall()}
    check_deadline(conn)
    sessions["show"] = sessions.pop("show_id").map(names)
    return sessions[[*_KEYS, "userid", "show", "episodes"]].astype(
        {k: object for k in [*_KEYS, "show"]} | {"userid": object if texts else "int64", "episodes": "int64"})


def _stored_binges(conn: Connection) -> Binges:
    """:class:`Binges` from the binge rollups, the user ids as texts (as the raw path gives them)."""
    return Binges(_stored_minutes(conn), _stored_sessions(conn, texts=True))


def from_rollups(conn: Connection, settings: MeasureSettings) -> bool:
    """Whether the binge rollups may answer: current, and built under ``settings`` (those stored)."""
    status = rollups.status(conn)
    return status is not None and status.usable and settings == measure_settings(conn)


def binges(conn: Connection, dialect: Dialect | None = None, settings: MeasureSettings | None = None) -> Binges:
    """The database's :class:`Binges`, from the rollups when they may answer, else from the raw rows;
    cached per data version (:func:`moviedash.analysis.cached`; a tuple: not copied, and never
    changed by its readers)."""
    return Binges(_part(conn, "minutes", dialect, settings), _part(conn, "sessions", dialect, settings))


def _part(conn: Connection, part: str, dialect: Dialect | None = None,
          settings: MeasureSettings | None = None) -> pd.DataFrame:
    """One frame of :func:`binges` (``minutes`` or ``sessions``): from the rollups, only that table is read."""
    dialect = dialect or dialect_of(conn)
    settings = settings or measure_settings(conn)
    if from_rollups(conn, settings):
        read = _stored_minutes if part == "minutes" else _stored_sessions
        frame: pd.DataFrame = cached(conn, ("binges", part, dialect, settings), lambda: read(conn))
        return frame
    found: Binges = cached(conn, ("binges", dialect, settings, False), lambda: _raw_binges(conn, dialect, settings))
    return found.minutes if part == "minutes" else found.sessions


def _matches(column: pd.Series, values: tuple[str, ...]) -> np.ndarray:
    """The shared filter's rule on stored values (:mod:`moviedash.dimensions`: ``unknown`` is its bucket)."""
    real = [v for v in values if v != dimensions.UNKNOWN]
    if dimensions.UNKNOWN in values:
        real = [*real, *dimensions.PLACEHOLDERS]  # stored NULLs are '' here
    return column.isin(real).to_numpy()


def selected(frame: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """The rows of a :class:`Binges` frame in the selection: their ``day`` in the range, their values filtered."""
    keep = np.ones(len(frame), dtype=bool)
    if filters.start is not None:
        keep &= (frame["day"] >= filters.start.isoformat()).to_numpy()
    if filters.end is not None:
        keep &= (frame["day"] <= filters.end.isoformat()).to_numpy()
    for column in dimensions.DIMS:
        values = getattr(filters, column)
        if values:
            keep &= _matches(frame[column], values)
    return frame[keep]


def _labels(days: pd.Series, resolution: str, filters: Filters) -> list[str]:
    """Every period from the selection's first to its last series event (or of ``start``..``end``)."""
    if days.empty:
        return []
    first = period_start(filters.start or dt.date.fromisoformat(days.min()), resolution)
    last = period_start(filters.end or dt.date.fromisoformat(days.max()), resolution)
    check_periods(first, last, resolution)
    return period_labels(first, last, resolution)


def _period_of(days: pd.Series, resolution: str) -> pd.Series:
    starts = {d: period_start(dt.date.fromisoformat(d), resolution).isoformat() for d in days.unique()}
    return days.map(starts)


def per_period(conn: Connection, query: SeriesQuery) -> pd.DataFrame:
    """Binge sessions started, minutes in binges, series minutes and the binge share per period, zero-filled.

    Columns ``date``, ``sessions``, ``binge_minutes``, ``series_minutes``, ``share``
    (``None`` in a period without series minutes).  Every period from the selection's
    first to its last series event (or of the selected range); none without series events.
    """
    settings = measure_settings(conn)
    return _answer(conn, ("per_period", query, settings), lambda: _per_period_of(_part(conn, "minutes"), query))


def _answer(conn: Connection, key: tuple, compute: Any) -> pd.DataFrame:
    """``compute()``'s frame, kept per data version and selection (:func:`~.analysis.cached` hands out copies)."""
    frame: pd.DataFrame = cached(conn, ("binge-answer", *key), compute)
    return frame


def _per_period_of(frame: pd.DataFrame, query: SeriesQuery) -> pd.DataFrame:
    """:func:`per_period` of a :attr:`Binges.minutes` frame."""
    minutes = selected(frame, query.filters)
    labels = _labels(minutes["day"], query.resolution, query.filters)
    sums = minutes.groupby(_period_of(minutes["day"], query.resolution))[
        ["binge_minutes", "series_minutes", "sessions"]].sum()
    started = sums["sessions"]
    binge_minutes = [int(sums["binge_minutes"].get(p, 0)) for p in labels]
    series_minutes = [int(sums["series_minutes"].get(p, 0)) for p in labels]
    return pd.DataFrame({
        "date": pd.Series(labels, dtype=object),
        "sessions": pd.Series([int(started.get(p, 0)) for p in labels], dtype="int64"),
        "binge_minutes": pd.Series(binge_minutes, dtype="int64"),
        "series_minutes": pd.Series(series_minutes, dtype="int64"),
        "share": pd.Series([share(b, m) for b, m in zip(binge_minutes, series_minutes, strict=True)], dtype=object),
    })


def _overall_row(sessions: int, viewers: int, episodes: int, binge_minutes: int,
                 series_minutes: int) -> pd.DataFrame:
    return pd.DataFrame([{
        "sessions": sessions, "viewers": viewers, "episodes": episodes, "binge_minutes": binge_minutes,
        "series_minutes": series_minutes, "share": share(binge_minutes, series_minutes),
    }], columns=[c.name for c in OVERALL_COLUMNS]).astype({"share": object})


def overall(conn: Connection, filters: Filters) -> pd.DataFrame:
    """The selection's binge figures in one row: ``sessions``, ``viewers``, ``episodes``, ``binge_minutes``,
    ``series_minutes``, ``share``."""
    settings = measure_settings(conn)
    if from_rollups(conn, settings):
        return _answer(conn, ("overall", filters, settings), lambda: _stored_overall(conn, filters))

    def compute() -> pd.DataFrame:
        minutes = selected(_part(conn, "minutes"), filters)
        sessions = selected(_part(conn, "sessions"), filters)
        return _overall_row(len(sessions), int(sessions["userid"].nunique()), int(sessions["episodes"].sum()),
                            int(minutes["binge_minutes"].sum()), int(minutes["series_minutes"].sum()))

    return _answer(conn, ("overall", filters, settings), compute)


def _stored_overall(conn: Connection, filters: Filters) -> pd.DataFrame:
    """:func:`overall` from the binge rollups, summed by the database: the selection's rows only, no frame of
    every session (``md_binges`` has one row per session: reading them all is too slow for a first view)."""
    clause, params = rollups.where(filters)
    sessions, viewers, episodes = conn.execute(
        f"SELECT COUNT(*), COUNT(DISTINCT user_id), COALESCE(SUM(episodes), 0) FROM md_binges WHERE {clause}",
        params).fetchone()
    binge_minutes, series_minutes = conn.execute(
        f"SELECT COALESCE(SUM(binge_minutes), 0), COALESCE(SUM(series_minutes), 0) FROM md_binge_day WHERE {clause}",
        params).fetchone()
    check_deadline(conn)
    return _overall_row(int(sessions), int(viewers), int(episodes), int(binge_minutes), int(series_minutes))


def _ranked(found: dict[str, tuple[int, int, int]], num: int) -> pd.DataFrame:
    """The ``num`` first of ``found`` (show -> sessions, viewers, episodes) as :func:`top_shows` rows."""
    ranked = sorted(((name, n, v, eps) for name, (n, v, eps) in found.items()),
                    key=lambda r: (-r[1], -r[2], r[0]))[:num]
    return pd.DataFrame(
        [{"show": name, "sessions": n, "viewers": v, "episodes": eps,
          "episodes_per_session": metrics.served(eps, n, 2)} for name, n, v, eps in ranked],
        columns=[c.name for c in SHOW_COLUMNS],
    )


def top_shows(conn: Connection, num: int, filters: Filters) -> pd.DataFrame:
    """The ``num`` most binged shows of the selection: ``show``, ``sessions``, ``viewers``, ``episodes``,
    ``episodes_per_session`` (most sessions first, then most viewers, then the name)."""
    settings = measure_settings(conn)
    if from_rollups(conn, settings):
        return _answer(conn, ("top", num, filters, settings), lambda: _ranked(_stored_per_show(conn, filters), num))

    def compute() -> pd.DataFrame:
        sessions = selected(_part(conn, "sessions"), filters)
        found: dict[str, tuple[int, set[Any], int]] = {}
        for show, user, episodes in zip(sessions["show"], sessions["userid"], sessions["episodes"], strict=True):
            n, users, total = found.get(decode_escapes(str(show)), (0, set(), 0))
            users.add(user)
            found[decode_escapes(str(show))] = (n + 1, users, total + int(episodes))
        return _ranked({name: (n, len(users), eps) for name, (n, users, eps) in found.items()}, num)

    return _answer(conn, ("top", num, filters, settings), compute)


def _stored_per_show(conn: Connection, filters: Filters) -> dict[str, tuple[int, int, int]]:
    """Per show as shown: the selection's sessions, viewers and episodes, grouped by the database.

    Two stored names may show alike (a course file's ``<e5>`` escape and the letter itself): their
    viewers are counted once over both, by one more query for just those shows.
    """
    clause, params = rollups.where(filters)
    rows = conn.execute(
        f"SELECT show_id, COUNT(*), COUNT(DISTINCT user_id), SUM(episodes) FROM md_binges WHERE {clause} "
        "GROUP BY show_id", params).fetchall()
    names = {int(i): decode_escapes(str(n)) for i, n in conn.execute("SELECT id, show FROM md_binge_shows")}
    ids_of: dict[str, list[int]] = {}
    found: dict[str, tuple[int, int, int]] = {}
    for show_id, n, viewers, episodes in rows:
        name = names[int(show_id)]
        ids_of.setdefault(name, []).append(int(show_id))
        before = found.get(name, (0, 0, 0))
        found[name] = (before[0] + int(n), before[1] + int(viewers), before[2] + int(episodes))
    for name, ids in ids_of.items():
        if len(ids) > 1:
            marks = ", ".join("?" * len(ids))
            (viewers,) = conn.execute(
                f"SELECT COUNT(DISTINCT user_id) FROM md_binges WHERE {clause} AND show_id IN ({marks})",
                [*params, *ids]).fetchone()
            found[name] = (found[name][0], int(viewers), found[name][2])
    check_deadline(conn)
    return found
