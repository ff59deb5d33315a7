"""axe-core on every page, in both themes, at desktop and phone sizes: no violations.

axe-core (pinned, from the npm registry) is injected with selenium; see
:func:`tests.browser.conftest.axe_violations`.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from moviedash import analysis, summaries
from moviedash.params import Filters, SeriesQuery, TopQuery
from moviedash.report import ReportSpec, render_html
from tests.helpers import choose, no_console_errors, open_offline

from .conftest import VIEWPORTS, Page, axe_violations, set_viewport

pytestmark = pytest.mark.browser


def readable(violations: list[dict]) -> list[str]:
    """One line per violation and element, so a failure says what to fix."""
    return [f"{v['id']} ({v['impact']}): {n['target']} - {n['html']}" for v in violations for n in v["nodes"]]


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_dashboard_has_no_axe_violations(page: Page, theme: str, viewport: str) -> None:
    driver = page.duo.driver
    set_viewport(driver, viewport)
    try:
        page.open()
        if theme == "dark":
            choose(page, "theme", "Dark")
            page.wait(lambda: driver.execute_script("return document.documentElement.dataset.theme") == "dark",
                      "dark theme")
            page.log.settle()
        violations = axe_violations(driver)
        # A dropdown's menu and the date picker's calendar (rendered only when open) must pass too.
        page.duo.find_element("#device").click()
        page.wait(lambda: page.count(".dash-dropdown-options") == 1, "device menu open")
        violations += axe_violations(driver)
        ActionChains(driver).send_keys(Keys.ESCAPE).perform()
        page.wait(lambda: page.count(".dash-dropdown-options") == 0, "device menu closed")
        page.duo.find_element("#date-range-start").click()
        page.wait(lambda: page.count(".dash-datepicker-calendar") > 0, "calendar open")
        violations += axe_violations(driver)
        ActionChains(driver).send_keys(Keys.ESCAPE).perform()
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        if theme == "dark":  # a remembered preference: give the next test the default
            choose(page, "theme", "Light")
    assert readable(violations) == []
    no_console_errors(page)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_html_report_has_no_axe_violations(page: Page, tmp_path: Path, theme: str) -> None:
    out = tmp_path / "report.html"
    out.write_text(render_html(page.conn, ReportSpec(theme=theme)), encoding="utf-8")
    driver = page.duo.driver
    for viewport in VIEWPORTS:
        set_viewport(driver, viewport)
        try:
            open_offline(page, out)
            assert readable(axe_violations(driver)) == [], viewport
        finally:
            driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_every_chart_has_its_numbers_in_words(page: Page) -> None:
    """Each chart's visually hidden summary is written from the frame it plots, and follows the filters."""
    conn = page.conn
    for query, filters in (("?users=weekly&rank=viewers&top=3", Filters()),
                           ("?users=weekly&rank=viewers&top=3&device=iPad", Filters(device=("iPad",)))):
        page.open(query)
        expected = {
            "users": summaries.series_summary(
                analysis.unique_users(conn, SeriesQuery("weekly", filters)), "unique_users", "weekly"),
            "minutes": summaries.series_summary(
                analysis.minutes_watched(conn, SeriesQuery("daily", filters)), "minutes_watched", "daily"),
            "top": summaries.top_summary(analysis.toplist(conn, TopQuery(3, "viewers", filters)), "viewers"),
            "heatmap": summaries.heatmap_summary(analysis.heatmap(conn, filters)),
        }
        for chart, text in expected.items():
            page.wait(lambda chart=chart, text=text: page.duo.driver.execute_script(
                "return document.getElementById(arguments[0]).textContent", f"{chart}-summary") == text,
                f"{chart} summary for {query}")
            frame = page.duo.find_element(f".graph-frame-{chart}")
            assert frame.get_attribute("aria-describedby") == f"{chart}-summary"
    no_console_errors(page)
