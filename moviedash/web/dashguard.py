"""Dash's own routes, guarded: any request a client can craft gets a 4xx, never a 500.

Dash trusts its renderer.  A callback body that names a real callback but
carries the wrong inputs, state or outputs, or a script path it never
registered, makes Dash raise inside its view (a 500 and a traceback in the
log).  These ``before_request`` hooks answer such requests first, in the
standard JSON error shape:

- ``/_dash-update-component``: the body must be JSON nested at most
  :data:`MAX_DEPTH` deep and match the callback it names exactly (its inputs
  and state, in order; its outputs; ``changedPropIds`` among its inputs) -> 400.
- ``/_dash-component-suites/<package>/<file>``: only files Dash registered -> else 404.

The body size limit (Flask's ``MAX_CONTENT_LENGTH``, :data:`MAX_BODY_BYTES`)
answers 413 before anything is parsed.
"""
from __future__ import annotations

import json
from typing import Any

import dash
from dash.exceptions import DependencyException
from dash.fingerprint import check_fingerprint
from flask import Flask, Response, request

from ..errors import MoviedashError
from .errors import error_response

#: Largest request body (bytes).  The dashboard's callback bodies are a few KB.
MAX_BODY_BYTES = 1 << 20
#: Deepest nesting of a callback body; the renderer's are at most ~6 deep (values are lists of strings).
MAX_DEPTH = 32
MALFORMED = "malformed callback request"


def _depth(value: Any, limit: int) -> int:
    """Nesting depth of a parsed JSON value, stopping once it exceeds ``limit``."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > limit:
            return deepest
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return deepest


def _parse_body(data: bytes) -> Any:
    """The request body as JSON, or ``None`` when it is not JSON (or nested too deeply to parse)."""
    try:
        return json.loads(data)
    except (ValueError, RecursionError):  # RecursionError: "[" x 100,000
        return None


def _ids(items: Any) -> list[tuple[str, str]] | None:
    """``[(id, property), ...]`` of a body's ``inputs``/``state``/``outputs`` list, or None if malformed."""
    if not isinstance(items, list):
        return None
    out = []
    for item in items:
        # Pattern-matching callbacks send lists of such dicts; this app uses none.
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("id"), str)
            or not isinstance(item.get("property"), str)
        ):
            return None
        out.append((item["id"], item["property"].split("@")[0]))
    return out


def _expected_outputs(key: str) -> list[tuple[str, str]]:
    """The outputs a callback-map key names: ``a.b`` or ``..a.b...c.d..`` (``@hash`` of duplicates dropped)."""
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    outs = []
    for part in parts:
        component, prop = part.rsplit(".", 1)
        outs.append((component, prop.split("@")[0]))
    return outs


def matches_callback(body: Any, callback_map: dict[str, dict[str, Any]]) -> bool:
    """True when ``body`` is exactly what Dash's renderer sends for one of ``callback_map``'s callbacks."""
    if not isinstance(body, dict) or not isinstance(body.get("output"), str):
        return False
    spec = callback_map.get(body["output"])
    if spec is None or "inputs" not in body:
        return False
    wanted_inputs = [(i["id"], i["property"]) for i in spec["inputs"]]
    wanted_state = [(s["id"], s["property"]) for s in spec.get("state", [])]
    if _ids(body["inputs"]) != wanted_inputs or _ids(body.get("state", [])) != wanted_state:
        return False
    expected = _expected_outputs(body["output"])
    outputs = body.get("outputs")
    if body["output"].startswith(".."):
        if _ids(outputs) != expected:
            return False
    elif _ids([outputs]) != expected:
        return False
    changed = body.get("changedPropIds", [])
    allowed = {f"{component}.{prop}" for component, prop in wanted_inputs}
    return isinstance(changed, list) and all(isinstance(c, str) and c in allowed for c in changed)


def guard_callbacks(app: dash.Dash) -> None:
    """Answer callback bodies that do not match their callback with 400, unknown component files with 404."""
    server: Flask = app.server
    suites = f"{app.config.requests_pathname_prefix}_dash-component-suites"

    @server.before_request
    def check_callback_body() -> None:
        if request.path != "/_dash-update-component" or request.method != "POST":
            return
        body = _parse_body(request.get_data(cache=True))  # 413 first when over MAX_CONTENT_LENGTH
        if _depth(body, MAX_DEPTH) > MAX_DEPTH or not matches_callback(body, app.callback_map):
            raise MoviedashError(MALFORMED, status=400)

    @server.before_request
    def check_component_path() -> None:
        path = request.path
        if path != suites and not path.startswith(suites + "/"):
            return
        package, _, fingerprinted = path[len(suites) + 1 :].partition("/")
        if check_fingerprint(fingerprinted)[0] not in app.registered_paths.get(package, ()):
            raise MoviedashError(f"not found: {path}", status=404)

    @server.errorhandler(DependencyException)
    def unknown_dependency(_exc: DependencyException) -> Response:
        # A registered path whose file is gone (or a race with registration): still a 404, not a 500.
        return error_response(MoviedashError(f"not found: {request.path}", status=404))
