"""The rule that splits a series title into show and episode (:mod:`moviedash.shows`), by hand."""
from __future__ import annotations

import pytest

from moviedash.shows import Split, is_series, show_of, split_title


@pytest.mark.parametrize(
    ("title", "sessiontype", "expected"),
    [
        # The course's format: the show before the first ", ", the episode name after it.
        ("Game of Thrones, Mhysa", "SERIES", Split("Game of Thrones", "Mhysa")),
        # Commas later in the title stay in the episode name.
        ("Girls, Bad Friend, Part 2", "SERIES", Split("Girls", "Bad Friend, Part 2")),
        # A show whose own name holds ", " cannot be told by the rule: it splits at the first one.
        ("Tom, Dick and Harry, Pilot", "SERIES", Split("Tom", "Dick and Harry, Pilot")),
        # The session type in any case and with spaces around it.
        ("Skam, Jeg hater meg selv", " series ", Split("Skam", "Jeg hater meg selv")),
        # A series title without the separator, or with nothing on one side, is its own show.
        ("Skam", "SERIES", Split("Skam", None)),
        ("Skam,Episode", "SERIES", Split("Skam,Episode", None)),
        (", Pilot", "SERIES", Split(", Pilot", None)),
        ("Skam, ", "SERIES", Split("Skam, ", None)),
        ("  , x", "SERIES", Split("  , x", None)),
        # Movies are never split: commas and colons stay in the title.
        ("Abraham Lincoln: Vampire Hunter", "MOVIE", Split("Abraham Lincoln: Vampire Hunter", None)),
        ("Solan, Ludvig og Gurin med reverompa", "MOVIE", Split("Solan, Ludvig og Gurin med reverompa", None)),
        # An unknown or missing session type is not a series.
        ("Solan, Ludvig og Gurin med reverompa", None, Split("Solan, Ludvig og Gurin med reverompa", None)),
        ("Solan, Ludvig", "", Split("Solan, Ludvig", None)),
        ("Solan, Ludvig", 1, Split("Solan, Ludvig", None)),
        # No title: no show.
        (None, "SERIES", Split(None, None)),
        ("", "MOVIE", Split(None, None)),
    ],
)
def test_split_title_by_hand(title: str | None, sessiontype: object, expected: Split) -> None:
    assert split_title(title, sessiontype) == expected
    assert show_of(title, sessiontype) == expected.show


def test_a_named_show_wins_over_the_rule_for_its_title_only() -> None:
    named = {"Tom, Dick and Harry, Pilot": "Tom, Dick and Harry", "Odd Title": "Some Show"}
    # The CSV's show: the episode is what follows "<show>, " ...
    assert split_title("Tom, Dick and Harry, Pilot", "SERIES", named=named) == Split("Tom, Dick and Harry", "Pilot")
    # ... also for an event of another session type (the title is named, whatever its type) ...
    assert show_of("Tom, Dick and Harry, Pilot", "MOVIE", named=named) == "Tom, Dick and Harry"
    # ... and a title that does not start with its named show has no episode name.
    assert split_title("Odd Title", "SERIES", named=named) == Split("Some Show", None)
    # Titles the CSV did not name follow the rule.
    assert split_title("Tom, Dick and Harry, Finale", "SERIES", named=named) == Split("Tom", "Dick and Harry, Finale")


def test_the_separator_is_a_parameter() -> None:
    assert split_title("Show - Episode", "SERIES", separator=" - ") == Split("Show", "Episode")
    assert split_title("Show, Episode", "SERIES", separator=" - ") == Split("Show, Episode", None)
    assert split_title("Show, Episode", "SERIES", separator="") == Split("Show, Episode", None)


def test_is_series() -> None:
    assert is_series("SERIES") and is_series("Series") and is_series(" series\t")
    assert not is_series("MOVIE") and not is_series(None) and not is_series("SERIES 2")
