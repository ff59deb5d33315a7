#!/usr/bin/env bash
# Install (first time) and run the dashboard at http://127.0.0.1:8050.
# Uses $MOVIEDASH_DB or ./moviedb; with neither, a demo database is generated at ./moviedb.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/python app.py
