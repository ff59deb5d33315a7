"""The engagement page in the browser: drawn from its first layout, following the filters, one tab away."""
from __future__ import annotations

import pytest

from moviedash import charts, engagement, pipeline
from moviedash.dashboard import engagement_page, ids
from moviedash.params import Filters
from tests.helpers import choose, kpi_texts, no_console_errors, select

from .conftest import VIEWPORTS, Page, axe_violations, set_viewport

pytestmark = pytest.mark.browser

GRAPHS = [f"{chart}-graph" for chart in engagement_page.CHART_KEYS]


def open_engagement(page: Page, query: str = "") -> None:
    """Load ``/engagement`` (with a query string) and wait until every chart is drawn."""
    page.duo.driver.get("about:blank")
    page.log.settle(quiet=0.3)
    page.log.clear()
    page.duo.reset_log_timestamp()
    page.duo.wait_for_page(f"{page.duo.server_url}/engagement{query}")
    for graph in GRAPHS:
        page.wait(lambda graph=graph: page.figure(graph) is not None, f"{graph} drawn")
    page.log.settle()


def expected_y(page: Page, chart: str, filters: Filters, option: str | None) -> list[float | None]:
    _figure, data = pipeline.engagement_figure(page.conn, chart, filters, option)
    return [None if v is None else float(v) for v in data.frame["values"]]


def test_the_page_is_drawn_by_its_first_layout(page: Page) -> None:
    open_engagement(page)
    assert page.log.requests == []  # no callback round trip: the layout holds the drawn page
    completion = page.figure("completion-graph")
    assert completion is not None
    assert completion["data"][0]["y"] == expected_y(page, "completion_rate", Filters(), "weekly")
    kpis = engagement.kpis(page.conn, Filters())
    assert page.text("#kpi-completion-rate-value") == kpis[0].value
    assert page.text("#kpi-poor-quality-value") == kpis[1].value
    assert page.count("#overview-section[hidden]") == 1 and page.count("#engagement-section[hidden]") == 0
    assert page.duo.find_element("#nav-engagement").get_attribute("aria-current") == "page"
    no_console_errors(page)


def test_a_filter_change_redraws_the_charts_and_the_key_figures(page: Page) -> None:
    open_engagement(page)
    select(page, "market", "Sweden (SE)")
    filters = Filters(market=("SE",))
    page.wait_for_data("completion-graph", {"y": expected_y(page, "completion_rate", filters, "weekly")})
    page.wait_for_data("breakdown-graph", {"y": expected_y(page, "completion_rate_breakdown", filters, "device")})
    page.wait(lambda: page.text("#kpi-poor-quality-value") == engagement.kpis(page.conn, filters)[1].value,
              "poor-quality card for SE")
    # A chart's own control redraws that chart.
    select(page, "quality-measure", "Average quality score")
    page.wait_for_data("quality-graph", {"y": expected_y(page, "quality", filters, "weekly")})
    assert "market=SE" in page.duo.find_element("#nav-overview").get_attribute("href")
    no_console_errors(page)


def test_the_tabs_keep_the_view(page: Page) -> None:
    page.open("?market=SE&device=iPad")
    link = page.duo.find_element("#nav-engagement")
    assert "market=SE" in link.get_attribute("href") and "device=iPad" in link.get_attribute("href")
    assert page.log.count("completion-graph") == 0  # the overview draws nothing of the hidden page
    link.click()
    page.wait(lambda: page.duo.driver.execute_script("return window.location.pathname") == "/engagement",
              "on the engagement page")
    for graph in GRAPHS:
        page.wait(lambda graph=graph: page.figure(graph) is not None, f"{graph} drawn")
    assert "market=SE" in page.query_string() and "device=iPad" in page.query_string()
    assert page.figure("completion-graph")["data"][0]["y"] == expected_y(
        page, "completion_rate", Filters(market=("SE",), device=("iPad",)), "weekly")
    # "About this data", not drawn for the overview, is filled once the page is shown.
    page.wait(lambda: page.count("#about-data-body li") > 0, "about this data filled")
    page.duo.find_element("#about-data summary").click()
    assert f"{page.conn.execute('SELECT COUNT(*) FROM movies').fetchone()[0]:,} events in the database" in page.text(
        "#about-data-body")
    no_console_errors(page)


#: Outputs of each page's callbacks, as the callback log names them.
OVERVIEW_OUTPUTS = (*[ids.graph(chart) for chart in ids.CHARTS], *[ids.kpi_value(name) for name in ids.KPIS])
#: What the engagement page draws besides its charts: a theme switch leaves it alone.
ENGAGEMENT_FIGURES = (*[ids.kpi_value(name) for name, _label in engagement_page.KPIS], ids.ABOUT_BODY, ids.STOPS_TITLE)
ENGAGEMENT_OUTPUTS = (*GRAPHS, *ENGAGEMENT_FIGURES)


def requested(page: Page, outputs: tuple[str, ...]) -> list[str]:
    """The callback requests since the log was cleared that asked for any of ``outputs``."""
    page.log.settle()
    return [request for request in page.log.requests if any(f"{output}." in request for output in outputs)]


def test_a_page_starts_no_request_for_the_hidden_one(page: Page) -> None:
    """A filter change or a theme switch redraws the page shown, and asks nothing for the other page;
    a theme switch redraws the charts only (not the key figures)."""
    driver = page.duo.driver
    open_engagement(page)
    # A chart's own control before any filter change (the page's selection store still empty).
    select(page, "quality-measure", "Average quality score")
    page.wait_for_data("quality-graph", {"y": expected_y(page, "quality", Filters(), "weekly")})
    select(page, "market", "Sweden (SE)")
    filters = Filters(market=("SE",))
    page.wait_for_data("completion-graph", {"y": expected_y(page, "completion_rate", filters, "weekly")})
    page.wait(lambda: page.text("#kpi-poor-quality-value") == engagement.kpis(page.conn, filters)[1].value,
              "poor-quality card for SE")
    assert requested(page, OVERVIEW_OUTPUTS) == []
    assert len(requested(page, (ids.kpi_value("completion-rate"),))) == 1
    page.log.clear()
    choose(page, "theme", "Dark")
    try:
        page.wait(lambda: driver.execute_script("return document.documentElement.dataset.theme") == "dark",
                  "dark theme")
        for graph in GRAPHS:
            page.wait(lambda graph=graph: page.figure(graph)["paper_bgcolor"] == charts.palette("dark").paper,
                      f"{graph} dark")
        assert requested(page, OVERVIEW_OUTPUTS) == []
        assert requested(page, ENGAGEMENT_FIGURES) == []
        assert len(requested(page, GRAPHS)) == len(GRAPHS)
    finally:
        choose(page, "theme", "Light")
    page.wait(lambda: page.figure("completion-graph")["paper_bgcolor"] == charts.palette("light").paper,
              "light engagement charts")

    page.open()
    select(page, "market", "Sweden (SE)")
    page.wait(lambda: page.text("#kpi-plays-value") == shown_plays(page, filters), "plays card for SE")
    page.log.clear()
    select(page, "device", "iPad")
    page.wait(lambda: page.text("#kpi-plays-value") == shown_plays(page, Filters(market=("SE",), device=("iPad",))),
              "plays card for SE on iPad")
    assert len(requested(page, OVERVIEW_OUTPUTS)) == len(ids.CHARTS) + 1  # each chart, and the cards in one
    assert requested(page, ENGAGEMENT_OUTPUTS) == []
    page.log.clear()
    choose(page, "theme", "Dark")
    try:
        page.wait(lambda: page.figure("heatmap-graph")["paper_bgcolor"] == charts.palette("dark").paper,
                  "dark overview charts")
        assert requested(page, ENGAGEMENT_OUTPUTS) == []
    finally:
        choose(page, "theme", "Light")
    no_console_errors(page)


def shown_plays(page: Page, filters: Filters) -> str:
    """The overview's plays card for ``filters``, as drawn."""
    return kpi_texts(page.conn, filters)["plays"][0]


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_page_has_no_axe_violations(page: Page, theme: str, viewport: str) -> None:
    driver = page.duo.driver
    set_viewport(driver, viewport)
    try:
        open_engagement(page)
        if theme == "dark":
            choose(page, "theme", "Dark")
            page.wait(lambda: driver.execute_script("return document.documentElement.dataset.theme") == "dark",
                      "dark theme")
            page.log.settle()
        page.duo.find_element("#about-data summary").click()  # audited open, with its lines
        page.wait(lambda: driver.execute_script("return document.getElementById('about-data').open") is True,
                  "about this data open")
        violations = axe_violations(driver)
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        if theme == "dark":
            choose(page, "theme", "Light")
    assert [f"{v['id']}: {n['target']} {n['html']}" for v in violations for n in v["nodes"]] == []
    no_console_errors(page)
