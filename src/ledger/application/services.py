"""The ledger's commands: load the aggregates, let them check and record, save atomically.

Every command either records all its events in one transaction or raises a
`LedgerError` having written nothing. A version conflict on an append-only
change (a progress update) is retried; on a change whose meaning depends on
what was read (a lead from X, a target from Y) it is reported as `ConflictError`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from ledger.application.history import HistoryRow, item_history
from ledger.domain.errors import ConflictError, LedgerError, NotFoundError, TamperedError
from ledger.domain.events import PlanEvent, check_sizes
from ledger.domain.ids import CATALOGUE_ID, event_ref, item_id, parse_event_ref, plan_id
from ledger.domain.item import Item
from ledger.domain.plan import Catalogue, Plan
from ledger.domain.values import Provenance, Rag, month_of
from ledger.store.app import LedgerApp
from ledger.store.chain import stray_seal
from ledger.store.engine import EVENTS_TABLE

APPEND_RETRIES = 12
A = TypeVar("A", bound=Aggregate)


class Ledger:
    """Commands and reads on one ledger database."""

    def __init__(self, app: LedgerApp) -> None:
        self.app = app

    def close(self) -> None:
        """Release the database connections."""
        self.app.close()

    # --- loading ---------------------------------------------------------

    def _get(self, cls: type[A], aggregate_id: UUID, missing: str) -> A:
        try:
            aggregate: Aggregate = self.app.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFoundError(missing) from None
        assert isinstance(aggregate, cls)
        return aggregate

    def catalogue(self) -> Catalogue:
        """The catalogue of plans."""
        missing = "the ledger is not initialised: run `ledger init`"
        return self._get(Catalogue, CATALOGUE_ID, missing)

    def plan(self, slug: str | None) -> Plan:
        """The plan named, or the only plan."""
        slug = self.catalogue().check_plan(slug)
        return self._get(Plan, plan_id(slug), f"the ledger holds no plan {slug}")

    def item(self, slug: str | None, number: str) -> Item:
        """One item of the plan."""
        plan = self.plan(slug)
        plan.check_item(number)
        return self._get(Item, item_id(plan.slug, number), f"plan {plan.slug} has no item {number}")

    def items_of(self, plan: Plan) -> dict[str, Item]:
        """Every item of a plan already loaded, by number (each stream read once)."""
        return {number: self._get(Item, item_id(plan.slug, number),
                                  f"plan {plan.slug} has no item {number}")
                for number in plan.items}

    def save(self, *aggregates: Aggregate) -> None:
        """Save the aggregates' new events in one transaction, after checking their sizes."""
        for aggregate in aggregates:
            for event in aggregate.pending_events:
                assert isinstance(event, PlanEvent)
                check_sizes(event)
        try:
            self.app.save(*aggregates)
        except IntegrityError:
            squatter = stray_seal(self.app.engine, EVENTS_TABLE)
            if squatter is not None:
                msg = (f"the ledger holds a seal with no event at position {squatter} (added "
                       f"around the ledger), which blocks this write: nothing was written; "
                       f"run `ledger verify`")
                raise TamperedError(msg) from None
            for aggregate in aggregates:
                stray = [r for r, stamp in self.app.stream_sealed(aggregate.id) if stamp is None]
                if stray:
                    msg = (f"{_name(aggregate)}: its next version is taken by a stored row "
                           f"outside the hash chain (position {stray[0].position}): nothing "
                           f"was written; run `ledger verify`")
                    raise TamperedError(msg) from None
            names = ", ".join(_name(a) for a in aggregates)
            msg = f"{names} changed while this command ran: nothing was written; read it and retry"
            raise ConflictError(msg) from None

    def _change_item(
        self, slug: str | None, number: str, change: Callable[[Item], None], *, append: bool,
    ) -> Item:
        for attempt in range(APPEND_RETRIES if append else 1):
            item = self.item(slug, number)
            change(item)
            try:
                self.save(item)
            except ConflictError:
                if attempt + 1 >= (APPEND_RETRIES if append else 1):
                    raise
                # Jittered backoff, so writers that collided do not collide again.
                time.sleep(random.uniform(0, 0.005 * 2**attempt))  # noqa: S311 - not crypto
                continue
            return item
        raise AssertionError  # pragma: no cover - the loop returns or raises

    # --- plan-level commands ----------------------------------------------

    def init(self, prov: Provenance) -> bool:
        """Open the catalogue of a new ledger; False when it was already there."""
        try:
            self.catalogue()
        except NotFoundError:
            try:
                self.save(Catalogue.open(prov))
            except ConflictError:
                return False  # another process initialised it at the same moment
            return True
        return False

    def new_plan(self, slug: str, title: str, prov: Provenance) -> Plan:
        """Register a plan and list it in the catalogue, in one transaction."""
        catalogue = self.catalogue()
        plan = Plan.register(slug, title, prov)
        catalogue.list_plan(slug, prov)
        self.save(plan, catalogue)
        return plan

    def add_theme(
        self, slug: str | None, number: str, title: str, description: str, prov: Provenance,
    ) -> None:
        """Add a theme to the plan."""
        plan = self.plan(slug)
        plan.add_theme(number, title, description, prov)
        self.save(plan)

    def add_item(
        self, slug: str | None, number: str, theme: str, aim: str, actions: str, prov: Provenance,
    ) -> Item:
        """Add an item under a theme: the plan files it and its stream starts, together."""
        plan = self.plan(slug)
        plan.file_item(number, theme, prov)
        item = Item.add(plan.slug, number, theme, aim, actions, prov)
        self.save(plan, item)
        return item

    # --- item commands ----------------------------------------------------

    def add_outcome(
        self, slug: str | None, number: str, text: str, due: str, prov: Provenance,
    ) -> int:
        """Add an outcome; returns its number within the item."""
        item = self.item(slug, number)
        outcome = item.add_outcome(text, due, "", prov)
        self.save(item)
        return outcome

    def set_rag(self, slug: str | None, number: str, rag: Rag, prov: Provenance) -> None:
        """Set the item's RAG status."""
        self._change_item(slug, number, lambda i: i.set_rag(rag, prov), append=False)

    def record_update(
        self, slug: str | None, number: str, text: str, month: str | None, prov: Provenance,
    ) -> None:
        """Record a progress update (for its month; default the effective month)."""
        month = month if month is not None else month_of(prov.effective)
        self._change_item(slug, number, lambda i: i.record_update(month, text, prov), append=True)

    def assign_lead(
        self, slug: str | None, number: str, lead: str, prov: Provenance,
        replace: str | None = None, add: bool = False,
    ) -> None:
        """Assign, add or reassign a lead."""
        self._change_item(
            slug, number, lambda i: i.assign_lead(lead, prov, replace, add), append=False,
        )

    def move_target(
        self, slug: str | None, number: str, outcome: int, due: str, prov: Provenance,
    ) -> None:
        """Move an outcome's target month."""
        self._change_item(
            slug, number, lambda i: i.move_target(outcome, due, "", prov), append=False,
        )

    def complete(self, slug: str | None, number: str, month: str | None, prov: Provenance) -> None:
        """Report the item complete."""
        month = month if month is not None else month_of(prov.effective)
        self._change_item(slug, number, lambda i: i.report_completion(month, prov), append=False)

    def reopen(self, slug: str | None, number: str, prov: Provenance) -> None:
        """Reopen a complete item."""
        self._change_item(slug, number, lambda i: i.reopen(prov), append=False)

    def correct(
        self, slug: str | None, ref: str, replacement: dict[str, str], prov: Provenance,
    ) -> str:
        """Record a correction of event `ITEM@N`; returns the correction's own reference."""
        number, version = parse_event_ref(ref)
        item = self._change_item(
            slug, number, lambda i: i.correct(version, replacement, prov), append=False,
        )
        return event_ref(number, item.version)

    # --- reads -------------------------------------------------------------

    def history(self, slug: str | None, number: str) -> tuple[list[HistoryRow], list[str]]:
        """Every sealed event of the item in order, with who, when, what and why; and the
        stored rows of its stream that are outside the chain (never shown as history)."""
        item = self.item(slug, number)
        return item_history(number, self.app.stream_sealed(item.id), self.app.decode)

    def item_events(self, slug: str | None, number: str) -> list[PlanEvent]:
        """The item's stored events in order."""
        return list(self.item(slug, number).history)


def _name(aggregate: Aggregate) -> str:
    if isinstance(aggregate, Item):
        return f"item {aggregate.state.number}"
    if isinstance(aggregate, Plan):
        return f"plan {aggregate.slug}"
    return "the catalogue"


__all__ = ["Ledger", "LedgerError"]
