"""Why a selection is empty, worked out by hand (both backends)."""
from __future__ import annotations

import pytest

from moviedash import emptiness
from moviedash.params import Filters
from tests.helpers import event

EVENTS = (
    event("2013-01-01 10:00:00", "a", sessiontype="MOVIE", device="TV", market="NO"),
    event("2013-01-02 10:00:00", "b", sessiontype="SERIES", device="iPad", market="SE"),
    event("2013-01-09 10:00:00", "c", sessiontype="MOVIE", device="iPad", market=None),
)


@pytest.fixture
def conn(make_db, connect):
    return connect(make_db(EVENTS))


def test_a_selection_with_events_needs_no_explanation(conn):
    assert emptiness.explain(conn, Filters.create(device=["iPad"])) is None


@pytest.mark.parametrize(
    ("filters", "message", "clear"),
    [
        # TV is only watched in Norway: the market (rightmost) filter emptied it.
        (Filters.create(device=["TV"], market=["SE"]), "No events with device TV have market SE.", "market"),
        # No iPad event of the series kind lacks a market.
        (Filters.create(sessiontype=["SERIES"], device=["iPad"], market=["unknown"]),
         "No events with session type SERIES and device iPad have market Unknown.", "market"),
        # Only the dates are to blame: iPad events exist, but none from the 3rd to the 8th (nor any event).
        (Filters.create(device=["iPad"], start="2013-01-03", end="2013-01-08"),
         "No events with device iPad fall within 3 Jan 2013 – 8 Jan 2013.", "dates"),
        (Filters.create(market=["SE"], start="2013-01-09"), "No events have market SE within 9 Jan 2013 – 9 Jan 2013.",
         "market"),
    ],
)
def test_the_filter_that_emptied_the_selection_is_named(conn, filters, message, clear):
    found = emptiness.explain(conn, filters)
    assert (found.message, found.clear) == (message, clear)


def test_when_no_single_filter_is_to_blame_all_are_cleared(conn):
    # Each filter cleared alone still leaves the other three with nothing.
    found = emptiness.explain(
        conn, Filters.create(sessiontype=["MOVIE"], device=["TV"], market=["SE"], start="2013-01-09"))
    assert (found.clear, found.action) == ("all", "Clear all filters")


def test_an_empty_database_says_so(make_db, connect):
    found = emptiness.explain(connect(make_db([], name="empty.db")), Filters())
    assert found.clear is None and "holds no events" in found.message
