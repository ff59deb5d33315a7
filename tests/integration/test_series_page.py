"""The series page (``/series``) and a show's page (``/show/<name>``): first layouts, callbacks, addresses."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from moviedash import create_app
from moviedash.dashboard import ids, layout, series_page
from moviedash.series_cards import CARDS
from tests.integration.test_engagement_page import components, layout_props
from tests.integration.test_shows import HAND, HAND_GIRLS, HAND_TOP


@pytest.fixture
def client(make_db: Any) -> Any:
    return create_app(db=make_db(HAND)).server.test_client()


def texts(node: Any) -> list[str]:
    """Every text child of a layout (JSON) subtree, in order."""
    out: list[str] = []
    for component in components(node):
        children = component["props"].get("children")
        for child in children if isinstance(children, list) else [children]:
            if isinstance(child, str):
                out.append(child)
    return out


def test_the_pages_are_served_behind_their_addresses(client: Any) -> None:
    page = client.get("/series?market=NO")
    assert page.status_code == 200 and "Top shows" in page.get_data(as_text=True)
    show = client.get("/show/" + quote("Solan, Ludvig og Gurin med reverompa", safe=""))
    assert show.status_code == 200 and "Episode drop-off" in show.get_data(as_text=True)
    assert client.get("/series/").status_code == 404
    assert client.get("/shows/Girls").status_code == 404


def test_the_series_page_draws_the_top_shows(client: Any) -> None:
    props = layout_props(client, "http://localhost/series")
    assert props[ids.PAGE]["data"] == "series"
    assert not props[ids.SERIES_SECTION]["hidden"]
    assert props[ids.OVERVIEW_SECTION]["hidden"] and props[ids.ENGAGEMENT_SECTION]["hidden"]
    assert props[ids.SHOW_SECTION]["hidden"]
    bars = props[ids.graph("top-shows")]["figure"]["data"][0]
    assert [list(p) for p in zip(bars["y"], bars["x"], strict=True)] == HAND_TOP["plays"]
    href = props[ids.csv_link("top-shows")]["href"]
    assert href == "/data/toplist/?num=20&group=shows&format=csv" and not props[ids.csv_link("top-shows")]["hidden"]
    csv = client.get(href)
    assert csv.status_code == 200 and csv.get_data(as_text=True).splitlines()[1] == "Girls,6"
    # The tabs: the series tab is the current one, every tab keeps the view's query.
    nav = layout_props(client, "http://localhost/series?market=NO")
    assert nav[ids.NAV_SERIES]["aria-current"] == "page" and nav[ids.NAV_SERIES]["href"] == "/series?market=NO"
    assert nav[ids.NAV_ENGAGEMENT]["href"] == "/engagement?market=NO" and "aria-current" not in nav[ids.NAV_OVERVIEW]


def test_a_show_page_draws_its_table_and_charts(client: Any) -> None:
    props = layout_props(client, "http://localhost/show/Girls?start=2024-01-01")
    assert props[ids.PAGE]["data"] == layout.SHOW_PAGE and props[ids.SHOW_NAME]["data"] == "Girls"
    assert not props[ids.SHOW_SECTION]["hidden"] and props[ids.SERIES_SECTION]["hidden"]
    assert props[ids.NAV_SERIES]["aria-current"] == "page"  # a show's page is under the series tab
    episodes = props[ids.graph("show-episodes")]["figure"]["data"]
    assert [t["y"] for t in episodes] == [[3, 1], [1], [1]]
    dropoff = props[ids.graph("show-dropoff")]["figure"]["data"]
    assert [t["y"] for t in dropoff] == [[100.0, 33.3], [100.0], [100.0]]
    grid = props[ids.graph("show-grid")]["figure"]["data"]
    assert [(t["name"], t["x"], t["y"]) for t in grid] == [("Season 1", [1, 2], [2, 1]), ("Season 2", [1], [1]),
                                                           ("No season", [1], [1])]
    rows = texts(props[ids.SHOW_TABLE]["children"])
    assert rows[:2] == ["Per episode", "Season"]
    assert ["Season 1", "S1E2", "Bad Friend, Part 2", "1", "1", "30", "100.0", "33.3"] == rows[
        rows.index("S1E2") - 1: rows.index("S1E2") + 7]
    for key in series_page.SHOW_CHART_KEYS:
        href = props[ids.csv_link(key)]["href"]
        response = client.get(href)
        assert response.status_code == 200 and response.mimetype == "text/csv", href
    grid_csv = client.get(props[ids.csv_link("show-grid")]["href"]).get_data(as_text=True).splitlines()
    assert grid_csv[0] == "season,episodes_watched,viewers" and grid_csv[1] == "1,1,2"
    assert len(grid_csv) == 1 + len(HAND_GIRLS["grid"])


def test_an_unknown_show_page_says_so(client: Any) -> None:
    props = layout_props(client, "http://localhost/show/No%20such%20show")
    figure = props[ids.graph("show-dropoff")]["figure"]
    assert "Unknown show" in figure["layout"]["annotations"][0]["text"]
    assert texts(props[ids.SHOW_TABLE]["children"]) == ["No plays of this show in the selection."]
    assert props[ids.csv_link("show-grid")]["hidden"] is True


def test_the_callbacks_follow_the_filters(client: Any) -> None:
    filters = {"filters": ["2024-01-02", "2024-01-31", "", [], []], "theme": "dark"}
    body = {
        "output": f"..{ids.graph('top-shows')}.figure...{ids.graph('top-shows')}.config..."
                  f"{ids.summary('top-shows')}.children...{ids.csv_link('top-shows')}.href..."
                  f"{ids.csv_link('top-shows')}.hidden..",
        "outputs": [{"id": ids.graph("top-shows"), "property": "figure"},
                    {"id": ids.graph("top-shows"), "property": "config"},
                    {"id": ids.summary("top-shows"), "property": "children"},
                    {"id": ids.csv_link("top-shows"), "property": "href"},
                    {"id": ids.csv_link("top-shows"), "property": "hidden"}],
        "inputs": [{"id": ids.SERIES_SELECTION, "property": "data", "value": filters}],
        "state": [{"id": ids.PAGE, "property": "data", "value": "series"}],
        "changedPropIds": [f"{ids.SERIES_SELECTION}.data"],
    }
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    out = response.get_json()["response"]
    bars = out[ids.graph("top-shows")]["figure"]["data"][0]
    # 2-31 January: Girls 2 (events 3, 4), Skam 2, Solan 2; Abraham is on 1 January.
    assert list(zip(bars["y"], bars["x"], strict=True)) == [
        ("Girls", 2), ("Skam", 2), ("Solan, Ludvig og Gurin med reverompa", 2)]
    assert out[ids.csv_link("top-shows")]["href"].startswith("/data/toplist/?num=20&group=shows&start=2024-01-02")
    # On another page the card is not drawn.
    body["state"][0]["value"] = "overview"
    assert client.post("/_dash-update-component", json=body).status_code == 204


def test_the_show_callbacks_refuse_a_crafted_name(client: Any) -> None:
    key = "show-grid"
    body = {
        "output": f"..{ids.graph(key)}.figure...{ids.graph(key)}.config...{ids.summary(key)}.children..."
                  f"{ids.csv_link(key)}.href...{ids.csv_link(key)}.hidden..",
        "outputs": [{"id": ids.graph(key), "property": "figure"}, {"id": ids.graph(key), "property": "config"},
                    {"id": ids.summary(key), "property": "children"}, {"id": ids.csv_link(key), "property": "href"},
                    {"id": ids.csv_link(key), "property": "hidden"}],
        "inputs": [{"id": ids.SHOW_SELECTION, "property": "data",
                    "value": {"filters": [None, None, "", [], []], "theme": "light"}}],
        "state": [{"id": ids.SHOW_NAME, "property": "data", "value": "Girls"},
                  {"id": ids.PAGE, "property": "data", "value": "show"}],
        "changedPropIds": [f"{ids.SHOW_SELECTION}.data"],
    }
    good = client.post("/_dash-update-component", json=body)
    assert good.status_code == 200
    assert good.get_json()["response"][ids.graph(key)]["figure"]["data"][0]["y"] == [2, 1]
    for crafted in (None, 5, "", "x" * 500, "a\x00b"):
        body["state"][0]["value"] = crafted
        assert client.post("/_dash-update-component", json=body).status_code == 204, crafted


def test_the_series_cards_are_declared() -> None:
    # The top shows, then one card per binge card (moviedash.binge_cards), in their order.
    keys = ["top-shows", "binge-sessions", "binge-share", "binge-shows"]
    assert [c.key for c in CARDS] == keys and series_page.CARD_KEYS == tuple(keys)
    assert [c.key for c in CARDS if c.opens_shows] == ["top-shows", "binge-shows"]
    assert series_page.show_name("/show/a%2Fb") == "a/b" and series_page.show_path("a/b") == "/show/a%2Fb"
    assert series_page.show_name("/show/") is None and series_page.show_name("/series") is None
    assert layout.page_of("/show/Girls") == "show" and layout.page_of("/series") == "series"
