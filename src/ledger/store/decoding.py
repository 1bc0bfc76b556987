"""Stored events read back as domain events: the library's own mapper and transcoder, built
without its recorder (so a query that re-folds events needs no ORM and no write path).

`LedgerApp` registers the same transcodings, so both decode a stored row alike
(a test compares them on every event of the seed documents).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from uuid import UUID

from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    Transcoding,
    UUIDAsHex,
)

from ledger.domain.chain import EventRecord
from ledger.domain.events import PlanEvent


class DateAsISO(Transcoding):
    """Calendar dates (effective dates) as ISO strings in stored events."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


def ledger_transcodings() -> list[Transcoding]:
    """What the ledger adds to the library's own (UUID, Decimal, datetime): dates."""
    return [DateAsISO()]


def _transcoder() -> JSONTranscoder:
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), *ledger_transcodings()):
        transcoder.register(transcoding)
    return transcoder


_MAPPER: Mapper[UUID] = Mapper(transcoder=_transcoder())


def decode(record: EventRecord) -> PlanEvent:
    """The domain event a stored row holds."""
    event = _MAPPER.to_domain_event(StoredEvent(
        record.originator_id, record.version, record.topic, record.state))
    assert isinstance(event, PlanEvent)
    return event


def decode_all(records: Iterable[EventRecord]) -> list[PlanEvent]:
    """The domain events of several stored rows, in the order given."""
    return [decode(record) for record in records]
