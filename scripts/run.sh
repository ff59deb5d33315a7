#!/usr/bin/env bash
# Install (first time, or when the requirements changed) and run the dashboard at
# http://127.0.0.1:8050. Installs only what the dashboard needs, not the test tools.
# Uses $MOVIEDASH_DB or ./moviedb; with neither, a demo database is generated at ./moviedb.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
echo "run: starting the dashboard (python app.py)"
exec .venv/bin/python app.py
