"""The real `ledger` CLI on real databases: a plan built command by command, history, refusals."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime

import pytest
from typer.main import get_command

from ledger.cli.app import app as cli_app
from tests.conftest import Cli, csv_text


def build_plan(cli: Cli) -> None:
    """Item 1.3 of the 2018 plan, as an improvement team would type it."""
    cli("new-plan", "cgip-2018", "--title", "Corporate Governance Improvement Plan",
        "--effective", "2018-07-01")
    cli("add-theme", "1", "Political Leadership", "--description",
        "Effective political and managerial leadership", "--effective", "2018-07-01")
    cli("add-item", "1.3", "--theme", "1", "--aim",
        "Effective, modern governance and decision-making processes", "--effective", "2018-07-01")
    cli("lead", "1.3", "City Solicitor / Deputy Leader", "--effective", "2018-07-01")
    cli("add-outcome", "1.3", "Complete the constitutional review", "--due", "2018-09",
        "--effective", "2018-07-01")
    cli("status", "1.3", "amber", "--effective", "2018-07-31", "--by", "improvement.team")
    cli("update", "1.3", "Constitution revisions on track for November", "--month", "2018-09",
        "--attributed-to", "City Solicitor / Deputy Leader", "--effective", "2018-09-30")
    cli("target", "1.3", "1", "2018-11", "--note", "LEAN review extended",
        "--effective", "2018-09-30", "--by", "auditor.a")


def history(cli: Cli, item: str = "1.3") -> list[dict[str, str]]:
    return list(json.loads(cli("history", item, "--format", "json")))


def test_a_plan_built_with_the_commands_shows_its_full_history(cli: Cli) -> None:
    """Every command's change is in the history with who, both times, what changed and why."""
    before = datetime.now(UTC).replace(microsecond=0)  # recorded_at is to the second
    build_plan(cli)
    after = datetime.now(UTC)
    rows = history(cli)
    assert [r["kind"] for r in rows] == [
        "item_added", "lead_changed", "outcome_added", "rag_changed", "update_recorded",
        "target_moved"]
    move = rows[-1]
    assert move["event"] == "1.3@6"
    assert (move["before"], move["after"]) == ("outcome #1 due 2018-09", "outcome #1 due 2018-11")
    assert (move["by"], move["effective"], move["note"]) == ("auditor.a", "2018-09-30",
                                                              "LEAN review extended")
    assert move["source"].startswith("cli:ledger target 1.3 1 2018-11")
    assert all(before <= datetime.fromisoformat(r["recorded_at"]) <= after for r in rows)
    update = rows[4]
    assert update["attributed_to"] == "City Solicitor / Deputy Leader"
    assert update["by"] == "tester"  # from LEDGER_ACTOR
    assert rows[3]["by"] == "improvement.team"


def test_completion_reopening_and_lead_reassignment(cli: Cli) -> None:
    """complete, reopen and a second lead command each record one event with before/after."""
    build_plan(cli)
    cli("complete", "1.3", "--month", "2018-09", "--effective", "2018-09-30")
    cli("reopen", "1.3", "--note", "LEAN review not finished")
    cli("lead", "1.3", "City Solicitor", "--note", "Deputy Leader stepped back")
    rows = history(cli)
    assert [r["kind"] for r in rows[-3:]] == ["completed", "reopened", "lead_changed"]
    assert (rows[-1]["before"], rows[-1]["after"]) == ("City Solicitor / Deputy Leader",
                                                       "City Solicitor")


def test_a_correction_is_a_new_event_and_the_original_is_marked(cli: Cli) -> None:
    """Correcting 1.3@5 adds 1.3@7 naming it; 1.3@5 stays, marked corrected by 1.3@7."""
    build_plan(cli)
    out = cli("correct", "1.3@5", "--text", "Constitution revisions on track for December",
              "--note", "update misread")
    assert "1.3@7" in out
    rows = history(cli)
    assert len(rows) == 7
    assert rows[4]["after"] == "[2018-09] Constitution revisions on track for November"
    assert rows[4]["corrected_by"] == "1.3@7"
    assert rows[6]["kind"] == "correction"
    assert rows[6]["before"] == "1.3@5 update_recorded"
    assert rows[6]["note"] == "update misread"


@pytest.mark.parametrize(("args", "message"), [
    (["status", "9.9", "red"], "no item 9.9"),
    (["status", "1.3", "purple"], "'purple' is not a RAG status"),
    (["update", "1.3", "text", "--effective", "2018-02-30"], "'2018-02-30' is not a real date"),
    (["update", "1.3", "text", "--month", "2018-13"], "there is no month 13"),
    (["lead", "1.3", "City Solicitor / Deputy Leader"], "already leads item 1.3"),
    (["target", "1.3", "1", "2018-08"], "needs a reason: --note"),
    (["target", "1.3", "4", "2018-12"], "no outcome 4"),
    (["add-item", "2.1", "--theme", "2", "--aim", "x"], "no theme 2"),
    (["correct", "1.3@99", "--note", "x"], "no event 99"),
    (["correct", "1.3", "--note", "x"], "not an event reference"),
    (["reopen", "1.3"], "is not complete"),
    (["update", "1.3", "later", "--effective", "2999-01-01"], "outside"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_written(
    cli: Cli, args: list[str], message: str,
) -> None:
    """Each refusal names the problem on stderr, exits 2, and the history is unchanged."""
    build_plan(cli)
    before = history(cli)
    err = cli(*args, code=2)
    assert message in err
    assert err.startswith("error: ")
    assert len(err.strip().splitlines()) == 1
    assert history(cli) == before


def test_a_missing_ledger_says_run_init(sqlite_url: str) -> None:
    """Commands on a database never initialised exit 2 and point to `ledger init`."""
    err = Cli(sqlite_url)("history", "1.1", code=2)
    assert "ledger init" in err


def test_init_is_safe_to_repeat(cli: Cli) -> None:
    """A second init changes nothing."""
    assert cli("init") == "the ledger was already initialised\n"


def test_two_plans_need_plan(cli: Cli) -> None:
    """With two plans a command without --plan asks which; with it, it works."""
    build_plan(cli)
    cli("new-plan", "kerslake-2015", "--title", "Kerslake action plan")
    assert "--plan" in cli("history", "1.3", code=2)
    assert len(json.loads(cli("--plan", "cgip-2018", "history", "1.3", "-f", "json"))) == 6


def test_json_and_csv_give_the_same_rows_as_the_table(cli: Cli) -> None:
    """history in CSV has the JSON rows exactly; the table has one line per event."""
    build_plan(cli)
    rows = history(cli)
    from_csv = list(csv.DictReader(csv_text(cli("history", "1.3", "--format", "csv"))))
    assert from_csv == rows
    table = cli("history", "1.3")
    assert table.splitlines()[0].split()[:5] == ["event", "recorded_at", "effective", "basis",
                                                 "kind"]
    assert all(f"1.3@{n}" in table for n in range(1, 7))


def test_every_command_is_documented_with_an_example() -> None:
    """Each command's --help has a description and an Example line."""
    group = get_command(cli_app)
    commands = dict(group.commands)  # type: ignore[attr-defined]
    for name, command in list(commands.items()):
        if hasattr(command, "commands"):  # a group: its own commands are the documented ones
            del commands[name]
            commands.update({f"{name} {n}": c for n, c in command.commands.items()})
    assert {"import", "plan", "changes", "projections rebuild"} <= set(commands)
    for name, command in commands.items():
        assert command.help, name
        assert "Example: ledger" in command.help, name
