"""axe-core on every page, in both themes, at desktop and phone sizes: no violations.

axe-core (pinned, from the npm registry) is injected with selenium; see
:func:`tests.browser.conftest.axe_violations`.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from selenium.webdriver.common.keys import Keys

from moviedash.report import ReportSpec, render_html

from .conftest import VIEWPORTS, Page, axe_violations, set_viewport
from .test_report import open_offline

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
            page.duo.find_element("label[for='theme-dark']").click()
            page.wait(lambda: "theme-dark" in page.duo.find_element("#app").get_attribute("class"), "dark theme")
            page.log.settle()
        # Open a dropdown: its menu and options must pass too.
        page.duo.find_element("#device").click()
        page.wait(lambda: page.count(".dash-dropdown-options") == 1, "device menu open")
        violations = axe_violations(driver)
        page.duo.find_element("#device").send_keys(Keys.ESCAPE)
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert readable(violations) == []


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
