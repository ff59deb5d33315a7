"""The dashboard's "About this data" panel: the settings in force and what they act on (both backends)."""
from __future__ import annotations

from typing import Any

import pytest

from moviedash import create_app, dataquality
from moviedash import settings as data_settings
from moviedash.dashboard import ids
from tests.helpers import Dashboard, event

#: Hand-worked: 4 events, 1 play above 100 % (capped), user "x" with 2 plays.
EVENTS = [
    event("2013-01-10 10:00:00", "a", viewpercentage=104.0),
    event("2013-01-11 10:00:00", "x", viewpercentage=50.0),
    event("2013-01-12 10:00:00", "x", viewpercentage=100.0),
    event("2013-01-13 10:00:00", "b"),
]


@pytest.fixture
def db(make_db: Any) -> Any:
    return make_db(EVENTS)


def props_by_id(node: Any, found: dict[str, Any]) -> dict[str, Any]:
    if isinstance(node, list):
        for child in node:
            props_by_id(child, found)
    elif isinstance(node, dict) and "props" in node:
        if "id" in node["props"]:
            found[node["props"]["id"]] = node["props"]
        props_by_id(node["props"].get("children"), found)
    return found


def lines(children: Any) -> list[str]:
    return [item["props"]["children"] for item in children]


def test_the_engagement_page_draws_the_panel_and_the_overview_leaves_it_empty(db: Any) -> None:
    client = create_app(db=db).server.test_client()
    client.get("/_dash-dependencies")
    drawn = props_by_id(client.get("/_dash-layout", headers={"Referer": "http://localhost/engagement"}).get_json(), {})
    shown = lines(drawn[ids.ABOUT_BODY]["children"])
    assert any(line.startswith("exclude_users = none (default)") for line in shown)
    assert ("4 events in the database; 0 anonymous plays (of excluded users); 1 play with viewpercentage "
            "above 100, capped at 100 for completion.") in shown
    overview = props_by_id(client.get("/_dash-layout", headers={"Referer": "http://localhost/"}).get_json(), {})
    assert overview[ids.ABOUT_BODY]["children"] == []  # not computed for an overview visit


def test_the_panel_follows_the_settings(db: Any) -> None:
    dataquality.change(db, "exclude_users", data_settings.parse("exclude_users", "x"))
    dash = Dashboard(create_app(db=db))
    selection = {"filters": [None, None, "", [], ["SE"]]}
    shown = lines(dash.outputs("about-data-body.children", engagement_filters__data=selection)[ids.ABOUT_BODY]
                  ["children"])
    # The filters do not change it: the panel describes the whole database.
    assert any(line.startswith("exclude_users = x (default none)") for line in shown)
    assert any(line.startswith("4 events in the database; 2 anonymous plays") for line in shown)
    status, _body = dash.post("about-data-body.children", engagement_filters__data=None)
    assert status == 204  # no selection yet: nothing to draw
