"""The audience page's server side: its address, first layout, callbacks and CSV links (both backends)."""
from __future__ import annotations

import json
from typing import Any

import pytest

from moviedash import create_app, pipeline
from moviedash.dashboard import audience_page, ids
from tests.helpers import Dashboard
from tests.integration.test_audience import HAND
from tests.integration.test_engagement_page import layout_props, selection_data

PAGE = "http://localhost/audience"
#: The page's controls at their first values, as the callbacks' keyword arguments.
CONTROLS = {f"{c.replace('-', '_')}__value": v for c, v in audience_page.DEFAULTS.items()}


@pytest.fixture
def db(make_db: Any) -> Any:
    return make_db(HAND)


def test_the_page_is_served_behind_its_own_address(db: Any) -> None:
    client = create_app(db=db).server.test_client()
    page = client.get("/audience?device=TV")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    # The static first paint is the audience page's, its tab marked current, beside the other two.
    assert 'aria-current="page"' in text and "Cohort retention" in text
    assert 'href="/engagement?' in text and ">Audience<" in text
    assert client.get("/audience/").status_code == 404


def test_the_first_layout_draws_the_page_it_was_asked_for(db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    client = create_app(db=db).server.test_client()
    client.get("/_dash-dependencies")
    drawn: list[str] = []
    real = pipeline.audience_figure

    def counting(conn: Any, chart: str, *args: Any, **kwargs: Any) -> Any:
        drawn.append(chart)
        return real(conn, chart, *args, **kwargs)

    monkeypatch.setattr(pipeline, "audience_figure", counting)
    overview = layout_props(client, "http://localhost/?device=TV")
    assert drawn == []  # the overview computes nothing of the hidden page
    assert overview[ids.AUDIENCE_SECTION]["hidden"] is True
    props = layout_props(client, PAGE + "?end=2024-01-31")
    assert drawn == ["audience", "cohorts"]
    assert props[ids.PAGE]["data"] == "audience" and props[ids.OVERVIEW_SECTION]["hidden"] is True
    assert props[ids.ENGAGEMENT_SECTION]["hidden"] is True and not props[ids.AUDIENCE_SECTION]["hidden"]
    # Weekly to 31 January: weeks 01-01 (2 new), 01-08 (1 new, 2 returning), then empty weeks.
    returning, new = props[ids.graph("audience")]["figure"]["data"]
    assert new["y"] == [2, 1, 0, 0, 0] and returning["y"] == [0, 2, 0, 0, 0]
    # Monthly cohorts to 31 January: January {u1, u2, u3}, all active.
    assert props[ids.graph("cohorts")]["figure"]["data"][0]["z"] == [[100.0]]
    assert props[ids.summary("cohorts")]["children"].startswith("Cohort retention by month, 1 cohort")
    href = props[ids.csv_link("audience")]["href"]
    assert href == "/data/audience/?resolution=weekly&end=2024-01-31&format=csv"
    csv = client.get(href)
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert props[ids.csv_link("cohorts")]["href"] == "/data/cohorts/?period=month&end=2024-01-31&format=csv"
    nav = props[ids.NAV_AUDIENCE]["href"]
    assert nav.startswith("/audience?") and "end=2024-01-31" in nav


def test_the_callbacks_draw_only_the_shown_page(db: Any) -> None:
    dash = Dashboard(create_app(db=db))
    status, _body = dash.post("..audience-graph.figure", page__data="overview",
                              audience_selection__data=selection_data(), **CONTROLS)
    assert status == 204  # PreventUpdate: another page does not draw the hidden one
    out = dash.outputs("..audience-graph.figure", page__data="audience",
                       audience_selection__data=selection_data(), **{**CONTROLS, "audience_resolution_select__value":
                                                                     "monthly"})
    returning, new = out[ids.graph("audience")]["figure"]["data"]
    assert new["y"] == [3, 1] and returning["y"] == [0, 1]  # the hand-worked months
    assert out[ids.csv_link("audience")]["href"] == "/data/audience/?resolution=monthly&format=csv"
    # The cohorts by week, on TV only: the own control read as it is, the filters from the store.
    out = dash.outputs("..cohorts-graph.figure", page__data="audience",
                       audience_selection__data=selection_data(device=["TV"]),
                       **{**CONTROLS, "cohort_period_select__value": "week"})
    cells = out[ids.graph("cohorts")]["figure"]["data"][0]
    assert cells["z"][0] == [50.0, 0.0, 0.0, 0.0, 0.0, 0.0]  # u2 of {u1, u2} in week 01-01 on TV
    # A value the controls cannot offer is the chart's message.
    bad = dash.outputs("..cohorts-graph.figure", page__data="audience", audience_selection__data=selection_data(),
                       **{**CONTROLS, "cohort_period_select__value": "year"})
    assert "period must be one of week, month" in json.dumps(bad[ids.graph("cohorts")]["figure"])
    assert bad[ids.csv_link("cohorts")]["hidden"] is True
    # An empty selection: nothing to export.
    empty = dash.outputs("..audience-graph.figure", page__data="audience",
                         audience_selection__data=selection_data(start="2024-01-20", end="2024-01-25"), **CONTROLS)
    assert empty[ids.csv_link("audience")]["hidden"] is True
