"""Per outcome: the baseline target, every move (from, to, when, who, why), slips, months slipped.

A slip is a move to a later month; months slipped add up the slips. Pure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ledger.domain.values import months_between

if TYPE_CHECKING:  # a query reads stored rows: it need not load the domain's events
    from ledger.domain.state import ItemState

COLUMNS = ("plan", "item", "outcome_no", "outcome", "baseline_due", "baseline_edition",
           "current_due", "basis", "slip_count", "months_slipped", "delivered", "moves")


def outcome_rows(state: ItemState) -> list[dict[str, Any]]:
    """One slippage row per outcome of the item that has a target."""
    rows = []
    for outcome in state.outcomes.values():
        if not (outcome.baseline_due or outcome.moves):
            continue
        slips = [m for m in outcome.moves if m.before and m.after and m.after > m.before]
        rows.append({
            "plan": state.plan,
            "item": state.number,
            "outcome": outcome.text,
            "outcome_no": outcome.number,
            "baseline_due": outcome.baseline_due,
            "baseline_edition": outcome.baseline_edition,
            "basis": outcome.basis,
            "current_due": outcome.due,
            "slip_count": len(slips),
            "months_slipped": sum(months_between(m.before, m.after) for m in slips),
            "delivered": state.complete,
            "moves": [{"from": m.before, "to": m.after, "effective": m.effective.isoformat(),
                       "basis": m.basis,
                       "recorded_at": m.recorded_at.isoformat(timespec="seconds"),
                       "by": m.recorded_by, "note": m.note} for m in outcome.moves],
        })
    return rows
