"""Nothing leaves the page: no request to another host, no "Share chart…", titles shown as typed.

The dashboard (served on 127.0.0.1) and the HTML report (opened from a file)
are used the way a person would: every control, every modebar button, every
download.  Chrome's performance log records every request the browser makes,
and each must go to the test server (the dashboard) or nowhere (the report).
The database holds titles with the HTML Plotly would interpret: the top-titles
chart must show them literally, with no link or styling.
"""
from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from dash.testing.wait import until
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from moviedash.cli import main
from tests.browser.conftest import FIRST_DAY, Page, browser_events
from tests.helpers import MARKUP_TITLES, build_db, choose, event, no_console_errors, open_offline, select, wait_for_file

pytestmark = pytest.mark.browser

#: Schemes that never reach the network.
LOCAL_SCHEMES = {"data", "blob", "about"}
#: Modebar buttons that would send a chart elsewhere (their titles in plotly.js).
SHARING = re.compile(r"share|cloud|chart studio|edit in|plotly\.com", re.IGNORECASE)


@pytest.fixture(scope="module")
def browser_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The browser tests' data plus every markup title, watched (3 + its index) times in January."""
    extra = [
        event(f"{FIRST_DAY + dt.timedelta(days=n)} 12:{k:02d}:00", f"markup{k}", title=title, device="Computer")
        for n, title in enumerate(MARKUP_TITLES)
        for k in range(3 + n)
    ]
    return build_db(tmp_path_factory.mktemp("pagesafe") / "pagesafe.db", [*browser_events(), *extra])


@pytest.fixture(scope="module")
def browser_arguments() -> tuple[str, ...]:
    """A browser with a mouse: headless Chromium reports no hover, and Plotly then always shows the modebar."""
    return ("--blink-settings=primaryHoverType=2,availableHoverTypes=2,primaryPointerType=4,availablePointerTypes=4",)


def foreign(urls: list[str], allowed_hosts: set[str]) -> list[str]:
    """The URLs that go to a host not in ``allowed_hosts`` (or use a scheme that could)."""
    out = []
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme in LOCAL_SCHEMES:
            continue
        if parts.scheme == "file" and "file" in allowed_hosts:
            continue
        if parts.netloc not in allowed_hosts:
            out.append(url)
    return out


def modebar_titles(page: Page, graph: str) -> list[str]:
    """Hover ``graph`` and list its modebar buttons' titles."""
    element = page.duo.driver.find_element(By.CSS_SELECTOR, graph)
    ActionChains(page.duo.driver).move_to_element(element).perform()
    page.wait(lambda: page.count(f"{graph} .modebar-btn") > 0, f"{graph} modebar")
    return page.duo.driver.execute_script(
        "return [...document.querySelectorAll(arguments[0] + ' .modebar-btn')].map(b => b.getAttribute('data-title'))",
        graph,
    )


def press_every_modebar_button(page: Page, graph: str) -> list[str]:
    """Click each modebar button of ``graph`` (confirming any dialog it opens); returns their titles."""
    titles = modebar_titles(page, graph)
    for title in titles:
        ActionChains(page.duo.driver).move_to_element(page.duo.driver.find_element(By.CSS_SELECTOR, graph)).perform()
        page.duo.driver.execute_script(
            "document.querySelector(arguments[0] + ` .modebar-btn[data-title=\"${arguments[1]}\"]`).click()",
            graph,
            title,
        )
        # A confirmation dialog (plotly.js asks before sending a chart to the cloud): accept it.
        page.duo.driver.execute_script(
            "document.querySelectorAll('.plotly-cloud-dialog button, [class*=dialog] button').forEach(b => b.click())"
        )
    return titles


def assert_modebar_on_hover_only(page: Page, graph: str) -> None:
    assert page.duo.driver.execute_script("return matchMedia('(hover: hover)').matches")  # a mouse, as on a desktop
    assert page.count(f"{graph} .modebar--hover") == 1, f"{graph}: the modebar is not hover-only"


# --------------------------------------------------------------------------- #
# No request to another host.
# --------------------------------------------------------------------------- #


def test_the_dashboard_contacts_no_other_host_while_it_is_used(page: Page, tmp_path: Path) -> None:
    server = urlsplit(page.duo.server_url).netloc
    page.open("?top=50")
    # The recorder sees a request to another host (here another loopback origin, which refuses it).
    page.network_requests()
    page.duo.driver.execute_async_script(
        "const done = arguments[arguments.length - 1]; "
        "fetch('http://localhost:9/probe').catch(() => 0).then(() => done())"
    )
    assert foreign(page.network_requests(), {server}) == ["http://localhost:9/probe"]
    page.open("?top=50")  # afresh: the requests and console from here on
    # The filters, resolutions, ranking, presets and theme.
    select(page, "users-resolution", "Weekly")
    choose(page, "rank", "Minutes")
    select(page, "device", "iPad")
    page.duo.find_element("#preset-30").click()
    page.duo.find_element("#preset-all").click()
    page.log.settle()
    # Every chart's modebar: none offers to share; every button pressed.
    for graph in ("#users-graph", "#minutes-graph", "#top-graph", "#heatmap-graph"):
        titles = press_every_modebar_button(page, graph)
        assert titles and not [t for t in titles if SHARING.search(t)], (graph, titles)
        assert_modebar_on_hover_only(page, graph)
    # Every download.
    for chart, name in (("users", "unique_users_weekly"), ("top", "toplist_minutes_top50"), ("heatmap", "heatmap")):
        page.duo.find_element(f"#{chart}-csv").click()
        wait_for_file(page, f"{name}.csv")
    page.duo.find_element("#report-button").click()
    wait_for_file(page, "moviedash-report.html")
    page.log.settle()

    requests = page.network_requests()
    assert any(urlsplit(u).path == "/_dash-update-component" for u in requests)  # the log does record
    assert foreign(requests, {server}) == []
    no_console_errors(page)


def test_the_report_contacts_no_other_host(page: Page, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["report", "--db", str(page.db), "--out", str(out), "--top", "30"])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    # Nothing the file loads is on another host (plotly.js holds URLs in its own code, never loaded).
    assert not re.findall(
        r"""<(?:script|img|link|iframe|source|video|audio|embed|object)\b[^>]*"""
        r"""(?:src|href|data)\s*=\s*["']?(?:https?:)?//""",
        html,
        re.IGNORECASE,
    )

    page.network_requests()
    open_offline(page, out)
    for key in ("unique_users", "minutes_watched", "top_titles", "heatmap"):
        titles = press_every_modebar_button(page, f"#chart-{key}")
        assert titles and not [t for t in titles if SHARING.search(t)], (key, titles)
        assert_modebar_on_hover_only(page, f"#chart-{key}")
    requests = page.network_requests()
    assert any(u.startswith("file:") for u in requests)  # the log does record
    assert foreign(requests, {"file"}) == []


# --------------------------------------------------------------------------- #
# Titles are data, not markup.
# --------------------------------------------------------------------------- #

SHOWN_TITLES = """
const root = document.querySelector(arguments[0]);
return {
    links: [...root.querySelectorAll('svg a')].map(a => a.getAttribute('href') || a.getAttribute('xlink:href')),
    // Plotly turns <b>, <i>, <br>, <sup>, <span style> into tspans: an escaped label has none.
    styled: root.querySelectorAll('.ytick text tspan').length,
    ticks: [...root.querySelectorAll('.ytick text')].map(t => t.textContent),
};
"""

HOVER = """
const root = document.querySelector(arguments[0]);
const gd = root.classList.contains('js-plotly-plot') ? root : root.querySelector('.js-plotly-plot');
Plotly.Fx.hover(gd, [{curveNumber: 0, pointNumber: arguments[1]}]);
"""
HOVER_TEXT = """
const name = document.querySelector(arguments[0] + ' .hoverlayer .hovertext text.nums');
return name ? [...name.childNodes].map(n => n.textContent) : null;
"""


def hover_label(page: Page, selector: str, point: int, previous: str | None) -> list[str]:
    """The lines of the hover label of bar ``point`` (its title first, then its count)."""

    def label() -> list[str] | None:
        # Plotly throttles hover events (50 ms): hover again until the label changes.
        page.duo.driver.execute_script(HOVER, selector, point)
        time.sleep(0.1)
        lines = page.duo.driver.execute_script(HOVER_TEXT, selector)
        return lines if lines and len(lines) > 1 and lines[0] != previous else None

    return until(label, 5, msg=f"hover label of bar {point}")


def assert_titles_shown_literally(page: Page, selector: str, titles: list[str]) -> None:
    """The chart at ``selector`` (its bars' titles ``titles``) shows every markup title as typed."""
    shown = page.duo.driver.execute_script(SHOWN_TITLES, selector)
    assert shown["links"] == [] and shown["styled"] == 0, shown
    previous = None
    for title in MARKUP_TITLES:
        label = title if len(title) <= 34 else title[:33].rstrip() + "…"
        assert label in shown["ticks"], (title, shown["ticks"])
        hover = hover_label(page, selector, titles.index(title), previous)
        previous = hover[0]
        assert hover[0] == title, (title, hover)
        assert page.duo.driver.execute_script(SHOWN_TITLES, selector)["links"] == []


def test_markup_titles_are_shown_literally_in_the_dashboard(page: Page) -> None:
    page.open("?top=50&start=2013-01-01&end=2013-01-31&device=Computer")
    titles = page.figure("top-graph")["data"][0]["y"]
    assert set(MARKUP_TITLES) <= set(titles)
    assert_titles_shown_literally(page, "#top-graph", titles)
    no_console_errors(page)


def test_markup_titles_are_shown_literally_in_the_report(page: Page, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = CliRunner().invoke(
        main,
        [
            "report",
            "--db",
            str(page.db),
            "--out",
            str(out),
            "--top",
            "50",
            "--start",
            "2013-01-01",
            "--end",
            "2013-01-31",
            "--device",
            "Computer",
        ],
    )
    assert result.exit_code == 0, result.output
    open_offline(page, out)
    titles = page.duo.driver.execute_script("return [...document.getElementById('chart-top_titles').data[0].y]")
    assert set(MARKUP_TITLES) <= set(titles)
    assert_titles_shown_literally(page, "#chart-top_titles", titles)
