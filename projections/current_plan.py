"""The plan as it stands (or stood): one row per item with leads, RAG, status and outcomes.

Pure: a row from an item's folded state and the date it is read at.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import TYPE_CHECKING, Any

from ledger.domain.values import month_of
from projections.status_summary import baseline_due, derived_status

if TYPE_CHECKING:  # a plan as of a date is read from stored rows: no event is loaded for it
    from ledger.domain.events import PlanEvent
    from ledger.domain.state import ItemState

COLUMNS = ("plan", "theme", "item", "basis", "aim", "leads", "rag", "status", "complete",
           "outcomes", "updates", "latest_update")


def item_record(state: ItemState) -> dict[str, Any]:
    """What the read model keeps of an item: its plan row without the date-dependent status,
    plus what that status is derived from."""
    row = item_row(state, None)
    row["baseline_due"] = baseline_due(state)
    row["progress"] = bool(state.updates)
    row["withdrawn"] = state.withdrawn
    return row


def item_row(state: ItemState, as_of: date | None) -> dict[str, Any]:
    """The `ledger plan` row of one item (status as at `as_of`)."""
    latest = state.latest_update()
    return {
        "plan": state.plan,
        "theme": state.theme,
        "item": state.number,
        # Structure shown before the first edition that reports the item is an assumption.
        "basis": "assumed" if state.assumed else "reported",
        "aim": state.aim,
        "leads": list(state.leads),
        "rag": state.rag,
        "status": derived_status(state, as_of) if as_of else "",
        "complete": state.complete,
        "outcomes": [{"number": o.number, "text": o.text, "due": o.due,
                      "baseline_due": o.baseline_due} for o in state.outcomes.values()
                     if not o.withdrawn],
        "updates": len(state.updates),
        "latest_update": ({"month": latest.month, "basis": latest.basis,
                           "reported": month_of(latest.effective), "text": latest.text,
                           "by": latest.attributed_to or latest.recorded_by}
                          if latest else None),
    }


def item_sort_key(number: str) -> tuple[int, ...]:
    """Items in plan order: 1.2 before 1.10; a lettered sub-item after its item and in
    letter order (4.6, 4.6a, 4.6b, 4.6c, 4.7)."""
    key: list[int] = []
    for part in number.split("."):
        digits = part.rstrip("abcdefghijklmnopqrstuvwxyz")
        key.append(int(digits) if digits.isdigit() else 0)
        key.extend(ord(letter) - ord("a") + 1 for letter in part[len(digits):])
    return tuple(key)


def states_over_time(events: list[PlanEvent]) -> Iterator[tuple[date, ItemState]]:
    """The item after everything in force on each effective date its events name, in order."""
    from ledger.domain.events import CorrectionRecorded
    from ledger.domain.state import states_at

    days = sorted({e.effective for e in events if not isinstance(e, CorrectionRecorded)})
    return states_at(events, days)
