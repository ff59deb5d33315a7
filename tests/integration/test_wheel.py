"""A built wheel works on its own: installed into a fresh virtual environment
and run from another folder, with the source tree out of reach, it serves the
dashboard and its assets.

The wheel is built from a copy of the build inputs (so the checkout gets no
``build/`` folder) and installed without dependencies; the new environment
borrows the test environment's installed packages through a ``.pth`` file
(their ``.pth`` hooks, such as the checkout's editable install, are not run
there), which keeps the test to seconds without a network.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]
#: What the build reads (pyproject.toml names README.md as the long description).
BUILD_INPUTS = ("pyproject.toml", "README.md", "moviedash", "assets")


def run(*args: str | Path, cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    """(the new environment's ``bin``, a working folder outside the checkout, the environment variables)."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    source.mkdir()
    for name in BUILD_INPUTS:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, source / name)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MOVIEDASH_DB", "VIRTUAL_ENV")}
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", tmp / "dist", source, cwd=tmp, env=env)
    wheel = next((tmp / "dist").glob("moviedash-*.whl"))

    venv = tmp / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp, env=env)
    python = venv / "bin" / "python"
    site = Path(
        run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp, env=env).strip()
    )
    borrowed = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "borrowed-test-packages.pth").write_text("".join(f"{p}\n" for p in sorted(borrowed)))
    run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--quiet", wheel, cwd=tmp, env=env)
    shutil.rmtree(source)  # nothing of the checkout is left to fall back on
    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir()
    return venv / "bin", elsewhere, env


def test_the_wheel_ships_the_assets(installed):
    bin_dir, elsewhere, env = installed
    where = run(
        bin_dir / "python",
        "-c",
        "import moviedash, moviedash.factory as f; print(moviedash.__file__); print(f.assets_folder())",
        cwd=elsewhere,
        env=env,
    ).split()
    venv = bin_dir.parent
    assert Path(where[0]).is_relative_to(venv), f"moviedash imported from {where[0]}, not the new environment"
    assets = Path(where[1])
    assert assets.is_relative_to(venv)
    shipped = {p.name for p in assets.iterdir() if p.is_file()}
    source = {p.name for p in (ROOT / "assets").iterdir() if p.is_file()}
    assert shipped == source


def test_the_installed_command_serves_the_dashboard_and_its_assets(installed):
    bin_dir, elsewhere, env = installed
    run(bin_dir / "moviedash", "demo", "--db", "moviedb", "--events", "2000", cwd=elsewhere, env=env)
    port = free_port()
    server = subprocess.Popen(
        [str(bin_dir / "moviedash"), "serve", "--db", "moviedb", "--port", str(port)],
        cwd=elsewhere,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        page = wait_for(f"{base}/", server).decode()
        for name in ("style.css", "dashboard.js", "plotly-moviedash.min.js"):
            assert f"/assets/{name}?m=" in page
            with urllib.request.urlopen(f"{base}/assets/{name}", timeout=10) as response:
                assert response.status == 200
                assert response.read() == (ROOT / "assets" / name).read_bytes()
        with urllib.request.urlopen(f"{base}/_dash-layout", timeout=30) as response:
            layout = json.loads(response.read())
        text = json.dumps(layout)
        assert "2,000 events" in text  # the page describes the database it serves
        for graph in ("users-graph", "minutes-graph", "top-graph", "heatmap-graph"):
            assert f'"{graph}"' in text
    finally:
        server.terminate()
        server.communicate(timeout=10)
