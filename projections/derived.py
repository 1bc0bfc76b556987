"""The derived read models of one item (plan row, slippage, month-end snapshots, history over
effective time), collected and written in bulk.

Each item's derived rows are a pure function of its events; this module only
turns them into table rows and writes them in the caller's transaction.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, delete, insert

from ledger.domain.events import PlanEvent
from ledger.domain.state import fold
from projections import schema
from projections.current_plan import item_record, states_over_time
from projections.monthly_snapshots import snapshot_rows
from projections.slippage_history import outcome_rows

DERIVED_TABLES = (schema.items, schema.outcomes, schema.snapshots, schema.item_history)
FLUSH_ROWS = 20_000


def dumps(value: Any) -> str:
    """JSON for a stored row (stable key order, so rebuilds compare equal)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


class DerivedRows:
    """Collects the derived rows of items and writes them in bulk."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pending: dict[Any, list[dict[str, Any]]] = {t: [] for t in DERIVED_TABLES}

    def forget(self, plan: str, item: str) -> None:
        """Remove an item's old derived rows first (incremental catch-up)."""
        for table in DERIVED_TABLES:
            self.conn.execute(delete(table).where(table.c.plan == plan, table.c.item == item))

    def add(self, plan: str, item: str, events: list[PlanEvent], months: list[str]) -> None:
        """The derived rows of one item, from its events in stream order."""
        state = fold(events)
        if state is None:
            return
        key = {"plan": plan, "item": item}
        self.pending[schema.items].append(
            {**key, "theme": state.theme, "row": dumps(item_record(state))})
        self.pending[schema.outcomes] += [
            {**key, "outcome": r["outcome_no"], "slip_count": r["slip_count"], "row": dumps(r)}
            for r in outcome_rows(state)]
        self.pending[schema.snapshots] += [
            {**key, "month": r["month"], "row": dumps(r)} for r in snapshot_rows(events, months)]
        history = [(day, dumps(item_record(s)), dumps(outcome_rows(s)))
                   for day, s in states_over_time(events)]
        for index, (day, row, slips) in enumerate(history):
            valid_to = history[index + 1][0].isoformat() if index + 1 < len(history) else None
            self.pending[schema.item_history].append(
                {**key, "valid_from": day.isoformat(), "valid_to": valid_to, "row": row,
                 "slippage": slips})
        if sum(len(rows) for rows in self.pending.values()) > FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        """Write what was collected."""
        for table, rows in self.pending.items():
            if rows:
                self.conn.execute(insert(table), rows)
            rows.clear()
