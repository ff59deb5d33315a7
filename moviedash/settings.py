"""Database-level data-quality settings: what counts as a play, who counts as a viewer.

Each setting is declared once here (:data:`SETTINGS`: name, type, default,
validation, help text) and stored in the database it describes, in the small
table ``moviedash_settings`` (``key`` -> JSON ``value``; see
:data:`moviedash.store.SETTINGS_DDL`).  A key without a row has its default,
so a database that never had a setting changed -- or one made the course's
way, without the table -- answers exactly as before the settings existed.

Readers get a frozen :class:`Settings` from :func:`load`: read from the
database on each call (never at import time), memoized for the life of a
serving connection, which is one request.  The rollups embody the settings
they were built with; ``moviedash settings set`` changes a value and rebuilds
them in one transaction (:func:`moviedash.dataquality.change`).

What they change (the defaults change nothing):

- ``min_minutes``: an event shorter than it is not a play.  Plays (the
  ``plays`` measure, the plays rank of the top list, the KPI, the heatmap) and
  viewers (the users of plays) leave it out; minutes watched keep it.
- ``exclude_users``: these user ids are left out of every viewer count
  (unique users, the viewers rank, the KPI); their plays still count, as
  anonymous plays.
- ``watched_threshold``, ``poor_quality_threshold``,
  ``errorperception_higher_is_worse``: read by the completion and quality measures.
- ``binge_min_episodes``, ``binge_max_gap_minutes``: what a binge session is
  (:mod:`moviedash.binge`); the binge rollups are rebuilt when one changes.
"""
from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import Any

from .errors import MoviedashError
from .metrics import MeasureSettings
from .store import SETTINGS_DDL, dialect_of

#: The course data's anonymous user id: the MD5 of the empty string.
ANONYMOUS_USER = "d41d8cd98f00b204e9800998ecf8427e"
#: Limits of the values (a user list is kept in one row and read on every uncached answer).
MAX_MIN_MINUTES = 100_000
MAX_EXCLUDED_USERS = 1000
MAX_USER_ID_LENGTH = 200
#: The most episodes a binge may need, and the longest gap between two of its episodes (a week).
MAX_BINGE_EPISODES = 1000
MAX_BINGE_GAP_MINUTES = 7 * 24 * 60

_MEMO_KEY = "settings"


class SettingError(MoviedashError):
    """An unknown setting or a value it refuses (the CLI exits with status 2)."""


#: The settings in force, as the measures take them: one declaration, in the metric model.
Settings = MeasureSettings


DEFAULT = Settings()


@dataclass(frozen=True)
class Setting:
    """One setting: its name (a field of :class:`Settings`), value type, help text and validation.

    ``parse`` turns the command-line text into a value and ``check`` refuses a
    bad value (both raise ``ValueError`` with the reason); ``show`` writes a
    value as the command line takes it back.
    """

    name: str
    kind: str
    help: str
    parse: Callable[[str], Any]
    check: Callable[[Any], Any]
    show: Callable[[Any], str]

    @property
    def default(self) -> Any:
        return getattr(DEFAULT, self.name)


def _integer(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise ValueError("not a whole number") from None


def _number(text: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise ValueError("not a number") from None
    return value


def _boolean(text: str) -> bool:
    word = text.strip().lower()
    if word in ("true", "yes", "on", "1"):
        return True
    if word in ("false", "no", "off", "0"):
        return False
    raise ValueError("not true or false")


def _users(text: str) -> frozenset[str]:
    """A comma- or space-separated list of user ids; ``''`` or ``none`` is no user."""
    if text.strip().lower() == "none":
        return frozenset()
    return frozenset(u for u in text.replace(",", " ").split() if u)


def _check_min_minutes(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_MIN_MINUTES:
        raise ValueError(f"must be a whole number of minutes from 0 to {MAX_MIN_MINUTES:,}")
    return value


def _check_binge_episodes(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 2 <= value <= MAX_BINGE_EPISODES:
        raise ValueError(f"must be a whole number of episodes from 2 to {MAX_BINGE_EPISODES:,}")
    return value


def _check_binge_gap(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_BINGE_GAP_MINUTES:
        raise ValueError(f"must be a whole number of minutes from 0 to {MAX_BINGE_GAP_MINUTES:,}")
    return value


def _check_percent(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 100:
        raise ValueError("must be a percentage above 0 and at most 100")
    return float(value)


def _check_finite(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError("must be a finite number")
    return float(value)


def _check_boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _check_users(value: Any) -> frozenset[str]:
    if isinstance(value, str) or not all(isinstance(u, str) for u in value):
        raise ValueError("must be a list of user ids")
    users = frozenset(value)
    if len(users) > MAX_EXCLUDED_USERS:
        raise ValueError(f"at most {MAX_EXCLUDED_USERS:,} user ids")
    for user in users:
        if not user or len(user) > MAX_USER_ID_LENGTH or not user.isprintable() or user != user.strip():
            raise ValueError(f"{user[:40]!r} is not a user id (printable, no spaces, at most {MAX_USER_ID_LENGTH})")
    return users


def _number_text(value: Any) -> str:
    return f"{value:g}"


#: Every setting, in the order ``moviedash settings show`` lists them.
SETTINGS: tuple[Setting, ...] = (
    Setting(
        "min_minutes", "whole minutes",
        "Events shorter than this are not plays (not in plays, the plays rank, the heatmap or viewer counts); "
        "they still count in minutes watched.",
        _integer, _check_min_minutes, str,
    ),
    Setting(
        "watched_threshold", "percent",
        "A play whose completion (viewpercentage, capped at 100) is at or above this is completed.",
        _number, _check_percent, _number_text,
    ),
    Setting(
        "exclude_users", "user ids, comma-separated",
        "These user ids are left out of viewer counts (unique users, the viewers rank, KPIs); "
        "their plays still count, as anonymous plays.",
        _users, _check_users, lambda v: ",".join(sorted(v)) if v else "none",
    ),
    Setting(
        "poor_quality_threshold", "errorperception",
        "A play whose errorperception is beyond this (above it when higher is worse) has poor quality.",
        _number, _check_finite, _number_text,
    ),
    Setting(
        "errorperception_higher_is_worse", "true/false",
        "Whether a higher errorperception means a worse experience.",
        _boolean, _check_boolean, lambda v: "true" if v else "false",
    ),
    Setting(
        "binge_min_episodes", "whole episodes",
        "A binge session is a viewer's run of at least this many episodes of one show.",
        _integer, _check_binge_episodes, str,
    ),
    Setting(
        "binge_max_gap_minutes", "whole minutes",
        "In a binge session each episode starts at most this many minutes after the previous one ended.",
        _integer, _check_binge_gap, str,
    ),
)
BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}
assert set(BY_NAME) == {f.name for f in fields(Settings)}, "every Settings field is declared once"


def setting(name: str) -> Setting:
    """The declared setting ``name``; :class:`SettingError` naming the known ones otherwise."""
    found = BY_NAME.get(name)
    if found is None:
        raise SettingError(f"unknown setting {name!r}; settings: {', '.join(BY_NAME)}", parameter="key")
    return found


def parse(name: str, text: str) -> Any:
    """The value of setting ``name`` written as ``text`` on the command line, checked."""
    declared = setting(name)
    try:
        return declared.check(declared.parse(text))
    except ValueError as exc:
        raise SettingError(f"{name}: {text!r} {exc}", parameter="value") from None


def _to_json(value: Any) -> str:
    return json.dumps(sorted(value) if isinstance(value, frozenset) else value)


def _from_json(name: str, text: str) -> Any:
    declared = BY_NAME[name]
    try:
        value = json.loads(text)
        return declared.check(frozenset(value) if isinstance(value, list) else value)
    except (ValueError, TypeError) as exc:
        raise MoviedashError(f"setting {name} in the database is not valid ({exc}); "
                             f"reset it with: moviedash settings reset {name}", status=503) from None


def has_table(conn: Any) -> bool:
    """Whether the database has the settings table (a database made the course's way may not)."""
    return bool(conn.execute(dialect_of(conn).table_exists_sql, ("moviedash_settings",)).fetchone()[0])


def load(conn: Any) -> Settings:
    """The settings stored in the database of ``conn`` (defaults for keys without a row, or without the table).

    Memoized in the connection's ``memo`` when it has one (a serving
    connection lives for one request); unknown keys are ignored.
    """
    memo = getattr(conn, "memo", None)
    if memo is not None and _MEMO_KEY in memo:
        return memo[_MEMO_KEY]
    values: dict[str, Any] = {}
    if has_table(conn):
        for key, text in conn.execute("SELECT key, value FROM moviedash_settings").fetchall():
            if key in BY_NAME:
                values[str(key)] = _from_json(str(key), str(text))
    result = replace(DEFAULT, **values)
    if memo is not None:
        memo[_MEMO_KEY] = result
    return result


def save(conn: Any, name: str, value: Any) -> None:
    """Store ``value`` for setting ``name`` on the open write transaction of ``conn`` (``None``: back to the default).

    A value equal to the default is stored as no row, so ``show`` and a
    database without the table agree.
    """
    declared = setting(name)
    conn.execute(SETTINGS_DDL)
    conn.execute("DELETE FROM moviedash_settings WHERE key = ?", (name,))
    if value is not None and declared.check(value) != declared.default:
        conn.execute("INSERT INTO moviedash_settings (key, value) VALUES (?, ?)", (name, _to_json(value)))
    memo = getattr(conn, "memo", None)
    if memo is not None:
        memo.pop(_MEMO_KEY, None)


@dataclass(frozen=True)
class Shown:
    """One line of ``moviedash settings show``."""

    name: str
    value: str
    default: str
    kind: str
    help: str
    changed: bool


def describe(current: Settings) -> list[Shown]:
    """Every setting with its value and default as the command line writes them, and what it changes."""
    out = []
    for declared in SETTINGS:
        value = getattr(current, declared.name)
        out.append(Shown(declared.name, declared.show(value), declared.show(declared.default), declared.kind,
                         declared.help, value != declared.default))
    return out
