"""One item's history as plain rows: every event, who, when (both times), what, why, from where.

Pure: turns events into rows; reading them is the service's job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime

from ledger.application.times import utc_text
from ledger.domain.chain import EventRecord, Seal, Witness
from ledger.domain.events import CorrectionRecorded, PlanEvent, describe, kind_of
from ledger.domain.ids import event_ref
from ledger.store.sealed import checked_witness


@dataclass(frozen=True)
class HistoryRow:
    """One event of an item as an auditor reads it."""

    event: str
    recorded_at: str
    effective: str
    basis: str
    kind: str
    by: str
    db_role: str
    attributed_to: str
    before: str
    after: str
    source: str
    note: str
    corrected_by: str

    def as_dict(self) -> dict[str, str]:
        """The row as a plain mapping (for JSON and CSV)."""
        return asdict(self)


def _timestamp(witnessed: str) -> str:
    return utc_text(datetime.fromisoformat(witnessed))


def history_rows(number: str, sealed: list[tuple[PlanEvent, Witness]]) -> list[HistoryRow]:
    """The history of item `number` from its sealed events in stream order: recorded when
    and by which database role the store witnessed; `by` is who the command says it was."""
    events = [event for event, _witness in sealed]
    corrected_by: dict[int, list[str]] = {}
    for event in events:
        if isinstance(event, CorrectionRecorded):
            ref = event_ref(number, event.originator_version)
            corrected_by.setdefault(event.corrects, []).append(ref)
    rows = []
    for event, witness in sealed:
        before, after = describe(event)
        if isinstance(event, CorrectionRecorded):
            before = f"{event_ref(number, event.corrects)} {event.corrects_kind}"
        rows.append(HistoryRow(
            event=event_ref(number, event.originator_version),
            recorded_at=_timestamp(witness.at),
            effective=event.effective.isoformat(),
            basis=event.basis,
            kind=kind_of(event),
            by=event.recorded_by,
            db_role=witness.role,
            attributed_to=event.attributed_to,
            before=before,
            after=after,
            source=event.source,
            note=event.note,
            corrected_by=", ".join(corrected_by.get(event.originator_version, [])),
        ))
    return rows


def item_history(number: str, stored: list[tuple[EventRecord, Seal | None]],
                 decode: Callable[[EventRecord], PlanEvent]) -> tuple[list[HistoryRow], list[str]]:
    """An item's history from its stream's stored rows (each with its seal, in version order):
    the sealed events as rows, and where each row outside the hash chain is (never shown as
    history)."""
    sealed, outside = [], []
    for record, stamp in stored:
        if stamp is None:
            outside.append(f"position {record.position} (version {record.version})")
        else:
            sealed.append((decode(record), checked_witness(record.position, stamp.witness)))
    return history_rows(number, sealed), outside
