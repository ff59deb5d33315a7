"""What a browser downloads: compressed (brotli or gzip), cached as long as is
safe, and at most 1.5 MB on a cold load."""
from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import brotli
import pytest
from plotly.offline import get_plotlyjs_version

from moviedash import create_app
from moviedash.web.delivery import IMMUTABLE
from tests.helpers import build_db, event

DECODE = {"br": brotli.decompress, "gzip": gzip.decompress}
#: The lazily loaded code of each Dash component type on the page (dash's dcc async chunks).
ASYNC_CHUNKS = {"Graph": "graph", "Dropdown": "dropdown", "DatePickerRange": "datepicker", "Slider": "slider"}
COLD_LOAD_BUDGET = 1_500_000
#: plotly.js with only the dashboard's trace types, which the page loads instead of plotly's full one.
BUNDLE = Path(__file__).resolve().parents[2] / "assets" / "plotly-moviedash.min.js"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    events = [event(f"2013-01-{day:02d} 1{day % 10}:00:00", f"u{day % 7}", title=f"T{day % 5}") for day in range(1, 29)]
    db = build_db(tmp_path_factory.mktemp("delivery") / "m.db", events)
    return create_app(db=db).server.test_client()


def get(client, path: str, encoding: str = "identity"):
    response = client.get(path, headers={"Accept-Encoding": encoding})
    data = response.get_data()  # streamed files are compressed while read
    response.close()
    return response, data


def referenced(client) -> list[str]:
    """Every script, stylesheet and icon the page's HTML names."""
    _, page = get(client, "/")
    return re.findall(r'(?:src|href)="(/[^"]+)"', page.decode())


def scripts(client) -> list[str]:
    return [p for p in referenced(client) if p.split("?")[0].endswith(".js")]


@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_javascript_bundles_and_json_are_compressed(client, encoding):
    paths = scripts(client) + ["/", "/_dash-layout", "/_dash-dependencies", "/data/unique_users/?resolution=daily"]
    assert any("dash_renderer" in p for p in paths) and any("plotly" in p for p in paths)
    for path in paths:
        response, data = get(client, path, encoding)
        assert response.status_code == 200, path
        assert response.headers.get("Content-Encoding") == encoding, path
        assert "Accept-Encoding" in response.headers["Vary"]
        _, plain = get(client, path)
        if path == "/":  # the page carries a per-request token: compare its shape
            assert DECODE[encoding](data).count(b"<script") == plain.count(b"<script")
        else:
            assert DECODE[encoding](data) == plain, path
        assert len(data) < len(plain), path


def test_a_client_without_compression_gets_the_plain_bytes(client):
    response, data = get(client, "/_dash-layout")
    assert "Content-Encoding" not in response.headers
    assert json.loads(data)["props"]["id"] == "app"


def test_fingerprinted_files_are_cached_for_a_year_and_the_rest_revalidated(client):
    fingerprinted = [p for p in scripts(client) if p.startswith("/_dash-component-suites/")]
    assert len(fingerprinted) >= 5
    for path in fingerprinted:
        assert re.search(r"\.v[\w-]+m[0-9a-f]+\.", path), path  # Dash's version+time fingerprint
        response, _ = get(client, path, "br")
        assert response.headers["Cache-Control"] == IMMUTABLE, path
    unversioned = [p for p in referenced(client) if p.startswith("/assets/")]
    assert unversioned
    for path in ["/", "/_dash-layout", "/data/toplist/", *unversioned,
                 "/_dash-component-suites/plotly/package_data/plotly.min.js"]:
        response, _ = get(client, path, "br")
        assert response.headers["Cache-Control"] == "no-cache", path
    # The layout shows the page's address (its Referer): a cache must key on it.
    response, _ = get(client, "/_dash-layout", "br")
    assert "Referer" in response.vary and "Referer" not in get(client, "/data/toplist/", "br")[0].vary
    # Revalidating an unchanged asset costs a 304 and no body.
    response, _ = get(client, unversioned[0], "br")
    again = client.get(unversioned[0], headers={"Accept-Encoding": "br", "If-None-Match": response.headers["ETag"]})
    again.close()
    assert again.status_code == 304 and not again.get_data()


def test_a_cold_load_transfers_at_most_1_5_mb(client):
    """Every file the page names, the layout and callbacks' set-up, and the code of each component type it uses."""
    _, layout = get(client, "/_dash-layout")
    types = set(re.findall(r'"type":\s*"(\w+)"', layout.decode()))
    chunks = [
        f"/_dash-component-suites/dash/dcc/async-{ASYNC_CHUNKS[t]}.js" for t in sorted(types & ASYNC_CHUNKS.keys())
    ]
    assert len(chunks) == 4
    paths = ["/", *referenced(client), "/_dash-layout", "/_dash-dependencies", *chunks]
    sizes = {}
    for path in paths:
        response, data = get(client, path, "br")
        assert response.status_code == 200, path
        sizes[path] = len(data)
    total = sum(sizes.values())
    assert total <= COLD_LOAD_BUDGET, f"{total:,} bytes: {sorted(sizes.items(), key=lambda kv: -kv[1])[:5]}"


def test_the_plotly_bundle_is_plotly_pys_version_and_draws_every_chart(client):
    """scripts/update-plotly-bundle.sh refreshes it after an upgrade of plotly."""
    code = BUNDLE.read_text()
    header = re.search(r"plotly\.js \(moviedash: [\w, ]+ - minified\) v([\d.]+)", code[:500])
    assert header and header.group(1) == get_plotlyjs_version()
    assert "Licensed under the MIT license" in code[:500]
    assert f'version="{get_plotlyjs_version()}"' in code  # Plotly.version, from plotly.js's own source
    drawable = set(re.findall(r'moduleType:"trace",name:"(\w+)"', code))
    for chart in ("unique_users", "minutes_watched", "top_titles", "heatmap"):
        response, data = get(client, f"/figures/{chart}.json")
        traces = json.loads(data)["data"]
        assert traces and {trace.get("type", "scatter") for trace in traces} <= drawable, chart


def test_a_range_request_cannot_poison_the_compressed_files_cache(tmp_path):
    db = build_db(tmp_path / "m.db", [event("2013-01-07 10:00:00", "a", title="Argo")])
    client = create_app(db=db).server.test_client()
    asset = next(p for p in referenced(client) if p.startswith("/assets/style.css"))
    _, plain = get(client, asset)
    partial = client.get(asset, headers={"Accept-Encoding": "br", "Range": "bytes=0-9"})
    partial.close()
    assert brotli.decompress(partial.get_data()) == plain  # the whole file, never a cached fragment
    response, data = get(client, asset, "br")
    assert response.status_code == 200 and brotli.decompress(data) == plain
