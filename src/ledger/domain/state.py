"""The state of one item, folded from its events in effective order; corrections applied.

`fold(events, as_of)` is the one place that says what a sequence of item events
means: the item as it stood on a day, whatever order the events were recorded
in. Events apply in effective order (recorded order only breaks ties) and each
asserts a value (a target, the leads, a text), so backfilling an old edition
after a new one gives the same answer as importing them in order. Before the
first edition that reports the item, its structure is an assumption taken from
that earliest report, and the state says so. It never raises on odd history;
guards live on the aggregate. Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ledger.domain.events import (
    CompletionReported,
    CorrectionRecorded,
    ItemAdded,
    ItemReopened,
    ItemReported,
    ItemWithdrawn,
    LeadAssigned,
    LeadReassigned,
    LeadRemoved,
    LeadsStated,
    OutcomeAdded,
    OutcomeWithdrawn,
    PlanEvent,
    RagSet,
    TargetMoved,
    TextRevised,
)
from ledger.domain.events import UpdateRecorded as UpdateEvent
from ledger.domain.values import Basis
from ledger.domain.words import update_identity

STRUCTURE = (ItemAdded, ItemReported, TextRevised, OutcomeAdded, TargetMoved, LeadAssigned,
             LeadReassigned, LeadRemoved, LeadsStated)


@dataclass(frozen=True)
class Move:
    """A target's move in effective time: from what it was then to what the event asserts."""

    before: str
    after: str
    effective: date
    recorded_at: datetime
    recorded_by: str
    note: str
    basis: str
    version: int


@dataclass
class OutcomeState:
    """A deliverable: its current target and its baseline (the first target in effective
    time). `id` is how events name it; `number` is its place in the item, in the order the
    outcomes were first reported (what people type and read)."""

    id: int
    number: int
    key: str
    text: str
    due: str
    due_label: str
    baseline_due: str
    baseline_label: str
    withdrawn: bool = False
    moves: list[Move] = field(default_factory=list)
    baseline_edition: str = ""  # the edition the baseline comes from ("" entered by hand)
    basis: str = ""  # how the current target's date is known


@dataclass
class UpdateState:
    """One progress update: its month ("" where the document does not say), how that is known,
    whose it is and when the ledger heard of it."""

    version: int
    month: str
    text: str
    attributed_to: str
    recorded_by: str
    effective: date
    recorded_at: datetime
    basis: str
    edition: str
    words: str = ""


@dataclass
class ItemState:
    """An item as its events say it stood (`assumed`: before the first edition that reports
    it, its structure is taken from that earliest report)."""

    plan: str
    number: str
    theme: str
    aim: str
    actions: str
    outcomes: dict[int, OutcomeState] = field(default_factory=dict)
    leads: list[str] = field(default_factory=list)
    rag: str = ""
    updates: list[UpdateState] = field(default_factory=list)
    complete: bool = False
    completed_month: str = ""
    withdrawn: bool = False
    corrected: dict[int, int] = field(default_factory=dict)
    assumed: bool = False
    reported_from: date | None = None
    # What last changed each fact: theme, aim, actions, leads (and `lead:NAME`, the event that
    # brought that lead in), rag, complete, withdrawn, `outcome:ID` (added, moved, withdrawn).
    touched: dict[str, PlanEvent] = field(default_factory=dict)
    # The updates by their words (`_update` looks an update up by them: a scan of every
    # update was quadratic in an item's history, most of the runner's catch-up).
    by_words: dict[str, list[UpdateState]] = field(default_factory=dict, repr=False,
                                                   compare=False)
    # The latest update (`latest_update`), kept as updates are appended (a scan of every
    # update on every history row was quadratic in an item's history); found again by a
    # scan where a known update's month changed.
    latest: UpdateState | None = field(default=None, repr=False, compare=False)
    latest_stale: bool = field(default=False, repr=False, compare=False)

    @classmethod
    def start(cls, event: ItemAdded) -> ItemState:
        """The item as its first event names it."""
        return cls(event.plan, event.number, event.theme, event.aim, event.actions)

    def outcome_by_id(self, outcome_id: int) -> OutcomeState | None:
        """The outcome events call `outcome_id`."""
        return next((o for o in self.outcomes.values() if o.id == outcome_id), None)

    def apply(self, event: PlanEvent) -> None:  # noqa: PLR0912 - one branch per kind
        """Evolve this state by one (already corrected) event, in effective order."""
        # The event classes are disjoint (no case can take another's event), so the commonest
        # are tried first: each class pattern that fails costs an isinstance of the library's.
        match event:
            case UpdateEvent():
                self._update(event)
            case RagSet():
                self._set("rag", event.after, event)
            case ItemAdded() | ItemReported():
                for name in ("theme", "aim", "actions"):
                    self._stated(name, getattr(event, name), event)
            case TextRevised():
                self._set(event.field, event.after, event)
            case OutcomeAdded():
                self._state_outcome(event)
            case TargetMoved():
                if (outcome := self.outcome_by_id(event.outcome)) is not None:
                    outcome.text = event.text or outcome.text
                    self._move(outcome, event, event.after, event.after_label)
            case OutcomeWithdrawn():
                if (outcome := self.outcome_by_id(event.outcome)) is not None:
                    outcome.withdrawn = True
                    self.touched[f"outcome:{outcome.id}"] = event
            case LeadsStated() | LeadAssigned() | LeadReassigned() | LeadRemoved():
                before = self.leads
                self._set("leads", _leads_after(self.leads, event), event)
                for lead in self.leads:  # each lead: the event that brought it in
                    if lead not in before:
                        self.touched[f"lead:{lead}"] = event
            case CompletionReported():
                self.completed_month = event.month
                self._set("complete", True, event)
            case ItemReopened():
                self.completed_month = ""
                self._set("complete", False, event)
            case ItemWithdrawn():
                self._set("withdrawn", True, event)
            case CorrectionRecorded():
                self.corrected[event.corrects] = event.originator_version

    def _set(self, name: str, value: Any, event: PlanEvent) -> None:
        if getattr(self, name) != value:
            setattr(self, name, value)
            self.touched[name] = event

    def _stated(self, name: str, value: Any, event: PlanEvent) -> None:
        """A structural fact as a report states it: it is this event's if it changes the
        value or no event in effect before it stated one (the state starts from the first
        recorded report, which in effective order may come later: a backfilled edition)."""
        if getattr(self, name) != value or name not in self.touched:
            setattr(self, name, value)
            self.touched[name] = event

    def _state_outcome(self, event: OutcomeAdded) -> None:
        outcome = self.outcome_by_id(event.outcome)
        label = event.due_label or event.due
        if outcome is None:
            number = len(self.outcomes) + 1
            self.outcomes[number] = OutcomeState(event.outcome, number, event.key, event.text,
                                                 event.due, label, event.due, label,
                                                 baseline_edition=event.edition,
                                                 basis=event.basis)
            self.touched[f"outcome:{event.outcome}"] = event
            return
        outcome.text, outcome.withdrawn = event.text, False
        self._move(outcome, event, event.due, label)

    def _move(self, outcome: OutcomeState, event: PlanEvent, due: str, label: str) -> None:
        if due != outcome.due:
            outcome.moves.append(Move(outcome.due, due, event.effective, event.timestamp,
                                      event.recorded_by, event.note, event.basis,
                                      event.originator_version))
            self.touched[f"outcome:{outcome.id}"] = event
        outcome.due, outcome.due_label = due, label or due
        outcome.basis = event.basis

    def _update(self, event: UpdateEvent) -> None:
        words = update_identity(event.text)
        for known in self.by_words.get(words, ()):
            if known.month == event.month:
                return  # the same update stated again
            if event.basis == Basis.STATED and known.basis != Basis.STATED:
                # a stated month for an update first seen without one
                known.month, known.basis = event.month, event.basis
                self.latest_stale = True
                return
            if event.basis != Basis.STATED:
                return  # a repetition, its month not stated: the update seen before
        update = UpdateState(
            event.originator_version, event.month, event.text, event.attributed_to,
            event.recorded_by, event.effective, event.timestamp, event.basis, event.edition,
            words)
        self.updates.append(update)
        self.by_words.setdefault(words, []).append(update)
        if self.latest is None or update.month >= self.latest.month:
            self.latest = update  # within a month, the last in effective order

    def latest_update(self) -> UpdateState | None:
        """The update for the latest stated month (undated ones are older than any dated)."""
        if self.latest_stale:
            # The latest month; within it, the last in effective order (not in recorded
            # order, which depends on the order editions were imported).
            self.latest = max(reversed(self.updates), key=lambda u: u.month, default=None)
            self.latest_stale = False
        return self.latest


def _leads_after(leads: list[str], event: PlanEvent) -> list[str]:
    """The leads after a lead event: a whole list stated, or one assigned, replaced, removed."""
    after = list(leads)
    match event:
        case LeadsStated():
            after = list(event.leads)
        case LeadAssigned() if event.lead not in after:
            after.append(event.lead)
        case LeadReassigned() if event.before in after:
            after[after.index(event.before)] = event.after
        case LeadReassigned() if event.after not in after:
            after.append(event.after)
        case LeadRemoved() if event.lead in after:
            after.remove(event.lead)
    return after


def corrected_event(event: PlanEvent, replacement: dict[str, str]) -> PlanEvent:
    """The event as its correction says it should have read."""
    values: dict[str, Any] = dict(replacement)
    for name, value in replacement.items():
        if hasattr(event, f"{name}_label"):
            values[f"{name}_label"] = value
    return dataclasses.replace(event, **values)


def effective_order(event: PlanEvent) -> tuple[date, str, int]:
    """Effective date first; on one date, an earlier edition's statement before a later one's
    (hand entries after the editions); recorded order last."""
    return event.effective, event.edition or "~", event.originator_version


def in_effective_order(events: list[PlanEvent]) -> list[PlanEvent]:
    """The stream's events as corrected (a retracted one left out), in effective order (see
    `effective_order`); corrections themselves last (they restate the past)."""
    fixes = {e.corrects: e for e in events if isinstance(e, CorrectionRecorded)}
    corrected: list[PlanEvent] = []
    for event in events:
        if isinstance(event, CorrectionRecorded):
            continue
        fix = fixes.get(event.originator_version)
        if fix is not None:
            if not fix.replacement:
                continue
            event = corrected_event(event, fix.replacement)  # noqa: PLW2901
        corrected.append(event)
    corrected.sort(key=effective_order)
    return corrected + [e for e in events if isinstance(e, CorrectionRecorded)]


def _first_report(events: list[PlanEvent], origin: ItemAdded) -> date:
    """The day the first edition (or entry) reported the item: before it, it is assumed."""
    return min((e.effective for e in events if isinstance(e, ItemAdded | ItemReported)),
               default=origin.effective)


def fold(events: list[PlanEvent], as_of: date | None = None, *,
         assume: bool = True) -> ItemState | None:
    """The item on `as_of` (None: with everything recorded) from its events in any order.

    In force: events effective by `as_of`. Before the first report of the item, it is shown
    only where a fact in force places it (a dated update): its structure is then the earliest
    report's, marked `assumed` (`assume=False`: not shown at all).
    """
    origin = next((e for e in events if isinstance(e, ItemAdded)), None)
    if origin is None:
        return None
    ordered = in_effective_order(events)
    first_report = _first_report(ordered, origin)
    in_force = ordered if as_of is None else [
        e for e in ordered if isinstance(e, CorrectionRecorded) or e.effective <= as_of]
    assumed = as_of is not None and as_of < first_report
    if assumed:
        if not assume or not any(not isinstance(e, CorrectionRecorded) for e in in_force):
            return None
        in_force = [e for e in ordered if e.effective == first_report
                    and isinstance(e, STRUCTURE)] + in_force
    state = ItemState.start(origin)
    state.assumed, state.reported_from = assumed, first_report
    for event in in_force:
        state.apply(event)
    return state


def states_at(events: list[PlanEvent], days: list[date]) -> Iterator[tuple[date, ItemState]]:
    """For each day (ascending), the item as the events in force on it make it.

    One pass in effective order from the item's first report on (the state yielded is then
    the same object, advanced: read it before the next step); a day before the first report
    is folded on its own (its structure assumed).
    """
    origin = next((e for e in events if isinstance(e, ItemAdded)), None)
    if origin is None:
        return
    ordered = in_effective_order(events)
    plain = [e for e in ordered if not isinstance(e, CorrectionRecorded)]
    first_report = _first_report(plain, origin)
    state: ItemState | None = None
    position = 0
    for day in days:
        if day < first_report:
            folded = fold(events, day)
            if folded is not None:
                yield day, folded
            continue
        if state is None:
            state = ItemState.start(origin)
            state.reported_from = first_report
            for correction in ordered[len(plain):]:
                state.apply(correction)
        while position < len(plain) and plain[position].effective <= day:
            state.apply(plain[position])
            position += 1
        yield day, state
