"""scripts/install.sh: says what it does, and runs pip only when the requirements changed.

Run on a copy of the script in a tiny project (one module, no dependencies),
so the real pip and venv do the work in seconds.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "stampprobe"
version = "1.0"

[tool.setuptools]
py-modules = ["stampprobe"]
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir()
    shutil.copy2(ROOT / "scripts" / "install.sh", tmp_path / "scripts" / "install.sh")
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "stampprobe.py").write_text("VALUE = 1\n")
    (tmp_path / "requirements.txt").write_text("# runtime: nothing\n")
    (tmp_path / "requirements-test.txt").write_text("-r requirements.txt\n")
    return tmp_path


def install(project: Path, *args: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PYTHON"] = sys.executable
    done = subprocess.run(["bash", "scripts/install.sh", *args], cwd=project, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.splitlines()


def installed(project: Path) -> bool:
    check = subprocess.run([str(project / ".venv" / "bin" / "python"), "-c", "import stampprobe"],
                           cwd="/", capture_output=True)
    return check.returncode == 0


def test_install_says_each_step_and_skips_pip_when_nothing_changed(project: Path) -> None:
    first = install(project)
    assert any(line.startswith("install: creating the virtual environment .venv") for line in first)
    assert any("installing moviedash and the runtime dependencies (requirements.txt)" in line for line in first)
    assert first[-1].startswith("install: done in ")
    assert installed(project)

    # Uninstalled behind the script's back: a second run that ran pip would put it back.
    subprocess.run([str(project / ".venv" / "bin" / "python"), "-m", "pip", "uninstall", "-y", "-q", "stampprobe"],
                   check=True, capture_output=True)
    second = install(project)
    assert second == ["install: .venv is up to date (requirements.txt and pyproject.toml unchanged "
                      "since the last install): pip skipped"]
    assert not installed(project)

    # The test set is more than the runtime set: it installs.
    assert any("the test dependencies (requirements-test.txt)" in line for line in install(project, "--test"))
    assert installed(project)
    # ...and it covers a later runtime install.
    assert install(project)[-1].endswith("pip skipped")

    # A changed requirement file means pip runs again.
    with open(project / "requirements.txt", "a") as requirements:
        requirements.write("# changed\n")
    assert any("installing moviedash" in line for line in install(project))


def test_install_refuses_an_unknown_option(project: Path) -> None:
    done = subprocess.run(["bash", "scripts/install.sh", "--everything"], cwd=project, capture_output=True, text=True)
    assert done.returncode == 2 and "usage: scripts/install.sh [--test]" in done.stderr
    assert not (project / ".venv").exists()
