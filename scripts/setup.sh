#!/usr/bin/env bash
# Install everything the ledger needs into .venv, from nothing. With --with-postgres, also
# Debian's PostgreSQL server for the tests (needs root, as on CI and the team's machines).
# Skips the pip step when .venv already holds this pyproject.toml's dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--with-postgres" ] && ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: PostgreSQL is not installed; run as root or: apt-get install postgresql" >&2
    exit 1
  fi
  echo "setup: installing PostgreSQL from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
stamp=.venv/.ledger-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing ledger and its dependencies into .venv" >&2
  log=$(mktemp)
  if ! .venv/bin/python -m pip install -q -e ".[dev]" >"$log" 2>&1; then
    cat "$log" >&2; rm -f "$log"; exit 1
  fi
  rm -f "$log"
  echo "$want" > "$stamp"
fi
.venv/bin/ledger --help >/dev/null
