"""The 2015 legend status of an item as at a date, derived (never typed in), and the counts.

Status follows the legend of the council's December 2015 progress report: TBC
where no outcome has a date; complete where the item is; otherwise started or
not (a progress update by then) against its due date (the latest baseline
target of its open outcomes). BEI = items completed by the date ÷ items due
by their baseline by the date. Pure.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from ledger.domain.state import ItemState
from ledger.domain.values import month_end, month_of

TBC = "TBC"
NOT_DUE = "Not due to have started"
NOT_STARTED_SLIPPED = "Not started – completion slipped"
IN_PROGRESS_SLIPPED = "In progress – completion slipped"
IN_PROGRESS = "In progress"
COMPLETE = "Complete"
LEGEND = (TBC, NOT_DUE, NOT_STARTED_SLIPPED, IN_PROGRESS_SLIPPED, IN_PROGRESS, COMPLETE)


def baseline_due(state: ItemState) -> str:
    """The month the item was first due: the latest baseline of its open, dated outcomes."""
    return max((o.baseline_due for o in state.outcomes.values()
                if o.baseline_due and not o.withdrawn), default="")


def current_due(state: ItemState) -> str:
    """The month the item is due now: the latest current target of its open outcomes."""
    return max((o.due for o in state.outcomes.values() if o.due and not o.withdrawn), default="")


def first_update_month(state: ItemState) -> str:
    """The earliest month any progress update speaks for ("" where none)."""
    return min((u.month for u in state.updates), default="")


def status_at(complete: bool, due: str, first_update: str, as_of: date) -> str:
    """The 2015 legend status from what it depends on: completion, baseline due, progress."""
    if complete:
        return COMPLETE
    if not due:
        return TBC
    passed = as_of > month_end(due)
    if first_update and first_update <= month_of(as_of):
        return IN_PROGRESS_SLIPPED if passed else IN_PROGRESS
    return NOT_STARTED_SLIPPED if passed else NOT_DUE


def derived_status(state: ItemState, as_of: date) -> str:
    """The item's status in the 2015 legend as at `as_of`."""
    return status_at(state.complete, baseline_due(state), first_update_month(state), as_of)


@dataclass(frozen=True)
class Summary:
    """Counts per legend status and per RAG, and the baseline execution index."""

    as_of: date
    statuses: dict[str, int]
    rags: dict[str, int]
    completed: int
    due_by_baseline: int

    @property
    def bei(self) -> float | None:
        """Completed ÷ due by the baseline (None where nothing was due yet)."""
        return self.completed / self.due_by_baseline if self.due_by_baseline else None


def summarise(states: list[ItemState], as_of: date) -> Summary:
    """The summary of a plan's items (withdrawn items left out) as at a date."""
    live = [s for s in states if not s.withdrawn]
    statuses = Counter(derived_status(s, as_of) for s in live)
    rags = Counter(s.rag or "none" for s in live)
    due = sum(1 for s in live if (b := baseline_due(s)) and month_end(b) <= as_of)
    return Summary(as_of, {k: statuses.get(k, 0) for k in LEGEND}, dict(sorted(rags.items())),
                   statuses.get(COMPLETE, 0), due)
