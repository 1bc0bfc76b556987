#!/usr/bin/env bash
# The main job on the embedded default (SQLite): install, build demo/ledger.db, show history.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
rm -rf demo && mkdir -p demo
export LEDGER_DB="sqlite:///$PWD/demo/ledger.db" LEDGER_ACTOR="${LEDGER_ACTOR:-demo}"
L=.venv/bin/ledger
$L init
$L new-plan cgip-2018 --title "Corporate Governance Improvement Plan" --effective 2018-07-01
$L add-theme 1 "Political Leadership" --effective 2018-07-01 \
  --description "Effective political and managerial leadership, working as a constructive partnership"
$L add-item 1.3 --theme 1 --effective 2018-07-01 \
  --aim "Effective, modern governance and decision-making processes at Full Council and Cabinet"
$L lead 1.3 "City Solicitor / Deputy Leader" --effective 2018-07-01
$L add-outcome 1.3 "Complete the constitutional review" --due 2018-09 --effective 2018-07-01
$L update 1.3 "This will take place as part of LEAN review, on track for constitution revisions for November" \
  --month 2018-09 --attributed-to "City Solicitor / Deputy Leader" --effective 2018-09-30
$L target 1.3 1 2018-11 --note "constitution revisions now due November" --effective 2018-09-30
$L history 1.3
