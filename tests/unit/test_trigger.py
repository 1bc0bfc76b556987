"""The ledger's aggregates make their events as the library's `trigger_event` makes them: the
same event, attribute for attribute in the same order, applied and pending alike, for every
command that records one; anything the fast path does not know is the library's own path."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

import pytest
from eventsourcing.domain import Aggregate

from ledger.domain import events, triggers
from ledger.domain.events import KIND, UpdateRecorded
from ledger.domain.item import Item
from ledger.domain.plan import Catalogue, Plan
from ledger.domain.values import Basis, Provenance, Rag

MOMENT = datetime(2018, 9, 30, 12, 0, 0, 0, tzinfo=UTC)  # no microseconds: written without
HAND = Provenance("clerk", date(2018, 9, 30), "ledger set-rag", "Chief Executive", "why")
EDITION = Provenance("import", date(2018, 10, 31), "plan.pdf sha256 line 7", "", "",
                     Basis.REPORTED, "2018-10")


def _script() -> tuple[Catalogue, Plan, Item]:
    """Every command of the three aggregates that triggers an event (each kind once at least),
    in an order the domain accepts."""
    catalogue = Catalogue.open(HAND)
    catalogue.list_plan("bcc", HAND)
    plan = Plan.register("bcc", "Improvement plan", HAND)
    plan.add_theme("1", "Governance", "", HAND)
    plan.file_item("1.1", "1", HAND)
    plan.record_edition("plan.pdf", "ab" * 32, "2018-10", "pdf", 12, EDITION)
    item = Item.add("bcc", "1.1", "1", "An aim", "Actions", HAND)
    item.add_outcome("A report to Cabinet", "2018-12", "", HAND)
    item.move_target(1, "2019-03", "March 2019", HAND)
    item.assign_lead("City Solicitor", HAND)
    item.assign_lead("HR Director", HAND)
    item.assign_lead("Chief Executive", HAND, add=True)
    item.remove_lead("Chief Executive", HAND)
    item.set_rag(Rag.AMBER, HAND)
    item.record_update("2018-09", "Progress: a draft went to Cabinet", HAND)
    item.revise_text("aim", "A sharper aim", HAND)
    item.report("1", "An aim as the edition gives it", "Actions", EDITION)
    item.state_outcome(None, "report", "A second report", "2019-01", "", EDITION)
    item.state_target(2, "2019-01", "2019-02", "", "A second report", EDITION)
    item.state_leads(["HR Director"], ["HR Director", "City Solicitor"], EDITION)
    item.state_text("actions", "Actions", "New actions", EDITION)
    item.state_rag("amber", Rag.RED, EDITION)
    item.withdraw_outcome(2, HAND)
    item.report_completion("2018-09", HAND)
    item.reopen(HAND)
    item.state_completion("2018-10", EDITION)
    item.correct(10, {"text": "Progress: corrected"}, HAND)
    item.withdraw(HAND)
    return catalogue, plan, item


def _made(aggregates: tuple[Aggregate, ...]) -> list[Any]:
    return [(type(a).__name__, a.version, a.modified_on,
             [(type(e), list(vars(e).items())) for e in a.pending_events]) for a in aggregates]


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events.PlanEvent, "create_timestamp", staticmethod(lambda: MOMENT))


def _by_library(monkeypatch: pytest.MonkeyPatch, run: Callable[[], Any]) -> Any:
    with monkeypatch.context() as patch:
        patch.setattr(triggers, "_SHAPES", dict.fromkeys(KIND))
        return run()


@pytest.mark.usefixtures("fixed_clock")
def test_every_command_makes_the_event_the_librarys_trigger_event_makes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    fast = _script()
    library = _by_library(monkeypatch, _script)
    assert _made(fast) == _made(library)
    assert fast[2].state == library[2].state
    kinds = {type(e) for a in fast for e in a.pending_events}
    assert kinds == set(KIND)  # every kind of event, each made by a command
    first = fast[2].pending_events[0]
    assert list(vars(first))[:3] == ["originator_id", "originator_version", "timestamp"]


def test_every_event_class_the_ledger_triggers_takes_the_fast_path() -> None:
    """Each class the domain triggers is known to `trigger` (else the test above compares the
    library with itself)."""
    created = {cls for cls in KIND if issubclass(cls, Aggregate.Created)}
    assert {cls for cls in KIND if triggers.shape_of(cls)} >= set(KIND) - created


def test_keywords_that_are_not_the_events_fields_fail_as_the_library_fails(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def attempt(**kwargs: Any) -> str:
        item = Item.add("bcc", "1.1", "1", "An aim", "Actions", HAND)
        try:
            item.trigger_event(UpdateRecorded, **kwargs)
        except TypeError as exc:
            return str(exc)
        return repr(list(vars(item.pending_events[-1]).items()))

    wrong: list[dict[str, Any]] = [
        {"month": "2018-10"}, {**HAND.fields(), "month": "", "text": "x", "colour": "red"}]
    for kwargs in wrong:
        assert attempt(**kwargs) == _by_library(monkeypatch, partial(attempt, **kwargs))
        assert "Can't construct event" in attempt(**kwargs)


def test_a_timestamp_given_is_kept_as_the_library_keeps_it() -> None:
    item = Item.add("bcc", "1.1", "1", "An aim", "Actions", HAND)
    item.trigger_event(UpdateRecorded, month="2018-10", text="x", timestamp=MOMENT,
                       **HAND.fields())
    assert item.pending_events[-1].timestamp == MOMENT
