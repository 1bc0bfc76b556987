#!/usr/bin/env bash
# Install everything the ledger needs into .venv, from nothing. With --for-tests, also the
# real services and tools the tests use, from Debian's packages: the PostgreSQL server,
# Chromium (renders and prints the evidence report), poppler-utils (pdftotext) and faketime
# (a writer whose clock runs behind, in the integrity tests).
# Needs root for those, as on CI and the team's machines.
# Skips the pip step when .venv already holds this pyproject.toml's dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--for-tests" ]; then
  missing=()
  ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)
  command -v faketime >/dev/null 2>&1 || missing+=(faketime)
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
      echo "setup: missing ${missing[*]}; run as root or: apt-get install ${missing[*]}" >&2
      exit 1
    fi
    echo "setup: installing ${missing[*]} from Debian's packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
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
