"""Import a plan document: compare its edition with the plan as of the edition's own month,
record only what differs.

An edition is a statement of the plan at the end of its month. It is compared
with the plan as of that date as known from every other edition and entry, not
with today's plan, so editions imported in any order tell one history. What
it reports is recorded effective at its month end (basis `reported`, or from
`--since`: `entered`); an update or completion whose month the document states
takes effect at the end of that month (basis `stated`); an update whose month it
does not state has none. The same file twice records nothing. One import is one
transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from eventsourcing.domain import Aggregate

from ledger.application.provenance import current_actor
from ledger.application.services import Ledger
from ledger.domain.errors import InvalidInputError, NotFoundError
from ledger.domain.events import EditionImported
from ledger.domain.item import Item
from ledger.domain.plan import Catalogue, Plan
from ledger.domain.state import ItemState
from ledger.domain.values import Basis, Provenance, month_end, month_of, parse_rag
from ledger.domain.words import identity, update_identity
from ledger.importers.detect import read_document
from ledger.importers.model import DocumentError, DocumentFormat, Edition, ItemDoc


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
    already: str = ""

    def count(self, kind: str) -> int:
        """How many changes of one kind."""
        return sum(1 for c in self.changes if c.kind == kind)


@dataclass
class EditionReconciler:
    """Compares one edition with the plan as of its month end and records, on the aggregates
    it touches, each difference with its provenance and basis."""

    ledger: Ledger
    edition: Edition
    report: ImportReport
    actor: str
    since: date | None
    withdraw_missing: bool
    plan: Plan | None = None
    catalogue: Catalogue | None = None
    items: dict[str, Item] = field(default_factory=dict)

    def prov(self, line: int, effective: date | None = None, attributed_to: str = "",
             note: str = "", basis: Basis | None = None) -> Provenance:
        """The provenance of a fact this edition reports (by default: at its date)."""
        source = f"{self.report.file}#L{line} sha256:{self.report.sha256}"
        if effective is None:
            effective = self.since or self.as_of
            basis = basis or (Basis.ENTERED if self.since else Basis.REPORTED)
        return Provenance(self.actor, effective, source, attributed_to, note,
                          basis or Basis.REPORTED, self.edition.month)

    def change(self, item: str, kind: str, detail: str, line: int, effective: date) -> None:
        self.report.changes.append(Change(item, kind, detail, line, effective.isoformat()))

    @property
    def as_of(self) -> date:
        """The date this edition speaks for: the end of its month."""
        return month_end(self.edition.month)

    @property
    def reported(self) -> date:
        """When what this edition reports takes effect (its month end, or `--since`)."""
        return self.since or self.as_of

    def load(self, slug: str) -> None:
        self.catalogue = self.ledger.catalogue()
        if slug in self.catalogue.plans:
            self.plan = self.ledger.plan(slug)
            self.items.update(self.ledger.items_of(self.plan))
            return
        prov = self.prov(1)
        self.plan = Plan.register(slug, self.edition.title or slug, prov)
        self.catalogue.list_plan(slug, prov)
        self.change("", "plan_registered", self.plan.title, 1, self.reported)

    def already_imported(self) -> EditionImported | None:
        """This very file (by SHA-256), if the plan has imported it before."""
        if self.plan is None:
            return None
        return next((e for e in self.plan.editions if e.sha256 == self.report.sha256), None)

    def themes(self) -> None:
        assert self.plan is not None
        for theme in self.edition.themes:
            if theme.number not in self.plan.themes:
                self.plan.add_theme(theme.number, theme.title, theme.description,
                                    self.prov(theme.line))
                self.change("", "theme_added", f"{theme.number}. {theme.title}", theme.line,
                            self.reported)

    def item(self, doc: ItemDoc) -> None:
        assert self.plan is not None
        existing = self.items.get(doc.number)
        if existing is None:
            prov = self.prov(doc.line)
            self.plan.file_item(doc.number, doc.theme, prov)
            existing = Item.add(self.plan.slug, doc.number, doc.theme, doc.aim, doc.actions, prov)
            self.items[doc.number] = existing
            self.change(doc.number, "item_added", doc.aim.split("\n")[0][:80], doc.line,
                        self.reported)
            then: ItemState | None = existing.state_on(self.reported)
        else:
            then = existing.state_on(self.as_of)
            if then is None:  # the ledger knows it only from later editions
                existing.report(doc.theme, doc.aim, doc.actions, self.prov(doc.line))
                self.change(doc.number, "item_added", "reported by this earlier edition",
                            doc.line, self.reported)
            else:
                self.texts(existing, doc, then)
        then = existing.state_on(self.reported)
        self.outcomes(existing, doc, then)
        self.leads(existing, doc, then)
        self.rag(existing, doc, then)
        self.updates(existing, doc, then)
        self.completion(existing, doc, then)

    def texts(self, item: Item, doc: ItemDoc, then: ItemState) -> None:
        for name, text in (("aim", doc.aim), ("actions", doc.actions)):
            before = getattr(then, name)
            if identity(before) != identity(text):
                item.state_text(name, before, text, self.prov(doc.line))
                self.change(doc.number, "text_revised", f"{name} revised", doc.line,
                            self.reported)

    def outcomes(self, item: Item, doc: ItemDoc, then: ItemState | None) -> None:
        ever = {o.key: o for o in item.state.outcomes.values()}
        current = {o.key: o for o in (then.outcomes.values() if then else ())
                   if not o.withdrawn}
        for outcome in doc.outcomes:
            label = outcome.due_label or outcome.due or "no date"
            note = f"edition {self.edition.month} states {label}"
            known = current.get(outcome.key)
            if known is None or (known.due == outcome.due and known.text != outcome.text):
                # new here, or the same target in other words: the outcome stated as written
                before = known or ever.get(outcome.key)
                item.state_outcome(before.id if before else None, outcome.key, outcome.text,
                                   outcome.due, outcome.due_label,
                                   self.prov(outcome.line, note=note))
                kind = "outcome_added" if known is None else "text_revised"
                self.change(doc.number, kind, f"{outcome.text[:60]} [{label}]", outcome.line,
                            self.reported)
            elif known.due != outcome.due:
                detail = f"#{known.number} {known.due or 'none'} -> {outcome.due or 'none'}"
                item.state_target(known.id, known.due, outcome.due, outcome.due_label,
                                  outcome.text, self.prov(outcome.line, note=note))
                self.change(doc.number, "target_moved", detail, outcome.line, self.reported)
        stated = {o.key for o in doc.outcomes}
        for key, known in current.items():
            if key not in stated:
                self.report.missing.append(f"item {doc.number} outcome #{known.number}: "
                                           f"{known.text[:60]}")
                if self.withdraw_missing:
                    item.withdraw_outcome(known.number, self.prov(
                        doc.line, note=f"not in edition {self.edition.month}"))
                    self.change(doc.number, "outcome_withdrawn", f"#{known.number}", doc.line,
                                self.reported)

    def leads(self, item: Item, doc: ItemDoc, then: ItemState | None) -> None:
        current, stated = list(then.leads if then else []), doc.leads
        if stated == current or not stated:
            return
        line = doc.blocks[0].line if doc.blocks else doc.line
        item.state_leads(current, stated, self.prov(line))
        self.change(doc.number, "lead_changed", f"{'; '.join(current) or 'none'} -> "
                    f"{'; '.join(stated)}", line, self.reported)

    def rag(self, item: Item, doc: ItemDoc, then: ItemState | None) -> None:
        before = then.rag if then else ""
        if doc.rag and doc.rag != before:
            item.state_rag(before, parse_rag(doc.rag), self.prov(doc.rag_line))
            self.change(doc.number, "rag_changed", f"{before or 'none'} -> {doc.rag}",
                        doc.rag_line, self.reported)

    def updates(self, item: Item, doc: ItemDoc, then: ItemState | None) -> None:
        # An update this or an earlier edition (or a person) stated is known; one only a later
        # edition stated is stated again, so the earliest statement (its lead, its words) wins
        # whatever the order of import.
        earlier = [u for u in (then.updates if then else [])
                   if not u.edition or u.edition <= self.edition.month]
        known = {(u.month, u.words) for u in earlier}
        words_known = {u.words for u in earlier}
        for block in doc.blocks:
            for update in block.updates:
                words = update_identity(update.text)
                month = update.month
                # Stated: the document gives the month (a tag or heading). Otherwise the month
                # is the edition's (bold: "latest update") or unknown (plain text), and an
                # update whose words were reported before is that update, repeated.
                basis = Basis.STATED if update.tagged else Basis.REPORTED
                if (month, words) in known or (basis is Basis.REPORTED and words in words_known):
                    continue
                known.add((month, words))
                words_known.add(words)
                when = month_end(month) if month else self.as_of
                item.record_update(month, update.text, self.prov(
                    update.line, when, attributed_to=update.lead, basis=basis))
                self.change(doc.number, "update_recorded",
                            f"[{month or 'undated'}] {update.text[:60]}", update.line, when)

    def completion(self, item: Item, doc: ItemDoc, then: ItemState | None) -> None:
        if doc.complete and not (then and then.complete):
            stated = doc.completion_month()
            month = stated or self.edition.month  # no month stated: first reported now
            when = month_end(month)
            basis = Basis.STATED if stated else Basis.REPORTED
            leads = "; ".join(doc.leads)
            item.state_completion(month, self.prov(doc.line, when, attributed_to=leads,
                                                   basis=basis))
            self.change(doc.number, "completed", month, doc.line, when)

    def missing_items(self) -> None:
        stated = {doc.number for doc in self.edition.items}
        for number, item in self.items.items():
            then = item.state_on(self.as_of)
            if number in stated or then is None or then.withdrawn:
                continue
            self.report.missing.append(f"item {number}")
            if self.withdraw_missing:
                item.withdraw(self.prov(1, note=f"not in edition {self.edition.month}"))
                self.change(number, "item_withdrawn", "", 1, self.reported)

    def touched(self) -> list[Aggregate]:
        aggregates: list[Aggregate] = [a for a in (self.catalogue, self.plan) if a is not None]
        aggregates += list(self.items.values())
        return [a for a in aggregates if a.pending_events]


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


def _check_dates(doc: Edition, name: str, since: date | None, today: date) -> None:
    """Refuse an edition of a month to come (from its heading or --edition) and a --since
    after today or after the edition's last day: its events would take effect in the future,
    or the plan's structure after the edition that reports it."""
    if doc.month and doc.month > month_of(today):
        msg = (f"the edition is for {doc.month}, a month to come (today is {today}): an "
               f"edition reports a month that has begun; check its heading or --edition")
        raise DocumentError(name, 0, msg)
    if since is not None and since > today:
        msg = f"--since {since} is in the future (today is {today})"
        raise InvalidInputError(msg)
    if since is not None and doc.month and since > month_end(doc.month):
        msg = (f"--since {since} is after the last day of the {doc.month} edition "
               f"({month_end(doc.month)}), which reports the plan's structure")
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
    data: bytes | None = None,
) -> ImportReport:
    """Read `path` (or take `data`, a document read elsewhere, such as standard input, and
    named `path.name`), compare it with the ledger, record the changes in one transaction."""
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            msg = f"{path}: cannot read: {exc.strerror or exc}"
            raise InvalidInputError(msg) from None
    doc = read_document(data, path.name, fmt=fmt, month=edition)
    _check_dates(doc, path.name, since, date.today())
    sha = hashlib.sha256(data).hexdigest()
    slug = plan or default_slug(doc)
    report = ImportReport(slug, path.name, sha, doc.month, doc.format, unknowns=list(doc.unknowns))
    reconciler = EditionReconciler(ledger, doc, report, current_actor(by), since,
                                   withdraw_missing)
    reconciler.load(slug)
    before = reconciler.already_imported()
    if before is not None and not withdraw_missing:
        report.already = (f"{path.name} (sha256 {sha[:12]}…) was imported already, as edition "
                          f"{before.month} on {before.timestamp:%Y-%m-%d} by "
                          f"{before.recorded_by}: nothing recorded")
        return report
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
                                       reconciler.prov(1, reconciler.as_of))
        aggregates = reconciler.touched()
    if not dry_run and report.events:
        ledger.save(*aggregates)  # the one save, one transaction, of the whole import
    return report


__all__ = ["Change", "EditionReconciler", "ImportReport", "import_document"]
