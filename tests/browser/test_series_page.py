"""The series page in the browser: a click on a show in its top list opens the show's page."""
from __future__ import annotations

from pathlib import Path

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from tests.helpers import build_db, no_console_errors
from tests.integration.test_shows import HAND

from .conftest import Page

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hand-worked shows (tests/integration/test_shows.py): Girls is the most played."""
    return build_db(tmp_path_factory.mktemp("series") / "series.db", HAND)  # type: ignore[return-value]


def test_a_click_on_a_show_opens_its_page(page: Page) -> None:
    page.duo.wait_for_page(f"{page.duo.server_url}/series?market=NO")
    page.wait(lambda: page.figure("top-shows-graph") is not None, "top shows drawn")
    assert page.duo.find_element("#nav-series").get_attribute("aria-current") == "page"
    bars = page.duo.driver.find_elements(By.CSS_SELECTOR, "#top-shows-graph .bars .point path")
    assert len(bars) == 4
    ActionChains(page.duo.driver).move_to_element(bars[0]).click().perform()  # the first bar: Girls
    page.wait(lambda: "/show/Girls?market=NO" in page.duo.driver.current_url, "the show's page opened")
    page.wait(lambda: page.figure("show-dropoff-graph") is not None, "the drop-off drawn")
    dropoff = page.figure("show-dropoff-graph")
    assert dropoff is not None and [trace["y"] for trace in dropoff["data"]] == [[100.0, 33.3], [100.0], [100.0]]
    assert "Bad Friend, Part 2" in page.text("#show-table")
    assert page.duo.find_element("#nav-series").get_attribute("aria-current") == "page"
    no_console_errors(page)
