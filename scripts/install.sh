#!/usr/bin/env bash
# Create .venv (if missing) and install moviedash with its pinned dependencies.
#
#   scripts/install.sh          # what the dashboard needs (requirements.txt)
#   scripts/install.sh --test   # that and the test tools (requirements-test.txt)
#
# pip runs only when something changed: a stamp in .venv records the hash of
# the requirement files and pyproject.toml of the last successful install.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

kind=runtime
requirements=requirements.txt
if [ "${1:-}" = "--test" ]; then
  kind=test
  requirements=requirements-test.txt
elif [ -n "${1:-}" ]; then
  echo "usage: scripts/install.sh [--test]" >&2
  exit 2
fi

say() { echo "install: $*"; }

if [ ! -x .venv/bin/python ]; then
  say "creating the virtual environment .venv ($("$PYTHON" --version))"
  "$PYTHON" -m venv .venv
fi

# One hash over every file that decides what is installed.
wanted=$(cat requirements.txt requirements-test.txt pyproject.toml | sha256sum | cut -d' ' -f1)
stamp() { cat ".venv/.moviedash-$1.stamp" 2>/dev/null || true; }
# The test set includes the runtime set, so either stamp satisfies a runtime install.
if [ "$(stamp "$kind")" = "$wanted" ] || { [ "$kind" = runtime ] && [ "$(stamp test)" = "$wanted" ]; }; then
  say ".venv is up to date ($requirements and pyproject.toml unchanged since the last install): pip skipped"
  exit 0
fi

say "installing moviedash and the $kind dependencies ($requirements) into .venv; the first time takes a minute or two..."
started=$SECONDS
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$requirements" -e .
echo "$wanted" > ".venv/.moviedash-$kind.stamp"
say "done in $((SECONDS - started)) s ($(.venv/bin/python -m pip list --disable-pip-version-check 2>/dev/null | tail -n +3 | wc -l) packages in .venv)"
