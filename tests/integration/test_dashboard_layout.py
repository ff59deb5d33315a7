"""The dashboard's first layout shows the address the browser opened.

Dash fetches ``/_dash-layout`` from the page's script, so the request's
``Referer`` is the page's address: the controls start at its view, and the
charts' first callbacks need not wait for the restore callback's round trip.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from moviedash import create_app
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
    assert props["url-query"]["data"] == {"query": search}
    assert props["notice"].get("children") is None


def test_parameters_not_understood_are_named_and_left_at_their_defaults(client: Any) -> None:
    search = "?top=500&rank=bogus&device=Nokia&users=weekly&colour=red&start=2012-01-01"
    props = layout(client, PAGE + search)
    assert controls(props) == {**DEFAULT, "users": "weekly"}
    notice = str(props["notice"]["children"])
    assert "Part of this link was not understood" in notice
    for name in ("colour", "top", "rank", "device"):
        assert name in notice
    assert props["url-query"]["data"] == {"query": search}


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
    assert props["url-query"]["data"] == {"query": ""}
