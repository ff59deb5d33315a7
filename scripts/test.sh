#!/usr/bin/env bash
# Install everything the tests need and run the whole suite, browser tests included.
#   - Debian's chromium + chromium-driver (for dash[testing] and the report exports)
#   - Debian's nginx-light (the reverse-proxy example is tested in front of moviedash)
#   - Debian's nodejs + npm, when missing: the browser suite fetches axe-core with
#     `npm pack` into .cache/ (git-ignored) on its first run
#   - Debian's PostgreSQL server programs: a throwaway cluster is started for the
#     PostgreSQL half of the backend-parametrised tests (unless MOVIEDASH_TEST_PG
#     already names a server), and stopped and removed on exit
#   - the pinned Python packages, runtime and test (requirements-test.txt), into .venv
# Before pytest: `ruff check .` (lint and import order) and `mypy` (types of the
# package), both configured in pyproject.toml; any finding fails the run.
# Extra arguments go to pytest (e.g. scripts/test.sh -k routes).
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

find_pg_bin() {
  # initdb is not on PATH in Debian's packages: it lives in /usr/lib/postgresql/<version>/bin.
  if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return; fi
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n | tail -n 1
}

APT_PACKAGES=()
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  APT_PACKAGES+=(chromium chromium-driver)
fi
# npm fetches axe-core (pinned in tests/browser/conftest.py) for the accessibility tests.
if ! command -v npm >/dev/null 2>&1; then
  APT_PACKAGES+=(nodejs npm)
fi
# Also with MOVIEDASH_TEST_PG set: the server stop/restart tests start their own cluster.
if [ -z "$(find_pg_bin)" ]; then
  APT_PACKAGES+=(postgresql)
fi
# nginx runs the README's reverse-proxy example (docs/deploy/nginx.conf) in front of moviedash.
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  APT_PACKAGES+=(nginx-light)
fi
if [ "${#APT_PACKAGES[@]}" -gt 0 ]; then
  echo "Installing Debian's ${APT_PACKAGES[*]} for the tests..."
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${APT_PACKAGES[@]}"
fi

bash scripts/install.sh --test

echo "ruff check ."
.venv/bin/ruff check .
echo "mypy (moviedash)"
.venv/bin/mypy

if [ -z "${MOVIEDASH_TEST_PG:-}" ]; then
  PG_BIN="$(find_pg_bin)"
  if [ -z "$PG_BIN" ]; then echo "PostgreSQL server programs not found" >&2; exit 1; fi
  # The server refuses to run as root: as root, run it as the postgres user.
  RUN_AS=()
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    RUN_AS=(runuser -u postgres --)
  fi
  PG_DIR="$(mktemp -d /tmp/moviedash-test-pg.XXXXXX)"
  [ "$(id -u)" = 0 ] && chown postgres "$PG_DIR"
  stop_pg() {
    "${RUN_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
  }
  trap stop_pg EXIT
  # Trust authentication is safe here: the server listens on a Unix socket in
  # a private folder only (no TCP), and is thrown away after the run.
  "${RUN_AS[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust --no-sync --no-instructions >/dev/null
  "${RUN_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 start \
    -o "-k $PG_DIR -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >/dev/null
  export MOVIEDASH_TEST_PG="postgresql://postgres@/postgres?host=$PG_DIR"
  echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') for the tests at $MOVIEDASH_TEST_PG"
fi

# Not exec: the trap must stop the cluster after pytest.
status=0
.venv/bin/python -m pytest "$@" || status=$?
exit "$status"
