"""Browser tests: the dashboard in headless Chromium through ``dash[testing]``.

One server and one browser serve a whole module (each test opens the page
afresh), which keeps the suite fast.  The database is small, hand-made and
deterministic, with every filter value and one empty combination (TV is only
ever watched in Norway).
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import random
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from dash.testing.application_runners import ThreadedRunner
from dash.testing.composite import DashComposite
from dash.testing.wait import until
from flask import request
from selenium.webdriver.chrome.options import Options

from moviedash.factory import create_app
from moviedash.store import connect_readonly
from tests.helpers import build_db, event

#: Screenshots of the dashboard, kept as test artifacts.
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
#: axe-core, the accessibility checker injected into pages (from the npm registry, pinned).
AXE_VERSION = "4.11.0"
#: Downloaded tools live here (git-ignored): never committed, fetched again on a fresh machine.
TOOL_CACHE = Path(__file__).resolve().parents[2] / ".cache"
#: The viewports every page is checked at: desktop and phone.
VIEWPORTS = {"desktop": (1280, 800, False), "phone": (390, 844, True)}

FIRST_DAY = dt.date(2013, 1, 1)
DAYS = 181  # 1 January - 30 June 2013
TITLES = [f"Title {chr(ord('A') + i)}" for i in range(16)] + ["Æblegrød & Co: A very long series name, Episode 1"]


class RecordingOptions(Options):
    """Chrome options that also keep Chrome's performance log: every network request the browser makes.

    dash[testing] sets ``goog:loggingPrefs`` itself (browser errors only);
    the performance log is added to whatever it sets.
    """

    def set_capability(self, name: str, value: Any) -> None:
        if name == "goog:loggingPrefs":
            value = {**value, "performance": "ALL"}
        super().set_capability(name, value)


def pytest_setup_options() -> Options:
    """Headless Chromium for dash[testing] (Debian's chromium + chromium-driver)."""
    options = RecordingOptions()
    # Network events only (not every page event): the log stays small between reads.
    options.add_experimental_option("perfLoggingPrefs", {"enableNetwork": True, "enablePage": False})
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        # The test machine has no network: keep Chromium from trying.
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
        "--window-size=1280,1000",
        "--hide-scrollbars",
    ):
        options.add_argument(argument)
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    return options


def axe_source() -> str:
    """The minified axe-core script, fetched once with ``npm pack`` into :data:`TOOL_CACHE`.

    ``npm pack`` checks the package against the registry's integrity hash;
    scripts/test.sh makes sure npm is installed.
    """
    target = TOOL_CACHE / f"axe-core-{AXE_VERSION}" / "axe.min.js"
    if not target.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError(
                "npm is needed to fetch axe-core for the accessibility tests (scripts/test.sh installs it)"
            )
        with tempfile.TemporaryDirectory() as folder:
            out = subprocess.run(
                [npm, "pack", f"axe-core@{AXE_VERSION}", "--json", "--pack-destination", folder],
                check=True,
                capture_output=True,
                text=True,
                timeout=300,
                cwd=folder,
            )
            tarball = Path(folder) / json.loads(out.stdout)[0]["filename"]
            with tarfile.open(tarball) as archive:
                member = archive.extractfile("package/axe.min.js")
                assert member is not None
                data = member.read()
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".part")
        partial.write_bytes(data)
        partial.replace(target)  # never a half-written script for the next run
    return target.read_text(encoding="utf-8")


def axe_violations(driver: Any) -> list[dict[str, Any]]:
    """Run axe-core on the page the driver shows: its violations, each with the rule and the elements at fault.

    Reusable for any page (dashboard, report, login): inject, run, return.
    Every WCAG 2.x A/AA rule and axe's best practices are checked.
    """
    if not driver.execute_script("return typeof window.axe === 'object'"):
        driver.execute_script(axe_source())
    result = driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        window.axe.run(document, {resultTypes: ['violations']})
            .then(r => done(r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary,
                                          html: n.html.slice(0, 200)})),
            }))))
            .catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));
        """
    )
    return list(result)


def set_viewport(driver: Any, viewport: str) -> None:
    """Emulate one of :data:`VIEWPORTS` (clear with ``Emulation.clearDeviceMetricsOverride``)."""
    width, height, mobile = VIEWPORTS[viewport]
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
    )


def browser_events() -> list[dict[str, Any]]:
    """About 900 deterministic events over the first half of 2013 (some Computer events have no market)."""
    rng = random.Random(2013)
    users = [f"user{i:02d}" for i in range(60)]
    rows = []
    for day in range(DAYS):
        date = FIRST_DAY + dt.timedelta(days=day)
        for _ in range(rng.randint(1, 9)):
            device = rng.choice(["Computer", "Computer", "iPad", "TV"])
            market = "NO" if device == "TV" else rng.choice(["NO", "NO", "SE", "DK"])
            # Events without a market (NULL, and the sample's placeholder 0): the "unknown" market.
            if device == "Computer" and day % 9 == 0:
                market = None if day % 2 else "0"
            title = TITLES[min(int(rng.expovariate(0.35)), len(TITLES) - 1)]
            rows.append(
                event(
                    f"{date} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00",
                    rng.choice(users),
                    minutes=rng.randint(1, 140),
                    title=title,
                    sessiontype="SERIES" if "Episode" in title or title < "Title F" else "MOVIE",
                    device=device,
                    market=market,
                )
            )
            # Completion and quality without drawing from ``rng`` (the rows above stay as they were).
            minutes = rows[-1]["totalminuteswatched"]
            rows[-1].update(runningtime=120, viewpercentage=round(minutes * 100 / 120, 4),
                            errorperception=round(((day * 7 + minutes) % 90) / 10 + (3 if market == "SE" else 0), 1))
    return rows


class CallbackLog:
    """Records which callback outputs the browser asked for, and how the server answered."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: list[str] = []
        self.bodies: list[dict[str, Any]] = []
        self.changed: list[list[str]] = []
        self.responses: list[tuple[str, int]] = []
        #: ``(output fragment, seconds)``: slow those callbacks down (to see loading indicators).
        self.delay: tuple[str, float] | None = None

    def install(self, server: Any) -> None:
        @server.before_request
        def _record_request() -> None:
            if request.path.endswith("/_dash-update-component") and request.method == "POST":
                body = request.get_json(silent=True) or {}
                with self._lock:
                    self.requests.append(str(body.get("output")))
                    self.bodies.append(body)
                    self.changed.append(list(body.get("changedPropIds") or []))
                    delay = self.delay
                if delay and delay[0] in str(body.get("output")):
                    time.sleep(delay[1])

        @server.after_request
        def _record_response(response: Any) -> Any:
            if request.path.endswith("/_dash-update-component"):
                body = request.get_json(silent=True) or {}
                with self._lock:
                    self.responses.append((str(body.get("output")), response.status_code))
            return response

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()
            self.bodies.clear()
            self.changed.clear()
            self.responses.clear()

    def count(self, fragment: str) -> int:
        """How many requests asked for an output whose id contains ``fragment``."""
        with self._lock:
            return sum(fragment in output for output in self.requests)

    def body(self, fragment: str) -> dict[str, Any]:
        """The last request body for an output containing ``fragment``."""
        with self._lock:
            return next(b for b in reversed(self.bodies) if fragment in str(b.get("output")))

    def settle(self, quiet: float = 0.6, timeout: float = 10) -> None:
        """Wait until no callback request arrived for ``quiet`` seconds and each one was answered."""
        end = time.time() + timeout
        seen, since = -1, time.time()
        while time.time() < end:
            with self._lock:
                now, answered = len(self.requests), len(self.responses)
            if now != seen:
                seen, since = now, time.time()
            elif time.time() - since >= quiet and answered >= now:
                return
            time.sleep(0.05)


class Page:
    """The dashboard under test: the browser, the callback log and the database."""

    def __init__(self, duo: DashComposite, log: CallbackLog, db: Path) -> None:
        self.duo = duo
        self.log = log
        self.db = db
        self.conn = connect_readonly(db)

    # -- navigation -----------------------------------------------------
    def open(self, query: str = "") -> None:
        """Load the page (with a query string), wait until every chart is drawn.

        The callback log then holds exactly this page load's requests.
        """
        self.duo.driver.get("about:blank")
        self.log.settle(quiet=0.3)
        self.log.clear()
        self.duo.reset_log_timestamp()
        self.duo.wait_for_page(f"{self.duo.server_url}/{query}")
        for graph in ("users-graph", "minutes-graph", "top-graph", "heatmap-graph"):
            self.wait(lambda graph=graph: self.figure(graph) is not None, f"{graph} drawn")
        self.log.settle()

    def wait(self, condition: Callable[[], Any], what: str, timeout: float = 10) -> Any:
        return until(condition, timeout, msg=f"timed out waiting for: {what}")

    # -- reading the DOM -------------------------------------------------
    def figure(self, graph_id: str) -> dict[str, Any] | None:
        """The figure Plotly drew in ``#graph_id``: traces (plain arrays) and a few layout fields."""
        return self.duo.driver.execute_script(
            """
            const gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');
            if (!gd || !gd.data || !gd._fullLayout) { return null; }
            const plain = v => (v && typeof v === 'object' && v.length !== undefined && typeof v !== 'string')
                ? Array.from(v, plain) : v;
            return {
                data: gd.data.map(t => ({type: t.type, x: plain(t.x), y: plain(t.y), z: plain(t.z),
                                         customdata: plain(t.customdata), hovertemplate: t.hovertemplate})),
                annotations: (gd.layout.annotations || []).map(a => a.text),
                paper_bgcolor: gd._fullLayout.paper_bgcolor,
                xaxis_title: gd._fullLayout.xaxis?.title?.text,
                filename: gd._context?.toImageButtonOptions?.filename,
            };
            """,
            graph_id,
        )

    def wait_for_data(self, graph_id: str, expected: dict[str, list[Any]], timeout: float = 10) -> None:
        """Wait until ``graph_id``'s first trace holds ``expected`` (keys x, y and/or z)."""

        def matches() -> bool:
            figure = self.figure(graph_id)
            if not figure or not figure["data"]:
                return False
            trace = figure["data"][0]
            return all(trace[key] == value for key, value in expected.items())

        try:
            until(matches, timeout)
        except Exception:  # noqa: BLE001 - re-raised as a readable assertion below
            figure = self.figure(graph_id)
            trace = figure["data"][0] if figure and figure["data"] else {}
            assert {key: trace.get(key) for key in expected} == expected
            raise

    def wait_for_message(self, graph_id: str, message: str, timeout: float = 10) -> None:
        def shown() -> bool:
            figure = self.figure(graph_id)
            return bool(figure) and not figure["data"] and message in figure["annotations"]

        self.wait(shown, f"{graph_id} says {message!r}", timeout)

    def count(self, selector: str) -> int:
        """How many elements match, right now (no implicit wait, unlike ``find_elements``)."""
        return self.duo.driver.execute_script("return document.querySelectorAll(arguments[0]).length", selector)

    def text(self, selector: str) -> str:
        return self.duo.find_element(selector).text

    def query_string(self) -> str:
        return self.duo.driver.execute_script("return window.location.search")

    def screenshot(self, name: str, width: int, height: int, mobile: bool = False) -> Path:
        """Save a full-page screenshot at ``width`` CSS pixels (phone widths use device emulation)."""
        driver = self.duo.driver
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
        )
        try:
            time.sleep(1.0)  # let Plotly re-lay out the charts for the new width
            full = driver.execute_script("return document.documentElement.scrollHeight")
            shot = driver.execute_cdp_cmd(
                "Page.captureScreenshot",
                {"captureBeyondViewport": True, "clip": {"x": 0, "y": 0, "width": width, "height": full, "scale": 1}},
            )
        finally:
            driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def network_requests(self) -> list[str]:
        """Every URL the browser requested (or opened a WebSocket to) since the last call."""
        urls = []
        for entry in self.duo.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] in ("Network.requestWillBeSent", "Network.webSocketCreated"):
                params = message["params"]
                urls.append(params["request"]["url"] if "request" in params else params["url"])
        return urls

    def post_callback(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST a (crafted) callback request from the page, as any client could."""
        return self.duo.driver.execute_async_script(
            """
            const done = arguments[arguments.length - 1];
            fetch('/_dash-update-component', {
                method: 'POST', headers: {'Content-Type': 'application/json'},
                body: JSON.stringify(arguments[0]),
            }).then(r => r.text().then(t => done({status: r.status, body: t})))
              .catch(e => done({status: -1, body: String(e)}));
            """,
            body,
        )


@pytest.fixture(scope="module")
def browser_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_db(tmp_path_factory.mktemp("browser") / "browser.db", browser_events())


@pytest.fixture(scope="module")
def browser_arguments() -> tuple[str, ...]:
    """Extra Chromium arguments for a module's browser (a module overrides this fixture to add some)."""
    return ()


@pytest.fixture(scope="module")
def dash_duo(
    request: pytest.FixtureRequest,
    browser_db: Path,
    tmp_path_factory: pytest.TempPathFactory,
    browser_arguments: tuple[str, ...],
) -> Iterator[DashComposite]:
    """dash[testing]'s ``dash_duo``, module-scoped: one server and one Chromium for the module.

    Serves ``create_app(db=browser_db)`` with a :class:`CallbackLog` attached
    (``dash_duo.callback_log``).
    """
    app = create_app(db=browser_db)
    log = CallbackLog()
    log.install(app.server)
    downloads = tmp_path_factory.mktemp("downloads")
    options = pytest_setup_options()
    for argument in browser_arguments:
        options.add_argument(argument)
    with (
        ThreadedRunner() as server,
        DashComposite(
            server=server,
            browser="Chrome",
            options=[options],
            download_path=str(downloads),
            percy_run=False,
            wait_timeout=10,
        ) as duo,
    ):
        duo.driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
        duo.start_server(app)
        duo.callback_log = log
        yield duo


@pytest.fixture(scope="module")
def page(dash_duo: DashComposite, browser_db: Path) -> Iterator[Page]:
    """The dashboard page, its callback log and the database behind it."""
    page = Page(dash_duo, dash_duo.callback_log, browser_db)
    yield page
    # Let the last test's callbacks finish: the server stops with the module, and a request
    # still being answered then fails the teardown (seen after a theme switch back to light).
    page.log.settle()
    page.conn.close()


@pytest.fixture
def conn(page: Page) -> sqlite3.Connection:
    """A read-only connection to the browser tests' database (for expected values)."""
    return page.conn
