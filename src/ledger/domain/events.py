"""The plan's events: one past-tense class per kind of change, each with stable topic.

Every event carries its provenance (`recorded_by`, `attributed_to`,
`effective`, `source`, `note`); the library adds the recorded time
(`timestamp`). Topics are fixed strings so moving code never orphans stored
events. Pure: imports only `eventsourcing.domain`.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.utils import register_topic

from ledger.domain.errors import InvalidInputError


def stable_topic(cls: type, topic: str) -> None:
    """Give a class a fixed stored topic, whatever module it moves to.

    Set after the class is made: the library's aggregate metaclass would
    otherwise demand explicit topics on the event classes it defines itself.
    """
    cls.TOPIC = topic  # type: ignore[attr-defined]
    register_topic(topic, cls)


class PlanEvent(Aggregate.Event):
    """Base of every ledger event: the provenance fields. `basis` says how `effective` is
    known: stated (the document gives the month), reported (first reported in an edition)
    or entered (typed at the command line)."""

    recorded_by: str
    attributed_to: str
    effective: date
    source: str
    note: str
    basis: str
    edition: str  # the month of the edition that reported it; "" for a hand entry

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # A stable topic per event class, so moving code never orphans stored events.
        stable_topic(cls, f"ledger.events:{cls.__name__}")

    def apply(self, aggregate: Any) -> None:
        aggregate.absorb(self)


# --- the plan's own stream -------------------------------------------------


class PlanRegistered(PlanEvent, Aggregate.Created):
    slug: str
    title: str


class ThemeAdded(PlanEvent):
    number: str
    title: str
    description: str


class EditionImported(PlanEvent):
    """A document was imported: which file (by SHA-256), which month, how many events it gave."""

    file: str
    sha256: str
    month: str
    format: str
    events: int


class ItemFiled(PlanEvent):
    """The plan learned that it has this item (its item stream holds the rest)."""

    number: str
    theme: str


# --- the catalogue of plans in one ledger ----------------------------------


class CatalogueOpened(PlanEvent, Aggregate.Created):
    pass


class PlanListed(PlanEvent):
    slug: str


# --- one item's stream -----------------------------------------------------


class ItemAdded(PlanEvent, Aggregate.Created):
    plan: str
    number: str
    theme: str
    aim: str
    actions: str


class ItemReported(PlanEvent):
    """An edition reports an item that the ledger first learned of from a later edition: the
    item as that edition states it, in force from this event's effective date."""

    theme: str
    aim: str
    actions: str


class TextRevised(PlanEvent):
    field: str  # "aim" or "actions"
    before: str
    after: str


class OutcomeAdded(PlanEvent):
    """An outcome stated: new, or (from an edition) restated with its target at this date."""

    outcome: int
    key: str  # its identity: its words without dates (one per milestone of a trajectory)
    text: str
    due: str  # YYYY-MM, or "" where the target is TBC / not given
    due_label: str  # the target as the document wrote it ("Spring 15", "TBC")


class TargetMoved(PlanEvent):
    outcome: int
    before: str
    after: str
    after_label: str
    text: str  # the outcome's text as the edition now writes it (its dates), "" unchanged


class OutcomeWithdrawn(PlanEvent):
    outcome: int


class LeadAssigned(PlanEvent):
    lead: str


class LeadReassigned(PlanEvent):
    before: str
    after: str


class LeadRemoved(PlanEvent):
    lead: str


class RagSet(PlanEvent):
    before: str  # "" where no RAG was stated before
    after: str


class LeadsStated(PlanEvent):
    """An edition states the item's leads, all of them (an import asserts the whole list, so
    editions imported in any order give the same leads at every date)."""

    leads: list[str]
    before: list[str]  # the leads the ledger had for this date when it was recorded


class UpdateRecorded(PlanEvent):
    month: str  # YYYY-MM the update speaks for; "" where the document does not say
    text: str


class CompletionReported(PlanEvent):
    month: str


class ItemReopened(PlanEvent):
    pass


class ItemWithdrawn(PlanEvent):
    """The item left the plan (it stays in the history)."""


class CorrectionRecorded(PlanEvent):
    """Names the event (by its version in this item's stream) it corrects.

    An empty `replacement` retracts the corrected event; otherwise its fields
    are read with these values instead. The original stays in the stream.
    """

    corrects: int
    corrects_kind: str
    replacement: dict[str, str]


KIND: dict[type[PlanEvent], str] = {
    PlanRegistered: "plan_registered",
    ThemeAdded: "theme_added",
    ItemFiled: "item_filed",
    EditionImported: "edition_imported",
    CatalogueOpened: "catalogue_opened",
    PlanListed: "plan_listed",
    ItemAdded: "item_added",
    ItemReported: "item_added",
    TextRevised: "text_revised",
    OutcomeAdded: "outcome_added",
    TargetMoved: "target_moved",
    OutcomeWithdrawn: "outcome_withdrawn",
    LeadAssigned: "lead_changed",
    LeadReassigned: "lead_changed",
    LeadRemoved: "lead_changed",
    LeadsStated: "lead_changed",
    RagSet: "rag_changed",
    UpdateRecorded: "update_recorded",
    CompletionReported: "completed",
    ItemReopened: "reopened",
    ItemWithdrawn: "item_withdrawn",
    CorrectionRecorded: "correction",
}

# What a correction may replace, per event class: the name a user gives
# (`--rag`, `--due`...) -> the event field it replaces. An empty replacement retracts.
CORRECTABLE: dict[type[PlanEvent], dict[str, str]] = {
    ItemAdded: {"aim": "aim", "actions": "actions"},
    ItemReported: {"aim": "aim", "actions": "actions"},
    LeadsStated: {},
    TextRevised: {"text": "after"},
    OutcomeAdded: {"text": "text", "due": "due"},
    TargetMoved: {"due": "after"},
    OutcomeWithdrawn: {},
    LeadAssigned: {"lead": "lead"},
    LeadReassigned: {"lead": "after"},
    LeadRemoved: {},
    RagSet: {"rag": "after"},
    UpdateRecorded: {"text": "text", "month": "month"},
    CompletionReported: {},
    ItemReopened: {},
}


def _direct_init(cls: type[PlanEvent]) -> None:
    """Give an event class an `__init__` that sets its fields as the dataclass's does (same
    parameters, same order of attributes, then the library's `__post_init__`), writing the
    instance's dict in one step instead of one `object.__setattr__` per frozen field: an
    event is made for every change saved. Only for a class whose fields are all plain
    parameters (no default, no factory, none keyword-only); the code is made from the
    dataclass's own field names, never from input."""
    fields = dataclasses.fields(cls)
    if any(f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
           or not f.init or f.kw_only or not f.name.isidentifier() for f in fields):
        return
    names = [f.name for f in fields]
    source = (f"def __init__(self, {', '.join(names)}):\n"
              f"    self.__dict__.update({', '.join(f'{n}={n}' for n in names)})\n"
              f"    self.__post_init__()\n")
    namespace: dict[str, Any] = {}
    exec(source, namespace)  # noqa: S102 - names are the dataclass's own identifiers
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.made_for = cls  # whose fields it sets (`ledger.domain.triggers` asks)
    cls.__init__ = init  # type: ignore[method-assign]


for _event_class in KIND:
    _direct_init(_event_class)


def kind_of(event: PlanEvent) -> str:
    """The change kind an auditor filters on (`lead_changed`, `target_moved`...)."""
    return KIND[type(event)]


def describe(event: PlanEvent) -> tuple[str, str]:  # noqa: PLR0911, PLR0912 - a case per kind
    """What the event changed, as (before, after) text for history and change logs."""
    match event:
        case ItemAdded():
            return "", f"item {event.number}: {event.aim}"
        case TextRevised():
            return f"{event.field}: {event.before}", f"{event.field}: {event.after}"
        case OutcomeAdded():
            due = event.due_label or event.due or "no date"
            return "", f"outcome #{event.outcome}: {event.text} [{due}]"
        case TargetMoved():
            return (
                f"outcome #{event.outcome} due {event.before or 'none'}",
                f"outcome #{event.outcome} due {event.after_label or event.after or 'none'}",
            )
        case OutcomeWithdrawn():
            return f"outcome #{event.outcome}", "withdrawn"
        case LeadAssigned():
            return "", event.lead
        case LeadReassigned():
            return event.before, event.after
        case LeadRemoved():
            return event.lead, ""
        case RagSet():
            return event.before, event.after
        case UpdateRecorded():
            return "", f"[{event.month or 'undated'}] {event.text}"
        case LeadsStated():
            return "; ".join(event.before), "; ".join(event.leads) or "no lead"
        case ItemReported():
            return "", f"item reported: {event.aim}"
        case CompletionReported():
            return "", f"complete ({event.month})"
        case ItemReopened():
            return "complete", "reopened"
        case CorrectionRecorded():
            fix = ", ".join(f"{k}={v}" for k, v in sorted(event.replacement.items()))
            return f"event {event.corrects} ({event.corrects_kind})", fix or "retracted"
        case PlanRegistered():
            return "", f"plan {event.slug}: {event.title}"
        case ThemeAdded():
            return "", f"theme {event.number}: {event.title}"
        case EditionImported():
            return "", f"edition {event.month}: {event.file} ({event.events} events)"
        case ItemWithdrawn():
            return "in plan", "withdrawn"
        case ItemFiled():
            return "", f"item {event.number} in theme {event.theme}"
        case PlanListed():
            return "", f"plan {event.slug}"
    return "", ""


# Sizes a person can type or a document can hold; anything larger is refused at the command,
# so that no stored event is ever too big for a read model or a screen.
NAME_FIELDS = frozenset({"recorded_by", "attributed_to", "lead", "leads", "before", "after",
                         "slug"})
NAME_LIMIT = 200
# Exact types no text hides in (the stream id, versions, times, dates): not looked into.
_UNSIZED = frozenset({int, bool, type(None), date, datetime, UUID})
TEXT_LIMIT = 20_000
SOURCE_LIMIT = 65_000


def check_sizes(event: PlanEvent) -> None:
    """Refuse an event with a text field over its limit, naming the field and the change.

    Every text of every field is measured (in a list or a dict too); only one longer than the
    smallest limit is looked at again, for its field's own limit (run once an event saved)."""
    for name, value in vars(event).items():
        kind = type(value)
        if kind is str:
            if len(value) > NAME_LIMIT:
                _check_text(event, name, value)
        elif kind not in _UNSIZED and isinstance(value, (str, dict, list)):  # a tuple: faster
            texts = value.values() if isinstance(value, dict) else (
                value if isinstance(value, list) else [value])
            for text in texts:
                if isinstance(text, str) and len(text) > NAME_LIMIT:
                    _check_text(event, name, text)


def _check_text(event: PlanEvent, name: str, text: str) -> None:
    limit = (SOURCE_LIMIT if name == "source" else
             NAME_LIMIT if name in NAME_FIELDS and not isinstance(event, TextRevised)
             else TEXT_LIMIT)
    if len(text) > limit:
        msg = (f"{name} of this {kind_of(event).replace('_', ' ')} is {len(text):,} "
               f"characters long: at most {limit:,} (from {event.source[:80]})")
        raise InvalidInputError(msg)
