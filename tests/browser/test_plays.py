"""The dashboard draws every declared time-series measure: the plays chart, declared and nothing else."""
from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from selenium.webdriver.common.keys import Keys

from moviedash import metrics, pipeline
from moviedash.dashboard import ids
from moviedash.params import SeriesQuery
from tests.browser.conftest import Page

pytestmark = pytest.mark.browser


def plays(conn: sqlite3.Connection, resolution: str) -> dict[str, Any]:
    frame = pipeline.SERIES["plays"](conn, SeriesQuery(resolution))
    return {"x": [str(d) for d in frame["date"]], "y": [int(v) for v in frame["values"]]}


def test_the_dashboard_shows_the_plays_chart_at_each_resolution(page: Page, conn: sqlite3.Connection) -> None:
    key = metrics.measure("plays").key
    graph = ids.graph(key)
    page.open()
    assert page.text(f"#{key}-title") == "Plays"
    page.wait_for_data(graph, plays(conn, "daily"))
    assert page.figure(graph)["filename"] == "plays_daily"
    for label, resolution in (("Weekly", "weekly"), ("Monthly", "monthly")):
        page.duo.select_dcc_dropdown(f"#{ids.resolution(key)}", label)
        page.duo.driver.switch_to.active_element.send_keys(Keys.ESCAPE)
        page.wait_for_data(graph, plays(conn, resolution))
        page.wait(lambda resolution=resolution: page.query_string() == f"?{key}={resolution}", "URL of the view")
    trace = page.figure(graph)["data"][0]
    assert "plays" in trace["hovertemplate"]
    # A shared link opens with the plays chart at its resolution.
    page.open(f"?{key}=weekly")
    page.wait_for_data(graph, plays(conn, "weekly"))
    assert page.duo.get_logs() == []
