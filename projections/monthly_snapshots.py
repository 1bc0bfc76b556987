"""The plan as it stood at the end of each month: item × month, RAG and status.

Each month-end is a fold of the item's events effective by then (corrections
honoured), so a change recorded late still lands in the month it took
effect. Pure.
"""

from __future__ import annotations

from typing import Any

from ledger.domain.events import CorrectionRecorded, PlanEvent
from ledger.domain.state import fold
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


def snapshot_rows(events: list[PlanEvent], months: list[str]) -> list[dict[str, Any]]:
    """One row per month in which the item existed."""
    rows = []
    for month in months:
        end = month_end(month)
        state = fold(as_of(events, end))
        if state is None or state.withdrawn:
            continue
        rows.append({
            "month": month,
            "plan": state.plan,
            "item": state.number,
            "rag": state.rag,
            "status": derived_status(state, end),
            "leads": list(state.leads),
            "updates_in_month": sum(1 for u in state.updates if u.month == month),
        })
    return rows
