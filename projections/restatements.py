"""What was reported for a month end beside what is known now for the same date: every fact of
an item that changed after the report, and the events that restated it (who, when, why).

Pure: an item's events in stream order (which is the order they were recorded), how many
of them the report knew, and the date in; one row per fact that differs out. A fact's
restating events are found by folding the item as known after each later event in turn:
an event restated a fact when the fact's value on the date changed with it.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from ledger.domain.events import PlanEvent, kind_of
from ledger.domain.ids import event_ref
from ledger.domain.state import ItemState, fold
from projections.status_summary import derived_status

COLUMNS = ("item", "fact", "as_reported", "as_now", "refs", "kind", "effective", "basis",
           "recorded_at", "by", "db_role", "attributed_to", "note", "source")
# The table leaves out the kind, effective date, basis, database role, whose it is and the
# source (JSON and CSV keep them).
TABLE_COLUMNS = ("item", "fact", "as_reported", "as_now", "refs", "recorded_at", "by", "note")
# key -> (name shown, value shown, value compared): an update is compared by its identity
# (its month and words), since editions word the same update's tags differently.
Facts = dict[str, tuple[str, str, str]]
NONE = ("", "", "")


def facts(state: ItemState | None, as_of: date) -> Facts:
    """The item's facts on `as_of` that a report states: key -> (name shown, value). An item
    not in the plan then has only its `item` fact (empty)."""
    if state is None:
        return {"item": ("item", "", "")}
    presence = "withdrawn" if state.withdrawn else "in the plan"
    if state.assumed:
        presence += f" (structure assumed from its report of {state.reported_from})"
    found: Facts = {"item": _plain("item", presence)}
    for name in ("theme", "aim", "actions"):
        found[name] = _plain(name, getattr(state, name))
    for outcome in state.outcomes.values():
        target = "withdrawn" if outcome.withdrawn else (outcome.due or "none")
        found[f"outcome:{outcome.id}:due"] = _plain(f"outcome {outcome.number} target", target)
        found[f"outcome:{outcome.id}:text"] = _plain(f"outcome {outcome.number} text",
                                                     outcome.text)
    found["leads"] = _plain("lead", "; ".join(state.leads))
    found["rag"] = _plain("RAG", state.rag)
    found["complete"] = _plain("completion", f"complete ({state.completed_month or 'no month'})"
                               if state.complete else "not complete")
    seen: Counter[str] = Counter()
    for update in state.updates:  # known by its words (and which of the updates of those
        # words it is), whichever event stated it: an older edition imported later states
        # again what a newer one had, and its tags may be worded otherwise. A correction's
        # text counts whole (one that only drops "COMPLETE" or adds a dated aside is a
        # restatement, though the words are the same)
        seen[update.words] += 1
        month = f"[{update.month or 'undated'}]"
        compared = f"{month} {update.words}"
        if update.version in state.corrected:
            compared += f"\n{update.text}"
        found[f"update:{seen[update.words]}:{update.words}"] = (
            "update", f"{month} {update.text}", compared)
    found["status"] = _plain("status (derived)", derived_status(state, as_of))
    return found


def _plain(name: str, value: str) -> tuple[str, str, str]:
    """A fact shown as it is compared."""
    return name, value, value


def _differing(then: Facts, now: Facts) -> list[str]:
    """The keys whose value differs, in the order the facts are listed (now's, then the
    ones only the report had); with the item absent on one side, only the item itself."""
    if then["item"][2] == "" or now["item"][2] == "":
        return ["item"] if then["item"] != now["item"] else []
    keys = [*now, *(k for k in then if k not in now)]
    return [k for k in keys if then.get(k, NONE)[2] != now.get(k, NONE)[2]]


def restated_rows(number: str, events: list[PlanEvent], known: int, as_of: date,
                  witnessed: dict[int, tuple[str, str]]) -> list[dict[str, Any]]:
    """One row per fact of the item on `as_of` that the first `known` events (the report)
    state otherwise than all of them (now): as reported, as now, and the later events that
    changed it (`refs`, in the order recorded; the other columns describe the last, which
    gave the value now). `witnessed`: event version -> (recorded_at, db_role)."""
    if known >= len(events):
        return []
    then = facts(fold(events[:known], as_of), as_of)
    now = facts(fold(events, as_of), as_of)
    keys = _differing(then, now)
    if not keys:
        return []
    by: dict[str, list[PlanEvent]] = {key: [] for key in keys}
    before = then
    for count in range(known + 1, len(events) + 1):
        after = facts(fold(events[:count], as_of), as_of) if count < len(events) else now
        for key in keys:
            if before.get(key, NONE)[2] != after.get(key, NONE)[2]:
                by[key].append(events[count - 1])
        before = after
    rows = []
    for key in keys:
        name = (now.get(key) or then[key])[0]
        last = by[key][-1]
        recorded_at, db_role = witnessed.get(last.originator_version, ("", ""))
        rows.append({
            "item": number, "fact": name,
            "as_reported": then.get(key, NONE)[1], "as_now": now.get(key, NONE)[1],
            "refs": " ".join(event_ref(number, e.originator_version) for e in by[key]),
            "kind": kind_of(last), "effective": last.effective.isoformat(),
            "basis": last.basis, "recorded_at": recorded_at, "by": last.recorded_by,
            "db_role": db_role, "attributed_to": last.attributed_to, "note": last.note,
            "source": last.source,
        })
    return rows
