"""The item aggregate without a database: guards, slips, baselines, corrections."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.domain.errors import InvalidInputError, NoChangeError, NotFoundError
from ledger.domain.events import CorrectionRecorded, LeadReassigned, TargetMoved
from ledger.domain.item import Item
from ledger.domain.plan import Catalogue, Plan
from ledger.domain.state import ItemState, fold
from ledger.domain.values import Provenance, Rag


def prov(note: str = "", by: str = "clerk", attributed_to: str = "") -> Provenance:
    return Provenance(by, date(2018, 9, 30), "cli:test", attributed_to, note)


@pytest.fixture
def item() -> Item:
    new = Item.add("cgip-2018", "1.1", "1", "Well-organised political groups", "", prov())
    new.assign_lead("ACE with Group Leaders / Deputy Leader", prov())
    new.add_outcome("INLOGOV update report", "2018-09", "September 2018", prov())
    return new


def test_a_later_target_is_a_slip_and_the_baseline_stays(item: Item) -> None:
    """Moving September to November keeps September as the baseline and logs the move."""
    item.move_target(1, "2018-11", "", prov(note="spec revised"))
    outcome = item.state.outcomes[1]
    assert (outcome.baseline_due, outcome.due) == ("2018-09", "2018-11")
    assert [(m.before, m.after) for m in outcome.moves] == [("2018-09", "2018-11")]


def test_moving_a_target_earlier_needs_a_reason(item: Item) -> None:
    """Pulling a target back in time without --note is refused."""
    with pytest.raises(InvalidInputError, match="needs a reason"):
        item.move_target(1, "2018-08", "", prov())
    item.move_target(1, "2018-08", "", prov(note="brought forward by Cabinet"))
    assert item.state.outcomes[1].due == "2018-08"


def test_a_target_move_to_the_same_month_changes_nothing(item: Item) -> None:
    """Re-stating the target is not a move."""
    with pytest.raises(NoChangeError):
        item.move_target(1, "2018-09", "September 2018", prov())


def test_an_unknown_outcome_is_named(item: Item) -> None:
    """Outcome 7 of an item with one outcome is refused with the known numbers."""
    with pytest.raises(NotFoundError, match=r"no outcome 7 \(outcomes: 1\)"):
        item.move_target(7, "2018-12", "", prov())


def test_a_sole_lead_is_reassigned_not_added(item: Item) -> None:
    """Naming a new lead on a one-lead item records who it replaced."""
    item.assign_lead("City Solicitor", prov(note="portfolio change"))
    last = item.pending_events[-1]
    assert isinstance(last, LeadReassigned)
    assert (last.before, last.after) == ("ACE with Group Leaders / Deputy Leader", "City Solicitor")
    assert item.state.leads == ["City Solicitor"]


def test_the_same_lead_again_is_refused(item: Item) -> None:
    """A lead change to the current lead changes nothing."""
    with pytest.raises(NoChangeError, match="already leads"):
        item.assign_lead("ACE with Group Leaders / Deputy Leader", prov())


def test_with_several_leads_the_replaced_one_must_be_named(item: Item) -> None:
    """Two leads: a bare reassignment is ambiguous; --add and --replace are not."""
    item.assign_lead("City Solicitor and Chief Whip", prov(), add=True)
    with pytest.raises(InvalidInputError, match="several leads"):
        item.assign_lead("Chief Executive", prov())
    item.assign_lead("Chief Executive", prov(), replace="City Solicitor and Chief Whip")
    assert item.state.leads == ["ACE with Group Leaders / Deputy Leader", "Chief Executive"]


def test_rag_set_twice_to_the_same_colour_is_refused(item: Item) -> None:
    """Amber then amber is no change."""
    item.set_rag(Rag.AMBER, prov())
    with pytest.raises(NoChangeError):
        item.set_rag(Rag.AMBER, prov())


def test_completion_and_reopening_alternate(item: Item) -> None:
    """Complete twice is refused; reopen a complete item; reopen an open one is refused."""
    item.report_completion("2018-08", prov())
    with pytest.raises(NoChangeError):
        item.report_completion("2018-09", prov())
    item.reopen(prov(note="survey not run"))
    assert not item.state.complete
    with pytest.raises(NoChangeError):
        item.reopen(prov())


def test_a_correction_replaces_the_value_and_keeps_the_original(item: Item) -> None:
    """The corrected update reads the new text; the original event stays in the stream."""
    item.record_update("2018-08", "Survey planed", prov(attributed_to="City Solicitor"))
    wrong = item.version
    item.correct(wrong, {"text": "Survey being planned"}, prov(note="typo"))
    assert [u.text for u in item.state.updates] == ["Survey being planned"]
    assert item.state.corrected == {wrong: item.version}
    assert item.history[wrong - 1].text == "Survey planed"  # type: ignore[attr-defined]
    assert isinstance(item.history[-1], CorrectionRecorded)


def test_a_correction_without_values_retracts(item: Item) -> None:
    """Retracting a target move restores the target it moved from."""
    item.move_target(1, "2019-01", "", prov())
    item.correct(item.version, {}, prov(note="moved on the wrong item"))
    assert item.state.outcomes[1].due == "2018-09"
    assert item.state.outcomes[1].moves == []


def test_a_correction_needs_a_reason_and_a_real_field(item: Item) -> None:
    """No --note, or a field the event does not have, is refused."""
    with pytest.raises(InvalidInputError, match="reason"):
        item.correct(2, {"lead": "City Solicitor"}, prov())
    with pytest.raises(InvalidInputError, match="no rag to correct"):
        item.correct(2, {"rag": "red"}, prov(note="x"))
    with pytest.raises(NotFoundError, match="no event 99"):
        item.correct(99, {}, prov(note="x"))


def test_a_correction_of_a_target_checks_the_month(item: Item) -> None:
    """A corrected target must be a real month, and it moves the current due month."""
    item.move_target(1, "2019-01", "", prov())
    with pytest.raises(InvalidInputError):
        item.correct(item.version, {"due": "2019-13"}, prov(note="x"))
    item.correct(item.version, {"due": "2018-12"}, prov(note="typed January for December"))
    assert item.state.outcomes[1].due == "2018-12"
    assert isinstance(item.history[3], TargetMoved)


def test_fold_of_the_stream_equals_the_live_state(item: Item) -> None:
    """Replaying the stored events gives the state the aggregate held."""
    item.record_update("2018-09", "Report commissioned", prov())
    item.set_rag(Rag.GREEN, prov())
    assert fold(list(item.history)) == item.state


def test_a_plan_refuses_an_item_under_an_unknown_theme() -> None:
    """Item under theme 9 of a plan with theme 1: refused, naming the themes."""
    plan = Plan.register("cgip-2018", "CGIP", prov())
    plan.add_theme("1", "Political Leadership", "", prov())
    with pytest.raises(NotFoundError, match=r"no theme 9 \(themes: 1\)"):
        plan.file_item("1.1", "9", prov())
    plan.file_item("1.1", "1", prov())
    with pytest.raises(InvalidInputError, match=r"already has item 1\.1"):
        plan.file_item("1.1", "1", prov())


def test_the_catalogue_finds_the_only_plan_or_asks_which() -> None:
    """One plan needs no --plan; two do."""
    catalogue = Catalogue.open(prov())
    catalogue.list_plan("cgip-2018", prov())
    assert catalogue.check_plan(None) == "cgip-2018"
    catalogue.list_plan("kerslake-2015", prov())
    with pytest.raises(InvalidInputError, match="--plan"):
        catalogue.check_plan(None)
    with pytest.raises(NotFoundError):
        catalogue.check_plan("nope")


def test_provenance_needs_someone() -> None:
    """An event with no recorder is refused."""
    with pytest.raises(InvalidInputError):
        Provenance(" ", date(2018, 9, 30), "cli:test")


def test_the_latest_update_is_the_latest_month_and_follows_a_month_stated_later(
        item: Item) -> None:
    """The latest update is that of the latest month, the last folded within a month, an
    undated one older than any dated: as a scan of every update finds it, also after an
    update first reported without a month is stated with one ("Survey under way" reported
    undated, then stated for 2018-11, becomes the latest over 2018-10)."""
    from ledger.domain.values import Basis  # noqa: PLC0415

    def scan() -> object:
        return max(reversed(item.state.updates), key=lambda u: u.month)

    def latest_text(state: ItemState | None) -> str:
        found = state.latest_update() if state is not None else None
        return found.text if found is not None else ""

    reported = Provenance("clerk", date(2018, 10, 31), "edition", basis=Basis.REPORTED,
                          edition="2018-10")
    october = Provenance("clerk", date(2018, 10, 31), "cli:test")  # an October update's day
    item.record_update("2018-10", "Report commissioned", october)
    item.record_update("2018-09", "Scoping done", prov())
    item.record_update("2018-10", "Report drafted", october)
    assert item.state.latest_update() is scan()
    assert latest_text(item.state) == "Report drafted"
    item.record_update("", "Survey under way", reported)
    assert latest_text(item.state) == "Report drafted"
    stated = Provenance("clerk", date(2018, 11, 30), "edition", basis=Basis.STATED,
                        edition="2018-11")
    item.record_update("2018-11", "Survey under way", stated)
    assert len(item.state.updates) == 4  # the same update, its month now stated
    assert item.state.latest_update() is scan()
    assert latest_text(item.state) == "Survey under way"
    assert latest_text(fold(list(item.history))) == "Survey under way"


@pytest.mark.parametrize("command", ["update", "completion", "correction"])
def test_a_month_that_had_not_begun_is_refused(item: Item, command: str) -> None:
    """An update or a completion speaks for a month that has come: on 30 September 2018 none
    can be for October (nor corrected to it); nothing is recorded."""
    item.record_update("2018-09", "Scoping done", prov())
    before = len(item.pending_events)
    attempts = {
        "update": lambda: item.record_update("2018-10", "Report drafted", prov()),
        "completion": lambda: item.report_completion("2018-10", prov()),
        "correction": lambda: item.correct(item.version, {"month": "2018-10"},
                                           prov(note="wrong month")),
    }
    with pytest.raises(InvalidInputError, match="that month had not begun"):
        attempts[command]()
    assert len(item.pending_events) == before
