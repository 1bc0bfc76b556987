#!/usr/bin/env bash
# The test command: installs what is missing, starts a throwaway PostgreSQL, runs every test
# on SQLite and on PostgreSQL, stops the server, and fails if no PostgreSQL test passed.
# Two pytest-xdist workers (LEDGER_TEST_WORKERS; `-n 0` after it runs in one process): each
# has its own databases and temporary files; tests/conftest.py says how work is shared out.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --for-tests
# Temporary files (each test's SQLite ledgers and packs, the server's data directory) go to
# memory where the machine has it (/dev/shm; LEDGER_TEST_TMPDIR=DIR chooses): the ledger
# syncs its file at every commit and every schema statement, and on a disk those waits were
# most of an `init` and half of a `verify`. The code under test syncs just the same.
scratch=""
if [ -n "${LEDGER_TEST_TMPDIR:-}" ]; then
  export TMPDIR="$LEDGER_TEST_TMPDIR"
elif [ -d /dev/shm ] && [ -w /dev/shm ]; then
  scratch=$(mktemp -d /dev/shm/ledger-tests.XXXXXX)
  chmod 755 "$scratch"  # the server may run as another user (scripts/pg.sh)
  export TMPDIR="$scratch"
fi
pgdir=$(mktemp -d -u "${TMPDIR:-/tmp}/ledger-pg.XXXXXX")
trap 'bash scripts/pg.sh stop "$pgdir"; [ -z "$scratch" ] || rm -rf "$scratch"' EXIT
LEDGER_TEST_PG_URL=$(LEDGER_PG_PORT=${LEDGER_PG_PORT:-54330} bash scripts/pg.sh start "$pgdir")
export LEDGER_TEST_PG_URL
unset LEDGER_TEST_BACKENDS
report=$(mktemp "${TMPDIR:-/tmp}/ledger-junit.XXXXXX.xml")
status=0
.venv/bin/python -m pytest -p no:cacheprovider -n "${LEDGER_TEST_WORKERS:-2}" \
  --junitxml="$report" "$@" || status=$?
# A PostgreSQL test that was skipped or never collected is not a pass.
.venv/bin/python - "$report" <<'PY' || status=1
import sys, xml.etree.ElementTree as ET
cases = ET.parse(sys.argv[1]).getroot().iter("testcase")
# By its id (module, class, name; any case): a contract class such as
# TestChainedRecorderPostgres names its backend once for all its tests.
pg = [c for c in cases
      if "postgres" in f'{c.get("classname", "")}::{c.get("name", "")}'.lower()]
bad = [c for c in pg if len(c)]  # a child element is a failure, error or skip
print(f"postgres: {len(pg) - len(bad)} passed, {len(bad)} failed")
sys.exit(0 if pg and not bad else 1)
PY
rm -f "$report"
exit $status
