"""The flat CSV form: targets as months, outcomes as rows, lists joined, nothing as JSON."""

from __future__ import annotations

from ledger.export.files import csv_of, grid
from ledger.export.flat import columns, iso_target, joined, month_of_label, rows


def test_a_target_named_in_words_is_written_as_its_month() -> None:
    """"outcome #5 due November 2018" is "... due 2018-11"; the document's other spellings
    ("Sept 2018", "Dec. 2018") too; a season or TBC names no month and stays."""
    assert iso_target("outcome #5 due November 2018", "target_moved") == "outcome #5 due 2018-11"
    assert iso_target("outcome #2 due Sept 2018", "target_moved") == "outcome #2 due 2018-09"
    assert month_of_label("Dec. 2018") == "2018-12"
    assert iso_target("outcome #1 due Winter 15", "target_moved") == "outcome #1 due Winter 15"
    assert iso_target("outcome #1 due TBC", "target_moved") == "outcome #1 due TBC"


def test_only_the_due_label_changes_never_the_prose() -> None:
    """An added outcome keeps its text's "(December 2018)"; only its bracketed due is a month;
    an update's text is never rewritten."""
    added = "outcome #1: Plan published as open data (December 2018) [December 2018]"
    assert iso_target(added, "outcome_added") == \
        "outcome #1: Plan published as open data (December 2018) [2018-12]"
    update = "[2018-10] Review due November 2018"
    assert iso_target(update, "update_recorded") == update


def test_an_item_is_a_row_per_outcome_and_one_row_without_outcomes() -> None:
    """Two outcomes are two rows with the item repeated; none is one row with empty outcome
    cells; leads join with "; "; false is false."""
    names = ("item", "leads", "complete", "outcomes", "latest_update")
    items = [
        {"item": "1.3", "leads": ["City Solicitor", "Assistant Chief Executive"],
         "complete": False, "latest_update": None,
         "outcomes": [{"number": 1, "text": "A", "due": "2018-06", "baseline_due": "2018-06"},
                      {"number": 2, "text": "B", "due": "2018-11", "baseline_due": "2018-09"}]},
        {"item": "7.3", "leads": [], "complete": True, "outcomes": [],
         "latest_update": {"month": "2018-09", "reported": "2018-09", "basis": "stated",
                           "by": "ACE", "text": "=SUM(1)"}},
    ]
    assert columns(names) == ("item", "leads", "complete", "outcome_no", "outcome",
                              "outcome_due", "outcome_baseline_due", "latest_update_month",
                              "latest_update_reported", "latest_update_basis",
                              "latest_update_by", "latest_update_text")
    flat = list(rows(items, names))
    assert [(r["item"], r["outcome_no"]) for r in flat] == [("1.3", 1), ("1.3", 2), ("7.3", None)]
    assert flat[0]["leads"] == "City Solicitor; Assistant Chief Executive"
    text = csv_of(grid(items, names)).decode("utf-8-sig")
    assert text.splitlines()[1] == "1.3,City Solicitor; Assistant Chief Executive,false,1,A," \
                                   "2018-06,2018-06,,,,,"
    assert text.splitlines()[3] == "7.3,,true,,,,,2018-09,2018-09,stated,ACE,'=SUM(1)"


def test_moves_read_as_a_chain_of_months() -> None:
    """A slippage row's moves: `2018-09→2018-11; 2018-11→2019-01`, their dates and who, in
    order; none for a first target."""
    moves = [{"from": "", "to": "2018-09", "effective": "2018-08-31", "by": "a"},
             {"from": "2018-09", "to": "2018-11", "effective": "2018-10-31", "by": "b"}]
    (row,) = rows([{"item": "1.3", "moves": moves}], ("item", "moves"))
    assert row == {"item": "1.3", "moves": "none→2018-09; 2018-09→2018-11",
                   "moves_effective": "2018-08-31; 2018-10-31", "moves_by": "a; b"}


def test_a_joined_cell_splits_back_into_its_items() -> None:
    """Leads "Smith; Jones" (one lead) and "50% Team" join as `Smith%3B Jones; 50%25 Team`:
    split on "; " and unescaped, the cell is the list again, whatever the items hold."""
    leads = ["Smith; Jones", "50% Team", "a%3Bb", "plain"]
    cell = joined(leads)
    assert cell == "Smith%3B Jones; 50%25 Team; a%253Bb; plain"
    assert [p.replace("%3B", ";").replace("%25", "%") for p in cell.split("; ")] == leads
