"""Events made by their direct `__init__` are the ones the dataclass's own `__init__` makes."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid5

import pytest

from ledger.domain.events import KIND, PlanEvent, UpdateRecorded

STREAM = uuid5(UUID(int=0), "cgip-2018/1.1")
# An update of item 1.1 in the September 2018 edition (seeds/cgip-2018-09-september-update.md)
UPDATE = ("INLOGOV have provided the Council with a draft report on Well-organised political "
          "groups")


def arguments(cls: type[PlanEvent]) -> dict[str, Any]:
    """A value of its annotated kind for every field of an event class."""
    values: dict[str, Any] = {}
    for field in dataclasses.fields(cls):
        kind = str(field.type)
        values[field.name] = (
            STREAM if field.name == "originator_id" else
            datetime(2018, 9, 30, 12, tzinfo=UTC) if kind == "datetime" else
            date(2018, 9, 30) if kind == "date" else
            3 if kind == "int" else
            [UPDATE[:20], "ACE"] if kind.startswith("list") else
            {"text": UPDATE} if kind.startswith("dict") else
            f"{field.name}: {UPDATE}")
    return values


def reference(cls: type[PlanEvent]) -> type[PlanEvent]:
    """A subclass with the `__init__` the library's dataclass decorator writes."""
    made = type(f"Reference{cls.__name__}", (cls,), {})
    assert "__init__" in vars(made)  # generated for it, not inherited
    return made


@pytest.mark.parametrize("cls", list(KIND), ids=lambda c: c.__name__)
def test_every_event_has_the_dataclass_attributes_in_the_dataclass_order(
        cls: type[PlanEvent]) -> None:
    """For every event class, the direct `__init__` gives the same attributes, in the same
    order (which is the order of the stored JSON), as the dataclass's own."""
    given = arguments(cls)
    mine, theirs = cls(**given), reference(cls)(**given)
    assert list(vars(mine).items()) == list(vars(theirs).items())
    assert list(vars(mine)) == [f.name for f in dataclasses.fields(cls)]


def test_a_missing_or_unknown_argument_and_a_bad_stream_are_refused() -> None:
    """As with the dataclass's `__init__`: a missing field or an unknown one is a TypeError,
    and the library's `__post_init__` still refuses a stream that is not a UUID."""
    given = arguments(UpdateRecorded)
    made = UpdateRecorded(**given)
    assert made.text == f"text: {UPDATE}"
    with pytest.raises(TypeError, match="text"):
        UpdateRecorded(**{k: v for k, v in given.items() if k != "text"})
    with pytest.raises(TypeError, match="colour"):
        UpdateRecorded(**given, colour="red")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="non-UUID originator_id"):
        UpdateRecorded(**{**given, "originator_id": str(STREAM)})


def test_an_event_stays_frozen() -> None:
    """An event made by the direct `__init__` still refuses to be changed."""
    made = UpdateRecorded(**arguments(UpdateRecorded))
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.text = "rewritten"
    assert made.text == f"text: {UPDATE}"


def test_no_event_class_is_another_event_class() -> None:
    """The fold tries the commonest event class first, which gives the same answer only
    while no event class is a subclass of another (an update is never also a RAG change)."""
    classes = list(KIND)
    assert len(classes) == 22
    assert [(a, b) for a in classes for b in classes if a is not b and issubclass(a, b)] == []
