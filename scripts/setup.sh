#!/usr/bin/env bash
# Install everything the ledger needs into .venv, from nothing. With --with-postgres, also
# Debian's PostgreSQL server for the tests (needs root, as on CI and the team's machines).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--with-postgres" ] && ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: PostgreSQL is not installed; run as root or: apt-get install postgresql" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -m pip install -q -e ".[dev]" 2>&1 | grep -v -i "^warning" || true
.venv/bin/ledger --help >/dev/null
