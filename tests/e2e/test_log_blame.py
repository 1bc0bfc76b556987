"""`ledger log` and `ledger blame` on the real editions: which change set each fact, and every
change newest first, named as `history` and `correct` name them."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from ledger.export.files import grid
from tests.conftest import Cli
from tests.editions import SEPTEMBER, write_november, write_october

REVIEW = "Complete the constitutional review"


def as_json(cli: Cli, *args: str) -> list[dict[str, Any]]:
    return list(json.loads(cli("--plan", "cgip-2018", *args, "--format", "json")))


def as_csv(cli: Cli, *args: str) -> list[dict[str, str]]:
    text = cli("--plan", "cgip-2018", *args, "--format", "csv").lstrip("\ufeff")
    return list(csv.DictReader(io.StringIO(text)))


def field(rows: list[dict[str, Any]], name: str, detail: str = "") -> dict[str, Any]:
    found = [r for r in rows if r["field"] == name or (detail and r["detail"].startswith(detail))]
    assert len(found) == 1, (name, detail, found)
    return found[0]


@pytest.fixture
def october(cli: Cli, tmp_path: Path) -> Cli:
    """The September and October 2018 editions, imported in order."""
    cli("import", str(SEPTEMBER), "--by", "improvement.team")
    cli("import", str(write_october(tmp_path)), "--by", "improvement.team")
    return cli


def test_blame_names_the_october_edition_for_the_slipped_review(october: Cli) -> None:
    """October moves 1.3's "Complete the constitutional review" from September to November
    2018: blame says the October edition's target_moved set it, reported at October's end."""
    history = as_json(october, "history", "1.3")
    moved = [h for h in history if h["kind"] == "target_moved"]
    assert len(moved) == 1
    review = field(as_json(october, "blame", "1.3"), "", REVIEW)
    assert review["field"].startswith("outcome ")
    assert review["value"] == "2018-11"
    assert review["ref"] == moved[0]["event"]
    assert review["kind"] == "target_moved"
    assert (review["effective"], review["basis"]) == ("2018-10-31", "reported")
    assert review["source"].startswith("cgip-2018-10-october-update.md#L")
    assert review["recorded_at"] == moved[0]["recorded_at"]
    assert review["by"] == "improvement.team"
    # As of September's end the same outcome was due in September, set by September's edition.
    before = field(as_json(october, "blame", "1.3", "--as-of", "2018-09-30"), "", REVIEW)
    assert before["value"] == "2018-09"
    assert before["kind"] == "outcome_added"
    assert before["source"].startswith("cgip-2018-09-september-update.md#L")


def test_blame_names_the_edition_that_changed_a_lead_and_the_one_that_kept_the_rest(
        october: Cli) -> None:
    """1.6's lead passes to "Monitoring Officer" in October; 1.3's leads and aim still come
    from September's first report of the item."""
    leads = [r for r in as_json(october, "blame", "1.6") if r["field"] == "lead"]
    assert "City Solicitor / Deputy Leader" not in {r["value"] for r in leads}
    officer = next(r for r in leads if r["value"] == "Monitoring Officer")
    assert officer["source"].startswith("cgip-2018-10-october-update.md#L")
    assert officer["effective"] == "2018-10-31"
    rows = as_json(october, "blame", "1.3")
    aim = field(rows, "aim")
    assert aim["ref"] == "1.3@1"
    assert aim["kind"] == "item_added"
    assert aim["source"].startswith("cgip-2018-09-september-update.md#L")
    assert {r["value"] for r in rows if r["field"] == "lead"} == {
        "City Solicitor", "City Solicitor / Assistant Chief Executive"}
    latest = field(rows, "latest update")
    assert (latest["value"], latest["basis"]) == ("2018-09", "stated")
    assert latest["attributed_to"] == "City Solicitor"
    # No RAG is stated in words in the edition: blame names no event for it.
    rag = field(rows, "rag")
    assert (rag["value"], rag["ref"]) == ("", "")


def test_blame_follows_a_completion_and_a_new_item(october: Cli) -> None:
    """2.1 is reported complete in October; 7.4 is new in October, absent in September."""
    rows = as_json(october, "blame", "2.1")
    complete = field(rows, "complete")
    assert complete["value"] == "true"
    assert complete["kind"] == "completed"
    assert complete["source"].startswith("cgip-2018-10-october-update.md#L")
    status = field(rows, "status (derived)")
    assert status["value"] == "Complete"
    assert status["ref"] == complete["ref"]
    assert field(as_json(october, "blame", "7.4"), "aim")["effective"] == "2018-10-31"
    error = october("--plan", "cgip-2018", "blame", "7.4", "--as-of", "2018-09-30", code=2)
    assert error.count("\n") == 1
    assert "7.4" in error


def test_a_hand_target_change_is_blamed_on_its_author_and_tops_the_log(october: Cli) -> None:
    """`ledger target` by hand: basis entered, by the person, at the top of `log`."""
    outcome = field(as_json(october, "blame", "1.3"), "", REVIEW)["field"].split()[1]
    october("target", "1.3", outcome, "2019-01", "--by", "Jane Smith",
            "--note", "review extended to the new year")
    top = october("--plan", "cgip-2018", "log").splitlines()[0]
    history = as_json(october, "history", "1.3")
    assert top.startswith(f"{history[-1]['event']} ")
    assert " target_moved " in top
    assert "by Jane Smith" in top
    assert top.endswith("[entered]")
    newest = as_json(october, "log")[0]
    assert newest["ref"] == history[-1]["event"]
    assert (newest["basis"], newest["by"], newest["kind"]) == ("entered", "Jane Smith",
                                                               "target_moved")
    assert newest["note"] == "review extended to the new year"
    review = field(as_json(october, "blame", "1.3"), "", REVIEW)
    assert (review["value"], review["basis"], review["by"]) == ("2019-01", "entered",
                                                               "Jane Smith")
    assert review["ref"] == history[-1]["event"]
    # Known when the October edition was imported (log keeps the witnessed time in full), the
    # October edition set it.
    october_move = as_json(october, "log", "--item", "1.3")[1]
    assert october_move["ref"] == history[-2]["event"]
    earlier = field(as_json(october, "blame", "1.3", "--known-at",
                            october_move["recorded_at"]), "", REVIEW)
    assert earlier["source"].startswith("cgip-2018-10-october-update.md#L")


def test_a_lead_added_by_hand_is_blamed_on_its_entry_and_the_others_keep_theirs(
        october: Cli) -> None:
    """Each lead has its own event: adding one does not re-blame the others."""
    before = {r["value"]: r["ref"] for r in as_json(october, "blame", "1.3")
              if r["field"] == "lead"}
    october("lead", "1.3", "Jane Smith", "--add", "--by", "improvement.team")
    after = {r["value"]: r for r in as_json(october, "blame", "1.3") if r["field"] == "lead"}
    assert after["Jane Smith"]["basis"] == "entered"
    assert {lead: after[lead]["ref"] for lead in before} == before


def test_log_of_an_item_is_its_history_newest_first(october: Cli) -> None:
    """`log --item 1.3`: one line per change, newest first; the first line's ref is the last
    `history 1.3` row's."""
    history = as_json(october, "history", "1.3")
    lines = october("--plan", "cgip-2018", "log", "--item", "1.3").splitlines()
    assert len(lines) == len(history)
    assert lines[0].split()[0] == history[-1]["event"]
    assert [line.split()[0] for line in lines] == [h["event"] for h in reversed(history)]
    assert lines[0].startswith(f"{history[-1]['event']} 2018-10-31 target_moved ")
    assert "2018-09→November 2018" in lines[0]


def test_log_has_the_filters_and_rows_of_changes(october: Cli) -> None:
    """The same rows as `changes`, newest first, with the same filters."""
    for args in ((), ("--kind", "target_moved"), ("--item", "2.2"),
                 ("--since", "2018-10-01"), ("--by", "HR Director")):
        changes = as_json(october, "changes", *args)
        log = as_json(october, "log", *args)
        assert len(log) == len(changes) > 0, args
        assert [(r["effective"], r["kind"], r["after"]) for r in log] == [
            (r["effective"], r["kind"], r["after"]) for r in reversed(changes)]
    refs = [r["ref"] for r in as_json(october, "log")]
    assert refs[-1] == "plan@1"  # the plan's own events are named by the plan's stream
    assert len(set(refs)) == len(refs)


def test_log_and_blame_say_the_same_in_json_csv_and_table(october: Cli) -> None:
    """Every cell of the CSV is the JSON's made flat (a target as its month: `outcome #5 due
    2018-11` where JSON keeps October's "November 2018"); every table line or row carries the
    JSON's ref."""
    for args in (("log", "--item", "1.3"), ("blame", "1.3"), ("blame", "7.4")):
        rows = as_json(october, *args)
        cells = as_csv(october, *args)
        assert list(cells[0]) == list(rows[0])
        header, *flat_rows = grid(rows, list(rows[0]))
        assert [dict(zip(header, map(str, r), strict=True)) for r in flat_rows] == cells
        moved = [(r["after"], c["after"]) for r, c in zip(rows, cells, strict=True)
                 if r.get("kind") == "target_moved" and args[0] == "log"]
        assert moved == ([("outcome #5 due November 2018", "outcome #5 due 2018-11")]
                         if args[0] == "log" else [])
        table = october("--plan", "cgip-2018", *args)
        assert all(r["ref"] in table for r in rows if r["ref"])
    lines = october("--plan", "cgip-2018", "log", "--item", "1.3").splitlines()
    assert [line.split()[0] for line in lines] == [r["ref"] for r in as_json(
        october, "log", "--item", "1.3")]


def test_log_and_blame_read_through_a_third_edition(october: Cli, tmp_path: Path) -> None:
    """November slips the review again, to January 2019: blame names November's edition."""
    october("import", str(write_november(tmp_path)), "--by", "improvement.team")
    review = field(as_json(october, "blame", "1.3"), "", REVIEW)
    assert review["value"] == "2019-01"
    assert review["source"].startswith("cgip-2018-11-november-update.md#L")
    moves = [r for r in as_json(october, "log", "--item", "1.3", "--kind", "target_moved")]
    assert [m["effective"] for m in moves] == ["2018-11-30", "2018-10-31"]


def test_an_unknown_item_is_one_line_and_exit_2(october: Cli) -> None:
    """No item 9.9, or not an item number at all: one line on stderr, exit 2."""
    for item in ("9.9", "x.y"):
        error = october("--plan", "cgip-2018", "blame", item, code=2)
        assert error.count("\n") == 1
        assert error.startswith("error: ")


def test_a_corrected_fact_is_blamed_on_its_event_and_names_the_correction(october: Cli) -> None:
    """`correct 1.3@N --due`: blame shows the corrected month, still the edition's event (its
    source), and the correction that fixed it; log's top line names the corrected ref."""
    moved = field(as_json(october, "blame", "1.3"), "", REVIEW)
    done = october("correct", moved["ref"], "--due", "2018-12", "--note", "typo in the import",
                   "--by", "auditor")
    correction = done.split()[2]
    review = field(as_json(october, "blame", "1.3"), "", REVIEW)
    assert (review["value"], review["ref"]) == ("2018-12", moved["ref"])
    assert review["source"] == moved["source"]
    assert review["corrected_by"] == correction
    top = october("--plan", "cgip-2018", "log").splitlines()[0]
    assert top.startswith(f"{correction} ")
    assert f" correction {moved['ref']} target_moved" in top
    assert as_json(october, "log")[0]["before"] == f"{moved['ref']} target_moved"


def test_log_lines_fit_the_terminal_and_keep_the_change(october: Cli) -> None:
    """With COLUMNS=80 no line of `log` is wider than 80 characters; every line keeps its
    ref, kind, who and basis; a cut line says so with …, and the October edition's move of
    the review outcome keeps its months, `2018-09→November 2018`, whole."""
    lines = october("--plan", "cgip-2018", "log", "--item", "1.3",
                    env={"COLUMNS": "80"}).splitlines()
    history = as_json(october, "history", "1.3")
    assert [line.split()[0] for line in lines] == [h["event"] for h in reversed(history)]
    assert max(len(line) for line in lines) <= 80
    assert any("…" in line for line in lines)
    assert all(line.endswith(("[reported]", "[stated]", "[entered]")) for line in lines)
    assert "2018-09→November 2018" in lines[0]
    assert " target_moved " in lines[0]


def test_every_timestamp_shown_has_one_precision(october: Cli) -> None:
    """Every recorded moment in changes, log, history, blame and editions is UTC to the
    microsecond, as the store witnessed it, so that any one can be given back as --known-at;
    the same event shows the same moment everywhere."""
    moment = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00")
    shown: dict[str, set[str]] = {}
    for args in (("changes", "--item", "1.3"), ("log", "--item", "1.3"), ("history", "1.3"),
                 ("blame", "1.3"), ("editions",)):
        for row in as_json(october, *args):
            for key in ("recorded_at", "imported_at"):
                if row.get(key):
                    assert moment.fullmatch(row[key]), (args, key, row[key])
            if args[0] in ("log", "history"):
                ref = row.get("ref") or row["event"]
                shown.setdefault(ref, set()).add(row["recorded_at"])
    assert shown
    assert all(len(moments) == 1 for moments in shown.values())
