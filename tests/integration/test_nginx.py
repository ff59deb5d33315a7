"""The README's nginx example (docs/deploy/nginx.conf), run as it is in front of ``moviedash serve``.

Only the two addresses change: nginx listens on a free loopback port instead of
port 80, and moviedash runs on a free port instead of 8050.  nginx is Debian's
``nginx-light`` (scripts/test.sh installs it).
"""
from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import ROOT, SECURITY, build_db, event, free_port, plotly_js, wait_for

EXAMPLE = ROOT / "docs" / "deploy" / "nginx.conf"


def nginx_binary() -> str:
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if not found:
        pytest.fail("nginx is not installed (Debian: apt-get install nginx-light; scripts/test.sh does it)")
    return found


def example_config(nginx_port: int, app_port: int) -> str:
    """The example with the two addresses changed (each must appear exactly once)."""
    text = EXAMPLE.read_text()
    for old in ("listen 80;", "server 127.0.0.1:8050;"):
        assert text.count(old) == 1, old
    return text.replace("listen 80;", f"listen 127.0.0.1:{nginx_port};").replace(
        "server 127.0.0.1:8050;", f"server 127.0.0.1:{app_port};")


def main_config(tmp: Path, site: Path) -> str:
    """A minimal nginx.conf (what a distribution ships) that includes the example in its http block."""
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must reach the private temp folder
    return (
        f"{user}worker_processes 1;\npid {tmp}/nginx.pid;\nerror_log stderr;\n"
        "events { worker_connections 256; }\n"
        "http {\n"
        f"  access_log off;\n  client_body_temp_path {tmp}/body;\n  proxy_temp_path {tmp}/proxy;\n"
        f"  fastcgi_temp_path {tmp}/fastcgi;\n  uwsgi_temp_path {tmp}/uwsgi;\n  scgi_temp_path {tmp}/scgi;\n"
        f"  include {site};\n"
        "}\n"
    )


def test_the_readme_nginx_example_serves_the_dashboard(tmp_path):
    nginx = nginx_binary()
    db = build_db(tmp_path / "n.db", [event("2013-01-07 10:00:00", "a", title="Argo")])
    app_port, nginx_port = free_port(), free_port()
    site = tmp_path / "moviedash.conf"
    site.write_text(example_config(nginx_port, app_port))
    (tmp_path / "nginx.conf").write_text(main_config(tmp_path, site))
    subprocess.run(
        [nginx, "-t", "-e", "stderr", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        check=True,
        capture_output=True,
    )

    app = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "moviedash.cli",
            "serve",
            "--db",
            str(db),
            "--host",
            "127.0.0.1",
            "--port",
            str(app_port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    proxy = subprocess.Popen(
        [nginx, "-e", "stderr", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-g", "daemon off;"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(f"http://127.0.0.1:{app_port}/data/toplist/", app)
        base = f"http://127.0.0.1:{nginx_port}"
        assert wait_for(f"{base}/data/toplist/", proxy) == b'[{"title":"Argo","values":1}]'
        with urllib.request.urlopen(f"{base}/", timeout=10) as response:
            assert response.status == 200
            assert {k: response.headers[k] for k in SECURITY} == SECURITY
            assert b"moviedash" in response.read()
        # A large answer comes through the proxy's buffers whole, compressed by nginx.
        request = urllib.request.Request(
            f"{base}/_dash-component-suites/plotly/package_data/plotly.min.js", headers={"Accept-Encoding": "gzip"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.headers["Content-Encoding"] == "gzip"
            assert gzip.decompress(response.read()) == plotly_js()
        # Dash's own routes go through too.
        dependencies = urllib.request.urlopen(f"{base}/_dash-dependencies", timeout=10).read()
        assert dependencies.startswith(b"[")
    finally:
        proxy.terminate()
        app.terminate()
        proxy_out = proxy.communicate(timeout=10)[0]
        app.communicate(timeout=20)
    assert b"[emerg]" not in proxy_out and b"[alert]" not in proxy_out, proxy_out.decode()
