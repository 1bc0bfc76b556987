"""The state of one item, folded from its events; corrections applied, nothing lost.

`fold(events)` is the one place that says what a sequence of item events
means: the item as an auditor reads it. It never raises on odd history
(a correction may make a later event refer to nothing); guards live on the
aggregate. Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import pairwise
from typing import Any

from ledger.domain.events import (
    CompletionReported,
    CorrectionRecorded,
    ItemAdded,
    ItemReopened,
    ItemWithdrawn,
    LeadAssigned,
    LeadReassigned,
    LeadRemoved,
    OutcomeAdded,
    OutcomeWithdrawn,
    PlanEvent,
    RagSet,
    TargetMoved,
    TextRevised,
    UpdateRecorded,
)


@dataclass
class OutcomeState:
    """A deliverable: its current target and its baseline (the first target ever)."""

    number: int
    text: str
    due: str
    due_label: str
    baseline_due: str
    baseline_label: str
    withdrawn: bool = False
    moves: list[TargetMoved] = field(default_factory=list)


@dataclass
class UpdateState:
    """One progress update, with whose it is and when the ledger heard of it."""

    version: int
    month: str
    text: str
    attributed_to: str
    recorded_by: str
    effective: date
    recorded_at: datetime


@dataclass
class ItemState:
    """An item as its events say it is now."""

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

    @classmethod
    def start(cls, event: ItemAdded) -> ItemState:
        """The item as its first event creates it."""
        return cls(event.plan, event.number, event.theme, event.aim, event.actions)

    def apply(self, event: PlanEvent) -> None:  # noqa: PLR0912 - one branch per kind
        """Evolve this state by one (already corrected) event."""
        match event:
            case TextRevised():
                setattr(self, event.field, event.after)
            case OutcomeAdded():
                self.outcomes[event.outcome] = OutcomeState(
                    event.outcome, event.text, event.due, event.due_label,
                    event.due, event.due_label,
                )
            case TargetMoved():
                if (outcome := self.outcomes.get(event.outcome)) is not None:
                    outcome.due, outcome.due_label = event.after, event.after_label
                    outcome.moves.append(event)
            case OutcomeWithdrawn():
                if (outcome := self.outcomes.get(event.outcome)) is not None:
                    outcome.withdrawn = True
            case LeadAssigned():
                if event.lead not in self.leads:
                    self.leads.append(event.lead)
            case LeadReassigned():
                if event.before in self.leads:
                    self.leads[self.leads.index(event.before)] = event.after
                elif event.after not in self.leads:
                    self.leads.append(event.after)
            case LeadRemoved():
                if event.lead in self.leads:
                    self.leads.remove(event.lead)
            case RagSet():
                self.rag = event.after
            case UpdateRecorded():
                self.updates.append(UpdateState(
                    event.originator_version, event.month, event.text,
                    event.attributed_to, event.recorded_by, event.effective, event.timestamp,
                ))
            case CompletionReported():
                self.complete, self.completed_month = True, event.month
            case ItemReopened():
                self.complete, self.completed_month = False, ""
            case ItemWithdrawn():
                self.withdrawn = True
            case CorrectionRecorded():
                self.corrected[event.corrects] = event.originator_version

    def latest_update(self) -> UpdateState | None:
        """The update for the latest month (the latest recorded within that month)."""
        if not self.updates:
            return None
        return max(self.updates, key=lambda u: (u.month, u.version))


def corrected_event(event: PlanEvent, replacement: dict[str, str]) -> PlanEvent:
    """The event as its correction says it should have read."""
    values: dict[str, Any] = dict(replacement)
    for name, value in replacement.items():
        if hasattr(event, f"{name}_label"):
            values[f"{name}_label"] = value
    return dataclasses.replace(event, **values)


def fold(events: list[PlanEvent]) -> ItemState | None:
    """The item that these events (in stream order) describe, corrections applied.

    The latest correction of an event wins; an empty replacement retracts it.
    """
    fixes = {e.corrects: e for e in events if isinstance(e, CorrectionRecorded)}
    state: ItemState | None = None
    for event in events:
        fix = fixes.get(event.originator_version)
        if fix is not None:
            if not fix.replacement:
                continue
            event = corrected_event(event, fix.replacement)  # noqa: PLW2901
        if isinstance(event, ItemAdded) and state is None:
            state = ItemState.start(event)
        elif state is not None:
            state.apply(event)
    return state


def states_at(events: list[PlanEvent], days: list[date]) -> Iterator[tuple[date, ItemState]]:
    """For each day (ascending), the item as the events in force on it make it.

    In force: effective by that day, and every correction (a correction restates the
    past). A stream in effective order with no corrections is folded in one pass (the
    state yielded is then the same object, advanced: read it before the next step);
    otherwise each day is folded from its own events.
    """
    in_order = all(a.effective <= b.effective for a, b in pairwise(events))
    if in_order and not any(isinstance(e, CorrectionRecorded) for e in events):
        state: ItemState | None = None
        position = 0
        for day in days:
            while position < len(events) and events[position].effective <= day:
                event = events[position]
                if state is None and isinstance(event, ItemAdded):
                    state = ItemState.start(event)
                elif state is not None:
                    state.apply(event)
                position += 1
            if state is not None:
                yield day, state
        return
    for day in days:
        folded = fold([e for e in events
                       if isinstance(e, CorrectionRecorded) or e.effective <= day])
        if folded is not None:
            yield day, folded
