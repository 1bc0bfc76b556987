"""One row per recorded change, for who-changed-what queries and as the time index of events.

Each row keeps the stored event (topic and state) so that any effective date
and recorded moment can be re-folded from this table alone. A change's lateness is
the time from when it took effect to when it was first reported: its edition's month
end for an import, its recorded day for a hand entry. Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any
from uuid import UUID

from ledger.domain.chain import EventRecord, Witness
from ledger.domain.events import CorrectionRecorded, PlanEvent, describe, kind_of
from ledger.domain.values import month_end

COLUMNS = ("seq", "recorded_at", "effective", "basis", "edition", "plan", "item", "kind", "by",
           "db_role", "attributed_to", "before", "after", "source", "note")
# Derived from a row's recorded time, effective date and edition (see `lateness`).
LATENESS = ("reported", "days_late", "source_kind")
SOURCE_KINDS = ("cli", "import")
HIDDEN_KINDS = ("item_filed", "catalogue_opened", "plan_listed")


def lateness(recorded_at: str, effective: str, edition: str) -> dict[str, Any]:
    """When a change was first reported, how many days after it took effect, and whether an
    import or a hand entry (`cli`) reported it. An import is reported at its edition's month
    end (or when it was recorded, if that was earlier), a hand entry on the day it was
    recorded (UTC). Never negative: a change reported before its effective date is 0 days
    late."""
    recorded = date.fromisoformat(recorded_at[:10])
    reported = min(month_end(edition), recorded) if edition else recorded
    late = max(0, (reported - date.fromisoformat(effective)).days)
    return {"reported": reported.isoformat(), "days_late": late,
            "source_kind": "import" if edition else "cli"}


def change_row(seq: int, plan: str, item: str, event: PlanEvent,
               witness: Witness) -> dict[str, Any]:
    """The change-log row of one stored event: recorded when and by which database role the
    store witnessed (the client's own clock and `--by` are claims)."""
    before, after = describe(event)
    return {
        "seq": seq,
        "stream": event.originator_id.hex,
        "version": event.originator_version,
        "recorded_at": witness.at,
        "effective": event.effective.isoformat(),
        "basis": event.basis,
        "edition": event.edition,
        "plan": plan,
        "item": item,
        "kind": kind_of(event),
        "by": event.recorded_by,
        "db_role": witness.role,
        "attributed_to": event.attributed_to,
        "before": before,
        "after": after,
        "source": event.source,
        "note": event.note,
        "corrects": event.corrects if isinstance(event, CorrectionRecorded) else None,
    }


def events_of(decode_all: Callable[[Iterable[EventRecord]], list[PlanEvent]],
              rows: Iterable[Any]) -> list[PlanEvent]:
    """The events that change-log rows (stream, version, topic, state) keep, decoded."""
    return decode_all(EventRecord(0, UUID(hex=stream), version, topic, bytes(state))
                      for stream, version, topic, state in rows)
