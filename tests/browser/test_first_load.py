"""A cold first load in Chromium: what crosses the network, and whether the page jumps.

The browser's own accounting is used: Resource Timing's ``transferSize``
(compressed bytes plus headers) over the page and everything it loaded, and
the Layout Instability API's layout shifts (what Lighthouse sums as CLS).
"""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from selenium.webdriver.common.by import By

from moviedash import analysis, charts, metrics
from moviedash.dashboard import ids
from moviedash.params import Filters
from tests.browser.conftest import Page

pytestmark = pytest.mark.browser

COLD_LOAD_BUDGET = 1_500_000
#: Lighthouse's "good" CLS is 0.1; a page whose controls have their space reserved shifts by nothing.
CLS_LIMIT = 0.01
#: Collects the page's layout shifts from its very start (the observer is buffered).
OBSERVE_SHIFTS = """
window.__layoutShifts = [];
new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
        if (!entry.hadRecentInput) {
            window.__layoutShifts.push({
                value: entry.value,
                nodes: entry.sources.map((s) => s.node ? (s.node.id || s.node.className || s.node.nodeName) : '?'),
            });
        }
    }
}).observe({type: 'layout-shift', buffered: true});
"""


@pytest.fixture
def cold(page: Page) -> Iterator[Page]:
    """The page with an empty browser cache and the layout-shift observer installed for the next load."""
    driver = page.duo.driver
    driver.get("about:blank")
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.clearBrowserCache", {})
    script = driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": OBSERVE_SHIFTS})
    yield page
    driver.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": script["identifier"]})
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


@pytest.mark.parametrize(
    ("width", "height", "mobile"),
    [(1350, 940, False), (412, 823, True)],  # Lighthouse's desktop and mobile screens
    ids=["desktop", "phone"],
)
def test_a_cold_load_is_small_and_nothing_jumps(cold: Page, width: int, height: int, mobile: bool) -> None:
    driver = cold.duo.driver
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
    )
    cold.open()  # waits until all four charts are drawn and the callbacks are quiet
    loaded = driver.execute_script(
        """
        const nav = performance.getEntriesByType('navigation')[0];
        return [{name: nav.name, size: nav.transferSize}].concat(
            performance.getEntriesByType('resource').map((e) => ({name: e.name, size: e.transferSize})));
        """
    )
    names = [entry["name"] for entry in loaded]
    assert any("plotly" in name for name in names)  # the charts' code is among what was measured
    assert not any(name.split("?")[0].endswith("/plotly.min.js") for name in names), "the full plotly.js was loaded"
    total = sum(entry["size"] for entry in loaded)
    biggest = sorted(loaded, key=lambda entry: -entry["size"])[:3]
    assert 0 < total <= COLD_LOAD_BUDGET, f"{total:,} bytes transferred; the biggest: {biggest}"

    shifts = driver.execute_script("return window.__layoutShifts")
    assert shifts is not None, "the layout-shift observer did not run"
    assert sum(shift["value"] for shift in shifts) <= CLS_LIMIT, shifts


def test_a_cold_load_makes_no_callback_request(cold: Page) -> None:
    """The first layout holds the drawn view: every chart and key figure, with no callback round trip."""
    cold.open()
    assert cold.log.requests == []
    for graph in ("users-graph", "minutes-graph", "top-graph", "heatmap-graph"):
        figure = cold.figure(graph)
        assert figure and figure["data"] and figure["data"][0]["type"], graph
    assert cold.text("#kpi-plays-value") not in ("", "…")
    # Dash's own page replaced the first paint; Dash's polyfill bundle was not loaded.
    assert cold.count("#first-paint") == 0
    assert cold.count("#react-entry-point .app") == 1
    names = cold.duo.driver.execute_script("return performance.getEntriesByType('resource').map((e) => e.name)")
    assert not any("/deps/polyfill@" in name for name in names)
    assert any(name.split("?")[0].endswith("/assets/regenerator-runtime.js") for name in names)
    assert cold.duo.get_logs() == []


def test_the_first_paint_shows_the_view_before_any_script_runs(page: Page) -> None:
    """With scripts off, the page already shows the header, the filters as the address sets them and the key figures."""
    driver = page.duo.driver
    driver.get("about:blank")
    driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        driver.get(f"{page.duo.server_url}/?device=iPad&users=weekly")
        shell = driver.find_element(By.ID, "first-paint")
        text = shell.text
        whole = analysis.span(page.conn)
        assert f"1 Jan 2013 – 30 Jun 2013 · {whole.events:,} events" in text
        comparison = analysis.compare_previous(page.conn, Filters(device=("iPad",)))
        kpis = {kpi.name: kpi.value for kpi in charts.kpis(comparison.current, comparison.previous, comparison.days)}
        shown = [value.text for value in shell.find_elements(By.CSS_SELECTOR, ".kpi-value")]
        assert shown == [kpis[name] for name in ids.KPIS]
        boxes = [box.text for box in shell.find_elements(By.CSS_SELECTOR, ".first-paint-value")]
        # Every time-series chart at its resolution: the address sets the users chart's only.
        series = ["Weekly" if m.key == "users" else "Daily" for m in metrics.MEASURES]
        assert boxes == ["1 Jan 2013 – 30 Jun 2013", "iPad", "All markets", *series]
        # Not live yet: inert, and no id shared with the page Dash draws next to it.
        assert shell.get_attribute("inert") is not None
        assert driver.execute_script("return document.querySelectorAll('#first-paint [id]').length") == 0
    finally:
        driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})
        driver.get("about:blank")
