"""The dashboard's server callbacks through ``/_dash-update-component`` (Flask test client).

For the same selection a chart's numbers must equal the JSON route's, and a
crafted request with values outside the options must be answered cleanly.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

import pytest

from moviedash import analysis, charts, create_app, metrics
from moviedash.dashboard import audience_page, engagement_page, ids, selection, series_page
from moviedash.errors import MoviedashError
from moviedash.params import Filters
from moviedash.store import connect_readonly
from moviedash.viewstate import ViewState
from tests.helpers import DEFAULTS, FIRST, FORMULA_TITLES, LAST, MARKUP_TITLES, Dashboard, event

EVENTS = [
    event("2013-01-06 23:59:59", "a", minutes=10, title="Skyfall", device="iPad"),
    event("2013-01-07 00:00:00", "b", minutes=20, title="Skyfall"),
    event("2013-01-07 10:00:00", "b", minutes=30, title="Argo", sessiontype="SERIES", market="SE"),
    event("2013-01-21 20:15:00", "c", minutes=40, title=""),
    event("2013-02-11 21:00:00", "d", minutes=1500, title="Argo", device="iPad", market="SE"),
    event("2013-02-12 21:30:00", "a", minutes=5, title="Up", device="TV"),
    event("2013-03-01 10:00:00", "a", minutes=50, title="Argo"),
]
@pytest.fixture
def db(make_db):
    return make_db(EVENTS)


@pytest.fixture
def dash(db) -> Dashboard:
    return Dashboard(create_app(db=db))


@pytest.fixture
def conn(db, connect):
    return connect(db)


def trace_xy(figure: dict[str, Any]) -> list[dict[str, Any]]:
    (trace,) = figure["data"]
    return [{"date": x, "values": y} for x, y in zip(trace["x"], trace["y"], strict=False)]


def message(figure: dict[str, Any]) -> str:
    assert figure["data"] == []
    (annotation,) = figure["layout"]["annotations"]
    return annotation["text"]


# --------------------------------------------------------------------------- #
# Same numbers as the JSON routes.
# --------------------------------------------------------------------------- #

SELECTIONS = [
    # (controls, the same selection as a route query string)
    ({}, ""),
    ({"date_range__start_date": "2013-01-07", "date_range__end_date": "2013-02-11"}, "start=2013-01-07&end=2013-02-11"),
    ({"device__value": ["iPad"]}, "device=iPad"),
    ({"market__value": ["SE", "NO"], "sessiontype__value": "MOVIE"}, "market=NO&market=SE&sessiontype=MOVIE"),
    (
        {"device__value": ["Computer", "TV"], "date_range__start_date": "2013-02-01"},
        "device=Computer&device=TV&start=2013-02-01",
    ),
]


def controls_of(controls: dict[str, Any]) -> dict[str, Any]:
    return {name.replace("date_range", "date-range"): value for name, value in controls.items()}


@pytest.mark.parametrize(("chart", "metric"), [(m.key, m.name) for m in metrics.MEASURES])
@pytest.mark.parametrize("resolution", ["daily", "weekly", "monthly"])
@pytest.mark.parametrize(("controls", "query"), SELECTIONS)
def test_series_charts_equal_the_json_routes(
    dash: Dashboard, chart: str, metric: str, resolution: str, controls: dict[str, Any], query: str
) -> None:
    figure = dash.figure(chart, **{f"{chart}_resolution__value": resolution}, **controls_of(controls))
    expected = dash.route(f"/data/{metric}/?resolution={resolution}&{query}")
    assert trace_xy(figure) == expected
    assert expected  # every selection above has data


@pytest.mark.parametrize("rank", ["plays", "minutes", "viewers"])
@pytest.mark.parametrize("num", [1, 2, 50])
@pytest.mark.parametrize(("controls", "query"), SELECTIONS)
def test_top_titles_equal_the_json_route(
    dash: Dashboard, rank: str, num: int, controls: dict[str, Any], query: str
) -> None:
    outputs = dash.outputs("top-graph.figure", top_n__value=num, rank__value=rank, **controls_of(controls))
    (trace,) = outputs["top-graph"]["figure"]["data"]
    shown = [{"title": t, "values": v} for t, v in zip(trace["y"], trace["x"], strict=False)]
    assert shown == dash.route(f"/data/toplist/?num={num}&rank={rank}&{query}")
    assert outputs["top-graph"]["config"]["toImageButtonOptions"]["filename"].startswith(f"toplist_{rank}_top{num}")
    assert outputs["top-graph"]["style"] == {"height": f"{charts.toplist_height(len(shown))}px"}


@pytest.mark.parametrize(("controls", "query"), SELECTIONS)
def test_heatmap_and_kpis_equal_the_analysis(dash: Dashboard, conn, controls: dict[str, Any], query: str) -> None:
    filters = selection.filters_from_controls(
        conn,
        *[
            controls_of(controls).get(k, DEFAULTS[k.replace("__", ".")])
            for k in (
                "date-range__start_date",
                "date-range__end_date",
                "sessiontype__value",
                "device__value",
                "market__value",
            )
        ],
    )
    (trace,) = dash.figure("heatmap", **controls_of(controls))["data"]
    assert trace["z"] == analysis.heatmap(conn, filters).to_numpy().tolist()

    response = dash.outputs("kpi-viewers-value", **controls_of(controls))
    comparison = analysis.compare_previous(conn, filters)
    for kpi in charts.kpis(comparison.current, comparison.previous, comparison.days):
        assert response[f"kpi-{kpi.name}-value"]["children"] == kpi.value
        delta = response[f"kpi-{kpi.name}-delta"]
        assert delta["children"][0]["props"]["children"] == kpi.change
        assert delta["className"] == f"kpi-delta kpi-{kpi.direction}"


def test_the_whole_date_range_means_no_date_filter(dash: Dashboard) -> None:
    # iPad viewing starts on 6 Jan and ends on 11 Feb: the route zero-fills that
    # stretch only, and so does the chart over the whole range.
    figure = dash.figure("users", users_resolution__value="weekly", device__value=["iPad"])
    assert trace_xy(figure) == dash.route("/data/unique_users/?resolution=weekly&device=iPad")
    assert figure["data"][0]["x"][-1] == "2013-02-11"


def test_kpis_compare_with_the_previous_period_of_equal_length(dash: Dashboard) -> None:
    # 11-12 Feb (2 days) against 9-10 Feb: no events then, so no comparison.
    response = dash.outputs("kpi-viewers-value", date_range__start_date="2013-02-11", date_range__end_date="2013-02-12")
    assert response["kpi-plays-value"]["children"] == "2"
    assert [part["props"]["children"] for part in response["kpi-plays-delta"]["children"]] == [
        "—",
        " vs previous 2 days",
    ]
    # 7 Jan - 1 Mar against 12 Nov - 6 Jan: one play (6 Jan) before, six now.
    response = dash.outputs("kpi-viewers-value", date_range__start_date="2013-01-07")
    assert response["kpi-plays-value"]["children"] == "6"
    assert response["kpi-plays-delta"]["children"][0]["props"]["children"] == "+500%"
    assert response["kpi-plays-delta"]["className"] == "kpi-delta kpi-up"


@pytest.mark.parametrize(
    ("chart", "controls", "route", "filename"),
    [
        (
            "users",
            {"users_resolution__value": "weekly"},
            "/data/unique_users/?resolution=weekly&format=csv",
            "unique_users_weekly.csv",
        ),
        (
            "minutes",
            {"minutes_resolution__value": "monthly", "device__value": ["iPad"]},
            "/data/minutes_watched/?resolution=monthly&device=iPad&format=csv",
            "minutes_watched_monthly.csv",
        ),
        (
            "top",
            {"top_n__value": 2, "rank__value": "minutes", "date-range__start_date": "2013-01-07"},
            "/data/toplist/?num=2&rank=minutes&start=2013-01-07&format=csv",
            "toplist_minutes_top2_2013-01-07_end.csv",
        ),
    ],
)
def test_csv_downloads_are_the_routes_csv(
    dash: Dashboard, chart: str, controls: dict[str, Any], route: str, filename: str
) -> None:
    data = dash.outputs(f"{chart}-download.data", **controls)[f"{chart}-download"]["data"]
    assert data["content"] == dash.route(route)
    assert (data["filename"], data["type"]) == (filename, "text/csv")


def test_heatmap_csv_download(dash: Dashboard, conn) -> None:
    data = dash.outputs("heatmap-download.data", market__value=["SE"])["heatmap-download"]["data"]
    assert data["content"] == analysis.heatmap(conn, Filters(market=("SE",))).to_csv()
    assert data["filename"] == "heatmap.csv"


def test_chart_config_names_exported_images_after_the_view(dash: Dashboard) -> None:
    outputs = dash.outputs(
        "users-graph.figure",
        users_resolution__value="monthly",
        date_range__start_date="2013-01-07",
        date_range__end_date="2013-02-12",
    )
    options = outputs["users-graph"]["config"]["toImageButtonOptions"]
    assert options == {"format": "png", "filename": "unique_users_monthly_2013-01-07_2013-02-12", "scale": 2}


def test_an_empty_selection_shows_a_message_in_every_chart(dash: Dashboard) -> None:
    empty = {"device__value": ["TV"], "market__value": ["SE"]}
    for chart in ids.CHARTS:
        assert message(dash.figure(chart, **empty)) == charts.EMPTY_MESSAGE
    response = dash.outputs("kpi-viewers-value", **empty)
    assert [response[f"kpi-{n}-value"]["children"] for n in ("viewers", "plays", "hours", "minutes-per-viewer")] == [
        "0",
        "0",
        "0.0",
        "—",
    ]


def test_the_theme_selects_the_plotly_template(dash: Dashboard) -> None:
    for theme in ("light", "dark"):
        figure = dash.figure("heatmap", chart_theme__data=theme)
        assert figure["layout"]["template"]["layout"]["paper_bgcolor"] == charts.palette(theme).paper
    # An unknown theme (crafted) falls back to light.
    assert dash.figure("users", chart_theme__data="neon")["layout"]["template"]["layout"]["paper_bgcolor"] == "#ffffff"


def test_the_overview_reads_its_selection_stores(dash: Dashboard) -> None:
    """The charts read the overview's selection (filters and theme), or the filters and theme as state while it
    is empty (a chart's own control changed first); the key figures read the overview's filters store."""
    sweden = [FIRST, LAST, "", [], ["SE"]]
    wanted = dash.figure("users", market__value=["SE"], chart_theme__data="dark")
    assert wanted != dash.figure("users")
    assert dash.figure("users", overview_selection__data={"filters": sweden, "theme": "dark"}) == wanted
    assert dash.figure("users", overview_selection__data=None, market__value=["SE"], chart_theme__data="dark") == wanted
    assert dash.figure("top", overview_selection__data=None, market__value=["SE"]) == dash.figure(
        "top", market__value=["SE"])
    kpis = dash.outputs("kpi-viewers-value", overview_filters__data={"filters": sweden})
    assert kpis == dash.outputs("kpi-viewers-value", market__value=["SE"]) != dash.outputs("kpi-viewers-value")
    # The heatmap and the key figures have no control of their own: their store is never empty when they run.
    assert dash.post("heatmap-graph.figure", overview_selection__data=None) == (204, "")
    assert dash.post("kpi-viewers-value", overview_filters__data=None) == (204, "")
    for crafted in ["light", {"filters": sweden[:1]}, {"filters": None}, sweden]:
        assert dash.post("users-graph.figure", overview_selection__data=crafted) == (204, "")
        assert dash.post("kpi-viewers-value", overview_filters__data=crafted) == (204, "")


# --------------------------------------------------------------------------- #
# Crafted requests.
# --------------------------------------------------------------------------- #

BAD_FILTERS = [
    ({"device__value": ["Nokia"]}, "device 'Nokia' is not in the data; known values"),
    ({"device__value": "iPad"}, "device must be a list of values"),
    ({"market__value": [""]}, "market values must be non-empty strings"),
    ({"market__value": [{"$ne": 1}]}, "market values must be non-empty strings"),
    ({"market__value": ["NO"] * 101}, "market may be given at most 100 times"),
    ({"sessiontype__value": "DOCUMENTARY"}, "sessiontype 'DOCUMENTARY' is not in the data; known values"),
    ({"sessiontype__value": ["MOVIE"]}, "sessiontype must be a single value"),
    ({"date-range__start_date": "2013-1-7"}, "start: '2013-1-7' is not a date (expected YYYY-MM-DD, e.g. 2024-02-29)"),
    (
        {"date-range__start_date": "2013-02-30"},
        "start: 2013-02-30 is not a real date (expected YYYY-MM-DD, e.g. 2013-02-28)",
    ),
    ({"date-range__start_date": 20130107}, "start must be a date YYYY-MM-DD"),
    ({"date-range__end_date": "2013-03-02"}, "end must be within the data's range 2013-01-06 to 2013-03-01"),
    ({"date-range__start_date": "2013-02-01", "date-range__end_date": "2013-01-31"}, "end must not be before start"),
    ({"device__value": ["iPad'); DROP TABLE movies; --"]}, "is not in the data; known values"),
]


@pytest.mark.parametrize(("controls", "expected"), BAD_FILTERS)
@pytest.mark.parametrize("chart", ids.CHARTS)
def test_charts_answer_crafted_filters_with_a_message(dash: Dashboard, chart: str, controls: dict[str, Any],
                                                      expected: str) -> None:
    status, body = dash.post(f"{chart}-graph.figure", **controls)
    assert status == 200
    assert "Traceback" not in body
    text = message(json.loads(body)["response"][f"{chart}-graph"]["figure"])
    assert text.startswith("Invalid selection: ") and expected in text


@pytest.mark.parametrize(
    ("fragment", "controls", "expected"),
    [
        ("users-graph.figure", {"users_resolution__value": "hourly"}, "users must be one of daily, weekly, monthly"),
        ("minutes-graph.figure", {"minutes_resolution__value": None}, "minutes must be one of"),
        ("top-graph.figure", {"top_n__value": 51}, "top must be an integer from 1 to 50"),
        ("top-graph.figure", {"top_n__value": 2.5}, "top must be an integer from 1 to 50"),
        ("top-graph.figure", {"top_n__value": True}, "top must be an integer from 1 to 50"),
        ("top-graph.figure", {"rank__value": "popularity"}, "rank must be one of plays, minutes, viewers"),
    ],
)
def test_charts_answer_crafted_chart_controls_with_a_message(
    dash: Dashboard, fragment: str, controls: dict[str, Any], expected: str
) -> None:
    status, body = dash.post(fragment, **controls)
    assert status == 200
    chart = fragment.split(".")[0]
    assert expected in message(json.loads(body)["response"][chart]["figure"])


@pytest.mark.parametrize(
    "fragment",
    [
        "kpi-viewers-value",
        "url-query.data",
        "users-download.data",
        "minutes-download.data",
        "top-download.data",
        "heatmap-download.data",
    ],
)
@pytest.mark.parametrize(
    ("controls", "_expected"), BAD_FILTERS[:4] + [({"top_n__value": 0}, ""), ({"rank__value": 1}, "")]
)
def test_other_callbacks_ignore_crafted_values(
    dash: Dashboard, fragment: str, controls: dict[str, Any], _expected: str
) -> None:
    status, body = dash.post(fragment, **controls)
    uses_top_controls = fragment in ("url-query.data", "top-download.data")
    if ("top_n__value" in controls or "rank__value" in controls) and not uses_top_controls:
        assert status == 200  # this callback does not read the top-list controls
    else:
        assert (status, body) == (204, "")


@pytest.mark.parametrize(
    "restore",
    [
        None,
        "?top=5",
        {"search": 5},
        {"search": ["?x"]},
        {"search": "?" + "a=1&" * 500},
        {"search": "?start=9999-99-99&device=%00"},
    ],
)
def test_restoring_from_a_crafted_url_never_fails(dash: Dashboard, restore: Any) -> None:
    status, body = dash.post("notice.children", url_restore__data=restore)
    assert status in (200, 204) and "Traceback" not in body


def test_the_server_does_not_leak_tracebacks_on_unexpected_errors(dash: Dashboard) -> None:
    # A request Dash itself cannot parse: the app's error handler answers with JSON.
    response = dash.client.post("/_dash-update-component", json={"output": "users-graph.figure"})
    assert response.status_code in (400, 500)
    assert "Traceback" not in response.get_data(as_text=True)


# --------------------------------------------------------------------------- #
# URL state callbacks.
# --------------------------------------------------------------------------- #


def test_restore_sets_the_controls_a_url_names(dash: Dashboard) -> None:
    response = dash.outputs(
        "notice.children",
        url_restore__data={"search": "?users=weekly&top=3&rank=viewers&start=2013-01-07&sessiontype=MOVIE&device=iPad"},
    )
    assert {k: v["value"] for k, v in response.items() if "value" in v} == {
        "users-resolution": "weekly",
        "top-n": 3,
        "rank": "viewers",
        "sessiontype": "MOVIE",
        "device": ["iPad"],
    }
    assert response["date-range"] == {"start_date": "2013-01-07"}  # the end stays at the data's last day
    assert response["notice"]["children"] is None


def test_restore_resets_unknown_values_and_says_so(dash: Dashboard) -> None:
    response = dash.outputs(
        "notice.children",
        url_restore__data={"search": "?users=hourly&device=Nokia&device=iPad&start=2012-01-01&end=2099-01-01&x=1"},
        users_resolution__value="weekly",
    )
    assert response["users-resolution"] == {"value": "daily"}
    assert response["device"] == {"value": ["iPad"]}
    assert "date-range" not in response  # clamped to the data: the whole range, as shown
    notice = json.dumps(response["notice"]["children"])
    for name in ("users", "device", "x"):
        assert name in notice


def test_restore_of_an_empty_url_changes_nothing(dash: Dashboard) -> None:
    response = dash.outputs("notice.children", url_restore__data={"search": ""})
    assert response == {"notice": {"children": None}}


def test_write_url_gives_the_canonical_query_and_whether_to_replace(dash: Dashboard) -> None:
    data = dash.outputs(
        "url-query.data",
        users_resolution__value="weekly",
        device__value=["iPad", "Computer"],
        date_range__start_date=FIRST,
        date_range__end_date="2013-02-01",
    )["url-query"]["data"]
    assert data == {"query": "?users=weekly&end=2013-02-01&device=Computer&device=iPad", "replace": False}
    # The address already shows this view (in another spelling): tidy it in place.
    data = dash.outputs("url-query.data", users_resolution__value="weekly", url__search="?device=nope&users=weekly")[
        "url-query"
    ]["data"]
    assert data == {"query": "?users=weekly", "replace": True}


# --------------------------------------------------------------------------- #
# The selection helpers.
# --------------------------------------------------------------------------- #


def test_selection_validates_against_the_data(conn) -> None:
    whole = selection.filters_from_controls(conn, FIRST, LAST, "", [], [])
    assert whole == Filters()
    part = selection.filters_from_controls(conn, "2013-01-07", LAST, "SERIES", ["iPad"], None)
    assert part == Filters(start=dt.date(2013, 1, 7), sessiontype=("SERIES",), device=("iPad",))
    with pytest.raises(MoviedashError) as error:
        selection.filters_from_controls(conn, "2013-01-05", LAST, "", [], [])
    assert error.value.parameter == "start"
    controls = {**dict.fromkeys(metrics.SERIES_KEYS, "daily"), "users": "weekly", "top": 5, "rank": "minutes",
                "group": "shows", "start": FIRST, "end": "2013-02-01", "sessiontype": "MOVIE", "device": [],
                "market": ["NO"]}
    state = selection.state_from_controls(conn, *[controls[name] for name in selection.CONTROL_NAMES])
    assert state == ViewState(users="weekly", top=5, rank="minutes", group="shows", end=dt.date(2013, 2, 1),
                              sessiontype="MOVIE", market=("NO",))
    with pytest.raises(MoviedashError) as bad_group:
        selection.state_from_controls(conn, *[{**controls, "group": "seasons"}[name]
                                              for name in selection.CONTROL_NAMES])
    assert bad_group.value.parameter == "group"
    assert selection.parse_theme("dark") == "dark"
    with pytest.raises(MoviedashError):
        selection.parse_theme("sepia")


def test_resolve_state_fits_a_url_to_the_data(conn) -> None:
    state, dropped = selection.resolve_state(
        conn,
        ViewState(start=dt.date(2012, 1, 1), end=dt.date(2013, 2, 1), sessiontype="OPERA", device=("iPad", "Nokia")),
    )
    assert state == ViewState(end=dt.date(2013, 2, 1), device=("iPad",))
    assert dropped == ("sessiontype", "device")
    state, dropped = selection.resolve_state(conn, ViewState(start=dt.date(2014, 1, 1)))
    assert (state, dropped) == (ViewState(), ("start",))
    span = analysis.span(conn)
    controls = selection.controls_from_state(ViewState(end=dt.date(2013, 2, 1), device=("iPad",)), span)
    assert (controls["start"], controls["end"], controls["device"], controls["sessiontype"]) == (
        FIRST,
        "2013-02-01",
        ["iPad"],
        "",
    )


# --------------------------------------------------------------------------- #
# The page.
# --------------------------------------------------------------------------- #


def layout_json(dash: Dashboard) -> str:
    response = dash.client.get("/_dash-layout")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def find(node: Any, component_id: str) -> dict[str, Any] | None:
    if isinstance(node, dict):
        if node.get("props", {}).get("id") == component_id:
            return node
        for value in node.values():
            found = find(value, component_id)
            if found:
                return found
    elif isinstance(node, list):
        for value in node:
            found = find(value, component_id)
            if found:
                return found
    return None


def test_the_layout_is_built_from_the_data(dash: Dashboard) -> None:
    tree = json.loads(layout_json(dash))
    assert find(tree, "data-span")["props"]["children"] == "6 Jan 2013 – 1 Mar 2013 · 7 events"
    picker = find(tree, "date-range")["props"]
    assert (picker["min_date_allowed"], picker["max_date_allowed"]) == (FIRST, LAST)
    assert picker["updatemode"] == "bothdates"  # one update for a picked range
    assert [o["value"] for o in find(tree, "device")["props"]["options"]] == ["Computer", "TV", "iPad"]
    assert [o["label"] for o in find(tree, "market")["props"]["options"]] == ["Norway (NO)", "Sweden (SE)"]
    assert [o["label"] for o in find(tree, "sessiontype")["props"]["options"]] == ["All", "Movies", "Series"]
    slider = find(tree, "top-n")["props"]
    assert (slider["min"], slider["max"], slider["value"], slider["updatemode"]) == (1, 50, 10, "mouseup")


def test_every_chart_has_a_loading_indicator_a_download_and_a_csv_button(dash: Dashboard) -> None:
    tree = json.loads(layout_json(dash))

    def loadings(node: Any) -> list[dict[str, Any]]:
        if isinstance(node, dict):
            own = [node] if node.get("type") == "Loading" else []
            return own + [x for v in node.values() for x in loadings(v)]
        if isinstance(node, list):
            return [x for v in node for x in loadings(v)]
        return []

    wrapped = {loading["props"]["children"]["props"]["id"] for loading in loadings(tree)}
    # The overview's charts, and the engagement, series, show and audience pages' (their CSV is a link:
    # tests/integration/test_engagement_page.py, test_series_page.py, test_audience_page.py).
    assert wrapped == {ids.graph(chart) for chart in (*ids.CHARTS, *engagement_page.CHART_KEYS,
                                                      *series_page.CARD_KEYS, *series_page.SHOW_CHART_KEYS,
                                                      *audience_page.CHART_KEYS)}
    for chart in ids.CHARTS:
        assert find(tree, f"{chart}-download")["type"] == "Download"
        assert find(tree, f"{chart}-csv")["props"]["aria-label"].endswith("as CSV")


def test_an_empty_database_still_serves_the_page(make_db) -> None:
    dash = Dashboard(create_app(db=make_db([], name="empty.db")))
    assert find(json.loads(layout_json(dash)), "data-span")["props"]["children"] == "The database holds no events yet"
    controls = {"date-range__start_date": None, "date-range__end_date": None}
    for chart in ids.CHARTS:
        assert message(dash.figure(chart, **controls)) == charts.EMPTY_MESSAGE
    response = dash.outputs("kpi-viewers-value", **controls)
    assert response["kpi-plays-value"]["children"] == "0"
    assert dash.outputs("url-query.data", **controls)["url-query"]["data"]["query"] == ""


def test_callbacks_use_a_read_only_connection(db) -> None:
    conn = connect_readonly(db)
    try:
        with pytest.raises(Exception, match="readonly|read-only"):
            conn.execute("DELETE FROM movies")
    finally:
        conn.close()


# --------------------------------------------------------------------------- #
# Exports and charts treat titles as data.
# --------------------------------------------------------------------------- #


@pytest.fixture
def hostile_dash(make_db) -> Dashboard:
    """Every formula-like and markup title watched a different number of times (a stable ranking)."""
    titles = [*FORMULA_TITLES, *MARKUP_TITLES]
    events = [
        event(f"2013-01-{1 + n:02d} 10:00:00", f"u{k}", title=title)
        for n, title in enumerate(titles)
        for k in range(n + 1)
    ]
    return Dashboard(create_app(db=make_db(events)))


def test_csv_exports_neutralise_formula_titles_in_routes_and_downloads(hostile_dash: Dashboard) -> None:
    top = {"top_n__value": 50, "date-range__start_date": "2013-01-01", "date-range__end_date": "2013-01-17"}
    download = hostile_dash.outputs("top-download.data", **top)["top-download"]["data"]["content"]
    route = hostile_dash.route("/data/toplist/?num=50&format=csv")
    assert download == route  # one function writes both
    cells = {row[0]: row[1] for row in csv.reader(io.StringIO(route, newline=""))}
    for title in FORMULA_TITLES:
        assert "'" + title in cells and title not in cells, title
        assert cells["'" + title].isdigit()  # counts stay numbers
    for title in MARKUP_TITLES:  # nothing else changes
        assert title in cells, title
    # The JSON route keeps the titles as they are: only the CSV is for spreadsheets.
    assert {r["title"] for r in hostile_dash.route("/data/toplist/?num=50")} >= set(FORMULA_TITLES)


def test_the_top_chart_shows_markup_titles_literally(hostile_dash: Dashboard) -> None:
    top = {"top_n__value": 50, "date-range__start_date": "2013-01-01", "date-range__end_date": "2013-01-17"}
    for rank in ("plays", "minutes", "viewers"):
        response = hostile_dash.outputs("top-graph.figure", rank__value=rank, **top)["top-graph"]
        trace = response["figure"]["data"][0]
        shown = {row[0] for row in trace["customdata"]}
        ticks = response["figure"]["layout"]["yaxis"]["ticktext"]
        for text in [*shown, *ticks]:
            assert "<" not in text and ">" not in text, text
        decoded = {t.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") for t in shown}
        assert decoded >= set(MARKUP_TITLES)
        assert "%{y}" not in trace["hovertemplate"]
        assert response["config"]["showSendToCloud"] is False and response["config"]["displayModeBar"] == "hover"


def test_every_chart_config_keeps_the_data_on_the_page(dash: Dashboard) -> None:
    for chart in ("users", "minutes", "top", "heatmap"):
        config = dash.outputs(f"{chart}-graph.figure")[f"{chart}-graph"]["config"]
        assert config["showSendToCloud"] is False and config["plotlyServerURL"] == ""
        assert not config.get("showEditInChartStudio") and not config.get("showLink") and not config.get("sendData")
        assert config["displayModeBar"] == "hover" and config["displaylogo"] is False
        assert {"sendDataToCloud", "sendChartToCloud"} <= set(config["modeBarButtonsToRemove"])


# --------------------------------------------------------------------------- #
# The first layout: drawn by the server, with the callbacks' own answers.
# --------------------------------------------------------------------------- #


def first_layout(dash: Dashboard, search: str) -> dict[str, dict[str, Any]]:
    """The props of each component with an id in the layout the page at ``/search`` gets."""
    response = dash.client.get("/_dash-layout", headers={"Referer": f"http://localhost/{search}"})
    assert response.status_code == 200

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            for child in node:
                yield from walk(child)
        elif isinstance(node, dict) and "props" in node:
            yield node["props"]
            yield from walk(node["props"].get("children"))

    return {props["id"]: props for props in walk(response.get_json()) if "id" in props}


@pytest.mark.parametrize(
    ("search", "controls"),
    [
        ("", {}),
        ("?users=weekly&minutes=monthly&top=2&rank=minutes&start=2013-01-07&device=iPad&device=Computer",
         {"users_resolution__value": "weekly", "minutes_resolution__value": "monthly", "top_n__value": 2,
          "rank__value": "minutes", "date_range__start_date": "2013-01-07", "device__value": ["iPad", "Computer"]}),
        # Nothing selected: the empty state, with the exports disabled.
        ("?sessiontype=SERIES&device=TV", {"sessiontype__value": "SERIES", "device__value": ["TV"]}),
    ],
    ids=["defaults", "a view", "empty"],
)
def test_the_first_layout_holds_what_the_callbacks_would_answer(dash: Dashboard, search: str,
                                                                 controls: dict[str, Any]) -> None:
    """A cold load needs no callback: every chart, key figure and the empty state are in the first layout,
    exactly as the callbacks answer for the same controls (which therefore skip their initial call)."""
    props = first_layout(dash, search)
    for fragment in ("users-graph.figure", "minutes-graph.figure", "top-graph.figure", "heatmap-graph.figure",
                     "kpi-viewers-value", "empty-state.hidden"):
        answer = dash.outputs(fragment, **controls)
        assert answer, fragment
        for component, values in answer.items():
            for prop, value in values.items():
                assert props[component].get(prop) == value, (component, prop)
    assert props["chart-theme"]["data"] == "light"
    # What the browser is told: no server callback runs on a first load.
    dependencies = dash.client.get("/_dash-dependencies").get_json()
    server_side = [d for d in dependencies if not d.get("clientside_function")]
    assert server_side and all(d["prevent_initial_call"] is True for d in server_side), \
        [d["output"] for d in server_side if d["prevent_initial_call"] is not True]



def test_the_top_list_by_show(dash: Dashboard) -> None:
    """The overview's Titles / Shows toggle: group=shows as the JSON route serves it, in the address."""
    for rank in ("plays", "viewers"):
        outputs = dash.outputs("top-graph.figure", top_n__value=5, rank__value=rank, group__value="shows")
        (trace,) = outputs["top-graph"]["figure"]["data"]
        shown = [{"title": t, "values": v} for t, v in zip(trace["y"], trace["x"], strict=False)]
        assert shown == dash.route(f"/data/toplist/?num=5&rank={rank}&group=shows")
        assert outputs["top-graph"]["config"]["toImageButtonOptions"]["filename"].startswith(
            f"toplist_shows_{rank}_top5")
    # A crafted group is the chart's message, not a 500.
    bad = dash.outputs("top-graph.figure", group__value="seasons")["top-graph"]["figure"]
    assert "group must be one of titles, shows" in message(bad)
