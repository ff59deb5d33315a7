"""The query time limit: a query over it is stopped and answered 503, quickly."""
from __future__ import annotations

import json
import sqlite3
import time

import pytest

from moviedash import create_app, rollups
from moviedash.ingest.demo import write_demo
from tests.helpers import event

EVENTS = [event(f"2013-01-{d:02d} 10:00:00", f"u{d % 7}", title=f"T{d % 5}") for d in range(1, 29)]


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("timeout") / "demo.db"
    write_demo(path, events=20_000, seed=1)  # big enough for every query to reach a deadline check
    # Without derived data (as in a database made the course's way) every query
    # scans ``movies``: the default views would otherwise be stored answers.
    with sqlite3.connect(path) as conn:
        for table in (*rollups.TABLES, "md_meta"):
            conn.execute(f"DROP TABLE {table}")
    return path


@pytest.fixture
def slow_app(demo_db):
    # A limit far below what any query needs: every query is interrupted at its first check.
    app = create_app(db=demo_db, MOVIEDASH_QUERY_TIMEOUT=1e-9)
    app.server.testing = False  # errors go through the production error handler
    return app


@pytest.mark.parametrize(
    "url",
    ["/data/unique_users/?resolution=weekly", "/data/minutes_watched/", "/data/toplist/?num=5",
     "/figures/heatmap.json"],
)
def test_a_query_over_the_limit_is_a_503_json_error(slow_app, url):
    started = time.monotonic()
    response = slow_app.server.test_client().get(url)
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.get_json() == {"error": "the query took longer than the limit of 1e-09 s and was stopped"}
    assert elapsed < 2


def test_a_dash_callback_over_the_limit_is_a_503_json_error(demo_db):
    app = create_app(db=demo_db)
    app.server.testing = False
    client = app.server.test_client()
    # Build the page with the normal limit, then lower it for the callback alone.
    assert client.get("/_dash-layout").status_code == 200
    heatmap = next(d for d in client.get("/_dash-dependencies").get_json() if "heatmap-graph.figure" in d["output"])
    app.server.config["MOVIEDASH_QUERY_TIMEOUT"] = 1e-9
    outputs = [
        dict(zip(("id", "property"), o.split("."), strict=False)) for o in heatmap["output"].strip(".").split("...")
    ]
    # The overview's selection store as the page's script writes it: no filter set, the light theme.
    inputs = [{**i, "value": {"filters": [None] * 5, "theme": "light"}} for i in heatmap["inputs"]]
    body = {"output": heatmap["output"], "outputs": outputs, "inputs": inputs, "changedPropIds": []}
    response = client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 503
    assert "took longer than the limit" in response.get_json()["error"]


def test_the_default_limit_lets_normal_queries_through(make_db):
    client = create_app(db=make_db(EVENTS)).server.test_client()
    assert client.get("/data/toplist/?num=2").status_code == 200
    assert client.application.config.get("MOVIEDASH_QUERY_TIMEOUT") is None  # default 5 s applies


# nan compares false against the deadline, inf never arrives and a negative limit
# counted as "no limit": each silently disabled the limit.  All are refused, everywhere.
DISABLING_TIMEOUTS = ["nan", "NaN", "inf", "-inf", "-5", "-0.5", "1e999", "５"]


@pytest.mark.parametrize("value", DISABLING_TIMEOUTS)
def test_environment_timeouts_that_disable_the_limit_are_refused(value):
    from moviedash.errors import MoviedashError
    from moviedash.factory import settings_from_env

    with pytest.raises(MoviedashError) as info:
        settings_from_env({"MOVIEDASH_QUERY_TIMEOUT": value})
    assert info.value.message.startswith("MOVIEDASH_QUERY_TIMEOUT must be a number of seconds from 0 (no limit)")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -5.0, "nan"])
def test_create_app_refuses_timeouts_that_disable_the_limit(tmp_path, value):
    from moviedash.errors import MoviedashError
    from tests.helpers import build_db

    db = build_db(tmp_path / "t.db", EVENTS)
    with pytest.raises(MoviedashError, match="query timeout must be a number of seconds"):
        create_app(db=db, MOVIEDASH_QUERY_TIMEOUT=value)


@pytest.mark.parametrize("value", ["nan", "inf", "-5", "Infinity"])
def test_serve_refuses_timeouts_that_disable_the_limit(tmp_path, monkeypatch, value):
    from click.testing import CliRunner

    from moviedash import cli
    from tests.helpers import build_db

    served = []
    monkeypatch.setattr(cli, "run_server", lambda *args, **kwargs: served.append(args))  # never listen here
    db = build_db(tmp_path / "t.db", EVENTS)
    result = CliRunner().invoke(cli.main, ["serve", "--db", str(db), "--query-timeout", value])
    assert result.exit_code != 0 and not served
    lines = result.output.strip().splitlines()
    assert "Traceback" not in result.output and len(lines) <= 4, result.output
    assert "timeout" in result.output.lower() and (
        "number of seconds" in result.output or "not in the range" in result.output
    )
