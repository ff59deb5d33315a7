"""Crafted bodies to every server-side Dash callback: never a 500, never a traceback."""
from __future__ import annotations

import json

import pytest

from moviedash import create_app
from tests.conftest import BACKENDS, event, module_db

CRAFTED = [
    None, 0, -1, 10**18, 3.5, True, "", "x", "daily'; DROP TABLE movies; --", "\u0000", "é" * 50,
    [], [None], ["MOVIE", 1], [{"a": 1}], {}, {"start": "2013-01-01"}, "9999-12-31", "2013-02-30",
    "x" * (1 << 20),  # a 1 MB string
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


def server_callbacks(client) -> list[dict]:
    deps = client.get("/_dash-dependencies").get_json()
    return [d for d in deps if not d.get("clientside_function")]


def outputs_of(spec: str) -> list[dict] | dict:
    parts = spec.strip(".").split("...") if spec.startswith("..") else [spec]
    outs = []
    for part in parts:
        component, prop = part.rsplit(".", 1)
        outs.append({"id": component, "property": prop.split("@")[0]})
    return outs if spec.startswith("..") else outs[0]


def body(dep: dict, values: dict[int, object]) -> dict:
    inputs = [{**i, "value": values.get(n)} for n, i in enumerate(dep["inputs"])]
    state = [{**s, "value": values.get(len(inputs) + n)} for n, s in enumerate(dep.get("state", []))]
    return {
        "output": dep["output"],
        "outputs": outputs_of(dep["output"]),
        "inputs": inputs,
        "state": state,
        "changedPropIds": [f"{i['id']}.{i['property']}" for i in inputs[:1]],
    }


def check(response) -> None:
    assert response.status_code in (200, 204), response.get_data(as_text=True)[:300]
    text = response.get_data(as_text=True)
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
                response = client.post("/_dash-update-component", data=json.dumps(body(dep, {position: value})),
                                       content_type="application/json")
                check(response)
                posts += 1
            # And everything crafted at once.
            everything = {k: value for k in range(n_args)}
            check(client.post("/_dash-update-component", data=json.dumps(body(dep, everything)),
                              content_type="application/json"))
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
