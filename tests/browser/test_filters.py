"""Honest filters in the browser: the "Unknown" value, and an empty selection that says why."""
from __future__ import annotations

import sqlite3

import pytest

from moviedash import analysis
from moviedash.params import Filters
from tests.helpers import assert_view, no_console_errors, select

from .conftest import Page

pytestmark = pytest.mark.browser

EXPORTS = ("#users-csv", "#minutes-csv", "#top-csv", "#heatmap-csv", "#report-button")


def disabled(page: Page) -> list[bool]:
    return [page.duo.find_element(selector).get_attribute("disabled") is not None for selector in EXPORTS]


def test_events_without_a_market_can_be_selected_as_unknown(page: Page, conn: sqlite3.Connection) -> None:
    page.open()
    page.duo.find_element("#market").click()
    offered = page.duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('.dash-dropdown-option')).map(o => o.textContent)")
    page.duo.find_element("#market").click()
    # NULL and the placeholder 0 are one choice, last; no bare "0".
    assert offered == ["Denmark (DK)", "Norway (NO)", "Sweden (SE)", "Unknown"]
    select(page, "market", "Unknown")
    unknown = Filters(market=("unknown",))
    assert analysis.totals(conn, unknown).plays > 0
    assert_view(page, conn, unknown)
    page.wait(lambda: page.query_string() == "?market=unknown", "URL names the unknown market")
    no_console_errors(page)


def test_an_empty_selection_says_why_and_clears_the_filter_to_blame(page: Page, conn: sqlite3.Connection) -> None:
    page.open()
    assert not page.duo.find_element("#empty-state").is_displayed()
    assert disabled(page) == [False] * 5
    page.open("?device=TV&market=SE")  # TV is only watched in Norway
    page.wait(lambda: page.duo.find_element("#empty-state").is_displayed(), "empty state shown")
    assert page.text("#empty-state-text") == "No events with device TV have market SE."
    assert page.text("#empty-clear") == "Clear the market filter"
    page.wait(lambda: disabled(page) == [True] * 5, "exports disabled")
    page.duo.find_element("#empty-clear").click()
    page.wait(lambda: page.query_string() == "?device=TV", "market filter cleared")
    page.wait(lambda: not page.duo.find_element("#empty-state").is_displayed(), "empty state gone")
    page.wait(lambda: disabled(page) == [False] * 5, "exports enabled again")
    assert_view(page, conn, Filters(device=("TV",)))
    no_console_errors(page)


def test_an_empty_range_of_unknown_markets_clears_the_market_and_keeps_the_dates(
    page: Page, conn: sqlite3.Connection
) -> None:
    # Computer events without a market fall only on every 9th day: none on 2 and 3 January.
    page.open("?market=unknown&start=2013-01-02&end=2013-01-03")
    page.wait(lambda: page.duo.find_element("#empty-state").is_displayed(), "empty state shown")
    assert page.text("#empty-state-text") == "No events have market Unknown within 2 Jan 2013 – 3 Jan 2013."
    page.duo.find_element("#empty-clear").click()
    page.wait(lambda: page.query_string() == "?start=2013-01-02&end=2013-01-03", "market cleared")
    assert_view(page, conn, Filters.create(start="2013-01-02", end="2013-01-03"))
    no_console_errors(page)
