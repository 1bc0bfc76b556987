"""The auditors' queries on the imported seeds: as of a date, as known at a moment, slips."""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from ledger.bootstrap import bootstrap
from ledger.domain.values import When
from ledger.export.flat import iso_target
from projections import schema
from tests.conftest import Cli, Prepared, csv_text
from tests.editions import KERSLAKE, SEPTEMBER, write_october


def rows(cli: Cli, *args: str) -> list[dict[str, Any]]:
    return list(json.loads(cli("--plan", "cgip-2018", *args, "--format", "json")))


def by_item(found: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["item"]: r for r in found}


def both_imported(cli: Cli) -> None:
    """A new ledger; the September 2018 edition and the 2015 action plan imported."""
    cli("init")
    cli("import", str(SEPTEMBER), "--by", "improvement.team")
    cli("import", str(KERSLAKE), "--by", "improvement.team")


def both_imported_and_projected(cli: Cli) -> None:
    """`both_imported`, and the read models caught up, as the first query would."""
    both_imported(cli)
    cli("projections", "run", "--until-caught-up")


@pytest.fixture
def imported(backend: str, prepared: Prepared, tmp_path: Path) -> Iterator[Cli]:
    """A copy of a ledger `both_imported_and_projected` made."""
    with prepared.copy(both_imported_and_projected, backend, tmp_path) as cli:
        yield cli


@pytest.fixture
def unprojected(backend: str, prepared: Prepared, tmp_path: Path) -> Iterator[Cli]:
    """A copy of a ledger `both_imported` made: nothing projected yet."""
    with prepared.copy(both_imported, backend, tmp_path) as cli:
        yield cli


def test_the_plan_as_of_july_shows_only_what_was_reported_by_july(imported: Cli) -> None:
    """As of 31 July 2018, before the September edition reported the plan: only the items a
    July-tagged update places there, their structure assumed from that edition; no August or
    September updates; 4.9 (complete in August) open."""
    july = by_item(rows(imported, "plan", "--as-of", "2018-07-31"))
    assert {r["basis"] for r in july.values()} == {"assumed"}
    assert len(july) == 25  # of 46: the items with a "(July Update)" or "(July 2018 Update)"
    assert "1.1" not in july  # its updates are tagged August and September only
    assert july["1.2"]["updates"] == 1
    assert july["1.2"]["latest_update"]["month"] == "2018-07"
    assert all(r["latest_update"]["month"] == "2018-07" for r in july.values())
    assert "4.9" not in july or july["4.9"]["complete"] is False
    assert july["1.2"]["status"] == "In progress"
    september = by_item(rows(imported, "plan", "--as-of", "2018-09-30"))
    assert {r["basis"] for r in september.values()} == {"reported"}
    assert len(september) == 46
    assert september["1.2"]["updates"] == 5
    assert september["4.9"]["complete"] is True
    # Not 1.10 (its second block still plans October work) nor 2.6 (its COMPLETE is plain,
    # undated text that still plans "further improvements"): see tests/unit/test_read_september.
    assert [r["item"] for r in september.values() if r["complete"]] == ["3.2", "4.9"]


def test_plan_rows_have_the_documented_fields(imported: Cli) -> None:
    """JSON rows: plan, theme, item, aim, leads, rag, status, complete, outcomes, updates..."""
    row = by_item(rows(imported, "plan", "--item", "1.3"))["1.3"]
    assert list(row) == ["plan", "theme", "item", "basis", "aim", "leads", "rag", "status",
                         "complete", "outcomes", "updates", "latest_update"]
    review = next(o for o in row["outcomes"]
                  if o["text"] == "Complete the constitutional review (September 2018)")
    assert (review["due"], review["baseline_due"]) == ("2018-09", "2018-09")
    assert [o["number"] for o in row["outcomes"]] == list(range(1, len(row["outcomes"]) + 1))
    assert set(row["latest_update"]) == {"month", "basis", "reported", "text", "by"}


def test_a_later_edition_shows_in_slippage_and_changes_and_leaves_the_past_alone(
    imported: Cli, tmp_path: Path,
) -> None:
    """October: the 1.3 slip and the 1.6 lead change, with who/when. September as reported
    (known at the October import) is unchanged; as known now it is restated in one fact only:
    October states that 2.1's September update reported completion."""
    september_before = rows(imported, "plan", "--as-of", "2018-09-30")
    before_import = datetime.now(UTC).isoformat()
    imported("import", str(write_october(tmp_path)), "--by", "auditor.b")
    slips = rows(imported, "slippage", "--min-slips", "1")
    assert [(r["item"], r["outcome"], r["baseline_due"], r["current_due"], r["slip_count"],
             r["months_slipped"]) for r in slips] == [
        # The text as October writes it, with its new date; the baseline stays September's.
        ("1.3", "Complete the constitutional review (November 2018)", "2018-09", "2018-11", 1,
         2)]
    assert (slips[0]["baseline_edition"], slips[0]["basis"]) == ("2018-09", "reported")
    move = slips[0]["moves"][0]
    assert (move["from"], move["to"], move["effective"], move["by"]) == (
        "2018-09", "2018-11", "2018-10-31", "auditor.b")
    assert move["note"] == "edition 2018-10 states November 2018"
    moved = rows(imported, "changes", "--kind", "target_moved")
    assert [(r["item"], r["by"], r["effective"]) for r in moved] == [
        ("1.3", "auditor.b", "2018-10-31")]
    leads = rows(imported, "changes", "--kind", "lead_changed", "--since", "2018-10-01")
    assert [(r["item"], r["before"], r["after"]) for r in leads] == [
        ("1.6", "City Solicitor / Deputy Leader", "Monitoring Officer"),
        ("7.4", "", "Assistant Chief Executive")]
    as_reported = rows(imported, "plan", "--as-of", "2018-09-30", "--known-at", before_import)
    assert as_reported == september_before
    restated = by_item(rows(imported, "plan", "--as-of", "2018-09-30"))
    assert {n for n, r in by_item(september_before).items() if restated[n] != r} == {"2.1"}
    assert restated["2.1"]["complete"] is True
    # What the ledger knew before the October import, about the end of October:
    then = by_item(rows(imported, "plan", "--as-of", "2018-10-31", "--known-at", before_import))
    assert "7.4" not in then
    assert then["1.6"]["leads"] == ["City Solicitor / Deputy Leader"]
    now = by_item(rows(imported, "plan", "--as-of", "2018-10-31"))
    assert now["1.6"]["leads"] == ["Monitoring Officer"]


def test_known_at_hides_what_was_recorded_later(imported: Cli) -> None:
    """An update recorded today about August 2018 shows as of August, not known before it."""
    before_update = datetime.now(UTC).isoformat()
    imported("--plan", "cgip-2018", "update", "1.1", "Late note on the survey",
             "--month", "2018-08", "--effective", "2018-08-31")
    now = by_item(rows(imported, "plan", "--as-of", "2018-08-31"))["1.1"]
    assert now["updates"] == 2
    earlier = by_item(rows(imported, "plan", "--as-of", "2018-08-31",
                           "--known-at", before_update))["1.1"]
    assert earlier["updates"] == 1
    assert rows(imported, "plan", "--known-at", "2020-01-01") == []  # imported in 2026
    late = rows(imported, "changes", "--late", "--item", "1.1", "--kind", "update_recorded")
    assert "Late note on the survey" in late[-1]["after"]


def test_the_2015_plan_is_counted_in_the_2015_legend(imported: Cli) -> None:
    """As at 31 December 2015 the ledger holds no progress data for the 2015 plan: every
    action is "No progress reported", never "not started", and the summary says how many
    actions lack a timescale and progress data, so it can be read beside the council's
    report (which counts 82 achieved)."""
    found = json.loads(imported("--plan", "kerslake-2015", "summary", "--as-of", "2015-12-31",
                                "--format", "json"))
    statuses = {r["value"]: r["items"] for r in found if r["measure"] == "status"}
    assert statuses["No progress reported"] == 115  # 112 actions and 3 sub-actions of 4.6
    assert sum(statuses.values()) == 115
    assert statuses["Not started – completion slipped"] == 0
    evidence = {r["value"]: r["items"] for r in found if r["measure"] == "evidence"}
    assert evidence["no progress reported"] == 115
    assert evidence["no timescale"] == 3  # "TBC" or "Ongoing": placed, but no month


def test_snapshots_give_item_by_month(imported: Cli) -> None:
    """Three months for the September edition; 4.9 complete from August."""
    found = rows(imported, "snapshots", "--from", "2018-07", "--to", "2018-09")
    grid = {(r["item"], r["month"]): r for r in found}
    assert sum(1 for r in found if r["month"] == "2018-09") == 46
    assert {r["basis"] for r in found if r["month"] == "2018-09"} == {"reported"}
    assert {r["basis"] for r in found if r["month"] < "2018-09"} == {"assumed"}
    assert ("4.9", "2018-07") not in grid or grid[("4.9", "2018-07")]["status"] != "Complete"
    assert grid[("4.9", "2018-08")]["status"] == "Complete"
    assert grid[("1.2", "2018-09")]["updates_in_month"] == 3
    assert list(found[0]) == ["month", "plan", "item", "basis", "rag", "status", "leads",
                              "updates_in_month"]
    table = imported("--plan", "cgip-2018", "snapshots", "--from", "2018-07", "--to", "2018-09")
    assert table.splitlines()[0].split() == ["item", "2018-07", "2018-08", "2018-09"]
    known = rows(imported, "snapshots", "--from", "2018-07", "--to", "2018-09",
                 "--known-at", datetime.now(UTC).isoformat())
    assert known == found


def test_json_and_csv_carry_the_same_rows(imported: Cli) -> None:
    """changes as CSV parses back to the JSON rows (as text), a target as a month: the
    document's "October 2018." outcome of 1.2 is due `[October 2018]` in JSON, `[2018-10]`
    in CSV."""
    as_json = rows(imported, "changes", "--item", "1.2")
    as_csv = list(csv.DictReader(csv_text(
        imported("--plan", "cgip-2018", "changes", "--item", "1.2", "--format", "csv"))))
    assert len(as_csv) == len(as_json) == 9  # added, 2 outcomes, its lead, 5 updates
    assert [r["after"] for r in as_csv] == [iso_target(r["after"], r["kind"]) for r in as_json]
    assert as_json[1]["after"].endswith("October 2018. [October 2018]")
    assert as_csv[1]["after"].endswith("October 2018. [2018-10]")
    assert [int(r["seq"]) for r in as_csv] == [r["seq"] for r in as_json]


def test_editions_list_each_import_with_its_digest(imported: Cli) -> None:
    """The September edition: its file's SHA-256, who imported it, events it produced."""
    found = rows(imported, "editions")
    assert [(r["edition"], r["file"], r["by"]) for r in found] == [
        ("2018-09", SEPTEMBER.name, "improvement.team")]
    assert found[0]["sha256"] == hashlib.sha256(SEPTEMBER.read_bytes()).hexdigest()
    assert found[0]["events"] > 400


def test_diff_between_two_month_ends(imported: Cli) -> None:
    """July to August 2018: the August updates and 4.9's completion, nothing from September."""
    found = rows(imported, "diff", "2018-07-31", "2018-08-31")
    assert {r["effective"] for r in found} == {"2018-08-31"}
    assert ("4.9", "completed") in {(r["item"], r["kind"]) for r in found}


def read_models(db: str) -> dict[str, list[tuple[Any, ...]]]:
    ledger = bootstrap(db).ledger
    try:
        with ledger.app.engine.connect() as conn:
            return {t.name: sorted(tuple(r) for r in conn.execute(select(t)).all())
                    for t in (*schema.ALL_READ_TABLES, schema.tracking)}
    finally:
        ledger.close()


def test_a_rebuild_from_zero_equals_incremental_catch_up(unprojected: Cli, tmp_path: Path
                                                         ) -> None:
    """Catch up after each change, then rebuild from nothing: every read-model row is equal."""
    rows(unprojected, "plan")  # catch up after the two imports
    unprojected("import", str(write_october(tmp_path)))
    unprojected("--plan", "cgip-2018", "correct", "1.2@5", "--text",
                "Survey being planned now", "--note", "wording")
    rows(unprojected, "slippage")  # catch up incrementally
    incremental = read_models(unprojected.db)
    out = unprojected("projections", "rebuild", "--batch", "97")
    assert "rebuilt the read models from" in out
    assert read_models(unprojected.db) == incremental
    status = unprojected("projections", "status", "--format", "json")
    assert {r["lag"] for r in json.loads(status)} == {0}


def test_projections_status_shows_the_lag_before_a_query(unprojected: Cli) -> None:
    """After an import nothing has been projected; a query catches up."""
    with bootstrap(unprojected.db) as services:
        head = services.projector.head()
        lag = {r["model"]: r["lag"] for r in json.loads(unprojected("projections", "status",
                                                                    "-f", "json"))}
        assert lag["current_plan"] == head
        rows(unprojected, "plan")
        assert services.projector.positions()["current_plan"] == head


def test_a_corrected_update_is_marked_in_changes(imported: Cli) -> None:
    """The original stays in the change log, marked corrected by the correction."""
    imported("--plan", "cgip-2018", "correct", "1.2@5", "--text", "Survey planned",
             "--note", "wording")
    found = rows(imported, "changes", "--item", "1.2")
    original = next(r for r in found if r["after"].startswith("[2018-08] Survey being planned"))
    assert original["corrected_by"] == "1.2@10"  # 9 events, then the correction
    assert found[-1]["kind"] == "correction"


def test_the_item_history_model_answers_as_the_fold_does(imported: Cli, tmp_path: Path) -> None:
    """For every month-end and some mid-month days, the indexed answer equals a re-fold."""
    imported("import", str(write_october(tmp_path)))
    imported("--plan", "cgip-2018", "correct", "1.2@5", "--text", "Survey planned",
             "--note", "wording")
    services = bootstrap(imported.db)
    services.projector.catch_up()
    reader = services.reader
    far = "2999-01-01T00:00:00+00:00"
    for day in ("2018-06-30", "2018-07-01", "2018-07-15", "2018-07-31", "2018-08-31",
                "2018-09-30", "2018-10-15", "2018-10-31", "2026-01-01"):
        as_of = date.fromisoformat(day)
        assert reader.plan("cgip-2018", When(as_of)) == reader.plan(
            "cgip-2018", When(as_of, far)), day
        assert reader.slippage("cgip-2018", When(as_of)) == reader.slippage(
            "cgip-2018", When(as_of, far)), day
    services.close()


def test_stated_only_leaves_out_what_is_assumed(imported: Cli) -> None:
    """July 2018 precedes every edition: with --stated-only nothing is shown; from 30
    September all 46 items are reported by the September edition."""
    assert rows(imported, "plan", "--as-of", "2018-07-31", "--stated-only") == []
    assert len(rows(imported, "plan", "--as-of", "2018-09-30", "--stated-only")) == 46
    table = imported("--plan", "cgip-2018", "snapshots", "--from", "2018-07", "--to", "2018-08")
    assert "*" in table  # assumed cells are marked


def test_an_update_whose_month_is_not_stated_has_none(imported: Cli) -> None:
    """3.1's cell says, in plain text with no month tag, "In train The draft 2017/18 Annual
    Audit findings letter has not highlighted any…": that update is undated, reported in the
    September 2018 edition, and the table says so as JSON does (no month, reported 2018-09)."""
    row = by_item(rows(imported, "plan", "--item", "3.1"))["3.1"]
    latest = row["latest_update"]
    assert latest["text"].startswith("In train The draft 2017/18 Annual Audit findings letter")
    assert (latest["month"], latest["basis"], latest["reported"]) == ("", "reported", "2018-09")
    table = imported("--plan", "cgip-2018", "plan", "--item", "3.1", "--wide")
    assert '"month": "", "reported": "2018-09", "text": "In train The draft 2017/18' in table
