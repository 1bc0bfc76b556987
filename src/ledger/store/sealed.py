"""Stored rows read with their seals, on SQLAlchemy Core alone: the chain table, and the events
table as plain columns (the library's recorder owns its definition; reading needs only names).

A row with no seal is outside the hash chain: put there around the ledger.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    Text,
    column,
    select,
    table,
)

from ledger.domain.chain import WITNESS_TIME, EventRecord, Seal, Witness
from ledger.domain.errors import TamperedError
from ledger.store.engine import EVENTS_TABLE

CHAIN_TABLE = "ledger_chain"
READ_BATCH = 5000

# On SQLite the position is declared INTEGER, so that it is the table's rowid rather than a
# key beside it with an index of its own: each seal is one B-tree write, not two, and a seal
# found by position (the join to its event, the triggers' look back) is one look-up. A ledger
# made before keeps its BIGINT key and works as before.
chain = Table(
    CHAIN_TABLE, MetaData(),
    Column("position", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True,
           autoincrement=False),
    Column("content", String(64), nullable=False),
    Column("link", String(64), nullable=False),
    Column("previous", BigInteger, nullable=False),
    Column("witnessed_at", String(32), nullable=False),
    Column("witnessed_by", Text, nullable=False),
    Column("stream", String(32), nullable=False),
)
SEAL_COLUMNS = (chain.c.position, chain.c.content, chain.c.link, chain.c.previous,
                chain.c.witnessed_at, chain.c.witnessed_by, chain.c.stream)
events = table(EVENTS_TABLE, column("id"), column("originator_id"), column("originator_version"),
               column("topic"), column("state"))


def seal_of(row: Any) -> Seal:
    """A seal from a row of the chain table's columns, in their order; one whose positions are
    no integers or whose other columns are no text (SQLite keeps whatever an insider typed,
    and an owner can drop a NOT NULL) is refused, naming it. A text that is no time is left
    to `ledger verify`'s chain check, which names it."""
    position, content, link, previous, at, role, stream = row
    if not (type(position) is int and type(previous) is int and type(content) is str
            and type(link) is str and type(at) is str and type(role) is str
            and type(stream) is str):
        raise malformed_seal(position, f"previous {previous!r}, witnessed at {at!r} by "
                                       f"{role!r}")
    return Seal(position, content, link, previous, Witness(at, role), stream)


def checked_witness(position: Any, witness: Witness) -> Witness:
    """`witness` where its time is one the store writes; else the seal is refused, naming it
    (for what shows or compares the time: the change log, an item's history, the clock)."""
    if not WITNESS_TIME.match(witness.at):
        raise malformed_seal(position, f"witnessed at {witness.at[:40]!r}, no time the "
                                       f"store writes")
    return witness


def malformed_seal(position: Any, what: str) -> TamperedError:
    """A seal row the ledger never writes: the position it claims, and what is wrong."""
    return TamperedError(f"the seal at position {position} is malformed ({what}): the ledger "
                         f"never writes a seal so; run `ledger verify`")


def iter_sealed(engine: Engine, after: int | None = None, stop: int | None = None,
                batch: int = READ_BATCH) -> Iterator[tuple[EventRecord, Seal | None]]:
    """Every stored row in id order, each with its seal (None for a row outside the chain),
    streamed in batches: from the first row (or after position `after`) up to `stop`."""
    base = _sealed_rows().order_by(events.c.id).limit(batch)
    if stop is not None:
        base = base.where(events.c.id <= stop)
    while True:
        query = base if after is None else base.where(events.c.id > after)
        with engine.connect() as conn:
            rows = conn.execute(query).all()
        yield from (_sealed(row) for row in rows)
        if len(rows) < batch:
            return
        after = int(rows[-1][0])


def iter_witnessed(engine: Engine, after: int, stop: int, batch: int = READ_BATCH,
                   ) -> Iterator[tuple[EventRecord, Witness | None]]:
    """As `iter_sealed` from position `after` up to `stop`, each row with only what the read
    models take from its seal, its witness (None for a row outside the chain): the columns
    through the driver, one `Witness` for each run of rows sealed together. A seal the ledger
    never writes (a previous position that is no integer, no time or role) is refused, as
    `seal_of` refuses it."""
    query = _witnessed_sql(engine.dialect.name)
    while True:
        with engine.connect() as conn:
            cursor = conn.connection.cursor()  # the driver's plain tuples, not Rows
            try:
                cursor.execute(query, (after, stop, batch))
                rows = cursor.fetchall()
            finally:
                cursor.close()
        witness: Witness | None = None
        for row in rows:
            record = stored_record(row)
            sealed, previous, at, role = row[5:]
            if sealed is None:
                yield record, None
                continue
            if type(previous) is not int or type(at) is not str or type(role) is not str:
                raise malformed_seal(row[0], f"previous {previous!r}, witnessed at {at!r} "
                                             f"by {role!r}")
            if witness is None or witness.at != at or witness.role != role:
                witness = checked_witness(row[0], Witness(at, role))
            yield record, witness
        if len(rows) < batch:
            return
        after = int(rows[-1][0])


def _witnessed_sql(dialect: str) -> str:
    mark = "?" if dialect == "sqlite" else "%s"
    return (f"SELECT e.id, e.originator_id, e.originator_version, e.topic, e.state, "
            f"c.position, c.previous, c.witnessed_at, c.witnessed_by "
            f"FROM {EVENTS_TABLE} AS e LEFT OUTER JOIN {CHAIN_TABLE} AS c ON c.position = e.id "
            f"WHERE e.id > {mark} AND e.id <= {mark} ORDER BY e.id LIMIT {mark}")


def stream_sealed(engine: Engine, stream: UUID, upto: int | None = None,
                  ) -> list[tuple[EventRecord, Seal | None]]:
    """One stream's stored rows in version order (up to position `upto`), each with its seal
    (None: outside)."""
    key: UUID | bytes = stream.bytes if engine.dialect.name == "sqlite" else stream
    query = _sealed_rows().where(events.c.originator_id == key)
    if upto is not None:  # a seal past it (malformed, say) is not read at all
        query = query.where(events.c.id <= upto)
    query = query.order_by(events.c.originator_version, events.c.id)
    with engine.connect() as conn:
        return [_sealed(row) for row in conn.execute(query).all()]


def _sealed_rows() -> Select[Any]:
    """Stored rows with their seal's columns (NULL for a row outside the chain)."""
    return (select(events.c.id, events.c.originator_id, events.c.originator_version,
                   events.c.topic, events.c.state, *SEAL_COLUMNS)
            .outerjoin(chain, chain.c.position == events.c.id))


def stored_record(row: Any) -> EventRecord:
    """A stored row (id, stream, version, topic, state, ...) as the store holds it."""
    position, stream, version, topic, state = row[:5]
    return EventRecord(int(position), _uuid(stream), int(version), str(topic),
                       state_bytes(position, state))


def state_bytes(position: Any, state: Any) -> bytes:
    """A stored state as the bytes the ledger wrote; a text (SQLite keeps what an insider
    typed) or anything else is refused, naming its position."""
    if type(state) is bytes:
        return state
    if isinstance(state, bytes | bytearray | memoryview):
        return bytes(state)
    msg = (f"the stored row at position {position} holds its state as "
           f"{type(state).__name__}, not the bytes the ledger writes: run `ledger verify`")
    raise TamperedError(msg)


def _sealed(row: Any) -> tuple[EventRecord, Seal | None]:
    return stored_record(row), (seal_of(row[5:]) if row[5] is not None else None)


_STREAMS: dict[bytes, UUID] = {}  # stream ids already made (a UUID is immutable)
_STREAMS_KEPT = 100_000


def _uuid(value: Any) -> UUID:
    """A stream id as the driver returns it: 16 bytes on SQLite, a UUID on PostgreSQL."""
    if type(value) is bytes:  # SQLite: the same few thousand streams, row after row
        found = _STREAMS.get(value)
        if found is None:
            if len(_STREAMS) >= _STREAMS_KEPT:
                _STREAMS.clear()
            found = _STREAMS[value] = UUID(bytes=value)
        return found
    if isinstance(value, UUID):
        return value
    if isinstance(value, bytes | memoryview):
        return UUID(bytes=bytes(value))
    return UUID(str(value))
