"""The chain table, and the recorder that seals each event in the transaction that stores it.

Because the seal is written with the event, an event without a seal can only
have been put there around the ledger, never by it. The chain table refuses
UPDATE and DELETE like the events table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing_sqlalchemy.factory import SQLAlchemyFactory
from eventsourcing_sqlalchemy.recorders import SQLAlchemyApplicationRecorder
from sqlalchemy import insert, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from ledger.domain.chain import GENESIS, EventRecord, Seal, seal

CHAIN_TABLE = "ledger_chain"
WRITE_LOCK = 0x1ED6E5  # the advisory lock every writer of this ledger takes

CREATE_CHAIN = f"""CREATE TABLE IF NOT EXISTS {CHAIN_TABLE} (
    position BIGINT PRIMARY KEY,
    content CHAR(64) NOT NULL,
    link CHAR(64) NOT NULL
)"""


def last_seal(conn: Connection | Session) -> tuple[int, str]:
    """The position and link of the newest seal (0 and the genesis link when none)."""
    row = conn.execute(text(f"SELECT position, link FROM {CHAIN_TABLE} "
                            "ORDER BY position DESC LIMIT 1")).first()
    return (int(row[0]), str(row[1])) if row else (0, GENESIS)


def write_seals(conn: Connection | Session, seals: Sequence[Seal]) -> None:
    """Insert seals (in the caller's transaction)."""
    if seals:
        conn.execute(text(f"INSERT INTO {CHAIN_TABLE} (position, content, link) "
                          "VALUES (:position, :content, :link)"),
                     [{"position": s.position, "content": s.content, "link": s.link}
                      for s in seals])


def read_seals(engine: Engine) -> list[Seal]:
    """Every seal, in order."""
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT position, content, link FROM {CHAIN_TABLE} "
                                 "ORDER BY position")).all()
    return [Seal(int(p), str(c), str(h)) for p, c, h in rows]


class ChainedRecorder(SQLAlchemyApplicationRecorder):
    """Stores events and their seals in one transaction."""

    def _lock_table(self, session: Session) -> None:
        # Writers must commit in the order of their ids. On PostgreSQL the library takes an
        # EXCLUSIVE table lock, which needs UPDATE, DELETE or TRUNCATE privileges; a
        # transaction-scoped advisory lock serialises writers just as well and lets the
        # application's role hold only SELECT and INSERT on the events.
        assert self.datastore.engine is not None
        if self.datastore.engine.dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK})
        else:
            super()._lock_table(session)

    def _insert_stored_events(
        self, session: Session, stored_events: Sequence[StoredEvent], **kwargs: Any,
    ) -> Sequence[int]:
        del kwargs
        if not stored_events:
            return []
        # One multi-row INSERT ... RETURNING id (SQLAlchemy's insertmanyvalues), not one ORM
        # object per event: the same rows and ids, several times faster.
        self._lock_table(session)
        table = self.events_record_cls.__table__
        result = session.execute(
            insert(table).returning(table.c.id, sort_by_parameter_order=True),
            [{"originator_id": e.originator_id, "originator_version": e.originator_version,
              "topic": e.topic, "state": e.state} for e in stored_events])
        ids = [int(row[0]) for row in result]
        self._notify_channel(session)
        _, previous = last_seal(session)
        rows = [EventRecord(position, UUID(str(e.originator_id)), e.originator_version, e.topic,
                          e.state) for position, e in zip(ids, stored_events, strict=True)]
        write_seals(session, seal(rows, previous))
        return ids


class ChainedFactory(SQLAlchemyFactory):
    """eventsourcing-sqlalchemy's factory, with the sealing recorder."""

    application_recorder_class = ChainedRecorder
