"""Which event set each current fact of an item, as `git blame` says which commit wrote a line.

Pure: the item's folded state (its `touched` map: fact -> the event that last set it)
and the change-log rows of those events (recorded time and database role as the store
witnessed them) in, one row per fact out.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ledger.domain.events import ItemAdded, PlanEvent, kind_of
from ledger.domain.ids import event_ref
from ledger.domain.state import ItemState
from projections.status_summary import derived_status

COLUMNS = ("field", "value", "detail", "ref", "kind", "effective", "basis", "recorded_at", "by",
           "db_role", "attributed_to", "source", "note", "corrected_by")
# The table leaves out the outcome's text, the database role and the note (JSON and CSV keep them).
TABLE_COLUMNS = ("field", "value", "ref", "kind", "effective", "basis", "recorded_at", "by",
                 "attributed_to", "source", "corrected_by")
DERIVED_STATUS = "status (derived)"


def blame_rows(state: ItemState, events: list[PlanEvent], as_of: date,
               witnessed: dict[int, tuple[str, str]]) -> list[dict[str, Any]]:
    """One row per current fact of the item on `as_of`: its value and the event that set it
    (who, when recorded and effective, basis, source). `witnessed`: event version ->
    (recorded_at, db_role) from the change log. A fact no event set (no RAG stated) has no
    event; the derived status names its evidence (the completion, else the latest update)."""
    origin = next(e for e in events if isinstance(e, ItemAdded))  # as `fold` starts from
    by_version = {e.originator_version: e for e in events}

    def row(field: str, value: str, event: PlanEvent | None, detail: str = "") -> dict[str, Any]:
        recorded_at, db_role = witnessed.get(event.originator_version, ("", "")) if event else (
            "", "")
        corrected = state.corrected.get(event.originator_version) if event else None
        return {
            "field": field, "value": value, "detail": detail,
            "ref": event_ref(state.number, event.originator_version) if event else "",
            "kind": kind_of(event) if event else "",
            "effective": event.effective.isoformat() if event else "",
            "basis": event.basis if event else "",
            "recorded_at": recorded_at,
            "by": event.recorded_by if event else "",
            "db_role": db_role,
            "attributed_to": event.attributed_to if event else "",
            "source": event.source if event else "",
            "note": event.note if event else "",
            "corrected_by": event_ref(state.number, corrected) if corrected else "",
        }

    touched = state.touched
    rows = []
    if state.assumed:  # before its first report: the facts below are that report's
        rows.append(row("assumed", f"structure assumed from the report of "
                        f"{state.reported_from}", origin))
    rows += [row(name, getattr(state, name), touched.get(name, origin))
            for name in ("theme", "aim", "actions")]
    for outcome in state.outcomes.values():
        if not outcome.withdrawn:
            rows.append(row(f"outcome {outcome.number} due", outcome.due or "none",
                            touched.get(f"outcome:{outcome.id}"), outcome.text))
    rows += [row("lead", lead, touched.get(f"lead:{lead}", touched.get("leads")))
             for lead in state.leads]
    rows.append(row("rag", state.rag, touched.get("rag")))
    rows.append(row("complete", "true" if state.complete else "false", touched.get("complete"),
                    state.completed_month))
    latest = state.latest_update()
    latest_event = by_version.get(latest.version) if latest else None
    if latest is not None:
        month = latest.month or f"undated, reported in {latest.effective.isoformat()[:7]}"
        rows.append(row("latest update", month, latest_event, latest.text))
    evidence = touched.get("complete") if state.complete else latest_event
    rows.append(row(DERIVED_STATUS, derived_status(state, as_of), evidence))
    if state.withdrawn:
        rows.append(row("withdrawn", "true", touched.get("withdrawn")))
    return rows
