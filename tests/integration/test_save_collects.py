"""`LedgerApp.save` is the library's `Application.save` step for step, collecting aggregates
by a class check instead of the library's runtime Protocol checks (which walk the protocols'
members on every save), and its event store's `put` is the library's, making its recordings
without the frozen dataclasses' `__init__`: the same events, the same aggregates, the same
recordings; and a library upgrade that changes `Application.save`,
`ProcessingEvent.collect_events` or `EventStore.put` fails here rather than drifting
silently."""

from __future__ import annotations

import copy
import hashlib
import inspect
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import eventsourcing.application as library
import pytest
from eventsourcing.application import Application, ProcessingEvent
from eventsourcing.persistence import EventStore, Notification, Recording

from ledger.domain.plan import Catalogue, Plan
from ledger.domain.values import Provenance
from ledger.store.app import AggregateEvents, LedgerEventStore, open_ledger

# The library's source of the two methods `LedgerApp.save` and `AggregateEvents` stand in
# for (eventsourcing 9.5.6). If this changes, read the new source and follow it.
PINNED = {
    "Application.save": "4e9747d14b8fd046",
    "ProcessingEvent.collect_events": "7e3a7e6b1abd2bef",
    "EventStore.put": "7cbbe45730a0d3b9",
}


def prov() -> Provenance:
    return Provenance("clerk", date(2018, 9, 30), "test")


def _digest(method: Any) -> str:
    return hashlib.sha256(inspect.getsource(method).encode()).hexdigest()[:16]


def test_the_library_methods_stood_in_for_are_the_ones_read() -> None:
    """The library's `Application.save` and `ProcessingEvent.collect_events` are, to the
    byte, the source `LedgerApp.save` and `AggregateEvents` were written from."""
    assert {"Application.save": _digest(Application.save),
            "ProcessingEvent.collect_events": _digest(ProcessingEvent.collect_events),
            "EventStore.put": _digest(EventStore.put)} == PINNED


class _Counting(type):
    checks = 0

    def __instancecheck__(cls, instance: Any) -> bool:
        _Counting.checks += 1
        return False


class _NeverAnEvent(metaclass=_Counting):
    pass


def test_aggregates_are_collected_as_the_library_collects_them(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Aggregates, a bare event and None give the same events (in order), aggregates and
    saved keywords as the library's collector; aggregates skip its Protocol check."""
    catalogue = Catalogue.open(prov())
    plan = Plan.register("cgip-2018", "Corporate Governance Improvement Plan", prov())
    plan.add_theme("1", "Political Leadership", "", prov())
    bare = Catalogue.open(prov()).collect_events()[0]
    objs: list[Any] = [plan, None, bare, catalogue]
    ours, theirs = AggregateEvents(), ProcessingEvent[UUID]()
    ours.collect_events(*copy.deepcopy(objs), note="x")
    theirs.collect_events(*objs, note="x")
    assert ours.events == theirs.events
    assert [type(e).__name__ for e in ours.events] == [
        "PlanRegistered", "ThemeAdded", "CatalogueOpened", "CatalogueOpened"]
    assert list(ours.aggregates) == list(theirs.aggregates) == [plan.id, catalogue.id]
    assert ours.saved_kwargs == theirs.saved_kwargs == {"note": "x"}

    monkeypatch.setattr(library, "DomainEventProtocol", _NeverAnEvent)
    _Counting.checks = 0
    AggregateEvents().collect_events(Plan.register("p", "P", prov()))
    assert _Counting.checks == 0  # an aggregate: no Protocol check
    ProcessingEvent[UUID]().collect_events(Plan.register("q", "Q", prov()))
    assert _Counting.checks == 1  # the library's collector asks it


def test_a_save_records_every_event_with_its_seal(tmp_path: Path) -> None:
    """Saving two aggregates through `LedgerApp.save` stores their three events in order,
    each sealed, with the recordings the library returns."""
    app = open_ledger(f"sqlite:///{tmp_path / 'l.db'}", create=True)
    plan = Plan.register("cgip-2018", "Corporate Governance Improvement Plan", prov())
    plan.add_theme("1", "Political Leadership", "", prov())
    recordings = app.save(plan, Catalogue.open(prov()))
    assert [r.notification.id for r in recordings] == [1, 2, 3]
    assert [r.domain_event.originator_version for r in recordings] == [1, 2, 1]
    stored = list(app.iter_sealed())
    assert [(record.position, seal is not None) for record, seal in stored] == [
        (1, True), (2, True), (3, True)]
    assert b'"title":"Corporate Governance Improvement Plan"' in stored[0][0].state
    app.close()


def test_put_records_as_the_library_puts(tmp_path: Path) -> None:
    """The same events put into two new ledgers, one by the library's `EventStore.put` and
    one by the ledger's: equal recordings of the same types, field for field (stored bytes,
    ids), hashed alike, and the same rows stored."""
    theirs_app = open_ledger(f"sqlite:///{tmp_path / 'theirs.db'}", create=True)
    ours_app = open_ledger(f"sqlite:///{tmp_path / 'ours.db'}", create=True)
    assert type(ours_app.events) is LedgerEventStore
    plan = Plan.register("cgip-2018", "Corporate Governance Improvement Plan", prov())
    plan.add_theme("1", "Political Leadership", "", prov())
    events = [*plan.collect_events(), *Catalogue.open(prov()).collect_events()]
    library_store = EventStore(mapper=theirs_app.mapper, recorder=theirs_app.recorder)
    theirs, ours = library_store.put(events), ours_app.events.put(events)
    assert ours == theirs
    assert [r.notification.id for r in ours] == [1, 2, 3]
    for mine, library_made in zip(ours, theirs, strict=True):
        assert type(mine) is Recording
        assert type(mine.notification) is Notification
        assert mine.domain_event is library_made.domain_event
        assert vars(mine.notification) == vars(library_made.notification)
        assert list(vars(mine.notification)) == list(vars(library_made.notification))
        assert hash(mine.notification) == hash(library_made.notification)
        assert repr(mine) == repr(library_made)
    assert [r for r, _ in ours_app.iter_sealed()] == [r for r, _ in theirs_app.iter_sealed()]
    assert ours_app.events.put([]) == library_store.put([]) == []
    theirs_app.close()
    ours_app.close()
