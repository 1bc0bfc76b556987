"""The item aggregate: one numbered item of a plan and every change made to it.

Commands are imperative methods (`set_rag`, `move_target`...) that check
first (`check_*`, raising a `LedgerError` naming the problem) and only then
trigger a past-tense event. State is `ledger.domain.state.fold` of the
stream, so corrections are honoured the same way here and in projections. Pure.
"""

from __future__ import annotations

from datetime import date

from eventsourcing.domain import Aggregate

from ledger.domain.errors import InvalidInputError, NoChangeError, NotFoundError
from ledger.domain.events import (
    CORRECTABLE,
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
    UpdateRecorded,
    kind_of,
    stable_topic,
)
from ledger.domain.ids import check_item_number, item_id
from ledger.domain.state import ItemState, OutcomeState, fold
from ledger.domain.triggers import Triggers
from ledger.domain.values import Basis, Provenance, Rag, month_of, parse_month, parse_rag
from ledger.domain.words import identity

TEXT_FIELDS = ("aim", "actions")


def _clean(text: str, what: str) -> str:
    text = " ".join(text.split())
    if not text:
        msg = f"{what} is empty"
        raise InvalidInputError(msg)
    return text


class Item(Triggers, Aggregate):
    """One item (`1.3`) of a plan: aim, actions, outcomes, leads, RAG, updates."""

    def __init__(self) -> None:
        self.history: list[PlanEvent] = []
        self._state: ItemState | None = None
        self._stale = True  # the state must be folded again from the history before use
        self._latest = date.min

    @classmethod
    def add(
        cls, plan: str, number: str, theme: str, aim: str, actions: str, prov: Provenance,
    ) -> Item:
        """A new item of a plan (the plan checks the theme and that the number is new)."""
        check_item_number(number)
        return cls._create(
            ItemAdded, id=item_id(plan, number), plan=plan, number=number, theme=theme,
            aim=" ".join(aim.split()), actions=" ".join(actions.split()), **prov.fields(),
        )

    @property
    def state(self) -> ItemState:
        """The item as its events say it is now (everything recorded, in effective order)."""
        if self._stale:
            self._state = fold(self.history)
            self._stale = False
        assert self._state is not None, "an item stream starts with ItemAdded"
        return self._state

    def state_on(self, day: date) -> ItemState | None:
        """The item as it stood on `day`, as known from every event recorded (no assumption:
        None where no edition had reported it by then)."""
        return fold(self.history, day, assume=False)

    def absorb(self, event: PlanEvent) -> None:
        """Evolve by one event of this stream; after an event effective before the latest
        applied, or a correction, the whole stream is folded again in effective order when the
        state is next read (once, not once per such event: an edition imported out of order
        makes many of them, and replaying its stream was quadratic)."""
        self.history.append(event)
        if (self._stale or self._state is None or type(event) is CorrectionRecorded
                or event.effective < self._latest):
            self._stale = True
        else:
            self._state.apply(event)
        self._latest = max(self._latest, event.effective)

    # --- guards ------------------------------------------------------------

    def check_outcome(self, number: int) -> OutcomeState:
        """The outcome with this number, not withdrawn."""
        outcome = self.state.outcomes.get(number)
        if outcome is None:
            known = ", ".join(str(n) for n in self.state.outcomes) or "none yet"
            msg = f"item {self.state.number} has no outcome {number} (outcomes: {known})"
            raise NotFoundError(msg)
        if outcome.withdrawn:
            msg = f"outcome {number} of item {self.state.number} was withdrawn"
            raise InvalidInputError(msg)
        return outcome

    def check_event(self, version: int) -> PlanEvent:
        """The event of this stream with this version."""
        if not 1 <= version <= len(self.history):
            msg = f"item {self.state.number} has no event {version} (it has {len(self.history)})"
            raise NotFoundError(msg)
        return self.history[version - 1]

    # --- commands ----------------------------------------------------------

    def revise_text(self, field: str, text: str, prov: Provenance) -> None:
        """Revise the aim or the required actions."""
        if field not in TEXT_FIELDS:
            msg = f"{field!r} is not a text of an item: use aim or actions"
            raise InvalidInputError(msg)
        after = " ".join(text.split())
        before = getattr(self.state, field)
        if after == before:
            msg = f"item {self.state.number}'s {field} already reads so"
            raise NoChangeError(msg)
        self.trigger_event(TextRevised, field=field, before=before, after=after, **prov.fields())

    def add_outcome(self, text: str, due: str, due_label: str, prov: Provenance) -> int:
        """Add an outcome with an optional target month; returns its number."""
        text = _clean(text, "the outcome's text")
        for outcome in self.state.outcomes.values():
            if outcome.text == text and not outcome.withdrawn:
                msg = f"item {self.state.number} already has this outcome (#{outcome.number})"
                raise NoChangeError(msg)
        due = parse_month(due) if due else ""
        self.trigger_event(
            OutcomeAdded, outcome=self._next_outcome_id(), key=identity(text), text=text,
            due=due, due_label=due_label or due, **prov.fields(),
        )
        return len(self.state.outcomes)

    def _next_outcome_id(self) -> int:
        ids = [e.outcome for e in self.history if type(e) is OutcomeAdded]  # no subclasses
        return max(ids, default=0) + 1

    def move_target(self, number: int, due: str, due_label: str, prov: Provenance) -> None:
        """Move an outcome's target month (a slip when later); earlier needs a note."""
        outcome = self.check_outcome(number)
        due = parse_month(due) if due else ""
        if due == outcome.due and (due_label or due) == outcome.due_label:
            msg = f"outcome {number} of item {self.state.number} is already due {due or 'TBC'}"
            raise NoChangeError(msg)
        if outcome.due and due and due < outcome.due and not prov.note.strip():
            msg = (f"moving outcome {number} of item {self.state.number} earlier "
                   f"({outcome.due} -> {due}) needs a reason: --note")
            raise InvalidInputError(msg)
        added = min((e.effective for e in self.history
                     if type(e) is OutcomeAdded and e.outcome == outcome.id),
                    default=prov.effective)
        if prov.effective < added:  # it would take effect before the outcome, and be lost
            msg = (f"outcome {number} of item {self.state.number} was added effective "
                   f"{added.isoformat()}: a move of its target cannot take effect before that "
                   f"(--effective {added.isoformat()} or later)")
            raise InvalidInputError(msg)
        self.trigger_event(
            TargetMoved, outcome=outcome.id, before=outcome.due, after=due,
            after_label=due_label or due, text="", **prov.fields(),
        )

    def withdraw_outcome(self, number: int, prov: Provenance) -> None:
        """Withdraw an outcome; it stays in the history."""
        outcome = self.check_outcome(number)
        self.trigger_event(OutcomeWithdrawn, outcome=outcome.id, **prov.fields())

    # --- what an edition states (as of its date; the reconciler decides what differs) ------

    def report(self, theme: str, aim: str, actions: str, prov: Provenance) -> None:
        """An edition reports this item at a date before the ledger's first report of it."""
        self.trigger_event(ItemReported, theme=theme, aim=" ".join(aim.split()),
                           actions=" ".join(actions.split()), **prov.fields())

    def state_outcome(self, outcome_id: int | None, key: str, text: str, due: str,
                      due_label: str, prov: Provenance) -> int:
        """An edition states an outcome (new, or one the ledger knows only from other
        editions) with its target; returns the outcome's id."""
        outcome_id = outcome_id or self._next_outcome_id()
        self.trigger_event(OutcomeAdded, outcome=outcome_id, key=key,
                           text=_clean(text, "the outcome"),
                           due=parse_month(due) if due else "", due_label=due_label or due,
                           **prov.fields())
        return outcome_id

    def state_target(self, outcome_id: int, before: str, due: str, due_label: str, text: str,
                     prov: Provenance) -> None:
        """An edition states another target for an outcome than the ledger had for its date
        (and the outcome's text as it now writes it)."""
        self.trigger_event(TargetMoved, outcome=outcome_id, before=before,
                           after=parse_month(due) if due else "", after_label=due_label or due,
                           text=_clean(text, "the outcome"), **prov.fields())

    def state_leads(self, before: list[str], leads: list[str], prov: Provenance) -> None:
        """An edition states the item's leads (all of them)."""
        self.trigger_event(LeadsStated, leads=[" ".join(lead.split()) for lead in leads],
                           before=before, **prov.fields())

    def state_text(self, field: str, before: str, text: str, prov: Provenance) -> None:
        """An edition states another aim or actions than the ledger had for its date."""
        self.trigger_event(TextRevised, field=field, before=before, after=" ".join(text.split()),
                           **prov.fields())

    def state_rag(self, before: str, rag: Rag, prov: Provenance) -> None:
        """An edition states a RAG status in words."""
        self.trigger_event(RagSet, before=before, after=rag.value, **prov.fields())

    def state_completion(self, month: str, prov: Provenance) -> None:
        """An edition reports the item complete."""
        month = parse_month(month)
        _begun(month, prov.effective, "a completion")
        self.trigger_event(CompletionReported, month=month, **prov.fields())

    def assign_lead(
        self, lead: str, prov: Provenance, replace: str | None = None, add: bool = False,
    ) -> None:
        """Give the item a lead: the first, an additional one, or in place of one."""
        lead = _clean(lead, "the lead's name")
        leads = self.state.leads
        if lead in leads:
            msg = f"{lead} already leads item {self.state.number}"
            raise NoChangeError(msg)
        if replace is None and not add and len(leads) == 1:
            replace = leads[0]
        if replace is not None:
            if replace not in leads:
                known = ", ".join(leads)
                msg = f"{replace} does not lead item {self.state.number} (leads: {known})"
                raise NotFoundError(msg)
            self.trigger_event(LeadReassigned, before=replace, after=lead, **prov.fields())
        elif add or not leads:
            self.trigger_event(LeadAssigned, lead=lead, **prov.fields())
        else:
            msg = (f"item {self.state.number} has several leads ({'; '.join(leads)}): "
                   "say which one this replaces (--replace) or --add")
            raise InvalidInputError(msg)

    def remove_lead(self, lead: str, prov: Provenance) -> None:
        """Remove one of the item's leads."""
        if lead not in self.state.leads:
            msg = f"{lead} does not lead item {self.state.number}"
            raise NotFoundError(msg)
        self.trigger_event(LeadRemoved, lead=lead, **prov.fields())

    def set_rag(self, rag: Rag, prov: Provenance) -> None:
        """Set the RAG status."""
        if self.state.rag == rag.value:
            msg = f"item {self.state.number} is already {rag.value}"
            raise NoChangeError(msg)
        self.trigger_event(RagSet, before=self.state.rag, after=rag.value, **prov.fields())

    def record_update(self, month: str, text: str, prov: Provenance) -> None:
        """Record a progress update for a month ("" where the document does not say)."""
        month = parse_month(month) if month or prov.basis is not Basis.REPORTED else ""
        _begun(month, prov.effective, "an update")
        self.trigger_event(
            UpdateRecorded, month=month, text=_clean(text, "the update"), **prov.fields(),
        )

    def report_completion(self, month: str, prov: Provenance) -> None:
        """Report the item complete."""
        if self.state.complete:
            msg = f"item {self.state.number} is already complete ({self.state.completed_month})"
            raise NoChangeError(msg)
        month = parse_month(month)
        _begun(month, prov.effective, "a completion")
        self.trigger_event(CompletionReported, month=month, **prov.fields())

    def reopen(self, prov: Provenance) -> None:
        """Reopen a complete item."""
        if not self.state.complete:
            msg = f"item {self.state.number} is not complete"
            raise NoChangeError(msg)
        self.trigger_event(ItemReopened, **prov.fields())

    def withdraw(self, prov: Provenance) -> None:
        """Withdraw the item from the plan; its history stays."""
        if self.state.withdrawn:
            msg = f"item {self.state.number} was already withdrawn"
            raise NoChangeError(msg)
        self.trigger_event(ItemWithdrawn, **prov.fields())

    def correct(self, version: int, replacement: dict[str, str], prov: Provenance) -> None:
        """Correct an earlier event: replace some of its fields, or retract it (none given)."""
        if not prov.note.strip():
            msg = "a correction needs a reason: --note"
            raise InvalidInputError(msg)
        event = self.check_event(version)
        fields = CORRECTABLE.get(type(event))
        if fields is None:
            msg = f"event {version} ({kind_of(event)}) cannot be corrected; correct the original"
            raise InvalidInputError(msg)
        unknown = sorted(set(replacement) - set(fields))
        if unknown:
            allowed = ", ".join(f"--{f}" for f in fields) or "nothing (it can only be retracted)"
            msg = f"a {kind_of(event)} event has no {', '.join(unknown)} to correct ({allowed})"
            raise InvalidInputError(msg)
        if not replacement and isinstance(event, ItemAdded):
            msg = "an item cannot be retracted; correct its aim or actions"
            raise InvalidInputError(msg)
        if isinstance(event, UpdateRecorded | CompletionReported) and replacement.get("month"):
            _begun(parse_month(replacement["month"]), event.effective,
                   f"event {version} ({kind_of(event)})")
        self.trigger_event(
            CorrectionRecorded, corrects=version, corrects_kind=kind_of(event),
            replacement={fields[k]: _checked(k, v) for k, v in replacement.items()},
            **prov.fields(),
        )


stable_topic(Item, "ledger.aggregates:Item")


def _begun(month: str, effective: date, what: str) -> None:
    """Refuse a month that had not begun on the day the report took effect: an update or a
    completion speaks for a month that has come ("" is a month the document does not say)."""
    if month and month > month_of(effective):
        msg = (f"{what} for {month} cannot have been reported on {effective.isoformat()} "
               f"(its effective date): that month had not begun")
        raise InvalidInputError(msg)


def _checked(name: str, value: str) -> str:
    """A corrected value, checked as the command that first recorded it would check it."""
    if name in ("month", "due"):
        return parse_month(value) if value else ""
    if name == "rag":
        return parse_rag(value).value
    return _clean(value, name)
