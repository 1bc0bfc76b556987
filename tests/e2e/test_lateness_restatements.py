"""Lateness that means something (a change is late by the time from when it took effect to when
it was first reported), and `ledger restatements`: what was reported for a month beside what is
known now, on the real September 2018 edition and the October one built from it."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli, stored_events
from tests.editions import KERSLAKE, SEPTEMBER, write_october
from tests.integrity.attack import execute, scalar

REVIEW = "Complete the constitutional review"
# Item 1.2 of the September edition, line 12: an update tagged July, first printed in September.
JULY_UPDATE = ("Revised group leaders meeting cycle in place with structured agenda "
               "(July 2018 Update)")
# Item 1.4 of the September edition: an update tagged August.
AUGUST_UPDATE = "The O&S Committees have developed work programmes"


def rows_of(cli: Cli, *args: str) -> list[dict[str, Any]]:
    return list(json.loads(cli("--plan", "cgip-2018", *args, "--format", "json")))


def three_years_ago() -> date:
    today = date.today()
    return today.replace(year=today.year - 3, day=min(today.day, 28))


@pytest.fixture
def september(cli: Cli) -> Cli:
    """The real September 2018 edition, imported by the improvement team."""
    cli("import", str(SEPTEMBER), "--by", "improvement.team")
    return cli


def test_only_the_hand_entry_backdated_three_years_is_over_a_year_late(september: Cli,
                                                                       tmp_path: Path) -> None:
    """The September and October editions (imported in 2026 for 2018) and the 2015 action plan,
    plus one hand update of 1.3 effective three years ago: `changes --late --late-days 365`
    lists exactly that entry; no imported change is a year late (an edition reports at its
    month end)."""
    september("import", str(write_october(tmp_path)), "--by", "improvement.team")
    september("import", str(KERSLAKE), "--by", "improvement.team")
    kerslake = json.loads(september("--plan", "kerslake-2015", "changes", "--format", "json"))
    assert len(kerslake) > 200
    assert json.loads(september("--plan", "kerslake-2015", "changes", "--late", "--late-days",
                                "365", "--format", "json")) == []
    backdated = three_years_ago()
    september("--plan", "cgip-2018", "update", "1.3", "Review papers found in the archive",
              "--effective", backdated.isoformat(), "--by", "audit.lead")
    everything = rows_of(september, "changes")
    assert len(everything) > 400
    assert max(r["days_late"] for r in everything if r["source_kind"] == "import") < 365
    late = rows_of(september, "changes", "--late", "--late-days", "365")
    assert late == rows_of(september, "changes", "--source", "cli")
    assert [(r["item"], r["kind"], r["after"]) for r in late] == [
        ("1.3", "update_recorded",
         f"[{backdated.isoformat()[:7]}] Review papers found in the archive")]
    (entry,) = late
    assert entry["source_kind"] == "cli"
    assert entry["reported"] == entry["recorded_at"][:10]
    assert entry["days_late"] == (date.fromisoformat(entry["reported"]) - backdated).days
    assert entry["days_late"] >= 3 * 365
    # `log` takes the same filters and says the same
    logged = json.loads(september("--plan", "cgip-2018", "log", "--late", "--late-days", "365",
                                  "--format", "json"))
    assert [(r["ref"], r["days_late"], r["source_kind"]) for r in logged] == [
        (entry["ref"], entry["days_late"], "cli")]


def test_an_update_tagged_july_in_the_september_edition_is_61_days_late(september: Cli) -> None:
    """1.2's "Revised group leaders meeting cycle in place with structured agenda (July 2018
    Update)" took effect at July's end and was first reported at September's: 61 days late,
    by an import; the edition's own September facts are 0 days late."""
    rows = rows_of(september, "changes", "--item", "1.2")
    (july,) = [r for r in rows if JULY_UPDATE in r["after"]]
    assert (july["effective"], july["reported"], july["days_late"]) == (
        "2018-07-31", "2018-09-30", 61)
    assert (july["source_kind"], july["edition"], july["basis"]) == ("import", "2018-09", "stated")
    assert july["source"].startswith("cgip-2018-09-september-update.md#L12 ")
    added = next(r for r in rows if r["kind"] == "item_added")
    assert (added["effective"], added["days_late"]) == ("2018-09-30", 0)
    # --late (default: over 31 days) keeps the July update and leaves out the August ones
    late = rows_of(september, "changes", "--item", "1.2", "--late")
    assert JULY_UPDATE in " ".join(r["after"] for r in late)
    assert {r["days_late"] for r in late} == {61}


def test_source_tells_imports_from_hand_entries(september: Cli) -> None:
    """`--source cli` lists only what was typed, `--source import` only what editions reported;
    CSV carries the same reported, days_late and source_kind columns."""
    september("--plan", "cgip-2018", "status", "1.4", "amber", "--effective", "2018-09-20",
              "--by", "audit.lead")
    typed = rows_of(september, "changes", "--source", "cli")
    assert [(r["ref"], r["kind"], r["after"], r["by"]) for r in typed] == [
        ("1.4@12", "rag_changed", "amber", "audit.lead")]
    imported = rows_of(september, "changes", "--source", "import")
    assert imported
    assert {r["source_kind"] for r in imported} == {"import"}
    assert all(r["source"].startswith("cgip-2018-09-september-update.md#L") for r in imported)
    assert len(imported) + 1 == len(rows_of(september, "changes"))
    text = september("--plan", "cgip-2018", "changes", "--source", "cli", "--format", "csv")
    (row,) = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    assert (row["reported"], row["days_late"], row["source_kind"]) == (
        typed[0]["reported"], str(typed[0]["days_late"]), "cli")


def test_an_unknown_source_is_refused_with_a_suggestion(september: Cli) -> None:
    """`--source imports` is exit 2, one line naming the choices and suggesting `import`;
    nothing is written."""
    before = stored_events(september.db)
    err = september("--plan", "cgip-2018", "changes", "--source", "imports", code=2)
    assert err == ("error: no change has source imports; did you mean import? "
                   "(sources: cli, import)\n")
    err = september("--plan", "cgip-2018", "log", "--source", "hand", code=2)
    assert err.startswith("error: no change has source hand")
    assert stored_events(september.db) == before


@pytest.fixture
def restated(september: Cli, tmp_path: Path) -> Cli:
    """After the September edition: hand corrections of September recorded later, then the
    October edition (which states 2.1's September update complete)."""
    cli = september
    moved = next(r for r in rows_of(cli, "history", "1.4") if AUGUST_UPDATE in r["after"])
    assert moved["after"].startswith("[2018-08] ")
    cli("--plan", "cgip-2018", "correct", moved["event"], "--month", "2018-07", "--note",
        "the work programmes update was July's", "--by", "audit.lead")
    cli("--plan", "cgip-2018", "status", "1.4", "amber", "--effective", "2018-09-20",
        "--by", "audit.lead")
    review = next(r for r in rows_of(cli, "slippage", "--item", "1.3")
                  if r["outcome"].startswith(REVIEW))
    cli("--plan", "cgip-2018", "target", "1.3", str(review["outcome_no"]), "2018-12",
        "--effective", "2018-09-30", "--note", "Cabinet deferred the review in September",
        "--by", "audit.lead")
    cli("import", str(write_october(tmp_path)), "--by", "improvement.team")
    return cli


def test_restatements_name_exactly_the_facts_changed_after_the_september_report(
        restated: Cli) -> None:
    """`restatements --month 2018-09`: the plan on 30 September 2018 as known at the import of
    the September edition beside as known now. Exactly the hand RAG of 1.4, 1.3's review
    target, the corrected month of 1.4's August update (and the October edition stating it as
    August's again, after the correction), and 2.1's completion (with its derived status)
    that the October edition states for September; October's own changes (the review
    slipping to November, 1.6's new lead) are not about September."""
    rows = rows_of(restated, "restatements", "--month", "2018-09")
    review_fact = next(r["fact"] for r in rows if r["item"] == "1.3")
    assert review_fact.endswith(" target")
    assert [(r["item"], r["fact"]) for r in rows] == [
        ("1.3", review_fact), ("1.4", "RAG"), ("1.4", "update"), ("1.4", "update"),
        ("2.1", "completion"), ("2.1", "status (derived)")]
    target, rag, corrected, again, done, status = rows
    assert (target["as_reported"], target["as_now"]) == ("2018-09", "2018-12")
    assert target["note"] == "Cabinet deferred the review in September"
    assert (target["kind"], target["effective"], target["by"]) == (
        "target_moved", "2018-09-30", "audit.lead")
    assert " " not in target["refs"]  # one event restated it
    assert (rag["as_reported"], rag["as_now"], rag["by"], rag["kind"]) == (
        "", "amber", "audit.lead", "rag_changed")
    assert rag["source"].startswith("cli:ledger status 1.4 amber")
    assert corrected["as_reported"].startswith(f"[2018-08] {AUGUST_UPDATE}")
    assert corrected["as_now"].startswith(f"[2018-07] {AUGUST_UPDATE}")
    assert (corrected["kind"], corrected["note"]) == (
        "correction", "the work programmes update was July's")
    assert (again["as_reported"], again["kind"]) == ("", "update_recorded")
    assert again["as_now"].startswith(f"[2018-08] {AUGUST_UPDATE}")
    assert again["source"].startswith("cgip-2018-10-october-update.md#L")
    assert (done["as_reported"], done["as_now"]) == ("not complete", "complete (2018-09)")
    assert (done["kind"], done["by"], done["basis"]) == ("completed", "improvement.team", "stated")
    assert done["source"].startswith("cgip-2018-10-october-update.md#L")
    assert (status["as_now"], status["refs"]) == ("Complete", done["refs"])
    # every restating event was recorded after the report, which was the September import
    edition = next(e for e in rows_of(restated, "editions") if e["edition"] == "2018-09")
    assert {r["reported_at"] for r in rows} == {edition["imported_at"]}
    assert all(r["recorded_at"] > edition["imported_at"] for r in rows)


def test_restatements_as_known_before_october_and_for_october(restated: Cli) -> None:
    """Known at a moment before the October import, September's restatements are only the hand
    ones; October's report (its import, after the hand entries) has nothing restated until a
    later hand entry for October's end."""
    changes = rows_of(restated, "changes")
    october_import = min(r["recorded_at"] for r in changes if r["edition"] == "2018-10")
    before = max(r["recorded_at"] for r in changes if r["source_kind"] == "cli")
    assert before < october_import
    rows = rows_of(restated, "restatements", "--month", "2018-09", "--known-at", before)
    assert {r["item"] for r in rows} == {"1.3", "1.4"}
    assert rows_of(restated, "restatements", "--month", "2018-10") == []
    restated("--plan", "cgip-2018", "lead", "1.6", "City Solicitor", "--replace",
             "Monitoring Officer", "--effective", "2018-10-31", "--note",
             "the October edition named the wrong officer", "--by", "audit.lead")
    (lead,) = rows_of(restated, "restatements", "--month", "2018-10")
    assert (lead["item"], lead["fact"], lead["as_reported"], lead["as_now"]) == (
        "1.6", "lead", "Monitoring Officer", "City Solicitor")
    assert lead["note"] == "the October edition named the wrong officer"


def test_a_month_without_an_edition_is_reported_at_its_end(cli: Cli) -> None:
    """A plan kept by hand: this month's report is the plan as known at the month's end, so
    entries recorded within it are reported, not restated; an earlier month, before anything
    was recorded, had nothing reported (exit 2)."""
    today = date.today()
    first = today.replace(day=1).isoformat()
    cli("new-plan", "housing", "--title", "Housing improvement plan", "--effective", first)
    cli("--plan", "housing", "add-theme", "1", "Repairs", "--effective", first)
    cli("--plan", "housing", "add-item", "1.1", "--theme", "1", "--aim",
        "Repairs done right first time", "--effective", first)
    cli("--plan", "housing", "status", "1.1", "red", "--effective", first)
    month = first[:7]
    assert json.loads(cli("--plan", "housing", "restatements", "--month", month,
                          "--format", "json")) == []
    earlier = date.fromordinal(today.replace(day=1).toordinal() - 1).isoformat()[:7]
    err = cli("--plan", "housing", "restatements", "--month", earlier, code=2)
    assert err.startswith(f"error: nothing was reported for {earlier}: plan housing had no item")


@pytest.mark.parametrize(("month", "message"), [
    ("2018-13", "error: '2018-13': there is no month 13\n"),
    ("September", "error: 'September' is not a month: use YYYY-MM\n"),
    ("2199-01", "error: 2199-01 is in the future: nothing can have been reported for it yet\n"),
    ("2015-01", "error: nothing was reported for 2015-01: plan cgip-2018 had no item on "
                "2015-01-31 as known at "),
])
def test_a_bad_future_or_empty_month_is_refused(september: Cli, month: str,
                                                message: str) -> None:
    """A month that is not one, one yet to come, or one the plan reported nothing for: exit 2,
    one line, nothing written."""
    before = stored_events(september.db)
    err = september("--plan", "cgip-2018", "restatements", "--month", month, code=2)
    assert err.startswith(message)
    assert err.count("\n") == 1
    assert stored_events(september.db) == before


def test_known_at_before_the_report_is_refused(september: Cli) -> None:
    """`--known-at` earlier than the September report itself has no "now" to compare: exit 2."""
    err = september("--plan", "cgip-2018", "restatements", "--month", "2018-09", "--known-at",
                    "2019-01-01", code=2)
    assert err.startswith("error: --known-at 2019-01-01 is before the report for 2018-09 (")


def test_init_brings_a_change_log_without_editions_up_to_date(september: Cli) -> None:
    """A ledger whose change log predates the `edition` column: a query says so in one line
    (exit 2) and names `ledger init`; `init` adds it, the read models are derived again from
    the events, the July update is 61 days late, and `verify` finds the read models agree
    with the events."""
    execute(september.db, "ALTER TABLE proj_changes DROP COLUMN edition")
    said = september("--plan", "cgip-2018", "changes", "--item", "1.2", code=2)
    assert said == ("error: the read models were made by an older version of ledger "
                    "(proj_changes.edition is missing): run `ledger init`, which brings them up "
                    "to date (it touches no event; the next query derives them again)\n")
    september("init")
    assert scalar(september.db, "SELECT count(*) FROM proj_changes") == 0  # derived again
    rows = rows_of(september, "changes", "--item", "1.2")
    (july,) = [r for r in rows if JULY_UPDATE in r["after"]]
    assert (july["edition"], july["days_late"], july["source_kind"]) == ("2018-09", 61, "import")
    assert "the read models agree with the events" in september("verify")
