"""How the ledger's aggregates trigger their events: as the library's `trigger_event` does.

The library's `Aggregate.trigger_event` copies the keywords, checks the event class's explicit
topic against the registry, and calls the class with them (whose dataclass `__init__` and
`__post_init__` check the parameters and the stream's type); an event is made for every
change saved, and those steps cost more than the rest of a command. For a ledger event class
given exactly its fields, whose making is nothing but setting them, none of the class's steps
can fail, and the topic is checked as the library checks it, so `trigger` makes the same event
directly: equal to the library's, its attributes in the same
order (stored bytes depend on it), applied and kept pending as the library does. Anything
else (other keywords, a timestamp given, a class of another shape) is the library's own path,
its errors included. Not among the modules an evidence pack carries (it imports the library's
event base class, which the pack's stand-in does not have).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from operator import itemgetter
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, DomainEvent
from eventsourcing.utils import resolve_topic

IDENTITY = ("originator_id", "originator_version", "timestamp")
# Per event class: its fields after the identity, as a set (the keywords must be these) and in
# order, and a getter of them from the keywords; None where the library must make it.
Shape = tuple[frozenset[str], tuple[str, ...], Callable[[dict[str, Any]], tuple[Any, ...]]]
_SHAPES: dict[type, Shape | None] = {}


def shape_of(cls: type) -> Shape | None:
    """The fields `trigger` sets for this event class, or None where the library must make it.
    Only a class whose making is exactly setting its fields: its `__init__` the one
    `ledger.domain.events` wrote for it (so no `__init__` of its own, no InitVar, no default,
    the identity first and two or more fields after), made by the library's metaclass as
    `type` makes any instance (no `__new__`, no metaclass `__call__`), with the library's
    own `__post_init__`."""
    init = cls.__dict__.get("__init__")
    if getattr(init, "made_for", None) is not cls or not dataclasses.is_dataclass(cls):
        return None
    names = tuple(f.name for f in dataclasses.fields(cls))
    rest = names[len(IDENTITY):]
    if names[:len(IDENTITY)] != IDENTITY or len(rest) < 2:
        return None
    if (cls.__new__ is not object.__new__ or type(cls).__call__ is not type.__call__
            or getattr(cls, "__post_init__", None) is not DomainEvent.__post_init__):
        return None
    return frozenset(rest), rest, itemgetter(*rest)


def _checked_as_the_library_checks(aggregate: Any, event_class: type[Any]) -> bool:
    """What the library's `trigger_event` checks of the class for an aggregate with an
    explicit topic (every ledger aggregate), on every call: not the base `Event`, and its
    own explicit topic registered to it."""
    if not getattr(type(aggregate), "TOPIC", None):
        return True
    if event_class.__name__ == "Event":
        return False
    try:
        return bool(resolve_topic(event_class.TOPIC) is event_class)
    except Exception:  # no topic, or not registered: the library's path says so
        return False


def trigger(aggregate: Any, event_class: type[Any], kwargs: dict[str, Any]) -> None:
    """`Aggregate.trigger_event(aggregate, event_class, **kwargs)`, made directly where
    `shape_of` allows and the keywords are exactly the class's fields."""
    try:
        shape = _SHAPES[event_class]
    except KeyError:
        shape = _SHAPES[event_class] = shape_of(event_class)
    if (shape is None or kwargs.keys() != shape[0] or type(aggregate.id) is not UUID
            or not _checked_as_the_library_checks(aggregate, event_class)):
        Aggregate.trigger_event(aggregate, event_class, **kwargs)
        return
    state = {"originator_id": aggregate.id, "originator_version": aggregate.version + 1,
             "timestamp": event_class.create_timestamp()}
    state.update(zip(shape[1], shape[2](kwargs), strict=True))
    event = object.__new__(event_class)
    object.__setattr__(event, "__dict__", state)
    event.mutate(aggregate)
    aggregate._pending_events.append(event)


class Triggers:
    """Mixed into the ledger's aggregates, before the library's `Aggregate`."""

    def trigger_event(self, event_class: type[Any], **kwargs: Any) -> None:
        """The library's `trigger_event`, by `trigger`."""
        trigger(self, event_class, kwargs)
