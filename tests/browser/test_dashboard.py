"""The dashboard in headless Chromium: every control, the URL state, downloads, theme and layout.

After each interaction the figures Plotly drew (read from the DOM) must equal
what :mod:`moviedash.analysis` gives for that selection, and the browser
console must stay free of errors.
"""
from __future__ import annotations

import datetime as dt
import sqlite3
import urllib.request
from typing import Any

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from moviedash import analysis, charts
from moviedash.dashboard.callbacks import FILTER_PROPS
from moviedash.params import Filters, SeriesQuery
from tests.browser.conftest import DAYS, Page
from tests.helpers import ALL, assert_view, choose, no_console_errors, select, series, shown_kpis, top, wait_for_file

pytestmark = pytest.mark.browser

CHART_OUTPUTS = ("users-graph.figure", "minutes-graph.figure", "top-graph.figure", "heatmap-graph.figure")
KPI_OUTPUT = "kpi-viewers-value"
RESTORE_OUTPUT = "notice.children"
URL_OUTPUT = "url-query.data"


# --------------------------------------------------------------------------- #
# Expected values, straight from the analysis.
# --------------------------------------------------------------------------- #


def assert_fired(page: Page, **counts: int) -> None:
    """After the page settles, each named callback ran exactly as often as given."""
    page.log.settle()
    names = {
        "users": "users-graph.figure",
        "minutes": "minutes-graph.figure",
        "top": "top-graph.figure",
        "heatmap": "heatmap-graph.figure",
        "kpis": KPI_OUTPUT,
        "restore": RESTORE_OUTPUT,
        "url": URL_OUTPUT,
    }
    assert {name: page.log.count(names[name]) for name in counts} == counts, page.log.changed


def type_date(page: Page, input_id: str, text: str) -> None:
    field = page.duo.find_element(f"#{input_id}")
    field.click()
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(text, Keys.ENTER)


def fetch(page: Page, path: str) -> str:
    with urllib.request.urlopen(page.duo.server_url + path) as response:  # noqa: S310 - local test server
        return response.read().decode()


# --------------------------------------------------------------------------- #
# The page and each control.
# --------------------------------------------------------------------------- #


def test_page_loads_with_the_defaults_and_the_analysis_numbers(page: Page, conn: sqlite3.Connection) -> None:
    page.open()
    whole = analysis.span(conn)
    assert page.text("#data-span") == f"1 Jan 2013 – 30 Jun 2013 · {whole.events:,} events"
    assert page.duo.find_element("#date-range-start").get_attribute("value") == "1 Jan 2013"
    assert page.duo.find_element("#date-range-end").get_attribute("value") == "30 Jun 2013"
    assert "chip-active" in page.duo.find_element("#preset-all").get_attribute("class")
    assert_view(page, conn)
    # The whole range has no previous period: every change is "—".
    assert all(change.startswith("—") for _, change in shown_kpis(page).values())
    assert shown_kpis(page)["plays"][1] == f"— vs previous {DAYS} days"
    assert page.query_string() == ""
    # A page load runs no server callback: the first layout holds the address's view, drawn.
    assert_fired(page, users=0, minutes=0, top=0, heatmap=0, kpis=0, restore=0, url=0)
    assert page.log.requests == []
    no_console_errors(page)


def test_resolution_dropdowns_change_only_their_chart(page: Page, conn: sqlite3.Connection) -> None:
    page.open()
    page.log.clear()
    select(page, "users-resolution", "Weekly")
    weekly = series(conn, "unique_users", "weekly")
    page.wait_for_data("users-graph", weekly)
    assert_fired(page, users=1, minutes=0, top=0, heatmap=0, kpis=0, restore=0, url=1)
    assert page.query_string() == "?users=weekly"
    # Weeks are labelled by their Monday; hover names the whole week, with thousands separators.
    assert all(dt.date.fromisoformat(day).weekday() == 0 for day in weekly["x"])
    trace = page.figure("users-graph")["data"][0]
    # The data start on Tuesday 1 January.
    assert trace["customdata"][0] == ["Week of Mon 31 Dec 2012 (partial: 6 of 7 days)"]
    assert trace["customdata"][1] == ["Week of Mon 7 Jan 2013"]
    assert "%{y:,}" in trace["hovertemplate"]
    assert page.figure("users-graph")["xaxis_title"] == "Week (starting Monday)"

    page.log.clear()
    select(page, "minutes-resolution", "Monthly")
    monthly = series(conn, "minutes_watched", "monthly")
    page.wait_for_data("minutes-graph", monthly)
    assert_fired(page, users=0, minutes=1, top=0, heatmap=0, kpis=0, url=1)
    assert page.query_string() == "?users=weekly&minutes=monthly"
    label, hours = page.figure("minutes-graph")["data"][0]["customdata"][0]
    assert (label, hours) == ("January 2013", pytest.approx(monthly["y"][0] / 60))

    select(page, "users-resolution", "Daily")
    page.wait_for_data("users-graph", series(conn, "unique_users", "daily"))
    page.wait(lambda: page.query_string() == "?minutes=monthly", "URL without the default")
    no_console_errors(page)


def test_top_n_slider_keys_drag_and_box_and_rank_by(page: Page, conn: sqlite3.Connection) -> None:
    page.open()
    thumb = page.duo.find_element("#top-n [role=slider]")
    thumb.click()
    thumb.send_keys(*[Keys.ARROW_LEFT] * 5)
    page.wait_for_data("top-graph", top(conn, 5))
    page.wait(lambda: page.query_string() == "?top=5", "URL top=5")

    # A drag across many values updates once, on release.
    page.log.settle()
    page.log.clear()
    ActionChains(page.duo.driver).click_and_hold(thumb).move_by_offset(25, 0).pause(0.15) \
        .move_by_offset(25, 0).pause(0.15).move_by_offset(25, 0).pause(0.15).release().perform()
    page.log.settle()
    dragged = int(thumb.get_attribute("aria-valuenow"))
    assert dragged > 5
    assert page.log.count("top-graph.figure") == 1
    page.wait_for_data("top-graph", top(conn, dragged))

    # The number box commits when it loses focus, not per keystroke.
    box = page.duo.find_element("#top-n input[type=number]")
    box.click()
    box.send_keys(Keys.CONTROL, "a")
    page.log.clear()
    box.send_keys("50")
    page.log.settle(quiet=0.4)
    assert page.log.count("top-graph.figure") == 0
    box.send_keys(Keys.TAB)
    page.wait_for_data("top-graph", top(conn, 50))
    page.wait(lambda: page.query_string() == "?top=50", "URL top=50")
    # 17 titles exist: the chart is as tall as its bars need.
    assert page.duo.find_element("#top-graph").size["height"] == charts.toplist_height(17)

    page.log.clear()
    choose(page, "rank", "Minutes")
    page.wait_for_data("top-graph", top(conn, 50, "minutes"))
    assert_fired(page, users=0, minutes=0, top=1, heatmap=0, kpis=0, url=1)
    assert "hours" in page.figure("top-graph")["data"][0]["hovertemplate"]
    choose(page, "rank", "Viewers")
    page.wait_for_data("top-graph", top(conn, 50, "viewers"))
    page.wait(lambda: page.query_string() == "?top=50&rank=viewers", "URL rank=viewers")
    assert page.figure("top-graph")["filename"] == "toplist_viewers_top50"
    no_console_errors(page)


def test_filters_apply_to_every_chart_and_kpi(page: Page, conn: sqlite3.Connection) -> None:
    page.open()
    page.log.clear()
    choose(page, "sessiontype", "Movies")
    assert_view(page, conn, Filters(sessiontype=("MOVIE",)))
    assert_fired(page, users=1, minutes=1, top=1, heatmap=1, kpis=1, restore=0, url=1)
    assert page.query_string() == "?sessiontype=MOVIE"

    select(page, "device", "iPad")
    assert_view(page, conn, Filters(sessiontype=("MOVIE",), device=("iPad",)))
    select(page, "market", "Sweden (SE)")
    assert_view(page, conn, Filters(sessiontype=("MOVIE",), device=("iPad",), market=("SE",)))
    assert page.query_string() == "?sessiontype=MOVIE&device=iPad&market=SE"

    select(page, "device", "Computer")  # a second device
    both = Filters(sessiontype=("MOVIE",), device=("Computer", "iPad"), market=("SE",))
    assert_view(page, conn, both)
    assert page.query_string() == "?sessiontype=MOVIE&device=Computer&device=iPad&market=SE"

    choose(page, "sessiontype", "All")
    assert_view(page, conn, Filters(device=("Computer", "iPad"), market=("SE",)))
    no_console_errors(page)


def test_date_range_presets_and_typed_dates(page: Page, conn: sqlite3.Connection) -> None:
    page.open()
    page.log.clear()
    page.duo.find_element("#preset-30").click()
    last_30 = Filters(start=dt.date(2013, 6, 1))  # ends on the last day of the data: no end bound
    assert_view(page, conn, last_30)
    assert_fired(page, users=1, minutes=1, top=1, heatmap=1, kpis=1, url=1)
    assert page.query_string() == "?start=2013-06-01"
    assert page.duo.find_element("#date-range-start").get_attribute("value") == "1 Jun 2013"
    assert "chip-active" in page.duo.find_element("#preset-30").get_attribute("class")
    assert page.text("#kpi-plays-delta").endswith("vs previous 30 days")

    page.duo.find_element("#preset-7").click()
    assert_view(page, conn, Filters(start=dt.date(2013, 6, 24)))

    type_date(page, "date-range-start", "1 Mar 2013")
    type_date(page, "date-range-end", "31 Mar 2013")
    march = Filters(start=dt.date(2013, 3, 1), end=dt.date(2013, 3, 31))
    assert_view(page, conn, march)
    page.wait(lambda: page.query_string() == "?start=2013-03-01&end=2013-03-31", "URL with the dates")
    assert page.count(".chip-active") == 0
    # March has a previous period of 31 days (29 Jan - 28 Feb) with data.
    assert page.text("#kpi-plays-delta").endswith("vs previous 31 days")
    assert not page.text("#kpi-plays-delta").startswith("—")

    page.duo.find_element("#preset-all").click()
    assert_view(page, conn)
    page.wait(lambda: page.query_string() == "", "URL back to the plain page")
    no_console_errors(page)


# --------------------------------------------------------------------------- #
# Shareable URL.
# --------------------------------------------------------------------------- #


def test_opening_a_url_restores_every_control_and_chart(page: Page, conn: sqlite3.Connection) -> None:
    query = (
        "?users=weekly&minutes=monthly&top=5&rank=minutes&start=2013-03-01&end=2013-04-30"
        "&sessiontype=MOVIE&device=Computer&device=iPad&market=NO"
    )
    page.open(query)
    assert page.text("#users-resolution") == "Weekly"
    assert page.text("#minutes-resolution") == "Monthly"
    assert page.duo.find_element("#top-n [role=slider]").get_attribute("aria-valuenow") == "5"
    assert page.text("#rank .selected") == "Minutes"
    assert page.text("#sessiontype .selected") == "Movies"
    assert page.duo.find_element("#date-range-start").get_attribute("value") == "1 Mar 2013"
    assert page.duo.find_element("#date-range-end").get_attribute("value") == "30 Apr 2013"
    assert page.text("#device").split("\n") == ["Computer", "2 selected"]
    assert page.text("#market") == "Norway (NO)"
    filters = Filters(
        start=dt.date(2013, 3, 1), end=dt.date(2013, 4, 30),
        sessiontype=("MOVIE",), device=("Computer", "iPad"), market=("NO",),
    )
    assert_view(page, conn, filters, users="weekly", minutes="monthly", num=5, rank="minutes")
    assert page.query_string() == query
    assert page.text("#notice") == ""
    # The restored view is drawn by the first layout itself: no chart runs with the defaults
    # first, nor at all (no restore round trip, no chart callbacks).
    assert_fired(page, users=0, minutes=0, top=0, heatmap=0, kpis=0, restore=0, url=0)
    assert page.log.requests == []
    no_console_errors(page)


def test_without_the_pages_address_the_restore_callback_applies_it(page: Page, conn: sqlite3.Connection) -> None:
    """A layout request whose ``Referer`` names another page (or none) starts at the defaults; the URL still wins."""
    driver = page.duo.driver
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {"Referer": "http://elsewhere.example/"}})
    try:
        page.open("?users=weekly&top=5&colour=red")
        assert_view(page, conn, users="weekly", num=5)
        assert "colour" in page.text("#notice")
        page.wait(lambda: page.query_string() == "?users=weekly&top=5", "canonical URL")
        # The restore round trip, then only the charts whose controls it changed.
        assert_fired(page, users=1, minutes=0, top=1, heatmap=0, kpis=0, restore=1, url=1)
    finally:
        driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {}})
    no_console_errors(page)


def test_a_link_with_bad_values_opens_with_defaults_for_those(page: Page, conn: sqlite3.Connection) -> None:
    page.open("?top=500&rank=bogus&device=Nokia&users=weekly&colour=red&start=2012-01-01")
    assert_view(page, conn, users="weekly")
    notice = page.text("#notice")
    for name in ("colour", "top", "rank", "device"):
        assert name in notice
    # The address is tidied in place (no new history entry to go back into).
    page.wait(lambda: page.query_string() == "?users=weekly", "canonical URL")
    no_console_errors(page)


def test_back_and_forward_restore_the_previous_views(page: Page, conn: sqlite3.Connection) -> None:
    page.open()
    select(page, "users-resolution", "Weekly")
    page.wait(lambda: page.query_string() == "?users=weekly", "URL users=weekly")
    choose(page, "rank", "Viewers")
    page.wait_for_data("top-graph", top(conn, 10, "viewers"))
    page.wait(lambda: page.query_string() == "?users=weekly&rank=viewers", "URL rank=viewers")

    page.log.settle()
    page.log.clear()
    page.duo.driver.back()
    page.wait_for_data("top-graph", top(conn, 10, "plays"))
    assert page.query_string() == "?users=weekly"
    assert page.text("#rank .selected") == "Plays"
    assert_fired(page, restore=1, top=1, users=0, url=1)

    page.duo.driver.back()
    page.wait_for_data("users-graph", series(conn, "unique_users", "daily"))
    assert page.text("#users-resolution") == "Daily"

    page.duo.driver.forward()
    page.wait_for_data("users-graph", series(conn, "unique_users", "weekly"))
    no_console_errors(page)


# --------------------------------------------------------------------------- #
# Empty and invalid selections.
# --------------------------------------------------------------------------- #


def test_an_empty_selection_says_so_in_every_chart(page: Page, conn: sqlite3.Connection) -> None:
    page.open("?device=TV&market=SE")  # TV is only watched in Norway
    empty = Filters(device=("TV",), market=("SE",))
    for graph in ("users-graph", "minutes-graph", "top-graph", "heatmap-graph"):
        page.wait_for_message(graph, charts.EMPTY_MESSAGE)
    assert_view(page, conn, empty)
    assert [value for value, _ in shown_kpis(page).values()] == ["0", "0", "0.0", "—"]
    no_console_errors(page)


def test_crafted_callback_requests_are_rejected_cleanly(page: Page, conn: sqlite3.Connection) -> None:
    page.open()
    # A first load sends no callback request: a change gives the bodies to craft from.
    select(page, "users-resolution", "Weekly")
    page.wait_for_data("users-graph", series(conn, "unique_users", "weekly"))
    page.log.settle()
    users = page.log.body("users-graph.figure")
    url = page.log.body(URL_OUTPUT)

    def crafted(body: dict[str, Any], component: str, value: Any, *, stored: bool = False) -> dict[str, Any]:
        """``body`` with ``component`` set to ``value`` wherever it is read: as input, as state and, with
        ``stored``, in the overview's selection store (else left empty, so the chart reads the filters' state)."""
        def put(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [dict(item, value=value) if item["id"] == component else item for item in items]

        state = put(body.get("state", []))
        inputs = put(body["inputs"])
        if stored:
            values = {f"{item['id']}.{item['property']}": item["value"] for item in state}
            data = {"filters": [values[f"{c}.{p}"] for c, p in FILTER_PROPS], "theme": values["chart-theme.data"]}
            inputs = [dict(item, value=data) if item["id"] == "overview-selection" else item for item in inputs]
        return page.post_callback(dict(body, inputs=inputs, state=state))

    # The store is still empty (only the resolution changed): the chart reads the filters as state.
    assert [i.get("value") for i in users["inputs"] if i["id"] == "overview-selection"] == [None]
    for component, value, message in [
        ("users-resolution", "hourly", "users must be one of daily, weekly, monthly"),
        ("device", ["Nokia"], "device 'Nokia' is not in the data; known values"),
        ("device", "iPad", "device must be a list of values"),
        ("sessiontype", ["MOVIE", "SERIES"], "sessiontype must be a single value"),
        ("date-range", "yesterday", "start: 'yesterday' is not a date (expected YYYY-MM-DD"),
        ("market", ["x" * 500], "market values must be non-empty strings"),
    ]:
        for stored in (False, True):
            response = crafted(users, component, value, stored=stored)
            assert response["status"] == 200, (stored, response)
            assert "Invalid selection" in response["body"] and message in response["body"], (stored, response)
            assert "Traceback" not in response["body"]
    for data in ["light", {"filters": ["2013-01-01"]}, {"filters": None}, [1, 2, 3, 4, 5]]:
        response = page.post_callback(dict(users, inputs=[
            dict(item, value=data) if item["id"] == "overview-selection" else item for item in users["inputs"]]))
        assert response["status"] == 204, response  # a malformed selection store: ignored
    for component, value in [("top-n", 500), ("rank", "popularity"), ("date-range", "2099-01-01")]:
        response = crafted(url, component, value)
        assert response["status"] == 204, response  # ignored: the URL keeps the last valid view

    # The page keeps working.
    select(page, "users-resolution", "Monthly")
    page.wait_for_data("users-graph", series(conn, "unique_users", "monthly"))
    no_console_errors(page)


# --------------------------------------------------------------------------- #
# Downloads, loading indicators, theme, layout.
# --------------------------------------------------------------------------- #


def test_csv_png_and_svg_downloads_hold_the_chart_data(page: Page, conn: sqlite3.Connection) -> None:
    page.open("?users=weekly&top=5")
    page.duo.find_element("#users-csv").click()
    csv = wait_for_file(page, "unique_users_weekly.csv").read_text()
    frame = analysis.unique_users(conn, SeriesQuery("weekly"))
    assert csv == frame.to_csv(index=False) == fetch(page, "/data/unique_users/?resolution=weekly&format=csv")

    page.duo.find_element("#top-csv").click()
    csv = wait_for_file(page, "toplist_plays_top5.csv").read_text()
    assert csv == fetch(page, "/data/toplist/?num=5&format=csv")

    page.duo.find_element("#heatmap-csv").click()
    csv = wait_for_file(page, "heatmap.csv").read_text()
    assert csv == analysis.heatmap(conn, ALL).to_csv()
    assert csv.splitlines()[0] == "weekday," + ",".join(str(h) for h in range(24))

    ActionChains(page.duo.driver).move_to_element(page.duo.find_element("#users-graph")).perform()
    page.duo.find_element('#users-graph [data-title="Download plot as SVG"]').click()
    assert wait_for_file(page, "unique_users_weekly.svg").read_text().startswith("<svg")
    page.duo.find_element('#users-graph [data-title="Download plot as a PNG"]').click()
    assert wait_for_file(page, "unique_users_weekly.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    no_console_errors(page)


def test_a_chart_shows_a_loading_indicator_while_its_callback_runs(page: Page, conn: sqlite3.Connection) -> None:
    page.open()
    page.log.delay = ("users-graph.figure", 1.5)
    try:
        select(page, "users-resolution", "Monthly")
        page.wait(lambda: page.count(".graph-frame-users .dash-spinner") == 1, "spinner shown")
        assert page.count(".graph-frame-minutes .dash-spinner") == 0
        page.wait_for_data("users-graph", series(conn, "unique_users", "monthly"))
        page.wait(lambda: page.count(".graph-frame-users .dash-spinner") == 0, "spinner gone")
    finally:
        page.log.delay = None
    no_console_errors(page)


def test_theme_switch_changes_page_and_plotly_template_and_is_remembered(page: Page) -> None:
    page.open()
    dark, light = charts.palette("dark").paper, charts.palette("light").paper
    assert page.figure("users-graph")["paper_bgcolor"] == light
    page.log.clear()
    choose(page, "theme", "Dark")
    try:
        page.wait(lambda: page.figure("heatmap-graph")["paper_bgcolor"] == dark, "dark charts")
        assert page.duo.driver.execute_script("return document.documentElement.dataset.theme") == "dark"
        assert_fired(page, users=1, minutes=1, top=1, heatmap=1, kpis=0, url=0)
        page.open()  # a preference, kept in the browser (not in the shared URL)
        assert page.text("#theme .selected") == "Dark"
        # The first layout draws the charts light: the stored theme redraws them (and only them).
        for graph in ("users-graph", "minutes-graph", "top-graph", "heatmap-graph"):
            page.wait(lambda graph=graph: page.figure(graph)["paper_bgcolor"] == dark, f"{graph} dark")
        assert_fired(page, users=1, minutes=1, top=1, heatmap=1, kpis=0, url=0)
        assert page.query_string() == ""
        page.screenshot("dashboard-desktop-dark", 1280, 900)
    finally:
        choose(page, "theme", "Light")
    page.wait(lambda: page.figure("users-graph")["paper_bgcolor"] == light, "light charts")
    no_console_errors(page)


def test_every_control_has_an_accessible_label(page: Page) -> None:
    page.open()
    unnamed = page.duo.driver.execute_script(
        """
        const name = el => {
            if (el.getAttribute('aria-label')) return el.getAttribute('aria-label');
            if (el.tagName === 'BUTTON' && el.textContent.trim()) return el.textContent;  // named by its text
            if (el.id) {
                const l = document.querySelector(`label[for="${el.id}"]`);
                if (l && l.textContent.trim()) return l.textContent;
            }
            const wrap = el.closest('label'); if (wrap && wrap.textContent.trim()) return wrap.textContent;
            const group = el.closest('[aria-labelledby]');
            if (group) { return group.getAttribute('aria-labelledby').split(' ')
                .map(id => (document.getElementById(id) || {}).textContent || '').join(' ').trim(); }
            return '';
        };
        const controls = document.querySelectorAll(
            '#app input, #app button, #app [role=slider], #app select, #app textarea');
        return Array.from(controls).filter(el => !name(el)).map(el => el.outerHTML.slice(0, 120));
        """
    )
    assert unnamed == []
    no_console_errors(page)


def test_layout_at_desktop_and_phone_widths(page: Page) -> None:
    page.open("?users=weekly")
    cards = "#overview-section .card"
    boxes = page.duo.driver.execute_script(
        f"return Array.from(document.querySelectorAll('{cards}')).map(e => e.getBoundingClientRect().toJSON())"
    )
    # Desktop (1280 px): two charts per row.
    assert boxes[0]["top"] == boxes[1]["top"] and boxes[0]["left"] < boxes[1]["left"]
    path = page.screenshot("dashboard-desktop", 1280, 900)
    assert path.stat().st_size > 50_000

    driver = page.duo.driver
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}
    )
    try:

        def stacked() -> bool:
            rects = driver.execute_script(
                f"return Array.from(document.querySelectorAll('{cards}')).map(e => e.getBoundingClientRect().toJSON())"
            )
            return len({round(r["left"]) for r in rects}) == 1 and all(
                a["bottom"] <= b["top"] for a, b in zip(rects, rects[1:], strict=False)
            )

        page.wait(stacked, "charts stacked at 390 px")
        # Nothing wider than the phone (once Plotly has redrawn): no sideways scrolling.
        page.wait(
            lambda: driver.execute_script("return document.documentElement.scrollWidth") <= 390,
            "no horizontal overflow",
        )
        plot_width = driver.execute_script(
            "return document.querySelector('#users-graph .main-svg').getBoundingClientRect().width"
        )
        assert 300 <= plot_width <= 390
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    page.screenshot("dashboard-phone", 390, 844, mobile=True)
    no_console_errors(page)


#: Every chart text outside its SVG (cut off): tick labels, axis titles, annotations, colour bar.
CUT_OFF_TEXTS = """
const out = [];
for (const graph of document.querySelectorAll('.js-plotly-plot')) {
    const svg = graph.querySelector('.main-svg').getBoundingClientRect();
    const texts = graph.querySelectorAll(
        '.xtick text, .ytick text, .g-xtitle text, .g-ytitle text, .annotation-text, .cbaxis text, .cbtitle text');
    for (const text of texts) {
        const r = text.getBoundingClientRect();
        if (r.width > 0 && (r.left < svg.left - 0.5 || r.right > svg.right + 0.5
                            || r.top < svg.top - 0.5 || r.bottom > svg.bottom + 0.5)) {
            out.push(graph.parentElement.id + ': ' + text.textContent);
        }
    }
}
return out;
"""


@pytest.mark.parametrize(
    "query", ["", "?users=weekly&minutes=monthly&top=50&rank=minutes", "?start=2013-03-01&end=2013-03-07"]
)
def test_no_chart_label_is_cut_off_at_desktop_or_phone_width(page: Page, query: str) -> None:
    """The charts' margins are fixed (no automargin): they must still hold every label and title."""
    page.open(query)
    driver = page.duo.driver
    assert driver.execute_script(CUT_OFF_TEXTS) == []
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {"width": 360, "height": 800, "deviceScaleFactor": 1, "mobile": True}
    )
    try:
        page.wait(
            lambda: (
                driver.execute_script(
                    "return document.querySelector('#users-graph .main-svg').getBoundingClientRect().width"
                )
                < 360
            ),
            "charts redrawn at 360 px",
        )
        page.wait(lambda: driver.execute_script(CUT_OFF_TEXTS) == [], "every chart label inside its chart at 360 px", 3)
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    no_console_errors(page)
