"""Stored topics are fixed `ledger.` names, so moving or renaming code never orphans an event."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic, resolve_topic

import ledger.domain
from ledger.domain.events import PlanEvent


def descendants(cls: type) -> set[type]:
    found: set[type] = set()
    subclasses: list[type] = cls.__subclasses__()
    for sub in subclasses:
        found |= {sub, *descendants(sub)}
    return found


def stored_classes() -> set[type]:
    """Every concrete event class and every aggregate class the domain defines."""
    for module in pkgutil.iter_modules(ledger.domain.__path__):
        importlib.import_module(f"ledger.domain.{module.name}")
    aggregates = {cls for cls in descendants(Aggregate)
                  if cls.__module__.startswith("ledger.domain.") and inspect.isclass(cls)
                  and "." not in cls.__qualname__}
    return descendants(PlanEvent) | aggregates


def test_every_event_and_aggregate_class_has_a_stable_ledger_topic() -> None:
    """Its own TOPIC starts `ledger.`, is not its module path, is what the library stores
    for it, resolves back to it, and names no other class."""
    classes = stored_classes()
    names = {cls.__name__ for cls in classes}
    assert {"ItemAdded", "TargetMoved", "LeadReassigned", "Item", "Plan", "Catalogue"} <= names
    topics: dict[str, type] = {}
    for cls in classes:
        topic = cls.__dict__.get("TOPIC")
        assert isinstance(topic, str), cls
        assert topic.startswith("ledger."), (cls, topic)
        assert topic != f"{cls.__module__}:{cls.__qualname__}", (cls, topic)
        assert get_topic(cls) == topic
        assert resolve_topic(topic) is cls
        assert topics.setdefault(topic, cls) is cls, (topic, cls, topics[topic])
