"""Importing the 2015 action plan and structured CSV plans through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

from ledger.bootstrap import bootstrap
from tests.conftest import Cli
from tests.editions import KERSLAKE


def test_the_2015_action_plan_gives_5_themes_and_112_actions(cli: Cli) -> None:
    """27, 29, 16, 14 and 26 actions under five action plans; the counts of what was read."""
    out = cli("import", str(KERSLAKE))
    assert "plan kerslake-2015" in out
    assert "of 115 actions, 115 got a timescale and 64 a responsible officer" in out
    assert "action 2.7 (line 468): responsible officer unknown" in out
    ledger = bootstrap(cli.db).ledger
    plan = ledger.plan("kerslake-2015")
    per_theme = [sum(1 for theme in plan.items.values() if theme == t) for t in "12345"]
    assert per_theme == [27, 29, 16, 17, 26]  # 4.6a-c are items too
    assert plan.themes["4"].title == "SIZE AND STRUCTURE"
    assert plan.themes["4"].description == (
        "Sub-theme: DEVOLUTION, ADMINISTRATION and LOCAL DELIVERY. "
        "Kerslake references: Rec. 4, 7, 10")
    action = ledger.item("kerslake-2015", "1.2").state
    assert action.aim.startswith("Consult a sample of members and officers")
    assert [(o.due, o.due_label) for o in action.outcomes.values()] == [("2015-03", "Mar-15")]
    seasonal = ledger.item("kerslake-2015", "4.9").state
    assert [(o.due, o.due_label) for o in seasonal.outcomes.values()] == [("2015-05", "Spring 15")]
    winter = ledger.item("kerslake-2015", "1.11").state
    assert [o.due for o in winter.outcomes.values()] == ["2016-02"]  # Winter 15 ends Feb 2016
    first = ledger.item("kerslake-2015", "1.1").state
    assert ([o.due_label for o in first.outcomes.values()], first.leads) == (
        ["Feb-15"], ["Director Legal Services"])
    ledger.close()
    assert "was imported already" in cli("--plan", "kerslake-2015", "import", str(KERSLAKE))


PLAN_CSV = "\n".join([
    "plan,theme,theme_title,item,aim,outcome,due,lead,rag,update,update_month,complete",
    "housing-2024,1,Repairs,1.1,Repairs done right first time,Backlog cleared,2024-06,"
    "Director of Housing,amber,Backlog at 900 jobs,2024-03,",
    "housing-2024,1,Repairs,1.1,Repairs done right first time,Survey of tenants,2024-09,,,,,",
    "housing-2024,2,Rents,2.1,Fair rents,Rent policy agreed,2024-04,"
    "Chief Finance Officer;Cabinet Member,,Policy agreed at Cabinet,2024-04,yes",
]) + "\n"


def test_a_structured_csv_plan_imports_items_outcomes_leads_rag_and_updates(
    cli: Cli, tmp_path: Path,
) -> None:
    """Two themes, two items, three outcomes; RAG only where given; completion from `complete`."""
    path = tmp_path / "housing.csv"
    path.write_text(PLAN_CSV, encoding="utf-8")
    out = cli("import", str(path), "--edition", "2024-04")
    assert "plan housing-2024" in out
    ledger = bootstrap(cli.db).ledger
    first = ledger.item("housing-2024", "1.1").state
    assert [(o.text, o.due) for o in first.outcomes.values()] == [
        ("Backlog cleared", "2024-06"), ("Survey of tenants", "2024-09")]
    assert (first.leads, first.rag) == (["Director of Housing"], "amber")
    second = ledger.item("housing-2024", "2.1").state
    assert second.leads == ["Chief Finance Officer", "Cabinet Member"]
    assert (second.complete, second.completed_month) == (True, "2024-04")
    ledger.close()
    rows = json.loads(cli("--plan", "housing-2024", "history", "1.1", "-f", "json"))
    # Reported by the April 2024 edition: in force from its month end (not backdated).
    assert (rows[0]["effective"], rows[0]["basis"]) == ("2024-04-30", "reported")


def test_a_structured_plan_edited_by_hand_records_the_slip(cli: Cli, tmp_path: Path) -> None:
    """The same CSV a month later with one due month moved: exactly one target move."""
    path = tmp_path / "housing.csv"
    path.write_text(PLAN_CSV, encoding="utf-8")
    cli("import", str(path), "--edition", "2024-04")
    path.write_text(PLAN_CSV.replace("Backlog cleared,2024-06", "Backlog cleared,2024-08"),
                    encoding="utf-8")
    out = cli("import", str(path), "--edition", "2024-05")
    assert "recorded 2 events" in out  # the move and the edition's record
    assert "1 target_moved" in out
