"""The engagement page's server side: its first layout, callbacks, key figures and address (both backends)."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from moviedash import create_app, engagement, pipeline
from moviedash.dashboard import engagement_page, ids
from moviedash.params import Filters
from moviedash.store import connect_readonly
from tests.helpers import Dashboard, event

#: Hand-worked: completion rate (capped completion >= 90 %) and poor quality (errorperception > 7.0).
EVENTS = [
    # January: 4 plays with a completion, 2 completed (90.0 exactly, and 104 capped to 100) -> 50.0 %;
    # 3 with a quality score, 1 poor (7.5; 7.0 exactly is not poor) -> 33.3 %.
    event("2013-01-10 10:00:00", "a", title="Argo", viewpercentage=90.0, errorperception=7.0),
    event("2013-01-11 10:00:00", "b", title="Argo", viewpercentage=104.0, errorperception=7.5),
    event("2013-01-12 10:00:00", "c", title="Argo", viewpercentage=89.99, errorperception=2.0),
    event("2013-01-13 10:00:00", "d", title="Skyfall", viewpercentage=10.0),
    event("2013-01-14 10:00:00", "e", title="Skyfall", market="SE"),
    # February (the previous period of 1-28 Feb is 4-31 Jan): 2 plays, 1 completed -> 50.0 %; 1 poor of 1.
    event("2013-02-10 10:00:00", "a", title="Argo", viewpercentage=95.0, errorperception=9.0, runningtime=100),
    event("2013-02-11 10:00:00", "b", title="Skyfall", viewpercentage=20.0, runningtime=100),
]
PAGE = "http://localhost/engagement"


@pytest.fixture
def db(make_db: Any) -> Any:
    return make_db(EVENTS)


def components(node: Any) -> Any:
    if isinstance(node, list):
        for child in node:
            yield from components(child)
    elif isinstance(node, dict) and "props" in node:
        yield node
        yield from components(node["props"].get("children"))


def layout_props(client: Any, referrer: str) -> dict[str, dict[str, Any]]:
    response = client.get("/_dash-layout", headers={"Referer": referrer})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return {c["props"]["id"]: c["props"] for c in components(response.get_json()) if "id" in c["props"]}


def test_the_key_figures_are_hand_worked(db: Any) -> None:
    conn = connect_readonly(db)
    try:
        january = engagement.kpis(conn, Filters(start=dt.date(2013, 1, 1), end=dt.date(2013, 1, 31)))
        assert [(k.value, k.change) for k in january] == [("50.0 %", "—"), ("33.3 %", "—")]
        february = engagement.kpis(conn, Filters(start=dt.date(2013, 2, 1), end=dt.date(2013, 2, 28)))
        # Previous 28 days: 4-31 January (the plays of the 10th-14th).
        assert [(k.value, k.change, k.direction) for k in february] == [
            ("50.0 %", "+0.0 pp", "flat"), ("100.0 %", "+66.7 pp", "up")]
        assert february[0].comparison == "vs previous 28 days"
        nothing = engagement.kpis(conn, Filters(market=("SE",)))
        assert [(k.value, k.change) for k in nothing] == [("—", "—"), ("—", "—")]
    finally:
        conn.close()


def test_the_page_is_served_behind_its_own_address(db: Any) -> None:
    client = create_app(db=db).server.test_client()
    page = client.get("/engagement?market=NO")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    # The static first paint is the engagement page's, its tab marked current.
    assert 'aria-current="page"' in text and "Where people stop" in text
    assert client.get("/engagement/").status_code == 404


def test_the_first_layout_draws_the_page_it_was_asked_for(db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    client = create_app(db=db).server.test_client()
    client.get("/_dash-dependencies")  # Dash's set-up on its first request draws the layout once more
    drawn: list[str] = []
    real = pipeline.engagement_figure

    def counting(conn: Any, chart: str, *args: Any, **kwargs: Any) -> Any:
        drawn.append(chart)
        return real(conn, chart, *args, **kwargs)

    monkeypatch.setattr(pipeline, "engagement_figure", counting)
    overview = layout_props(client, "http://localhost/?device=iPad")
    assert drawn == []  # the overview computes nothing of the hidden page
    assert overview[ids.ENGAGEMENT_SECTION]["hidden"] is True and not overview[ids.OVERVIEW_SECTION]["hidden"]
    assert overview[ids.PAGE]["data"] == "overview"

    props = layout_props(client, PAGE + "?start=2013-01-10&end=2013-01-31")
    assert sorted(drawn) == sorted(engagement_page.chart_request(c, {**engagement_page.DEFAULTS,
                                                                     ids.STOPS_TITLE: "Argo"})[0]
                                   for c in engagement_page.CHART_KEYS)
    assert props[ids.PAGE]["data"] == "engagement" and props[ids.OVERVIEW_SECTION]["hidden"] is True
    filters = Filters(start=dt.date(2013, 1, 10), end=dt.date(2013, 1, 31))
    conn = connect_readonly(db)
    try:
        _figure, data = real(conn, "completion_rate", filters, "weekly")
    finally:
        conn.close()
    assert props[ids.graph("completion")]["figure"]["data"][0]["y"] == list(data.frame["values"])
    assert props[ids.kpi_value("completion-rate")]["children"] == "50.0 %"
    assert props[ids.STOPS_TITLE]["value"] == "Argo"  # the most played title of the selection
    href = props[ids.csv_link("completion")]["href"]
    # The start is the data's first day, so the view has none (as the overview's controls).
    assert href == "/data/completion_rate/?resolution=weekly&end=2013-01-31&format=csv"
    csv = client.get(href)
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    nav = props[ids.NAV_OVERVIEW]["href"]
    assert nav.startswith("/?") and "end=2013-01-31" in nav


def selection_data(**filters: Any) -> dict[str, Any]:
    values = [filters.get("start"), filters.get("end"), filters.get("sessiontype", ""),
              filters.get("device", []), filters.get("market", [])]
    return {"filters": values, "theme": "light"}


def test_a_charts_own_control_draws_it_before_any_filter_change(db: Any) -> None:
    """The page's selection store is written only when a filter or the theme changes: until then a chart
    reads the filters and the theme as state."""
    dash = Dashboard(create_app(db=db))
    controls = {f"{c.replace('-', '_')}__value": v for c, v in engagement_page.DEFAULTS.items()}
    controls["breakdown_by__value"] = "market"
    stored = dash.outputs("breakdown-graph.figure", page__data="engagement",
                          engagement_selection__data=selection_data(end="2013-01-31"), **controls)
    unstored = dash.outputs("breakdown-graph.figure", page__data="engagement", engagement_selection__data=None,
                            date_range__start_date=None, date_range__end_date="2013-01-31", **controls)
    assert unstored == stored
    assert stored != dash.outputs("breakdown-graph.figure", page__data="engagement",
                                  engagement_selection__data=selection_data(), **controls)


def test_the_callbacks_draw_only_the_shown_page(db: Any) -> None:
    dash = Dashboard(create_app(db=db))
    controls = {f"{c.replace('-', '_')}__value": v for c, v in engagement_page.DEFAULTS.items()}
    status, _body = dash.post("..completion-graph.figure", page__data="overview",
                              engagement_selection__data=selection_data(), **controls)
    assert status == 204  # PreventUpdate: the overview does not draw the hidden page
    out = dash.outputs("..completion-graph.figure", page__data="engagement",
                       engagement_selection__data=selection_data(market=["SE"]), **controls)
    figure = out[ids.graph("completion")]["figure"]
    assert figure["data"] == []  # no play in SE has a completion
    assert out[ids.csv_link("completion")]["hidden"] is True
    out = dash.outputs("breakdown-graph.figure", page__data="engagement",
                       engagement_selection__data=selection_data(), **{**controls, "breakdown_by__value": "market"})
    bars = out[ids.graph("breakdown")]["figure"]["data"][0]
    # Hand-worked: 3 of the 6 Norwegian plays with a completion reach 90 %; SE's one play has none.
    assert (bars["x"], bars["y"]) == (["NO", "SE"], [50.0, None])
    bad = dash.outputs("breakdown-graph.figure", page__data="engagement",
                       engagement_selection__data=selection_data(), **{**controls, "breakdown_by__value": "title"})
    assert "by must be one of" in json.dumps(bad[ids.graph("breakdown")]["figure"])
    # 1-11 February (the data's last day); the previous 11 days, 21-31 January, hold no play.
    kpis = dash.outputs("kpi-completion-rate-value.children", engagement_filters__data=selection_data(
        start="2013-02-01", end="2013-02-11"))
    assert kpis[ids.kpi_value("poor-quality")]["children"] == "100.0 %"
    assert kpis[ids.kpi_delta("poor-quality")]["children"] == "—"
    # The key figures follow the filters store alone (not the charts' selection, which holds the theme too).
    assert dash.post("kpi-completion-rate-value.children", engagement_selection__data=selection_data()) == (204, "")
