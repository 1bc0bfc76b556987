"""What changed in an item between two dates, read from its states on each: as an auditor
compares two monthly reports. Pure: two folded states in, change rows out.

Comparing states, not listing events, makes the answer the same whatever order the
editions were imported in (a restatement that changes nothing is no change). Structure
that is only assumed on the later date is not a change; its dated updates are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # a query reads stored rows: it need not load the domain's events
    from ledger.domain.state import ItemState, OutcomeState

COLUMNS = ("effective", "basis", "item", "kind", "by", "before", "after")


def _row(state: ItemState, key: str, kind: str, before: str, after: str) -> dict[str, Any]:
    event = state.touched.get(key)
    return {"effective": event.effective.isoformat() if event else "",
            "basis": event.basis if event else "", "item": state.number, "kind": kind,
            "by": (event.attributed_to or event.recorded_by) if event else "",
            "before": before, "after": after}


def _due(outcome: OutcomeState | None) -> str:
    if outcome is None:
        return ""
    return f"#{outcome.number} due {outcome.due or 'none'}"


def item_changes(then: ItemState | None, now: ItemState | None) -> list[dict[str, Any]]:
    """The changes that took effect in one item after `then` and by `now`."""
    if now is None:
        return []
    rows: list[dict[str, Any]] = []
    structural = then is not None or not now.assumed
    if then is None and structural:
        rows.append(_row(now, "aim", "item_added", "", f"item {now.number}: {now.aim}"))
    if then is not None:
        for name in ("aim", "actions"):
            if getattr(then, name) != getattr(now, name):
                rows.append(_row(now, name, "text_revised", f"{name}: {getattr(then, name)}",
                                 f"{name}: {getattr(now, name)}"))
        if then.leads != now.leads:
            rows.append(_row(now, "leads", "lead_changed", "; ".join(then.leads),
                             "; ".join(now.leads)))
        if then.rag != now.rag:
            rows.append(_row(now, "rag", "rag_changed", then.rag, now.rag))
    if structural:
        rows += _outcome_changes(then, now)
    if now.complete != (then.complete if then else False):
        kind = "completed" if now.complete else "reopened"
        rows.append(_row(now, "complete", kind, "", f"complete ({now.completed_month})"
                         if now.complete else "reopened"))
    if now.withdrawn and not (then and then.withdrawn):
        rows.append(_row(now, "withdrawn", "item_withdrawn", "in plan", "withdrawn"))
    seen = {(u.month, u.words) for u in (then.updates if then else [])}
    for update in now.updates:
        if (update.month, update.words) not in seen:
            rows.append({"effective": update.effective.isoformat(), "basis": update.basis,
                         "item": now.number, "kind": "update_recorded",
                         "by": update.attributed_to or update.recorded_by, "before": "",
                         "after": f"[{update.month or 'undated'}] {update.text}"})
    return rows


def _outcome_changes(then: ItemState | None, now: ItemState) -> list[dict[str, Any]]:
    rows = []
    for outcome in now.outcomes.values():
        before = then.outcome_by_id(outcome.id) if then else None
        key = f"outcome:{outcome.id}"
        if before is None or (before.withdrawn and not outcome.withdrawn):
            rows.append(_row(now, key, "outcome_added", "",
                             f"outcome #{outcome.number}: {outcome.text} "
                             f"[{outcome.due_label or 'no date'}]"))
        elif outcome.withdrawn and not before.withdrawn:
            rows.append(_row(now, key, "outcome_withdrawn", f"outcome #{outcome.number}",
                             "withdrawn"))
        elif before.due != outcome.due:
            rows.append(_row(now, key, "target_moved", _due(before), _due(outcome)))
    return rows
