"""One row per recorded change, for who-changed-what queries and as the time index of events.

Each row keeps the stored event (topic and state) so that any effective date
and recorded moment can be re-folded from this table alone. Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from uuid import UUID

from ledger.domain.chain import EventRecord, Witness
from ledger.domain.events import CorrectionRecorded, PlanEvent, describe, kind_of

COLUMNS = ("seq", "recorded_at", "effective", "basis", "plan", "item", "kind", "by", "db_role",
           "attributed_to", "before", "after", "source", "note")
HIDDEN_KINDS = ("item_filed", "catalogue_opened", "plan_listed")


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
