"""Which show an event belongs to: the rule that turns a series event's ``title`` into show and episode.

The course's format writes an episode's title as ``"<show>, <episode name>"``
(``"Game of Thrones, Mhysa"``) with its season and episode in ``seasonnumber``
and ``episodenumber``.  The rule, declared once here and used by the loader,
the rollups and the plain-Python references of the tests:

- A **series** event (``sessiontype`` ``SERIES``, any case) is split at the
  *first* separator (``", "`` by default): the part before is the show, the
  rest the episode name.  Commas later in the title stay in the episode name
  (``"Girls, Bad Friend, Part 2"`` -> ``Girls`` / ``Bad Friend, Part 2``); a show
  whose own name holds the separator cannot be told apart from its episode by
  this rule -- name the show in the CSV instead (below).
- A series title without the separator, or with nothing before or after it,
  is its own show (episode name ``None``).
- Every other event (movies, and events of an unknown session type) is its
  own "show": its title, unsplit, so ``"Abraham Lincoln: Vampire Hunter"`` or
  ``"Solan, Ludvig og Gurin med reverompa"`` (a movie with a comma) ranks as one
  work beside whole shows.
- A CSV with a header may name the show of each row in a ``show`` column; a
  non-empty value there wins over the rule for that title (stored in
  ``moviedash_shows``, :data:`SHOWS_DDL`, because ``movies`` keeps the course's
  thirteen columns).
- An event without a title has no show (``None``), as it has no title in the top list.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

#: The separator between show and episode name in a series title (the course's format).
SEPARATOR = ", "
#: The session type whose titles are split (compared case-insensitively).
SERIES = "SERIES"

#: The optional column of a header CSV naming each row's show (not one of ``movies``' columns).
SHOW_COLUMN = "show"
#: Shows named by a loaded CSV's ``show`` column: ``title`` -> ``show`` (the rule's exceptions).
SHOWS_DDL = "CREATE TABLE IF NOT EXISTS moviedash_shows (title text PRIMARY KEY, show text NOT NULL)"


class Split(NamedTuple):
    """A title's show and episode name (``None`` for a movie or a title that does not split)."""

    show: str | None
    episode: str | None


def is_series(sessiontype: object) -> bool:
    """Whether events of ``sessiontype`` are series episodes (their titles are split)."""
    return isinstance(sessiontype, str) and sessiontype.strip().upper() == SERIES


def split_title(
    title: str | None,
    sessiontype: object,
    separator: str = SEPARATOR,
    named: Mapping[str, str] | None = None,
) -> Split:
    """The show and episode name of an event's ``title`` under the rule of this module.

    ``named`` holds the shows a CSV named (``title`` -> ``show``); they win over the rule.
    """
    if title is None or title == "":
        return Split(None, None)
    if named is not None:
        show = named.get(title)
        if show:
            episode = title[len(show) + len(separator):] if title.startswith(show + separator) else None
            return Split(show, episode or None)
    if not is_series(sessiontype) or not separator:
        return Split(title, None)
    show, found, episode = title.partition(separator)
    if not found or not show.strip() or not episode.strip():
        return Split(title, None)
    return Split(show, episode)


def show_of(title: str | None, sessiontype: object, separator: str = SEPARATOR,
            named: Mapping[str, str] | None = None) -> str | None:
    """The show an event of ``title`` counts for (the title itself for a movie); ``None`` without a title."""
    return split_title(title, sessiontype, separator, named).show
