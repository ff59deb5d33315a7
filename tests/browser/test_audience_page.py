"""The audience page in the browser: drawn from its first layout, following the filters and its own
controls, one tab away, and accessible (axe-core)."""
from __future__ import annotations

from typing import Any

import pytest

from moviedash import pipeline
from moviedash.dashboard import audience_page
from moviedash.params import Filters
from tests.helpers import no_console_errors, select

from .conftest import Page, axe_violations
from .test_accessibility import readable

pytestmark = pytest.mark.browser

GRAPHS = [f"{chart}-graph" for chart in audience_page.CHART_KEYS]


def open_audience(page: Page, query: str = "") -> None:
    """Load ``/audience`` (with a query string) and wait until every chart is drawn."""
    page.duo.driver.get("about:blank")
    page.log.settle(quiet=0.3)
    page.log.clear()
    page.duo.reset_log_timestamp()
    page.duo.wait_for_page(f"{page.duo.server_url}/audience{query}")
    for graph in GRAPHS:
        page.wait(lambda graph=graph: page.figure(graph) is not None, f"{graph} drawn")
    page.log.settle()


def expected(page: Page, chart: str, filters: Filters, option: str) -> dict[str, list[Any]]:
    """The first trace's numbers: returning viewers per period, or the cohort triangle's shares."""
    figure, _data = pipeline.audience_figure(page.conn, chart, filters, option)
    trace = figure.data[0]
    if chart == "audience":
        return {"y": [int(v) for v in trace.y]}
    return {"z": [[None if v is None else float(v) for v in row] for row in trace.z]}


def test_the_page_is_drawn_by_its_first_layout(page: Page) -> None:
    open_audience(page)
    assert page.log.requests == []  # no callback round trip: the layout holds the drawn page
    assert page.figure("audience-graph")["data"][0]["y"] == expected(page, "audience", Filters(), "weekly")["y"]
    assert page.count("#overview-section[hidden]") == 1 and page.count("#audience-section[hidden]") == 0
    assert page.duo.find_element("#nav-audience").get_attribute("aria-current") == "page"
    # The text alternatives are in the page, under each chart.
    summary = page.duo.find_element("#cohorts-summary").get_attribute("textContent")
    assert summary.startswith("Cohort retention by month")
    no_console_errors(page)


def test_filters_and_own_controls_redraw_the_charts(page: Page) -> None:
    open_audience(page)
    select(page, "market", "Sweden (SE)")
    filters = Filters(market=("SE",))
    page.wait_for_data("audience-graph", expected(page, "audience", filters, "weekly"))
    page.wait_for_data("cohorts-graph", expected(page, "cohorts", filters, "month"))
    select(page, "audience-resolution-select", "Monthly")
    page.wait_for_data("audience-graph", expected(page, "audience", filters, "monthly"))
    select(page, "cohort-period-select", "Week")
    page.wait_for_data("cohorts-graph", expected(page, "cohorts", filters, "week"))
    assert "market=SE" in page.duo.find_element("#nav-overview").get_attribute("href")
    assert "period=week" in page.duo.find_element("#cohorts-csv-link").get_attribute("href")
    no_console_errors(page)


def test_the_tab_keeps_the_view_and_the_page_has_no_axe_violations(page: Page) -> None:
    page.open("?device=iPad")
    link = page.duo.find_element("#nav-audience")
    assert "device=iPad" in link.get_attribute("href")
    link.click()
    page.wait(lambda: page.duo.driver.execute_script("return window.location.pathname") == "/audience",
              "on the audience page")
    for graph in GRAPHS:
        page.wait(lambda graph=graph: page.figure(graph) is not None, f"{graph} drawn")
    assert page.figure("audience-graph")["data"][0]["y"] == expected(
        page, "audience", Filters(device=("iPad",)), "weekly")["y"]
    page.log.settle()
    assert readable(axe_violations(page.duo.driver)) == []
    no_console_errors(page)
