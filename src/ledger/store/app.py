"""The eventsourcing application bound to a ledger database, and how to open one.

`open_ledger(url)` refuses a database that `ledger init` never prepared,
rather than creating an empty one by accident.
"""

from __future__ import annotations

import fcntl
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.application import Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    EventStore,
    JSONTranscoder,
    Mapper,
    Notification,
    Recording,
    StoredEvent,
    Transcoder,
)
from sqlalchemy import Table, create_engine, event, inspect, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import OperationalError

from ledger.domain.chain import EventRecord, Seal, Witness
from ledger.domain.errors import LedgerError
from ledger.domain.events import PlanEvent
from ledger.store.decoding import ledger_transcodings
from ledger.store.engine import (
    APP_NAME,
    EVENTS_TABLE,
    normalise_url,
    on_connect_sqlite,
    refuse_missing_file,
    sqlite_file,
)
from ledger.store.fastjson import OrjsonMapper, OrjsonTranscoder, made
from ledger.store.guards import LOCK_NOT_AVAILABLE, install_guards, sqlstate
from ledger.store.replica import make_read_only
from ledger.store.sealed import (
    CHAIN_TABLE,
    READ_BATCH,
    chain,
    iter_sealed,
    iter_witnessed,
    stream_sealed,
)

SCHEMA_LOCK = 0x1ED6E6  # advisory lock held while a PostgreSQL ledger's schema is made
# How long `ledger init` waits for it: any role can take an advisory lock (another init holds
# it for a second or two; a session that keeps it is named instead of waited for forever).
SCHEMA_LOCK_WAIT_S = 60


class AggregateEvents(ProcessingEvent[UUID]):
    """The library's processing event, which tells an aggregate from an event by a class
    check where it can: the library asks the runtime-checkable `DomainEventProtocol` and
    `CollectEventsProtocol` of every object saved, which on Python 3.11 walks the protocols'
    members each time (about 7 µs an event saved). A ledger aggregate is an `Aggregate`
    (a nominal check: what the protocol check concludes for it, at C speed); anything else
    goes to the library's own check."""

    def collect_events(self, *objs: Any, **kwargs: Any) -> None:
        for obj in objs:
            if isinstance(obj, Aggregate):
                self.events.extend(obj.collect_events())
                self.aggregates[obj.id] = obj
            else:
                super().collect_events(obj)
        super().collect_events(**kwargs)


class LedgerEventStore(EventStore[UUID]):
    """The library's event store, whose `put` makes each recording and its notification
    without the frozen dataclasses' `__init__` (which set each field with
    `object.__setattr__`: about 3 µs an event saved, for objects a save returns and the ledger
    never reads). The same recordings, equal field for field (a test holds `put` to the
    library's)."""

    def put(self, domain_events: Sequence[Any], **kwargs: Any) -> list[Recording[UUID]]:
        stored_events = list(map(self.mapper.to_stored_event, domain_events))
        recordings: list[Recording[UUID]] = []
        notification_ids = self.recorder.insert_events(stored_events, **kwargs)
        if notification_ids:
            assert len(notification_ids) == len(stored_events)
            for domain_event, stored, notification_id in zip(
                    domain_events, stored_events, notification_ids, strict=True):
                notification = made(Notification, {
                    "originator_id": stored.originator_id,
                    "originator_version": stored.originator_version,
                    "topic": stored.topic, "state": stored.state, "id": notification_id})
                recordings.append(made(Recording, {"domain_event": domain_event,
                                                   "notification": notification}))
        return recordings


class LedgerApp(Application):  # type: ignore[type-arg]
    """The ledger's event store: aggregates saved atomically, events never changed."""

    name = APP_NAME
    guards_added: tuple[str, ...] = ()  # by `ledger init` on a ledger that lacked them

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """The library's `Application.save`, step for step (a test holds the two together),
        but collecting with `AggregateEvents`."""
        processing_event = AggregateEvents()
        processing_event.collect_events(*objs, **kwargs)
        recordings: list[Recording[UUID]] = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        self.notify(processing_event.events)  # deprecated in the library, still called there
        return recordings

    def construct_event_store(self) -> EventStore[UUID]:
        """The library's event store (`LedgerEventStore`), on the application's mapper and
        recorder as the library's factory makes it."""
        return LedgerEventStore(mapper=self.mapper, recorder=self.recorder)

    def construct_mapper(self) -> Mapper[UUID]:
        """The library's mapper with its compressor and cipher (none configured), storing an
        event's usual state with orjson directly (`ledger.store.fastjson.OrjsonMapper`)."""
        return self.factory.mapper(transcoder=self.construct_transcoder(),
                                   mapper_class=OrjsonMapper)

    def construct_transcoder(self) -> Transcoder:
        """The library's JSON transcoder, encoding with orjson where the bytes are the same
        (`ledger.store.fastjson`); the transcodings are the library's and the ledger's."""
        transcoder = OrjsonTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        for transcoding in ledger_transcodings():
            transcoder.register(transcoding)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine behind the event store."""
        engine: Engine = self.factory.datastore.engine  # type: ignore[attr-defined]
        return engine

    @property
    def events_table(self) -> Table:
        """The library's events table, as SQLAlchemy Core sees it."""
        table: Table = self.recorder.events_record_cls.__table__  # type: ignore[attr-defined]
        return table

    def iter_stored(self, after: int | None = None, stop: int | None = None,
                    batch: int = READ_BATCH) -> Iterator[EventRecord]:
        """Every stored row of the events table in id order, streamed in batches: from the
        first row whatever its id (or after position `after`), up to `stop` inclusive."""
        for record, _seal in self.iter_sealed(after, stop, batch):
            yield record

    def iter_sealed(self, after: int | None = None, stop: int | None = None,
                    batch: int = READ_BATCH) -> Iterator[tuple[EventRecord, Seal | None]]:
        """As `iter_stored`, each row with its seal (None for a row outside the chain)."""
        return iter_sealed(self.engine, after, stop, batch)

    def iter_witnessed(self, after: int, stop: int, batch: int = READ_BATCH,
                       ) -> Iterator[tuple[EventRecord, Witness | None]]:
        """As `iter_sealed` from `after` up to `stop`, each row with its seal's witness only."""
        return iter_witnessed(self.engine, after, stop, batch)

    def stream_sealed(self, stream: UUID, upto: int | None = None,
                      ) -> list[tuple[EventRecord, Seal | None]]:
        """One stream's stored rows in version order (up to position `upto`), each with its
        seal (None: outside)."""
        return stream_sealed(self.engine, stream, upto)

    def decode(self, record: EventRecord) -> PlanEvent:
        """The domain event a stored row holds (the library's own mapper and transcoder)."""
        mapper = self.mapper
        event = (mapper.event_of(record.originator_id, record.version, record.topic,
                                 record.state) if isinstance(mapper, OrjsonMapper) else
                 mapper.to_domain_event(StoredEvent(record.originator_id, record.version,
                                                    record.topic, record.state)))
        assert isinstance(event, PlanEvent)
        return event

    def decode_all(self, records: Iterable[EventRecord]) -> list[PlanEvent]:
        """The domain events of several stored rows, in the order given."""
        return [self.decode(record) for record in records]


@contextmanager
def _schema_lock(url: str, path: Path | None, create: bool) -> Iterator[None]:
    """Serialise the making of a schema: on PostgreSQL concurrent CREATE OR REPLACE of one
    function fails ("tuple concurrently updated"); on SQLite a schema read that turns into a
    write fails at once when another process wrote meanwhile ("database is locked")."""
    if not create:
        yield
        return
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("ab") as handle:  # creates the file; SQLite takes an empty file as new
            fcntl.flock(handle, fcntl.LOCK_EX)  # independent of SQLite's own fcntl locks
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    if make_url(url).get_backend_name() != "postgresql":
        yield
        return
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            _take_schema_lock(conn)
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": SCHEMA_LOCK})
    finally:
        engine.dispose()


def _take_schema_lock(conn: Connection) -> None:
    """The schema lock, waited for `SCHEMA_LOCK_WAIT_S` at most; then one line naming the
    session that holds it (LedgerError), nothing made."""
    conn.execute(text(f"SET lock_timeout = '{SCHEMA_LOCK_WAIT_S}s'"))
    try:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": SCHEMA_LOCK})
    except OperationalError as exc:
        if sqlstate(exc) != LOCK_NOT_AVAILABLE:
            raise
        conn.rollback()
        holder = conn.execute(text(
            "SELECT a.pid, a.usename FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 "
            "AND l.objid = :key LIMIT 1"), {"key": SCHEMA_LOCK}).first()
        who = f"session {holder[0]} of role {holder[1]!r}" if holder else "another session"
        msg = (f"{who} has held the ledger's schema lock (advisory key {SCHEMA_LOCK}) for "
               f"{SCHEMA_LOCK_WAIT_S} s: nothing was made; end that session, then run "
               f"`ledger init` again")
        raise LedgerError(msg) from None
    conn.execute(text("RESET lock_timeout"))
    conn.commit()


def open_ledger(
    url: str, *, create: bool = False, schema: Callable[[Engine], object] | None = None,
    read_only: bool = False,
) -> LedgerApp:
    """The ledger at `url`; with `create`, make its tables and immutability guards first,
    and then whatever else `schema` makes (the read models' tables), under the same lock.
    With `read_only`, every connection is read-only (see `ledger.store.replica`): nothing is
    made, and a read that tried to write would fail rather than write."""
    if read_only and create:
        msg = "a ledger opened read-only cannot be initialised"
        raise LedgerError(msg)
    url = normalise_url(url)
    path = sqlite_file(url) if create else refuse_missing_file(url)
    with _schema_lock(url, path, create):
        app = _open(url, path, create, read_only)
        if create and schema is not None:
            schema(app.engine)
        return app


def _open(url: str, path: Path | None, create: bool, read_only: bool) -> LedgerApp:
    app = LedgerApp(env={
        # eventsourcing-sqlalchemy, with a recorder that seals each event as it is stored
        "PERSISTENCE_MODULE": "ledger.store.chain:ChainedFactory",
        "SQLALCHEMY_URL": url,
        "CREATE_TABLE": "y" if create else "n",
        # A writer that keeps the ledger open fast-forwards cached items by their new events
        # instead of re-reading whole streams.
        "AGGREGATE_CACHE_MAXSIZE": "4096",
    })
    if path is not None:
        event.listen(app.engine, "connect", on_connect_sqlite)
    if read_only:
        make_read_only(app.engine)
    # connections made while the app was built lack the busy timeout and read-only mode
    app.engine.dispose()
    if create:
        existed = inspect(app.engine).has_table(CHAIN_TABLE)
        if not existed:
            chain.create(app.engine)
        added = install_guards(app.engine, EVENTS_TABLE, CHAIN_TABLE)
        if existed:  # a ledger made before: the guards an older version did not install
            app.guards_added = tuple(added)
    elif not inspect(app.engine).has_table(EVENTS_TABLE):
        msg = f"the database at {url!r} holds no ledger: run `ledger init` first"
        raise LedgerError(msg)
    return app
