"""Crafted bodies to every server-side Dash callback: never a 500, never a traceback."""
from __future__ import annotations

import json

import pytest

from moviedash import create_app
from moviedash.web.dashguard import MAX_BODY_BYTES
from tests.helpers import BACKENDS, event, module_db, server_callbacks
from tests.helpers import callback_body as body

CRAFTED = [
    None, 0, -1, 10**18, 3.5, True, "", "x", "daily'; DROP TABLE movies; --", "\u0000", "é" * 50,
    [], [None], ["MOVIE", 1], [{"a": 1}], {}, {"start": "2013-01-01"}, "9999-12-31", "2013-02-30",
    "x" * (MAX_BODY_BYTES // 2),  # a 512 KB string (several of them exceed the body limit: 413)
]


@pytest.fixture(scope="module", params=BACKENDS)
def app(request, tmp_path_factory):
    db = module_db(request, tmp_path_factory, [
        event("2013-01-06 23:59:59", "a", title="Skyfall", device="iPad"),
        event("2013-01-07 10:00:00", "b", title="Argo", sessiontype="SERIES", market="SE"),
    ])
    app = create_app(db=db)
    app.server.testing = False  # production error handling: exceptions become responses
    return app


def post(client, data: dict):
    """POST a callback body; returns the response and the body's size in bytes."""
    raw = json.dumps(data).encode()
    return client.post("/_dash-update-component", data=raw, content_type="application/json"), len(raw)


def check(answer) -> None:
    response, size = answer
    text = response.get_data(as_text=True)
    if size > MAX_BODY_BYTES:
        assert response.status_code == 413 and response.get_json() == {"error": "request entity too large"}
        return
    assert response.status_code in (200, 204), text[:300]
    assert "Traceback" not in text and 'File "' not in text and "/moviedash/" not in text


def test_every_server_callback_survives_crafted_values(app):
    client = app.server.test_client()
    callbacks = server_callbacks(client)
    assert len(callbacks) >= 8  # url state, kpis, 4 charts, 4 downloads, report
    posts = 0
    for dep in callbacks:
        n_args = len(dep["inputs"]) + len(dep.get("state", []))
        for value in CRAFTED:
            for position in range(n_args):
                # One argument crafted at a time, the others left empty (None).
                check(post(client, body(dep, {position: value})))
                posts += 1
            # And everything crafted at once.
            everything = {k: value for k in range(n_args)}
            check(post(client, body(dep, everything)))
    assert posts > 1000


@pytest.mark.parametrize(
    "payload",
    [b"", b"{", b"[]", b'{"output": 5}', b'{"output": "nope.figure", "inputs": []}', b"\xff\xfe", b"null"],
)
def test_malformed_callback_requests_are_400(app, payload):
    response = app.server.test_client().post("/_dash-update-component", data=payload, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"] in ("malformed callback request", "bad request")
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and 'File "' not in text


def mismatches(dep: dict) -> dict[str, dict]:
    """Bodies that pass a shape check but do not match callback ``dep`` (each a different way)."""
    good = body(dep, {})
    inputs, state = good["inputs"], good["state"]
    other = {"id": "nope", "property": "value", "value": 1}
    out = {
        "missing inputs": {k: v for k, v in good.items() if k != "inputs"},
        "no inputs": {**good, "inputs": []},
        "one input too many": {**good, "inputs": [*inputs, other]},
        "one input too few": {**good, "inputs": inputs[:-1]},
        "an input of another component": {**good, "inputs": [{**inputs[0], "id": "nope"}, *inputs[1:]]},
        "an input's other property": {**good, "inputs": [{**inputs[0], "property": "children"}, *inputs[1:]]},
        "inputs reversed": {**good, "inputs": inputs[::-1]} if len(inputs) > 1 and inputs[0] != inputs[-1] else None,
        "inputs not a list": {**good, "inputs": {"id": "x", "property": "y"}},
        "an input without id": {**good, "inputs": [{"property": "value"}, *inputs[1:]]},
        "pattern-matching id": {**good, "inputs": [{**inputs[0], "id": {"type": "x", "index": 1}}, *inputs[1:]]},
        "state for a callback": {**good, "state": [*state, other]},
        "state missing" if state else "state of another": {**good, "state": state[:-1]}
        if state
        else {**good, "state": [other]},
        "state not a list": {**good, "state": "x"},
        "outputs missing": {k: v for k, v in good.items() if k != "outputs"},
        "outputs empty": {**good, "outputs": [] if isinstance(good["outputs"], list) else {}},
        "outputs of another component": {
            **good,
            "outputs": {"id": "nope", "property": "figure"}
            if isinstance(good["outputs"], dict)
            else [{"id": "nope", "property": "x"}] * len(good["outputs"]),
        },
        "outputs of the wrong shape": {
            **good,
            "outputs": [good["outputs"]] if isinstance(good["outputs"], dict) else good["outputs"][0],
        },
        "outputs as a string": {**good, "outputs": "users-graph.figure"},
        "changedPropIds not a list": {**good, "changedPropIds": "x"},
        "changedPropIds junk": {**good, "changedPropIds": ["nope.value"]},
        "changedPropIds numbers": {**good, "changedPropIds": [1, None]},
        "changedPropIds a state": {**good, "changedPropIds": [f"{s['id']}.{s['property']}" for s in state[:1]] or [{}]},
        "output not a string": {**good, "output": [good["output"]]},
    }
    return {name: b for name, b in out.items() if b is not None}


def test_bodies_that_do_not_match_their_callback_are_400_without_a_traceback(app, caplog):
    client = app.server.test_client()
    tried = 0
    for dep in server_callbacks(client):
        for name, crafted in mismatches(dep).items():
            caplog.clear()
            response = client.post("/_dash-update-component", data=json.dumps(crafted), content_type="application/json")
            assert response.status_code == 400, (dep["output"], name, response.get_data(as_text=True)[:200])
            assert response.get_json() == {"error": "malformed callback request"}, (dep["output"], name)
            assert not [r for r in caplog.records if r.exc_info or r.levelname in ("ERROR", "CRITICAL")], (
                dep["output"],
                name,
            )
            tried += 1
        # The untouched body still works: the check refuses only what does not match.
        ok = client.post("/_dash-update-component", data=json.dumps(body(dep, {})), content_type="application/json")
        assert ok.status_code in (200, 204), dep["output"]
    assert tried > 150


@pytest.mark.parametrize(
    "payload", [b"[" * 100_000, b'{"output": ' + b"[" * 100_000, b"{\"a\":" * 50_000, b"[" * 40 + b"]" * 40]
)
def test_deeply_nested_json_is_400(app, caplog, payload):
    response = app.server.test_client().post("/_dash-update-component", data=payload, content_type="application/json")
    assert response.status_code == 400 and response.get_json() == {"error": "malformed callback request"}
    assert not [r for r in caplog.records if r.exc_info or r.levelname in ("ERROR", "CRITICAL")]


def test_a_body_over_the_limit_is_413(app, caplog):
    client = app.server.test_client()
    dep = server_callbacks(client)[0]
    big = json.dumps(body(dep, {0: "x" * MAX_BODY_BYTES})).encode()
    response = client.post("/_dash-update-component", data=big, content_type="application/json")
    assert response.status_code == 413 and response.get_json() == {"error": "request entity too large"}
    assert not [r for r in caplog.records if r.exc_info]
