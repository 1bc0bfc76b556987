"""The 2015 action plan read page by page: 20 values checked against the document's lines."""

from __future__ import annotations

import pytest

from ledger.importers.kerslake import _Action, _Value, by_page_order, parse
from ledger.importers.model import ON_ITS_LINE, PAGE_ORDER, Edition, ItemDoc
from projections.current_plan import item_sort_key
from tests.editions import KERSLAKE

LINES = KERSLAKE.read_text(encoding="utf-8").split("\n")


@pytest.fixture(scope="module")
def edition() -> Edition:
    return parse(KERSLAKE.read_text(encoding="utf-8"), KERSLAKE.name)


def item(edition: Edition, number: str) -> ItemDoc:
    return next(i for i in edition.items if i.number == number)


def line(number: int) -> str:
    return LINES[number - 1].strip()


# (action, timescale, how placed, the line the timescale stands on, as the document has it,
#  officer or "" where the spot check is of the timescale alone, the officer's line)
SPOT_CHECKS = [
    ("1.1", "Feb-15", PAGE_ORDER, 127, "Feb-15", "Director Legal Services", 130),
    ("2.1", "Jan-15", PAGE_ORDER, 418, "Jan-15", "Director of Corporate Finance", 427),
    ("1.2", "Mar-15", ON_ITS_LINE, 138,
     "2 Consult a sample of members and officers to ascertain the need for supplementary Mar-15",
     "Director Legal Services", 135),
    ("1.5", "Jul-15", PAGE_ORDER, 169, "Jul-15", "CEx & Leader", 176),
    ("1.11", "Winter 15", ON_ITS_LINE, 213,
     "11 Analyse and agree development plan based on outcome of 360 degree reviews - as Winter 15",
     "", 0),
    ("1.26", "Winter 15", ON_ITS_LINE, 335,
     "26 Undertake an independent assessment of the organisation's cultural shift to assess "
     "Winter 15", "", 0),
    ("2.4", "May-15", ON_ITS_LINE, 446,
     "4 Initiate approach for modelling future operating model and service delivery models May-15",
     "", 0),
    ("2.6", "Winter 15", PAGE_ORDER, 455, "Winter 15", "", 0),
    ("2.27", "Jan-16", PAGE_ORDER, 619, "Jan-16", "", 0),
    ("3.1", "Feb-15", PAGE_ORDER, 698, "Feb-15", "CEx and Director Delivery", 701),
    ("3.4", "Summer 15", PAGE_ORDER, 718, "Summer 15", "Director Delivery", 727),
    ("4.1", "Jan-15", ON_ITS_LINE, 872,
     "1 Prepare for and attend meeting with Boundary Commission on 6 Feb to discuss and Jan-15",
     "Group Leaders and CEx", 901),
    ("4.2", "Jan-15", PAGE_ORDER, 877, "Jan-15", "CEx", 902),
    ("4.5", "Ongoing", PAGE_ORDER, 894, "Ongoing", "Leader and CEx", 908),
    ("4.6a", "Apr-15", PAGE_ORDER, 921, "Apr-15", "Service Director Devolution", 957),
    ("4.6b", "Apr-15", ON_ITS_LINE, 926,
     "In line with 6 above, develop cross party consensus on underpinning principles for Apr-15",
     "Group Leaders", 959),
    ("4.7", "Feb-15", PAGE_ORDER, 934, "Feb-15", "Leader", 962),
    ("4.10", "Jul-15", ON_ITS_LINE, 950,
     "10 Review implications of full council agreement on outcome of governance review for Jul-15",
     "Strategic Directors", 967),
    ("4.12", "Feb-15", PAGE_ORDER, 981, "Feb-15", "CEx", 983),
    ("5.26", "Jun-16", PAGE_ORDER, 1209, "Jun-16", "", 0),
]


@pytest.mark.parametrize(("number", "timescale", "placed", "at", "quoted", "officer", "officer_at"),
                         SPOT_CHECKS, ids=[c[0] for c in SPOT_CHECKS])
def test_a_spot_check_agrees_with_the_document(
    edition: Edition, number: str, timescale: str, placed: str, at: int, quoted: str,
    officer: str, officer_at: int,
) -> None:
    """The value is the document's, on the line quoted, and says how it was placed."""
    assert line(at) == quoted
    found = item(edition, number)
    [outcome] = found.outcomes
    assert (outcome.due_label, outcome.placed) == (timescale, placed)
    if officer:
        assert line(officer_at) in officer  # the name's first line ("Director of Corporate")
        [block] = found.blocks
        assert (block.lead, block.line, block.placed, block.updates) == (
            officer, officer_at, PAGE_ORDER, [])


def test_there_are_twenty_spot_checks() -> None:
    assert len({c[0] for c in SPOT_CHECKS}) == 20


def test_counts_of_what_was_placed_and_how(edition: Edition) -> None:
    """115 items (112 actions and 4.6a-c); every timescale placed, 64 officers; the rest unknown."""
    assert len(edition.items) == 115
    timed = [o for i in edition.items for o in i.outcomes]
    assert (len(timed), sum(o.placed == ON_ITS_LINE for o in timed)) == (115, 9)
    led = [b for i in edition.items for b in i.blocks]
    assert len(led) == 64
    assert {b.placed for b in led} == {PAGE_ORDER}
    officers_unknown = [u for u in edition.unknowns if "responsible officer" in u]
    assert len(officers_unknown) == 115 - 64
    assert "action 4.13 (line 985): responsible officer TBC (line 997)" in edition.unknowns
    assert "action 2.7 (line 468): responsible officer unknown" in edition.unknowns
    assert not [u for u in edition.unknowns if "timescale" in u]


def test_a_page_end_surplus_fills_the_earlier_short_run(edition: Edition) -> None:
    """Page 2 of plan 1: Mar-15 then Mar-16 follow action 20; Mar-16 goes to the short
    run 12-16 (its full implementation), not to 20."""
    assert [line(n) for n in (224, 269, 272, 276)] == [
        "16 Full implementation of the new support services operating model",
        "20 Develop a costed resource plan for change capacity, including senior leadership,",
        "Mar-15", "Mar-16"]
    assert item(edition, "1.16").outcomes[0].due == "2016-03"
    assert item(edition, "1.20").outcomes[0].due == "2015-03"


def test_winter_15_is_due_in_february_2016(edition: Edition) -> None:
    assert item(edition, "1.11").outcomes[0].due == "2016-02"


def test_sub_actions_and_aims_read_whole(edition: Edition) -> None:
    """4.6a-c are items; aims whose lines alternate with measures are neither cut nor polluted."""
    numbers = [i.number for i in edition.items if i.theme == "4"]
    assert numbers[5:10] == ["4.6", "4.6a", "4.6b", "4.6c", "4.7"]
    assert item(edition, "4.3").aim == (
        "Council Business Management Committee (CMBC) to set out approach, requirements and "
        "timescales for submission of proposals for the \"preliminary investigation\", including "
        "joint or separate responses")
    assert item(edition, "4.6").aim == (
        "Incorporate the City Council's and stakeholders' response(s) to the Kerslake Review "
        "recommendations on devolution into the consultation on purpose and functions of "
        "administrative levels below the City Council")
    assert item(edition, "4.7").aim == (
        "Make preparatory arrangements for amending the constitution in May 2015 for immediate "
        "changes to district committees, including decommissioning the community chest")
    assert item(edition, "4.6c").aim.endswith(
        "changes to city wide scrutiny through the consultation on administrative levels")
    assert item(edition, "1.17").aim.endswith("in light of creation of the Joint Economic Unit")


def test_sub_items_sort_by_letter() -> None:
    numbers = ["4.7", "4.6c", "4.6", "4.6b", "4.10", "4.6a"]
    assert sorted(numbers, key=item_sort_key) == ["4.6", "4.6a", "4.6b", "4.6c", "4.7", "4.10"]


def test_page_order_with_no_surplus_is_plain_order() -> None:
    actions = [_Action("1.1", "a", 1), _Action("1.2", "b", 2)]
    values = [_Value("Feb-15", 3), _Value("Mar-15", 4)]
    assert [v.text for v in by_page_order(actions, values)] == ["Feb-15", "Mar-15"]
