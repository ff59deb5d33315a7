#!/usr/bin/env bash
# Install everything the tests need and run the whole suite, browser tests included.
#   - Debian's chromium + chromium-driver (for dash[testing] and the report exports)
#   - the pinned Python packages, into .venv
# Extra arguments go to pytest (e.g. scripts/test.sh -k routes).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  echo "Installing Debian's chromium and chromium-driver for the browser tests..."
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium chromium-driver
fi

bash scripts/install.sh
exec .venv/bin/python -m pytest "$@"
