"""The dashboard's first layout shows the address the browser opened.

Dash fetches ``/_dash-layout`` from the page's script, so the request's
``Referer`` is the page's address: the controls start at its view, and the
charts' first callbacks need not wait for the restore callback's round trip.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from moviedash import create_app, pipeline
from moviedash.dashboard import layout as dashboard_layout
from moviedash.errors import DatabaseUnavailable
from tests.helpers import event

EVENTS = [
    event("2013-01-06 23:59:59", "a", minutes=10, title="Skyfall", device="iPad"),
    event("2013-01-07 10:00:00", "b", minutes=30, title="Argo", sessiontype="SERIES", market="SE"),
    event("2013-02-11 21:00:00", "d", minutes=1500, title="Argo", device="iPad", market="SE"),
    event("2013-03-01 10:00:00", "a", minutes=50, title="Argo"),
]
FIRST, LAST = "2013-01-06", "2013-03-01"
PAGE = "http://localhost/"


@pytest.fixture
def client(make_db) -> Any:
    return create_app(db=make_db(EVENTS)).server.test_client()


def components(node: Any) -> Iterator[dict[str, Any]]:
    """Every component of a layout's JSON, depth first."""
    if isinstance(node, list):
        for child in node:
            yield from components(child)
    elif isinstance(node, dict) and "props" in node:
        yield node
        yield from components(node["props"].get("children"))


def layout(client: Any, referrer: str | None) -> dict[str, dict[str, Any]]:
    """The props of each component with an id, from ``/_dash-layout`` requested by the page at ``referrer``."""
    headers = {"Referer": referrer} if referrer is not None else {}
    response = client.get("/_dash-layout", headers=headers)
    assert response.status_code == 200
    return {c["props"]["id"]: c["props"] for c in components(response.get_json()) if "id" in c["props"]}


def controls(props: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "users": props["users-resolution"]["value"],
        "minutes": props["minutes-resolution"]["value"],
        "top": props["top-n"]["value"],
        "rank": props["rank"]["value"],
        "start": props["date-range"]["start_date"],
        "end": props["date-range"]["end_date"],
        "sessiontype": props["sessiontype"]["value"],
        "device": props["device"]["value"],
        "market": props["market"]["value"],
    }


DEFAULT = {"users": "daily", "minutes": "daily", "top": 10, "rank": "plays", "start": FIRST, "end": LAST,
           "sessiontype": "", "device": [], "market": []}


def test_the_controls_start_at_the_view_of_the_pages_address(client: Any) -> None:
    search = ("?users=weekly&minutes=monthly&top=5&rank=minutes&start=2013-01-07&end=2013-02-28"
              "&sessiontype=SERIES&device=iPad&market=SE")
    props = layout(client, PAGE + search)
    assert controls(props) == {"users": "weekly", "minutes": "monthly", "top": 5, "rank": "minutes",
                               "start": "2013-01-07", "end": "2013-02-28", "sessiontype": "SERIES",
                               "device": ["iPad"], "market": ["SE"]}
    # The address is recorded as shown: the URL guard does not restore it a second time.
    assert props["url-query"]["data"] == {"query": search, "shown": search, "replace": True}
    assert props["notice"].get("children") is None


def test_parameters_not_understood_are_named_and_left_at_their_defaults(client: Any) -> None:
    search = "?top=500&rank=bogus&device=Nokia&users=weekly&colour=red&start=2012-01-01"
    props = layout(client, PAGE + search)
    assert controls(props) == {**DEFAULT, "users": "weekly"}
    notice = str(props["notice"]["children"])
    assert "Part of this link was not understood" in notice
    for name in ("colour", "top", "rank", "device"):
        assert name in notice
    # Shown as opened; the history write tidies the address to the controls' canonical query.
    assert props["url-query"]["data"] == {"query": "?users=weekly", "shown": search, "replace": True}


@pytest.mark.parametrize("referrer", [None, "http://elsewhere.example/?users=weekly&top=5"],
                         ids=["no referrer", "another host"])
def test_without_the_pages_address_the_controls_start_at_the_defaults(client: Any, referrer: str | None) -> None:
    props = layout(client, referrer)
    assert controls(props) == DEFAULT
    # Nothing recorded as shown: the restore callback applies the address instead.
    assert props["url-query"].get("data") is None
    assert props["notice"].get("children") is None


def test_the_plain_page_records_the_empty_query(client: Any) -> None:
    props = layout(client, PAGE)
    assert controls(props) == DEFAULT
    assert props["url-query"]["data"] == {"query": "", "shown": "", "replace": True}


def test_the_page_carries_a_static_first_paint_of_its_address(client: Any) -> None:
    """The page itself shows the view (filters, key figures) before Dash's scripts have loaded."""
    page = client.get("/?device=iPad&users=weekly").get_data(as_text=True)
    shell = page[page.index('<div id="first-paint"'):page.index('<div id="react-entry-point"')]
    assert " inert" in shell
    assert shell.count('id="') == 1  # its own: no id shared with the page Dash draws
    assert '<span class="first-paint-value">iPad</span>' in shell
    assert '<span class="first-paint-value">Weekly</span>' in shell
    assert '<div class="kpi-value">2</div>' in shell  # plays: the two iPad events
    assert "Part of this link" not in shell


def test_the_pages_scripts_run_after_the_first_paint_without_dashs_polyfill(client: Any) -> None:
    """Fetched at once (preload), run only once the first paint is drawn, in the page's order; no polyfill bundle."""
    page = client.get("/").get_data(as_text=True)
    later = re.findall(r'<script type="moviedash/later" src="([^"]+)"></script>', page)
    assert not re.findall(r'<script src=', page)  # nothing runs before the first paint
    assert later == re.findall(r'<link rel="preload" as="script" href="([^"]+)">', page)
    position = {source.split("?")[0].rsplit("/", 1)[-1].split(".")[0]: index for index, source in enumerate(later)}
    assert position["react-dom@18"] < position["plotly-moviedash"] < position["dash_renderer"]
    assert any(source.startswith("/assets/regenerator-runtime.js") for source in later)
    assert "/deps/polyfill@" not in page
    start = page[page.index('<script id="_dash-renderer"'):]
    assert "requestAnimationFrame" in start and "window.renderer = new DashRenderer(" in start


def test_a_link_with_bad_values_has_a_first_paint_with_the_defaults(client: Any) -> None:
    page = client.get("/?device=Nokia&top=500").get_data(as_text=True)
    shell = page[page.index('<div id="first-paint"'):page.index('<div id="react-entry-point"')]
    assert '<span class="first-paint-value">All devices</span>' in shell
    assert "Part of this link was not understood" in shell


def test_a_repeated_first_layout_reuses_its_drawn_view(make_db, monkeypatch: pytest.MonkeyPatch) -> None:
    """The figures of a first layout are built once per data version, then served as they were."""
    client = create_app(db=make_db(EVENTS)).server.test_client()
    client.get("/_dash-dependencies")  # Dash's set-up on its first request draws the layout once more
    built: list[str] = []
    real = pipeline.heatmap_figure

    def counting(*args: Any, **kwargs: Any) -> Any:
        built.append("heatmap")
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "heatmap_figure", counting)
    first = client.get("/_dash-layout", headers={"Referer": PAGE + "?device=iPad"}).get_data()
    again = client.get("/_dash-layout", headers={"Referer": PAGE + "?device=iPad"}).get_data()
    assert again == first and built == ["heatmap"]
    other = client.get("/_dash-layout", headers={"Referer": PAGE + "?market=SE"}).get_data()
    assert other != first and built == ["heatmap", "heatmap"]  # another view is drawn for itself


def test_a_first_layout_drawn_during_a_database_fault_is_not_kept(make_db, monkeypatch: pytest.MonkeyPatch) -> None:
    client = create_app(db=make_db(EVENTS)).server.test_client()
    client.get("/_dash-dependencies")  # Dash's set-up on its first request draws the layout once more
    real = pipeline.heatmap_figure
    faults = [DatabaseUnavailable("the database cannot be read")]

    def flaky(*args: Any, **kwargs: Any) -> Any:
        if faults:
            raise faults.pop()
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "heatmap_figure", flaky)
    during = layout(client, PAGE + "?device=iPad")
    assert "cannot be read" in json.dumps(during["heatmap-graph"]["figure"])
    after = layout(client, PAGE + "?device=iPad")
    assert "cannot be read" not in json.dumps(after["heatmap-graph"]["figure"])
    assert after["heatmap-graph"]["figure"]["data"][0]["type"] == "heatmap"


@pytest.mark.parametrize("first", ["/data/unique_users/?resolution=daily", "/figures/unique_users.json"])
def test_the_first_request_after_a_start_draws_no_page_it_was_not_asked_for(make_db, monkeypatch, first) -> None:
    # Dash validates the layout on the server's first request, whichever it is.
    drawn: list[Any] = []
    real = dashboard_layout.first_view
    monkeypatch.setattr(dashboard_layout, "first_view", lambda *a, **kw: drawn.append(a) or real(*a, **kw))
    client = create_app(make_db(EVENTS)).server.test_client()
    response = client.get(first)
    assert response.status_code == 200
    assert drawn == []
    layout_response = client.get("/_dash-layout")  # the page itself is still drawn in its layout
    assert layout_response.status_code == 200 and len(drawn) == 1
