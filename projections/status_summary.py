"""The 2015 legend status of an item as at a date, derived (never typed in), and the counts.

Status follows the legend of the council's December 2015 progress report, but
only as far as the evidence goes: complete where the item is; "No progress
reported" where no progress update is in force (never "not started": the ledger
cannot know that); TBC where progress is reported but no outcome has a date;
otherwise in progress, slipped or not against its due date (the latest baseline
target of its open outcomes). BEI = items completed by the date ÷ items due
by their baseline by the date. Pure.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from ledger.domain.values import month_end

if TYPE_CHECKING:  # a query reads stored rows: it need not load the domain's events
    from ledger.domain.state import ItemState

TBC = "TBC"
NOT_DUE = "Not due to have started"
NOT_STARTED_SLIPPED = "Not started – completion slipped"
IN_PROGRESS_SLIPPED = "In progress – completion slipped"
IN_PROGRESS = "In progress"
COMPLETE = "Complete"
NO_PROGRESS = "No progress reported"
LEGEND = (TBC, NOT_DUE, NOT_STARTED_SLIPPED, IN_PROGRESS_SLIPPED, IN_PROGRESS, COMPLETE,
          NO_PROGRESS)


def baseline_due(state: ItemState) -> str:
    """The month the item was first due: the latest baseline of its open, dated outcomes."""
    return max((o.baseline_due for o in state.outcomes.values()
                if o.baseline_due and not o.withdrawn), default="")


def current_due(state: ItemState) -> str:
    """The month the item is due now: the latest current target of its open outcomes."""
    return max((o.due for o in state.outcomes.values() if o.due and not o.withdrawn), default="")


def status_at(complete: bool, due: str, progress: bool, as_of: date) -> str:
    """The legend status from what it depends on: completion, progress reported (an update in
    force), baseline due. Without progress data the honest status is "No progress reported";
    the legend's "not started" statuses would need evidence of not starting, which no
    document gives, so they are never derived."""
    if complete:
        return COMPLETE
    if not progress:
        return NO_PROGRESS
    if not due:
        return TBC
    return IN_PROGRESS_SLIPPED if as_of > month_end(due) else IN_PROGRESS


def derived_status(state: ItemState, as_of: date) -> str:
    """The item's status in the legend as at `as_of` (its state is the state in force then)."""
    return status_at(state.complete, baseline_due(state), bool(state.updates), as_of)


@dataclass(frozen=True)
class Summary:
    """Counts per legend status and per RAG, and the baseline execution index."""

    as_of: date
    statuses: dict[str, int]
    rags: dict[str, int]
    completed: int
    due_by_baseline: int
    without_timescale: int = 0
    without_progress: int = 0

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
                   statuses.get(COMPLETE, 0), due,
                   without_timescale=sum(1 for s in live if not baseline_due(s)),
                   without_progress=sum(1 for s in live if not s.updates))
