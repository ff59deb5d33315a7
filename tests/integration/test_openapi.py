"""The OpenAPI document at /data/openapi.json, and schemathesis against the app with it."""
from __future__ import annotations

import datetime as dt
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from moviedash import create_app, dimensions, metrics, params, viewstate
from moviedash.charts import THEMES
from moviedash.pipeline import BINGE_CHARTS, CHARTS, ENGAGEMENT_CHART_PARAMS, ENGAGEMENT_CHARTS, VIEWER_CHARTS
from moviedash.web.openapi import OPENAPI_PATH, build_document
from tests.helpers import BACKENDS, event, module_db

EVENTS = [
    event("2013-01-06 23:59:59", "a", minutes=10, title="Skyfall", device="iPad"),
    event("2013-01-07 00:00:00", "b", minutes=20, title="Skyfall"),
    event("2013-01-07 10:00:00", "b", minutes=30, title="Argo", sessiontype="SERIES", market="SE"),
    event("2013-03-01 10:00:00", "c", minutes=50, title="Argo"),
]

#: The filter values of EVENTS: the served document's enums.
KNOWN = {dim: dimensions.known_values(e[dim] for e in EVENTS) for dim in dimensions.DIMS}
ROUTES = {
    *(f"/data/{name}/" for name in metrics.SERIES), "/data/toplist/", "/figures/{chart}.json", OPENAPI_PATH,
    # The engagement and quality routes (issue 14).
    *(f"/data/{name}/" for name in metrics.ENGAGEMENT_SERIES),
    *(f"/data/{name}/breakdown/" for name in metrics.ENGAGEMENT_SERIES),
    "/data/completion/distribution/", "/data/completion/stops/", "/data/quality/worst_segments/",
    "/data/quality/completion/", *(f"/figures/engagement/{chart}.json" for chart in ENGAGEMENT_CHARTS),
    # The show route (issue 15).
    "/data/show/",
    # Binge sessions (issue 15).
    "/data/binge/", "/data/binge/overall/", "/data/binge/shows/",
    *(f"/figures/binge/{chart}.json" for chart in BINGE_CHARTS),
    # The audience routes (issue 15).
    "/data/audience/", "/data/cohorts/", "/figures/audience/audience.json", "/figures/audience/cohorts.json",
    # Concentration and heavy viewers (issue 15).
    "/data/concentration/", "/data/viewers/", *(f"/figures/viewers/{chart}.json" for chart in VIEWER_CHARTS),
}
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@pytest.fixture(scope="module", params=BACKENDS)
def app(request, tmp_path_factory):
    """One app per backend for the module: the routes only read, so hypothesis' inputs may share it."""
    return create_app(db=module_db(request, tmp_path_factory, EVENTS))


@pytest.fixture
def doc(app):
    response = app.server.test_client().get(OPENAPI_PATH)
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def _params(doc, path):
    return {p["name"]: p for p in doc["paths"][path]["get"]["parameters"]}


def _refs(node):
    if isinstance(node, dict):
        if "$ref" in node:
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


# (a) the document itself
def test_served_document_is_the_built_one(doc):
    assert doc == build_document(KNOWN)


def test_filter_parameters_list_the_databases_values(doc):
    """The served document's enums are the database's values, so a client can offer them."""
    assert _params(doc, "/data/toplist/")["device"]["schema"]["items"]["enum"] == ["Computer", "iPad"]
    assert _params(doc, "/figures/{chart}.json")["sessiontype"]["schema"]["enum"] == ["MOVIE", "SERIES"]
    assert (
        "`unknown` selects the events without a value" in _params(doc, "/data/unique_users/")["market"]["description"]
    )


def test_document_is_well_formed_openapi_3(doc):
    assert re.fullmatch(r"3\.0\.\d+", doc["openapi"])
    assert doc["info"]["title"] and doc["info"]["version"]
    schemas = doc["components"]["schemas"]
    for ref in _refs(doc):  # every reference resolves
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in schemas, ref
    operation_ids = []
    for path, item in doc["paths"].items():
        assert path.startswith("/")
        assert set(item) == {"get"}, f"{path}: only GET is served"
        operation = item["get"]
        operation_ids.append(operation["operationId"])
        templated = set(re.findall(r"{(\w+)}", path))
        names = set()
        for parameter in operation.get("parameters", []):
            assert parameter["in"] in {"query", "path"}
            assert (parameter["name"], parameter["in"]) not in names
            names.add((parameter["name"], parameter["in"]))
            assert "schema" in parameter and parameter["description"]
            if parameter["in"] == "path":
                assert parameter["required"] is True and parameter["name"] in templated
            if parameter["schema"].get("type") == "array":
                assert parameter["style"] == "form" and parameter["explode"] is True
        assert templated == {name for name, where in names if where == "path"}
        responses = operation["responses"]
        assert "200" in responses
        for code in ("400", "405", "503"):
            assert responses[code]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
        assert "Allow" in responses["405"]["headers"]
        assert "Unknown query parameters are rejected with `400`" in operation["description"]
        for response in responses.values():
            assert response["description"]
    assert len(operation_ids) == len(set(operation_ids))
    assert schemas["Error"]["additionalProperties"] is False and schemas["Error"]["required"] == ["error"]


def test_document_lists_every_route(app, doc):
    assert set(doc["paths"]) == ROUTES
    rules = {rule.rule for rule in app.server.url_map.iter_rules() if rule.rule.startswith(("/data/", "/figures/"))}
    documented = {path.replace("{chart}", "<chart>") for path in doc["paths"]}
    # Every route of the JSON blueprints is documented, except the catch-alls (JSON 404s).
    assert rules - documented == {
        "/data/<metric>/", "/data/", "/data/<path:rest>", "/figures/", "/figures/<path:rest>",
        "/figures/engagement/<chart>.json",  # documented chart by chart, each with its own parameter
        "/figures/binge/<chart>.json",
        "/figures/audience/<chart>.json",
        "/figures/viewers/<chart>.json",  # documented chart by chart
    }


def test_binge_parameters_match_the_validators(doc):
    assert set(_params(doc, "/data/binge/")) == set(params.SERIES_PARAMS)
    assert set(_params(doc, "/data/binge/overall/")) == set(params.FILTER_PARAMS)
    shows = _params(doc, "/data/binge/shows/")
    assert set(shows) == set(params.BINGE_SHOWS_PARAMS)
    assert (shows["num"]["schema"]["minimum"], shows["num"]["schema"]["maximum"]) == (params.NUM_MIN, params.NUM_MAX)
    assert set(_params(doc, "/figures/binge/binge_shows.json")) == {"num", "theme", *params.SELECTION_PARAMS}
    assert set(_params(doc, "/figures/binge/binge_share.json")) == {"resolution", "theme", *params.SELECTION_PARAMS}


def test_parameters_match_the_validators(doc):
    series = _params(doc, "/data/unique_users/")
    assert set(series) == set(params.SERIES_PARAMS)
    for name in metrics.SERIES:
        assert _params(doc, f"/data/{name}/") == series
    assert series["resolution"]["schema"]["enum"] == list(params.RESOLUTIONS)
    assert series["format"]["schema"]["enum"] == list(params.FORMATS)
    for key in params.FILTER_KEYS:
        schema = series[key]["schema"]
        assert schema["maxItems"] == params.MAX_VALUES
        assert schema["items"]["enum"] == KNOWN[key]

    top = _params(doc, "/data/toplist/")
    assert set(top) == set(params.TOP_PARAMS)
    assert top["rank"]["schema"]["enum"] == list(params.TOP_RANKS)
    assert top["min_plays"]["schema"]["default"] == params.MIN_PLAYS_DEFAULT
    assert top["group"]["schema"]["enum"] == list(params.GROUPS) and top["group"]["schema"]["default"] == "titles"
    show = _params(doc, "/data/show/")
    assert set(show) == set(params.SHOW_PARAMS)
    assert show["name"]["required"] is True and show["name"]["schema"]["maxLength"] == params.MAX_VALUE_LENGTH

    for name in metrics.ENGAGEMENT_SERIES:
        assert _params(doc, f"/data/{name}/") == series
        breakdown = _params(doc, f"/data/{name}/breakdown/")
        assert set(breakdown) == set(params.BREAKDOWN_PARAMS)
        assert breakdown["by"]["required"] is True and breakdown["by"]["schema"]["enum"] == list(params.BREAKDOWN_KEYS)
    assert set(_params(doc, "/data/completion/stops/")) == set(params.STOPS_PARAMS)
    assert set(_params(doc, "/data/completion/distribution/")) == set(params.FILTER_PARAMS)
    assert set(_params(doc, "/data/quality/worst_segments/")) == {"resolution", *params.FILTER_PARAMS}
    for chart in ENGAGEMENT_CHARTS:
        engagement = _params(doc, f"/figures/engagement/{chart}.json")
        assert set(engagement) == {"theme", *ENGAGEMENT_CHART_PARAMS[chart], *params.SELECTION_PARAMS}
    assert set(_params(doc, "/data/audience/")) == set(params.SERIES_PARAMS)
    cohorts = _params(doc, "/data/cohorts/")
    assert set(cohorts) == set(params.COHORT_PARAMS)
    assert cohorts["period"]["schema"]["enum"] == list(params.COHORT_PERIODS)
    assert set(_params(doc, "/figures/audience/audience.json")) == {"theme", "resolution", *params.SELECTION_PARAMS}
    assert set(_params(doc, "/figures/audience/cohorts.json")) == {"theme", "period", *params.SELECTION_PARAMS}
    num = top["num"]["schema"]
    assert (num["type"], num["minimum"], num["maximum"], num["default"]) == (
        "integer",
        params.NUM_MIN,
        params.NUM_MAX,
        params.NUM_DEFAULT,
    )

    figure = _params(doc, "/figures/{chart}.json")
    assert set(figure) == {"chart", "theme", *viewstate.KEYS}
    assert figure["chart"]["schema"]["enum"] == list(CHARTS)
    assert figure["theme"]["schema"]["enum"] == list(THEMES)
    for key in metrics.SERIES_KEYS:
        assert figure[key]["schema"]["enum"] == list(params.RESOLUTIONS)
    assert (figure["top"]["schema"]["minimum"], figure["top"]["schema"]["maximum"]) == (
        viewstate.TOP_MIN,
        viewstate.TOP_MAX,
    )
    assert figure["sessiontype"]["schema"]["type"] == "string"  # single-valued on the dashboard
    assert figure["device"]["schema"]["type"] == figure["market"]["schema"]["type"] == "array"


def test_viewer_routes_document_their_parameters_and_answers(doc):
    assert set(_params(doc, "/data/viewers/")) == set(params.VIEWER_PARAMS)
    assert _params(doc, "/data/viewers/")["measure"]["schema"]["enum"] == list(params.VIEWER_MEASURES)
    assert set(_params(doc, "/data/concentration/")) == set(params.FILTER_PARAMS)
    schemas = doc["components"]["schemas"]
    assert set(schemas["Concentration"]["required"]) == {"viewers", "minutes", "top_shares", "top_viewers", "gini",
                                                         "lorenz"}
    assert schemas["Concentration"]["properties"]["lorenz"]["maxItems"] == metrics.LORENZ_POINTS
    for chart in VIEWER_CHARTS:
        assert set(_params(doc, f"/figures/viewers/{chart}.json")) == {*params.SELECTION_PARAMS, "theme"}


def test_date_schema_matches_the_supported_range(doc):
    schema = _params(doc, "/data/toplist/")["start"]["schema"]
    assert schema["format"] == "date"
    pattern = re.compile(schema["pattern"])
    one_day = dt.timedelta(days=1)
    for date in (params.DATE_MIN, params.DATE_MAX, dt.date(2013, 1, 7)):
        assert pattern.search(date.isoformat())
    for date in (params.DATE_MIN - one_day, params.DATE_MAX + one_day, dt.date(9999, 12, 31)):
        assert not pattern.search(date.isoformat())


def test_document_route_rejects_parameters_and_other_methods(app):
    client = app.server.test_client()
    response = client.get(OPENAPI_PATH + "?x=1")
    assert response.status_code == 400 and response.get_json() == {
        "error": "unknown parameter 'x'; this route takes none",
        "parameter": "x",
    }
    response = client.post(OPENAPI_PATH)
    assert response.status_code == 405 and "GET" in response.headers["Allow"]
    assert response.get_json() == {"error": "method not allowed"}


# (b) schemathesis with its default checks (positive and negative cases, unsupported methods).
# The schema is built at collection time (pytest 9 breaks schemathesis' fixture-based lazy
# schema); test_served_document_is_the_built_one pins it to what the app serves.
schema = schemathesis.openapi.from_dict(build_document(KNOWN))


@schema.parametrize()
@settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_schemathesis(case, app):
    # OpenAPI cannot say "end not before start": keep generated ranges the right way round.
    query = case.query or {}
    start, end = query.get("start"), query.get("end")
    if (
        isinstance(start, str)
        and isinstance(end, str)
        and DATE.fullmatch(start)
        and DATE.fullmatch(end)
        and end < start
    ):
        query["start"], query["end"] = end, start
    # Nor "at most MAX_PERIODS periods" (a 400 naming resolution, tested in test_bounded_answers):
    # keep generated daily ranges within it (open ends are the data's first and last day).
    start, end = query.get("start"), query.get("end")
    if all(v is None or (isinstance(v, str) and DATE.fullmatch(v)) for v in (start, end)):
        try:
            first = dt.date.fromisoformat(start or EVENTS[0]["event_date"][:10])
            last = dt.date.fromisoformat(end or EVENTS[-1]["event_date"][:10])
        except ValueError:
            first = last = dt.date(2013, 1, 1)
        if (last - first).days >= params.MAX_PERIODS:
            query["start"] = (last - dt.timedelta(days=params.MAX_PERIODS - 1)).isoformat()
    # Called in-process (WSGI), schemathesis does not undo a Content-Encoding as an HTTP
    # client would; compression has its own tests (test_delivery.py).
    case.call_and_validate(app=app.server, headers={"Accept-Encoding": "identity"})
