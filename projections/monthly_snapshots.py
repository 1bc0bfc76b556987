"""The plan as it stood at the end of each month: item × month, RAG and status.

Each month-end is a fold of the item's events effective by then (corrections
honoured), so a change recorded late still lands in the month it took
effect. Pure.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ledger.domain.events import CorrectionRecorded, ItemAdded, PlanEvent
from ledger.domain.state import ItemState, fold
from ledger.domain.values import month_end
from projections.status_summary import derived_status

COLUMNS = ("month", "plan", "item", "rag", "status", "leads", "updates_in_month")


def months_from(first: str, last: str) -> list[str]:
    """Every `YYYY-MM` from `first` to `last`, inclusive."""
    months = []
    year, month = int(first[:4]), int(first[5:7])
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def as_of(events: list[PlanEvent], day: Any) -> list[PlanEvent]:
    """The events in force on `day`: effective by then, and every correction of them."""
    return [e for e in events if isinstance(e, CorrectionRecorded) or e.effective <= day]


def _row(state: ItemState, month: str, end: date) -> dict[str, Any]:
    return {
        "month": month,
        "plan": state.plan,
        "item": state.number,
        "rag": state.rag,
        "status": derived_status(state, end),
        "leads": list(state.leads),
        "updates_in_month": sum(1 for u in state.updates if u.month == month),
    }


def _in_effective_order(events: list[PlanEvent]) -> bool:
    """Whether every month-end's events are a prefix of the stream (no backdating, no fixes)."""
    previous = None
    for event in events:
        if isinstance(event, CorrectionRecorded):
            return False
        if previous is not None and event.effective < previous:
            return False
        previous = event.effective
    return True


def snapshot_rows(events: list[PlanEvent], months: list[str]) -> list[dict[str, Any]]:
    """One row per month in which the item existed.

    Where the stream is in effective order with no corrections (the usual case) each
    month-end is a prefix, folded once in a single pass; otherwise each month-end is
    folded from its own events.
    """
    rows = []
    if _in_effective_order(events):
        state: ItemState | None = None
        position = 0
        for month in months:
            end = month_end(month)
            while position < len(events) and events[position].effective <= end:
                event = events[position]
                if state is None and isinstance(event, ItemAdded):
                    state = ItemState.start(event)
                elif state is not None:
                    state.apply(event)
                position += 1
            if state is not None and not state.withdrawn:
                rows.append(_row(state, month, end))
        return rows
    for month in months:
        end = month_end(month)
        folded = fold(as_of(events, end))
        if folded is not None and not folded.withdrawn:
            rows.append(_row(folded, month, end))
    return rows
