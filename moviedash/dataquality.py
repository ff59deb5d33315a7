"""Data quality as users see it: "About this data" (:func:`about`) and changing a setting (:func:`change`).

The settings themselves are declared in :mod:`moviedash.settings`; this module
counts what they act on (anonymous plays, capped completion values) and
applies a change together with the rollups that depend on it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from . import rollups
from . import settings as data_settings
from .analysis import play_condition
from .store import write_transaction

#: ``viewpercentage`` taken to 4 decimals as an integer (the reference's rule, the same bits on both
#: engines); above 100.0000 it is capped at 100 for completion.
_CAPPED = "CAST(floor(viewpercentage * 10000 + 0.5) AS BIGINT) > 1000000"


@dataclass(frozen=True)
class About:
    """What the "About this data" section shows: the settings and what they act on."""

    settings: data_settings.Settings
    #: Every event in the database.
    events: int
    #: Plays of the excluded users (``exclude_users``): counted as plays, not as viewers.
    anonymous_plays: int
    #: Events with the course's anonymous user id (:data:`~moviedash.settings.ANONYMOUS_USER`), excluded or not.
    anonymous_id_events: int
    #: Plays whose ``viewpercentage`` is above 100 (capped at 100 for completion).
    capped_rows: int

    @property
    def anonymous_id_excluded(self) -> bool:
        return data_settings.ANONYMOUS_USER in self.settings.exclude_users


def about(conn: Any) -> About:
    """The settings and the counts of :class:`About` for the database of ``conn``.

    Where the rollups are usable, their ``md_about`` counts (kept by every load and rebuilt with
    a settings change, so they embody the settings in force): four numbers, not a pass over
    ``movies``, which at 10M events took seconds.  Otherwise (no rollups, an older schema, rows
    appended behind moviedash's back) :func:`raw_counts`, one pass over ``movies``.
    """
    current = data_settings.load(conn)
    status = rollups.status(conn)
    if status is not None and status.usable:
        stored = dict(conn.execute("SELECT name, value FROM md_about").fetchall())
        # A name without a row was never added to: no load has seen an event yet.
        counts = tuple(int(stored.get(name, 0)) for name in rollups.ABOUT_COUNTS)
    else:
        counts = raw_counts(conn, current)
    return About(current, *counts)


def raw_counts(conn: Any, current: data_settings.Settings) -> tuple[int, int, int, int]:
    """:class:`About`'s counts under ``current`` in one pass over ``movies`` (the raw-table SQL)."""
    play, play_params = play_condition(current)
    excluded = sorted(current.exclude_users)
    anonymous, anonymous_params = "0", []
    if excluded:
        anonymous = (f"COALESCE(SUM(CASE WHEN {play} AND userid IN ({', '.join('?' * len(excluded))}) "
                     "THEN 1 ELSE 0 END), 0)")
        anonymous_params = [*play_params, *excluded]
    row = conn.execute(
        f"SELECT COUNT(*), {anonymous}, COALESCE(SUM(CASE WHEN userid = ? THEN 1 ELSE 0 END), 0), "
        f"COALESCE(SUM(CASE WHEN {play} AND {_CAPPED} THEN 1 ELSE 0 END), 0) FROM movies",
        [*anonymous_params, data_settings.ANONYMOUS_USER, *play_params],
    ).fetchone()
    return int(row[0]), int(row[1]), int(row[2]), int(row[3])


@dataclass(frozen=True)
class Change:
    """The outcome of :func:`change`."""

    name: str
    before: Any
    after: Any
    #: Whether the rollups were rebuilt (a database without rollups has none to rebuild).
    rebuilt: bool


def change(db: str | os.PathLike[str], name: str, value: Any) -> Change:
    """Set setting ``name`` to ``value`` (``None``: its default) and rebuild the rollups, in one transaction.

    ``value`` is checked first (:func:`moviedash.settings.parse` makes one
    from text).  If anything fails, the transaction is rolled back: the
    settings and the rollups stay as they were.
    """
    declared = data_settings.setting(name)
    with write_transaction(db) as conn:
        before = getattr(data_settings.load(conn), name)
        data_settings.save(conn, name, value)
        after = getattr(data_settings.load(conn), declared.name)
        rebuilt = rollups.rebuild(conn)
    return Change(name, before, after, rebuilt)
