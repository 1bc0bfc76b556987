"""Import a plan document: compare its edition with the ledger, record only what changed.

The first import of a plan records everything, effective from the start of
the earliest month the document evidences (or `since`); a later edition
records the differences, effective at the end of its month. A month-tagged
update takes effect at the end of its month. One import is one transaction.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from eventsourcing.domain import Aggregate

from ledger.application.provenance import current_actor
from ledger.application.services import Ledger
from ledger.domain.errors import InvalidInputError, NotFoundError
from ledger.domain.item import Item
from ledger.domain.plan import Catalogue, Plan
from ledger.domain.state import ItemState
from ledger.domain.values import Provenance, month_end, month_start, parse_rag
from ledger.importers.detect import read_document
from ledger.importers.model import (
    DocumentFormat,
    Edition,
    ItemDoc,
    identity,
    outcome_key,
    update_identity,
)


@dataclass(frozen=True)
class Change:
    """One change an import records (or, on a dry run, would record)."""

    item: str
    kind: str
    detail: str
    line: int
    effective: str


@dataclass
class ImportReport:
    """What an import did: the changes, what the edition no longer mentions, what was unreadable."""

    plan: str
    file: str
    sha256: str
    edition: str
    format: DocumentFormat
    changes: list[Change] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unknowns: list[str] = field(default_factory=list)
    events: int = 0

    def count(self, kind: str) -> int:
        """How many changes of one kind."""
        return sum(1 for c in self.changes if c.kind == kind)


@dataclass
class EditionReconciler:
    """Compares one edition with the plan in the ledger and records, on the aggregates it
    touches, each difference with its provenance."""

    ledger: Ledger
    edition: Edition
    report: ImportReport
    actor: str
    since: date | None
    withdraw_missing: bool
    plan: Plan | None = None
    catalogue: Catalogue | None = None
    items: dict[str, Item] = field(default_factory=dict)
    first: bool = False

    def prov(
        self, line: int, effective: date, attributed_to: str = "", note: str = "",
    ) -> Provenance:
        source = f"{self.report.file}#L{line} sha256:{self.report.sha256}"
        return Provenance(self.actor, effective, source, attributed_to, note)

    def change(self, item: str, kind: str, detail: str, line: int, effective: date) -> None:
        self.report.changes.append(Change(item, kind, detail, line, effective.isoformat()))

    @property
    def structural(self) -> date:
        """When structure (items, outcomes, leads) takes effect."""
        if self.first:
            return self.since or month_start(self.edition.earliest_month())
        return month_end(self.edition.month)

    def load(self, slug: str) -> None:
        self.catalogue = self.ledger.catalogue()
        if slug in self.catalogue.plans:
            self.plan = self.ledger.plan(slug)
            for number in self.plan.items:
                self.items[number] = self.ledger.item(slug, number)
            return
        self.first = True
        prov = self.prov(1, self.structural)
        self.plan = Plan.register(slug, self.edition.title or slug, prov)
        self.catalogue.list_plan(slug, prov)
        self.change("", "plan_registered", self.plan.title, 1, self.structural)

    def themes(self) -> None:
        assert self.plan is not None
        for theme in self.edition.themes:
            if theme.number not in self.plan.themes:
                self.plan.add_theme(theme.number, theme.title, theme.description,
                                    self.prov(theme.line, self.structural))
                self.change("", "theme_added", f"{theme.number}. {theme.title}", theme.line,
                            self.structural)

    def item(self, doc: ItemDoc) -> None:
        assert self.plan is not None
        existing = self.items.get(doc.number)
        if existing is None:
            prov = self.prov(doc.line, self.structural)
            self.plan.file_item(doc.number, doc.theme, prov)
            existing = Item.add(self.plan.slug, doc.number, doc.theme, doc.aim, doc.actions, prov)
            self.items[doc.number] = existing
            self.change(doc.number, "item_added", doc.aim.split("\n")[0][:80], doc.line,
                        self.structural)
        else:
            self.texts(existing, doc)
        self.outcomes(existing, doc)
        self.leads(existing, doc)
        self.rag(existing, doc)
        self.updates(existing, doc)
        self.completion(existing, doc)

    def texts(self, item: Item, doc: ItemDoc) -> None:
        for name, text in (("aim", doc.aim), ("actions", doc.actions)):
            if identity(getattr(item.state, name)) != identity(text):
                when = self.structural
                item.revise_text(name, text, self.prov(doc.line, when))
                self.change(doc.number, "text_revised", f"{name} revised", doc.line, when)

    def outcomes(self, item: Item, doc: ItemDoc) -> None:
        state: ItemState = item.state
        # An outcome's identity leaves its dates out; a later milestone of the same text is
        # stored with its number ("(milestone 2)"), as the item refuses one text twice.
        current = {}
        for o in state.outcomes.values():
            if not o.withdrawn:
                text, number = _milestone_of(o.text)
                current[outcome_key(text, number)] = o
        when = self.structural
        for outcome in doc.outcomes:
            known = current.get(outcome.key)
            if known is None:
                text = (outcome.text if outcome.milestone <= 1
                        else f"{outcome.text} (milestone {outcome.milestone})")
                number = item.add_outcome(text, outcome.due, outcome.due_label,
                                          self.prov(outcome.line, when))
                self.change(doc.number, "outcome_added",
                            f"#{number} {outcome.text[:60]} [{outcome.due_label or 'no date'}]",
                            outcome.line, when)
            elif known.due != outcome.due:
                note = f"edition {self.edition.month} states {outcome.due_label or 'no date'}"
                detail = f"#{known.number} {known.due or 'none'} -> {outcome.due or 'none'}"
                item.move_target(known.number, outcome.due, outcome.due_label,
                                 self.prov(outcome.line, when, note=note))
                self.change(doc.number, "target_moved", detail, outcome.line, when)
        stated = {o.key for o in doc.outcomes}
        for key, known in current.items():
            if key not in stated:
                self.report.missing.append(f"item {doc.number} outcome #{known.number}: "
                                           f"{known.text[:60]}")
                if self.withdraw_missing:
                    item.withdraw_outcome(known.number, self.prov(doc.line, when,
                                          note=f"not in edition {self.edition.month}"))
                    self.change(doc.number, "outcome_withdrawn", f"#{known.number}", doc.line,
                                when)

    def leads(self, item: Item, doc: ItemDoc) -> None:
        when = self.structural
        current, stated = list(item.state.leads), doc.leads
        added = [lead for lead in stated if lead not in current]
        removed = [lead for lead in current if lead not in stated]
        line = doc.blocks[0].line if doc.blocks else doc.line
        for old, new in zip(removed, added, strict=False):
            item.assign_lead(new, self.prov(line, when), replace=old)
            self.change(doc.number, "lead_changed", f"{old} -> {new}", line, when)
        for new in added[len(removed):]:
            item.assign_lead(new, self.prov(line, when), add=True)
            self.change(doc.number, "lead_changed", f"+ {new}", line, when)
        for old in removed[len(added):]:
            item.remove_lead(old, self.prov(line, when))
            self.change(doc.number, "lead_changed", f"- {old}", line, when)

    def rag(self, item: Item, doc: ItemDoc) -> None:
        if doc.rag and doc.rag != item.state.rag:
            when = month_end(self.edition.month)
            item.set_rag(parse_rag(doc.rag), self.prov(doc.rag_line, when))
            self.change(doc.number, "rag_changed", f"{item.state.rag or 'none'} -> {doc.rag}",
                        doc.rag_line, when)

    def updates(self, item: Item, doc: ItemDoc) -> None:
        known = {f"{u.month}|{update_identity(u.text)}" for u in item.state.updates}
        words = {update_identity(u.text) for u in item.state.updates}
        for block in doc.blocks:
            for update in block.updates:
                if update.key in known or (not update.tagged and update.words_key in words):
                    continue
                known.add(update.key)
                words.add(update.words_key)
                # An update of unknown month is reported by (effective at the end of) its edition.
                when = month_end(update.month or self.edition.month)
                item.record_update(update.month or self.edition.month, update.text,
                                   self.prov(update.line, when, attributed_to=update.lead))
                self.change(doc.number, "update_recorded", f"[{update.month}] {update.text[:60]}",
                            update.line, when)

    def completion(self, item: Item, doc: ItemDoc) -> None:
        month = doc.completion_month() or self.edition.month  # unstated: first reported now
        if doc.complete and not item.state.complete:
            # A later edition reports completion when it is published, not back in time.
            when = month_end(month) if self.first else month_end(self.edition.month)
            leads = "; ".join(doc.leads)
            item.report_completion(month, self.prov(doc.line, when, attributed_to=leads))
            self.change(doc.number, "completed", month, doc.line, when)

    def missing_items(self) -> None:
        stated = {doc.number for doc in self.edition.items}
        for number, item in self.items.items():
            if number in stated or item.state.withdrawn:
                continue
            self.report.missing.append(f"item {number}")
            if self.withdraw_missing:
                when = month_end(self.edition.month)
                item.withdraw(self.prov(1, when, note=f"not in edition {self.edition.month}"))
                self.change(number, "item_withdrawn", "", 1, when)

    def touched(self) -> list[Aggregate]:
        aggregates: list[Aggregate] = [a for a in (self.catalogue, self.plan) if a is not None]
        aggregates += list(self.items.values())
        return [a for a in aggregates if a.pending_events]


_MILESTONE = re.compile(r"^(?P<text>.*) \(milestone (?P<n>\d+)\)$", re.DOTALL)


def _milestone_of(text: str) -> tuple[str, int]:
    """A stored outcome's text and milestone number (1 unless the text says otherwise)."""
    match = _MILESTONE.match(text)
    return (match["text"], int(match["n"])) if match else (text, 1)


def default_slug(edition: Edition) -> str:
    """The plan an edition goes to when none is named: the one it names, else its format's."""
    if edition.plan:
        return edition.plan
    match edition.format:
        case DocumentFormat.CGIP_MONTHLY:
            return f"cgip-{edition.month[:4]}"
        case DocumentFormat.KERSLAKE_2015:
            return "kerslake-2015"
        case DocumentFormat.STRUCTURED:  # its reader refuses a CSV with no plan column
            msg = "name the plan to import into: --plan SLUG"
            raise InvalidInputError(msg)


def import_document(
    ledger: Ledger,
    path: Path,
    *,
    plan: str | None = None,
    edition: str = "",
    fmt: str = "",
    by: str | None = None,
    since: date | None = None,
    dry_run: bool = False,
    withdraw_missing: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Read `path`, compare it with the ledger, record the changes in one transaction."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        msg = f"{path}: cannot read: {exc.strerror or exc}"
        raise InvalidInputError(msg) from None
    doc = read_document(data, path.name, fmt=fmt, month=edition)
    sha = hashlib.sha256(data).hexdigest()
    slug = plan or default_slug(doc)
    report = ImportReport(slug, path.name, sha, doc.month, doc.format, unknowns=list(doc.unknowns))
    reconciler = EditionReconciler(ledger, doc, report, current_actor(by), since,
                                   withdraw_missing)
    reconciler.load(slug)
    reconciler.themes()
    for done, item_doc in enumerate(doc.items, 1):
        if progress is not None:
            progress(done, len(doc.items))
        try:
            reconciler.item(item_doc)
        except NotFoundError as exc:
            msg = f"{path.name}:{item_doc.line}: item {item_doc.number}: {exc}"
            raise InvalidInputError(msg) from None
    reconciler.missing_items()
    aggregates = reconciler.touched()
    report.events = sum(len(a.pending_events) for a in aggregates)
    if report.events and reconciler.plan is not None:
        # The edition's own record counts itself: `events` is what the import stores.
        report.events += 1
        reconciler.plan.record_edition(path.name, sha, doc.month, doc.format.value, report.events,
                                       reconciler.prov(1, month_end(doc.month)))
        aggregates = reconciler.touched()
    if not dry_run and report.events:
        ledger.save(*aggregates)  # the one save, one transaction, of the whole import
    return report


__all__ = ["Change", "EditionReconciler", "ImportReport", "import_document"]
