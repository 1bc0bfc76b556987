"""Importing the real September 2018 edition, then a later edition: facts, diffs, idempotence."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.bootstrap import bootstrap
from ledger.domain.item import Item
from tests.conftest import Cli, Prepared
from tests.editions import SEPTEMBER, write_october

ITEMS = (
    [f"1.{n}" for n in range(1, 11)] + [f"2.{n}" for n in range(1, 8)]
    + [f"3.{n}" for n in range(1, 6)] + [f"4.{n}" for n in range(1, 14)]
    + [f"5.{n}" for n in range(1, 4)] + [f"6.{n}" for n in range(1, 6)]
    + [f"7.{n}" for n in range(1, 4)]
)


def september_imported(cli: Cli) -> None:
    """A new ledger; the September 2018 edition imported through the CLI."""
    cli("init")
    out = cli("import", str(SEPTEMBER), "--by", "improvement.team")
    assert "plan cgip-2018" in out


@pytest.fixture
def imported(backend: str, prepared: Prepared, tmp_path: Path) -> Iterator[Cli]:
    """A copy of a ledger `september_imported` made."""
    with prepared.copy(september_imported, backend, tmp_path) as cli:
        yield cli


def item(cli: Cli, number: str) -> Item:
    return items(cli, number)[number]


def items(cli: Cli, *numbers: str) -> dict[str, Item]:
    """The items, read through one opened ledger (opening one per item is slow)."""
    ledger = bootstrap(cli.db).ledger
    try:
        return {number: ledger.item("cgip-2018", number) for number in numbers}
    finally:
        ledger.close()


def outcome_due(found: Item, words: str) -> tuple[str, str]:
    matches = [o for o in found.state.outcomes.values() if words in o.text]
    assert len(matches) == 1, [o.text for o in found.state.outcomes.values()]
    return matches[0].due, matches[0].baseline_due


def test_the_edition_gives_seven_themes_and_its_46_items(imported: Cli) -> None:
    """7 themes with their titles; items 1.1-1.10 .. 7.1-7.3, in the document's order."""
    ledger = bootstrap(imported.db).ledger
    plan = ledger.plan("cgip-2018")
    ledger.close()
    assert plan.title == "Birmingham City Council Corporate Governance Improvement Plan"
    assert [(t.number, t.title) for t in plan.themes.values()] == [
        ("1", "Political Leadership"),
        ("2", "A Modern and Progressive Organisational Culture"),
        ("3", "Managerial leadership"),
        ("4", "Strategic planning, financial and performance management"),
        ("5", "Key Corporate Policies to enable effective corporate governance"),
        ("6", "City Partnerships"),
        ("7", "Communications and transparency"),
    ]
    assert plan.themes["1"].description.startswith("Effective political and managerial leadership")
    assert list(plan.items) == ITEMS


def test_leads_of_named_items(imported: Cli) -> None:
    """Each lead block's lead, in order, once."""
    assert item(imported, "1.1").state.leads == [
        "ACE with Group Leaders / Deputy Leader", "City Solicitor and Chief Whip"]
    assert item(imported, "1.4").state.leads == ["City Solicitor"]
    assert item(imported, "4.13").state.leads == [
        "Chief Operating Officer, Director of Commissioning and Procurement"]
    # "<b><u>Assistant Director Communications<br/>Chief Operating Officer</u></b>": one joint
    # block before one set of updates, named as the document names its joint leads ("A / B").
    assert item(imported, "7.2").state.leads == [
        "Assistant Director Communications / Chief Operating Officer"]
    # 2.3's cell ends with "<b><u>Chief Executive and Leader</u></b>", the heading of 2.4's
    # updates that the PDF conversion left at the foot of the previous row.
    assert item(imported, "2.3").state.leads == ["HR Director"]
    assert item(imported, "2.4").state.leads == ["Chief Executive and Leader"]


def test_target_months_of_named_outcomes_in_every_shape(imported: Cli) -> None:
    """Bracketed, square-bracketed, bare, `onwards`, two-digit and multi-year targets."""
    assert outcome_due(item(imported, "1.3"), "Complete the constitutional review") == (
        "2018-09", "2018-09")
    assert outcome_due(item(imported, "1.3"), "External audit letter")[0] == "2019-03"
    assert outcome_due(item(imported, "1.1"), "Formal updates against self-assessment")[0] == (
        "2018-08")  # "Commencing in <b>August 2018</b>"
    assert outcome_due(item(imported, "1.2"), "Annual survey of councillors")[0] == "2018-10"
    assert outcome_due(item(imported, "2.4"), "Councillors and officers will be confident")[0] == (
        "2018-09")  # "[Culture dashboard – September 2018]"
    assert outcome_due(item(imported, "2.6"), "Regular insight, intelligence")[0] == (
        "2018-07")  # "(July 2018 onwards)" on its own line
    assert outcome_due(item(imported, "1.3"), "Gap analysis against policy framework")[0] == ""


def test_the_unnumbered_sub_aim_under_6_1_is_kept(imported: Cli) -> None:
    """The statement of partnership values stays with 6.1: its aim, outcome and lead."""
    found = item(imported, "6.1")
    assert "Sub-aim: Statement of partnership values" in found.state.aim
    # "... 'temperature take' evaluation framework (July 2018 onwards) and 6 monthly partner
    # survey (January 2019)": two milestones of one outcome.
    trust = [o for o in found.state.outcomes.values() if "Building trust" in o.text]
    assert [o.due for o in trust] == ["2018-07", "2019-01"]
    assert "Assistant Chief Exec" in found.state.leads


def test_updates_are_attributed_to_their_lead_with_the_month_of_their_tag(imported: Cli) -> None:
    """Item 1.2: one July, one August and three September updates, all its lead's."""
    updates = item(imported, "1.2").state.updates
    assert Counter(u.month for u in updates) == {"2018-07": 1, "2018-08": 1, "2018-09": 3}
    assert {u.attributed_to for u in updates} == {
        "City Solicitor / ACE in concert with Group Leaders / Deputy Leader"}
    assert {u.recorded_by for u in updates} == {"improvement.team"}
    # "Guidance for members on social media being developed," continues on the next page.
    assert any(u.text.startswith("Guidance for members on social media being developed, training "
                                 "to follow") for u in updates)


def test_every_spelling_of_a_month_tag(imported: Cli) -> None:
    """(August / September 2018 updates) is September; (Sept Update) and headings too."""
    months = Counter(u.month for found in items(imported, *ITEMS).values()
                     for u in found.state.updates)
    assert set(months) == {"2018-07", "2018-08", "2018-09", ""}
    assert months["2018-07"] > 40
    assert months[""] == 28  # plain, untagged text: older than the bold update, month unknown
    # 178, not 190: a page break (1.7, 2.3) or a trailing "(September Update)" line under
    # several paragraphs (6.4, 6.5) or a list after its ":" (7.1) no longer splits an update.
    assert sum(months.values()) == 178
    found = item(imported, "4.12").state.updates
    assert any(u.text.startswith("2018-19 Transition plan currently on track") and
               u.month == "2018-09" for u in found)  # under a "September Update:" heading


def test_updates_take_effect_at_the_end_of_their_month(imported: Cli) -> None:
    """A July update is effective 31 July 2018 (stated by its tag); the structure from 30
    September, the end of the month of the edition that reports it."""
    rows = json.loads(imported("history", "1.2", "--format", "json"))
    assert (rows[0]["effective"], rows[0]["basis"]) == ("2018-09-30", "reported")
    july = [r for r in rows if r["after"].startswith("[2018-07]")]
    assert [r["effective"] for r in july] == ["2018-07-31"]
    assert rows[0]["source"].startswith("cgip-2018-09-september-update.md#L12 sha256:")


def test_completed_items_are_those_whose_every_lead_block_says_so(imported: Cli) -> None:
    """3.2 and 4.9 are complete; 1.3 is not (one block still open). Not 1.10: its "Deputy
    Leader and CMT" block still reports, in September, "Further planned for the beginning of
    October". Not 2.6: "Some changes made to performance reporting with further improvements
    to be implemented COMPLETE" is plain untagged text (older than its August update) and
    still plans work."""
    complete = {n: found.state.completed_month for n, found in items(imported, *ITEMS).items()
                if found.state.complete}
    assert complete == {"3.2": "2018-09", "4.9": "2018-08"}


def test_no_rag_is_invented(imported: Cli) -> None:
    """The text states no RAG in words, so no item has one."""
    assert {found.state.rag for found in items(imported, *ITEMS).values()} == {""}


def test_importing_the_same_edition_again_records_nothing(imported: Cli) -> None:
    """The same file again (same SHA-256) records nothing and says so; history unchanged."""
    before = imported("history", "1.3", "--format", "json")
    again = imported("import", str(SEPTEMBER))
    assert "was imported already, as edition 2018-09" in again
    assert "nothing recorded" in again
    assert imported("history", "1.3", "--format", "json") == before


def test_a_later_edition_records_exactly_its_changes(imported: Cli, tmp_path: Path) -> None:
    """October: a slip, a reassignment, a completion, a new item, new updates; noise ignored."""
    october = write_october(tmp_path)
    dry = imported("import", str(october), "--dry-run")
    assert "would record 10 events" in dry  # 8 item events, the item filed, the edition
    out = imported("import", str(october), "--by", "improvement.team")
    assert "recorded 10 events" in out
    assert ("1 item_added, 1 outcome_added, 2 lead_changed, 2 update_recorded, 1 target_moved, "
            "1 completed\n") in out
    assert outcome_due(item(imported, "1.3"), "Complete the constitutional review") == (
        "2018-11", "2018-09")
    move = json.loads(imported("history", "1.3", "--format", "json"))[-1]
    assert (move["kind"], move["effective"]) == ("target_moved", "2018-10-31")
    assert move["note"] == "edition 2018-10 states November 2018"
    assert item(imported, "1.6").state.leads == ["Monitoring Officer"]
    assert item(imported, "2.1").state.completed_month == "2018-09"
    new = item(imported, "7.4").state
    assert (new.leads, [u.month for u in new.updates]) == (["Assistant Chief Executive"],
                                                           ["2018-10"])
    assert [u.text for u in item(imported, "2.2").state.updates][-1].startswith(
        "Workforce strategy consultation opened")
    assert "was imported already" in imported("import", str(october))


def test_an_item_missing_from_an_edition_is_reported_not_withdrawn(
    imported: Cli, tmp_path: Path,
) -> None:
    """Drop item 5.3: the import says so and records nothing; --withdraw-missing records it."""
    text = SEPTEMBER.read_text(encoding="utf-8").replace("**September Update 2018**",
                                                         "**October Update 2018**")
    lines = [line for line in text.split("\n") if not line.startswith("| 5.3 ")]
    path = tmp_path / "october-without-5.3.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    out = imported("import", str(path))
    assert "not in this edition: item 5.3" in out
    assert "recorded 0 events" in out
    assert not item(imported, "5.3").state.withdrawn
    imported("import", str(path), "--withdraw-missing")
    assert item(imported, "5.3").state.withdrawn
