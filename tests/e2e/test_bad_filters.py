"""Bad filters are errors: a filter naming nothing the plan holds, an empty range, an argument
that is not UTF-8 or a moment off the calendar is exit 2 with one line, never an empty answer
or a traceback. And the small things an auditor asks of the CLI: --by on part of a name,
outcome numbers, ITEM@N on every change, --version, completion, import from stdin."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.editions import SEPTEMBER

LEDGER = str(Path(sys.executable).parent / "ledger")


@pytest.fixture
def september(cli: Cli) -> Cli:
    """The real September 2018 edition, plus one hand update of 1.3 by the Monitoring Officer."""
    cli("import", str(SEPTEMBER), "--by", "improvement.team")
    cli("--plan", "cgip-2018", "update", "1.3", "Constitution review extended to November",
        "--month", "2018-09", "--effective", "2018-09-30", "--by", "Monitoring Officer")
    return cli


@pytest.mark.parametrize(("args", "said"), [
    (("plan", "--item", "1.33"), "plan cgip-2018 has no item 1.33; did you mean 1.3?"),
    (("plan", "--theme", "9"), "plan cgip-2018 has no theme 9 (themes: 1, 2, 3, 4, 5, 6, 7)"),
    (("slippage", "--item", "4.99"), "plan cgip-2018 has no item 4.99; did you mean 4.9?"),
    (("changes", "--item", "1.33"), "plan cgip-2018 has no item 1.33; did you mean 1.3?"),
    (("changes", "--kind", "target_move"),
     "no change is of kind target_move; did you mean target_moved? (kinds: completed, "),
    (("snapshots", "--from", "2018-09", "--to", "2018-07"),
     "--from and --to: 2018-07 is before 2018-09, so the range is empty"),
    (("changes", "--since", "2018-09-01", "--until", "2018-08-01"),
     "--since and --until: 2018-08-01 is before 2018-09-01, so the range is empty"),
    (("plan", "--known-at", "0001-01-01T00:00:00+01:00"),
     "'0001-01-01T00:00:00+01:00': year 1 is outside 1900-2200"),
    (("history", "1.33"), "plan cgip-2018 has no item 1.33; did you mean 1.3?"),
    (("target", "1.3", "99", "2018-11", "--note", "x"),
     "item 1.3 has no outcome 99 (outcomes: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13)"),
])
def test_a_bad_filter_is_exit_2_with_one_line(september: Cli, args: tuple[str, ...],
                                              said: str) -> None:
    """Each is refused (exit 2) in one line on stderr that names the problem and, where a
    name is close, suggests it."""
    err = september("--plan", "cgip-2018", *args, code=2)
    assert err.count("\n") == 1
    assert err.startswith(f"error: {said}")


def test_an_unknown_plan_is_suggested(september: Cli) -> None:
    """--plan cgip-2019: the ledger names the plan it holds and suggests it."""
    err = september("--plan", "cgip-2019", "plan", code=2)
    assert err == ("error: the ledger holds no plan cgip-2019 (plans: cgip-2018); "
                   "did you mean cgip-2018?\n")


def test_by_matches_part_of_a_name_in_any_case(september: Cli) -> None:
    """`--by "MONITORING off"` finds the Monitoring Officer's update alone; `--by officer` also
    the 35 updates attributed to officers ("Chief Finance Officer", ...);
    `--by IMPROVEMENT` the import."""
    found = json.loads(september("--plan", "cgip-2018", "changes", "--by", "MONITORING off",
                                 "--format", "json"))
    assert [(r["ref"], r["by"], r["after"]) for r in found] == [
        ("1.3@28", "Monitoring Officer", "[2018-09] Constitution review extended to November")]
    officers = json.loads(september("--plan", "cgip-2018", "changes", "--by", "officer",
                                    "--format", "json"))
    assert found[0] in officers
    assert len(officers) == 36  # 35 updates attributed to officers, and the hand update
    assert all("officer" in (r["by"] + r["attributed_to"]).lower() for r in officers)
    imported = json.loads(september("--plan", "cgip-2018", "changes", "--by", "IMPROVEMENT",
                                    "--item", "1.3", "--format", "json"))
    assert len(imported) == 27
    assert {r["by"] for r in imported} == {"improvement.team"}


def test_changes_carry_the_ref_that_history_and_correct_use(september: Cli) -> None:
    """Every change of 1.3 names its event as `history` does (1.3@1 … 1.3@28), and `correct`
    accepts the reference of the hand update."""
    changes = json.loads(september("--plan", "cgip-2018", "changes", "--item", "1.3",
                                   "--format", "json"))
    history = {r["event"]: r for r in json.loads(september(
        "--plan", "cgip-2018", "history", "1.3", "--format", "json"))}
    assert [r["ref"] for r in changes] == [f"1.3@{n}" for n in range(1, 29)]
    for change in changes:
        assert history[change["ref"]]["kind"] == change["kind"]
        assert history[change["ref"]]["after"] == change["after"]
    september("--plan", "cgip-2018", "correct", changes[-1]["ref"], "--note", "typed twice")
    after = json.loads(september("--plan", "cgip-2018", "changes", "--item", "1.3",
                                 "--format", "json"))
    assert after[27]["corrected_by"] == "1.3@29"


def test_plan_json_numbers_each_outcome(september: Cli) -> None:
    """1.3's outcomes carry the number `target` takes: 2 is the June 2018 Council Plan."""
    row = json.loads(september("--plan", "cgip-2018", "plan", "--item", "1.3",
                               "--format", "json"))[0]
    assert [o["number"] for o in row["outcomes"]] == list(range(1, 14))
    assert row["outcomes"][1]["text"] == "New Council Plan and Performance Framework (June 2018)"


def test_an_argument_that_is_not_utf8_is_exit_2(cli: Cli) -> None:
    """`ledger plan --item caf\\xe9` (Latin-1 bytes from a shell): one line, no traceback."""
    done = subprocess.run([LEDGER.encode(), b"--db", cli.db.encode(), b"plan", b"--item",
                           b"caf\xe9"], capture_output=True, check=False, timeout=60)
    assert done.returncode == 2
    assert done.stderr == b"error: the argument 'caf\\xe9' is not valid UTF-8\n"


def test_version_and_completion(cli: Cli) -> None:
    """`ledger --version` prints the version; typer's completion completes `pla` to plan."""
    assert cli("--version") == "ledger 0.1.0\n"
    done = subprocess.run([LEDGER], capture_output=True, text=True, check=False, timeout=60,
                          env={"COMP_WORDS": "ledger pla", "COMP_CWORD": "1",
                               "_LEDGER_COMPLETE": "complete_bash", "PATH": "/usr/bin:/bin"})
    assert done.stdout.split() == ["plan"]


def test_import_reads_standard_input(cli: Cli) -> None:
    """`ledger import - --edition 2018-09 --name NAME` imports the September edition from a
    pipe, its events citing NAME; without --edition or --name it is refused."""
    data = SEPTEMBER.read_bytes()
    base = [LEDGER, "--db", cli.db, "import", "-"]
    refused = subprocess.run(base, input=data, capture_output=True, check=False, timeout=60)
    assert refused.returncode == 2
    assert refused.stderr == (b"error: import - reads standard input: name the document with "
                              b"--edition YYYY-MM and --name FILE\n")
    done = subprocess.run([*base, "--edition", "2018-09", "--name", "sept.md", "--by", "clerk"],
                          input=data, capture_output=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    assert b"sept.md (sha256 640e3c16bf52" in done.stdout
    assert b"recorded 480 events" in done.stdout
    editions = json.loads(cli("editions", "--format", "json"))
    assert [(e["edition"], e["file"], e["sha256"], e["events"]) for e in editions] == [
        ("2018-09", "sept.md", hashlib.sha256(data).hexdigest(), 480)]
