"""The plan as it stood at the end of each month: item × month, RAG and status.

Each month-end is a fold of the item's events effective by then (corrections
honoured), so a change recorded late still lands in the month it took
effect. Pure.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from ledger.domain.values import month_end
from projections.status_summary import derived_status, status_at

if TYPE_CHECKING:  # month-ends the read models hold are stored rows: no event is loaded
    from ledger.domain.events import PlanEvent
    from ledger.domain.state import ItemState

COLUMNS = ("month", "plan", "item", "basis", "rag", "status", "leads", "updates_in_month")


def months_from(first: str, last: str) -> list[str]:
    """Every `YYYY-MM` from `first` to `last`, inclusive."""
    months = []
    year, month = int(first[:4]), int(first[5:7])
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _row(state: ItemState, month: str, end: date) -> dict[str, Any]:
    return {
        "month": month,
        "plan": state.plan,
        "item": state.number,
        "basis": "assumed" if state.assumed else "reported",
        "rag": state.rag,
        "status": derived_status(state, end),
        "leads": list(state.leads),
        "updates_in_month": sum(1 for u in state.updates if u.month == month),
    }


def stored_row(record: dict[str, Any], month: str, updates: int) -> dict[str, Any]:
    """The row of a month-end from the item's stored plan row in force on that day (see
    `projections.current_plan.item_record`) and its updates naming the month: the same row
    `snapshot_rows` folds."""
    end = month_end(month)
    return {
        "month": month,
        "plan": record["plan"],
        "item": record["item"],
        "basis": record["basis"],
        "rag": record["rag"],
        "status": status_at(record["complete"], record["baseline_due"], record["progress"], end),
        "leads": list(record["leads"]),
        "updates_in_month": updates,
    }


def snapshot_rows(events: list[PlanEvent], months: list[str]) -> list[dict[str, Any]]:
    """One row per month-end at which the item stood (reported, or assumed before its first
    report where a dated fact places it there)."""
    from ledger.domain.state import states_at

    ends = {month_end(month): month for month in months}
    return [_row(state, ends[end], end) for end, state in states_at(events, list(ends))
            if not state.withdrawn]
