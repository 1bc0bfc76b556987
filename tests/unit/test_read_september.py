"""The September 2018 edition read exactly: each fact asserted here is quoted from the document."""

from __future__ import annotations

from collections import Counter

import pytest

from ledger.importers import cgip
from ledger.importers.model import REPORTED, STATED, Edition, ItemDoc, UpdateDoc
from tests.editions import SEPTEMBER

TEXT = SEPTEMBER.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def edition() -> Edition:
    return cgip.parse(TEXT, SEPTEMBER.name)


def item(edition: Edition, number: str) -> ItemDoc:
    return next(i for i in edition.items if i.number == number)


def updates(found: ItemDoc) -> list[UpdateDoc]:
    return [u for b in found.blocks for u in b.updates]


def update(found: ItemDoc, start: str) -> UpdateDoc:
    matches = [u for u in updates(found) if u.text.startswith(start)]
    assert len(matches) == 1, [u.text[:60] for u in updates(found)]
    return matches[0]


def test_plain_untagged_status_lines_have_no_month(edition: Edition) -> None:
    """4.12: six plain lines ("Joint Venture with Capita has been dissolved") come before the
    heading "<b><u>September Update:</u></b>": older than it, month unknown."""
    found = updates(item(edition, "4.12"))
    assert [(u.month, u.basis) for u in found[:6]] == [("", REPORTED)] * 6
    assert found[1].text == "Joint Venture with Capita has been dissolved"
    assert (found[6].month, found[6].basis) == ("2018-09", STATED)
    assert found[6].text.startswith("2018-19 Transition plan currently on track")


def test_an_item_with_no_bold_has_months_only_where_tagged(edition: Edition) -> None:
    """3.3 has no bold update: "O&S cycles of meetings complete ..." and "Lean review and
    insight functional review in-train" are untagged, so undated; "(August Update)" is August."""
    found = item(edition, "3.3")
    assert update(found, "O&S cycles of meetings complete").month == ""
    assert update(found, "Lean review and insight functional review in-train").month == ""
    assert update(found, "August performance / finance CMT").month == "2018-08"
    assert {u.month for u in updates(found) if not u.tagged} == {""}


def test_the_july_roadshow_narrative_has_no_month(edition: Edition) -> None:
    """7.1: "First roadshow on 19 July at the Bournville Gardens retirement home." is plain and
    untagged; "This was an informal drop in session ... following areas:" takes its list."""
    found = item(edition, "7.1")
    roadshow = update(found, "First roadshow on 19 July")
    assert (roadshow.month, roadshow.basis) == ("", REPORTED)
    areas = update(found, "This was an informal drop in session")
    assert areas.text.endswith("• Concerns relating to funding and quality of social care")
    assert update(found, "All of the feedback received").month == "2018-08"  # (August Update)


def test_a_bold_untagged_update_is_the_editions_month(edition: Edition) -> None:
    """1.4: "<b>The Leader reported to the Co-ordinating O&S Committee on 27th July ...</b>"
    has no tag; bold is the latest update ("Latest Update in Bold"): September, stated."""
    found = update(item(edition, "1.4"), "The Leader reported to the Co-ordinating O&S")
    assert (found.month, found.basis, found.tagged) == ("2018-09", STATED, False)


def test_earliest_month_and_latest_use_stated_months_only(edition: Edition) -> None:
    """The earliest stated month is July 2018; 2.6's latest update is its August one: the plain
    "Some changes made to performance reporting ... COMPLETE" after it has no month."""
    assert edition.earliest_month() == "2018-07"
    block = item(edition, "2.6").blocks[0]
    latest = block.latest()
    assert latest is not None
    assert latest.month == "2018-08"
    assert block.updates[-1].text.startswith("Some changes made to performance reporting")
    assert block.updates[-1].month == ""


def test_a_lead_heading_at_the_foot_of_a_row_heads_the_next_item(edition: Edition) -> None:
    """2.3's cell ends "<b><u>Chief Executive and Leader</u></b>"; 2.4's updates follow it."""
    assert item(edition, "2.3").leads == ["HR Director"]
    head = item(edition, "2.4")
    assert head.leads == ["Chief Executive and Leader"]
    assert {u.lead for u in updates(head)} == {"Chief Executive and Leader"}


def test_joint_lead_blocks_stay_joint(edition: Edition) -> None:
    """7.2: "<b><u>Assistant Director Communications<br/>Chief Operating Officer</u></b>" and 7.3
    (two lead lines) head one set of updates: the pair's, named "A / B"."""
    joint = "Assistant Director Communications / Chief Operating Officer"
    for number in ("7.2", "7.3"):
        found = item(edition, number)
        assert found.leads == [joint]
        assert len(found.blocks) == 1
        assert {u.lead for u in updates(found)} == {joint}
    assert item(edition, "1.6").leads == ["City Solicitor / Deputy Leader"]  # one line


def test_a_sentence_split_by_a_page_break_is_one_update(edition: Edition) -> None:
    """1.7: "... a corporate communication to this effect was issued in September" ends a page;
    "<b>2018. (September Update)</b>" opens the next."""
    found = update(item(edition, "1.7"), "Staff Survey went live 2 months earlier")
    assert found.text.endswith("was issued in September 2018. (September Update)")
    assert (found.month, found.lead) == ("2018-09", "HR Director")
    assert not any(u.text.startswith("2018.") for u in updates(item(edition, "1.7")))


def test_several_paragraphs_under_one_tag_are_one_update(edition: Edition) -> None:
    """6.5: four bold paragraphs, then "<b><u>(September Update)</u></b>": one update."""
    found = updates(item(edition, "6.5"))
    assert len(found) == 1
    assert found[0].text.startswith("Vision and priorities revised")
    assert "Good progress continues to be made in line with agreed timescales" in found[0].text
    assert found[0].month == "2018-09"


def test_outcome_texts_keep_their_dates_and_keys_leave_them_out(edition: Edition) -> None:
    """4.1: "Officer engagement with partners March-June 2018" is a range: two milestones."""
    found = [o for o in item(edition, "4.1").outcomes if o.text.startswith("Officer engagement")]
    assert [o.text for o in found] == ["Officer engagement with partners March-June 2018"] * 2
    assert [o.due for o in found] == ["2018-03", "2018-06"]
    assert [o.key for o in found] == ["officer engagement with partners",
                                      "officer engagement with partners#2"]


def test_a_trajectory_and_two_dated_phrases_are_several_milestones(edition: Edition) -> None:
    """4.4: "(April 2019, 2020 and 2021 trajectory)"; 5.1: "Draft strategy for May 2018 with
    final strategy in place for September 2018"."""
    trajectory = [o for o in item(edition, "4.4").outcomes if o.text.startswith("Revised perf")]
    assert [o.due for o in trajectory] == ["2019-04", "2020-04", "2021-04"]
    assert len({o.key for o in trajectory}) == 3
    assert "(April 2019, 2020 and 2021 trajectory)" in trajectory[0].text
    strategy = [o for o in item(edition, "5.1").outcomes if o.text.startswith("Draft strategy")]
    assert [(o.due, o.milestone) for o in strategy] == [("2018-05", 1), ("2018-09", 2)]
    assert strategy[0].key == "draft strategy with final strategy in place"


def test_no_further_update_required_is_not_an_outcome(edition: Edition) -> None:
    """6.3's outcomes cell ends "<b>No further update required</b>"."""
    texts = [o.text for o in item(edition, "6.3").outcomes]
    assert texts == ["Delivery of statutory responsibilities and improved outcomes against "
                     "agreed performance framework."]


def test_a_rag_line_is_a_status_not_an_update() -> None:
    """The September edition states no RAG in words; an edition that does ("RAG: Amber" on its
    own line after 4.8's "On the agenda for the BIIP September meeting.") sets the RAG, and the
    text before it is an update of its own, not carried into the next."""
    old = "(July Update). On the agenda for the BIIP September meeting."
    assert old in TEXT
    rag = "<br>RAG status: AMBER<br><b>Paper tabled (September Update)</b>"
    text = TEXT.replace(old, old + rag)
    found = item(cgip.parse(text, "rag.md"), "4.8")
    assert found.rag == "amber"
    assert [u.text for u in updates(found)] == [
        "In train – to discuss with BIIP and MHCLG (July Update)",
        "On the agenda for the BIIP September meeting.",
        "Paper tabled (September Update)"]
    assert {i.rag for i in cgip.parse(TEXT, SEPTEMBER.name).items} == {""}


def test_completion_is_read_per_lead_block(edition: Edition) -> None:
    """1.10 is not complete: its "Deputy Leader and CMT" block ends "And as background to the
    City partners meeting (September update) COMPLETE" but in the same month still reports
    "Further planned for the beginning of October". 3.2 ("... CEO updates all now BAU.
    COMPLETE") and 4.9 ("(August Update). COMPLETE") are."""
    assert not item(edition, "1.10").complete
    assert not item(edition, "2.6").complete  # "further improvements to be implemented"
    assert not item(edition, "1.3").complete
    assert {i.number: i.completion_month() for i in edition.items if i.complete} == {
        "3.2": "2018-09", "4.9": "2018-08"}


def test_the_totals(edition: Edition) -> None:
    """Before: 144 outcomes, 56 leads, 190 updates all dated, complete 1.10, 2.6, 3.2, 4.9.

    Outcomes: 143 (6.3's "No further update required" is none) in 152 milestones (+1 each
    for 1.5's "June – September 2018", 1.7's "(July 2018 onwards) ... (September 2018)", 4.1's
    two ranges, 4.4's trajectory (+2), 4.5's "October 2018 – Feb 2019", 5.1's draft/final
    strategy, 6.1's "(July 2018 onwards) ... (January 2019)"). Leads: 54 (7.2 and 7.3 each one
    joint lead, not two; 2.3's trailing "Chief Executive and Leader" is 2.4's). Updates: 178
    (12 fewer: 1.7's and 2.3's split sentences, 6.4's and 6.5's paragraphs under one tag, 7.1's
    list), 150 dated and 28 of unknown month (plain untagged text)."""
    assert len(edition.themes) == 7
    assert len(edition.items) == 46
    outcomes = [o for i in edition.items for o in i.outcomes]
    assert len(outcomes) == 152
    assert len({(i.number, o.key.split("#")[0]) for i in edition.items for o in i.outcomes}) == 143
    assert sum(len(i.leads) for i in edition.items) == 54
    found = [u for i in edition.items for u in updates(i)]
    assert Counter(bool(u.month) for u in found) == {True: 150, False: 28}
    assert all(u.basis == REPORTED for u in found if not u.month)
    assert [i.number for i in edition.items if i.complete] == ["3.2", "4.9"]
