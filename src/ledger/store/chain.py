"""The chain table, and the recorder that seals each event in the transaction that stores it.

Because the seal is written with the event, an event without a seal can only
have been put there around the ledger, never by it. The recorder loads only
sealed events, chains after the last sealed event (never after a stray seal),
and takes its witness from the database: on PostgreSQL the server's clock and
the session's role (a trigger refuses any other), on SQLite this machine's
clock, refused when it is behind the ledger's head.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import PersistenceError, StoredEvent
from sqlalchemy import (
    Engine,
    insert,
    select,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ledger.domain.chain import Seal, Witness
from ledger.domain.errors import ClockBehindError
from ledger.store import deferred
from ledger.store.fastjson import seal_rows, stored_event
from ledger.store.guards import (
    INSUFFICIENT_PRIVILEGE,
    PG_CLOCK,
    WRITE_LOCK_TABLE,
    in_this_schema,
    sqlstate,
)
from ledger.store.sealed import (
    CHAIN_TABLE,
    READ_BATCH,
    SEAL_COLUMNS,
    chain,
    checked_witness,
    seal_of,
)

deferred.load_models()  # with one module of sqlalchemy_utils, not all of it (see there)

from eventsourcing_sqlalchemy.datastore import (  # noqa: E402 - after `load_models()`
    exception_classes,
    transactions,
)
from eventsourcing_sqlalchemy.factory import SQLAlchemyFactory  # noqa: E402
from eventsourcing_sqlalchemy.recorders import SQLAlchemyApplicationRecorder  # noqa: E402

WRITE_LOCK = 0x1ED6E5  # the advisory lock writers took before the lock table (below)


def _last_seal_sql(events_table: str) -> str:
    return (f"SELECT c.position, c.content, c.link, c.previous, c.witnessed_at, "
            f"c.witnessed_by, c.stream "
            f"FROM {CHAIN_TABLE} c JOIN {events_table} e ON e.id = c.position "
            f"ORDER BY c.position DESC LIMIT 1")


def last_seal(conn: Connection | Session, events_table: str) -> Seal | None:
    """The seal of the newest sealed event (a seal with no event behind it is never built on)."""
    row = conn.execute(text(_last_seal_sql(events_table))).first()
    return seal_of(row) if row else None


def stray_seal(engine: Engine, events_table: str) -> int | None:
    """The first position holding a seal with no event (one added around the ledger)."""
    with engine.connect() as conn:
        found = conn.execute(text(
            f"SELECT c.position FROM {CHAIN_TABLE} c LEFT JOIN {events_table} e "
            f"ON e.id = c.position WHERE e.id IS NULL ORDER BY c.position LIMIT 1")).first()
    return int(found[0]) if found else None


def iter_seals(engine: Engine, batch: int = READ_BATCH) -> Iterator[Seal]:
    """Every seal in position order, streamed in batches."""
    after = None
    while True:
        query = select(*SEAL_COLUMNS).order_by(chain.c.position).limit(batch)
        if after is not None:
            query = query.where(chain.c.position > after)
        with engine.connect() as conn:
            rows = conn.execute(query).all()
        for row in rows:
            yield seal_of(row)
        if len(rows) < batch:
            return
        after = int(rows[-1][0])


def iter_seal_lines(engine: Engine, start: int, stop: int, line: Callable[..., str],
                    batch: int = 10_000) -> Iterator[str]:
    """Every seal from `start` to `stop` as a line of an evidence pack's chain.jsonl, built by the
    database where the role is plain text (the usual case; `line` builds the rest from the
    row), streamed through the driver's own cursor (server-side on PostgreSQL). The seal list
    is the one part of a pack that grows with the ledger, so no Python object is made per
    seal. `line(*row)` must give what the SQL gives (a test holds them together)."""
    postgres = engine.dialect.name == "postgresql"
    text_of = "{}::text" if postgres else "{}"
    plain = ("witnessed_by !~ '[^A-Za-z0-9_.:+-]'" if postgres
             else "witnessed_by NOT GLOB '*[^A-Za-z0-9_.:+-]*'")
    built = " || ".join([
        "'['", text_of.format("position"), "', '", text_of.format("previous"), "', \"'",
        "stream", "'\", \"'", "content", "'\", \"'", "link", "'\", \"'", "witnessed_at",
        "'\", \"'", "witnessed_by", "'\"]'"])
    sql = (f"SELECT CASE WHEN {plain} THEN {built} END, position FROM {CHAIN_TABLE} "
           f"WHERE position BETWEEN {int(start)} AND {int(stop)} ORDER BY position")
    with engine.connect() as conn:
        raw: Any = conn.connection.driver_connection
        cursor = raw.cursor(name="ledger_seal_list") if postgres else raw.cursor()
        try:
            cursor.execute(sql)
            while rows := cursor.fetchmany(batch):
                for text_line, position in rows:
                    yield text_line + "\n" if text_line is not None else line(
                        *_seal_row(engine, int(position)))
        finally:
            cursor.close()


def _seal_row(engine: Engine, position: int) -> tuple[Any, ...]:
    with engine.connect() as conn:
        return tuple(conn.execute(
            select(chain.c.position, chain.c.previous, chain.c.stream, chain.c.content,
                   chain.c.link, chain.c.witnessed_at, chain.c.witnessed_by)
            .where(chain.c.position == position)).one())


def position_of_link(engine: Engine, link: str, stop: int) -> int:
    """The position whose seal holds this link, up to `stop` (0 where none does)."""
    with engine.connect() as conn:
        found = conn.execute(select(chain.c.position).where(
            chain.c.link == link, chain.c.position <= stop)).first()
    return int(found[0]) if found else 0


def sealed_at(engine: Engine, content: str) -> list[int]:
    """The positions whose seal holds this content hash (to tell a reordering)."""
    with engine.connect() as conn:
        return [int(p) for (p,) in conn.execute(
            select(chain.c.position).where(chain.c.content == content)).all()]


def witness(conn: Session) -> Witness:
    """The witness for a seal: the database's clock and session role on PostgreSQL (which a
    trigger checks), this machine's clock on SQLite (which must not run behind the head)."""
    if conn.get_bind().dialect.name == "postgresql":
        at, role = conn.execute(text(
            f"SELECT {PG_CLOCK.format(clock='clock_timestamp()')}, session_user::text")).one()
        return Witness(str(at), str(role))
    return Witness(datetime.now(UTC).isoformat(timespec="microseconds"))


class ChainedRecorder(SQLAlchemyApplicationRecorder):
    """Stores events and their seals in one transaction, and loads only sealed events."""

    def insert_events(
        self, stored_events: Sequence[StoredEvent], *, session: Session | None = None,
        **kwargs: Any,
    ) -> Sequence[int] | None:
        """The library's `insert_events`; on a SQLite file, outside any transaction the
        library opened, on the pool's driver connection rather than an ORM session (the
        session's begin, flush bookkeeping and close cost more than the save's 43 rows' own
        work)."""
        datastore = self.datastore
        if not self._on_sqlite_driver(session):
            return super().insert_events(stored_events, session=session, **kwargs)
        if not stored_events:
            return []
        if not datastore._tried_init_sqlite_wal_mode:
            datastore.init_sqlite_wal_mode()
        lock = datastore.write_lock  # the library serialises this process's writers so
        if lock is not None:
            lock.acquire()
        try:
            with self._driver() as driver:
                try:
                    ids = self._insert_sqlite(driver, stored_events)
                    driver.commit()
                except BaseException as exc:
                    if driver.in_transaction:
                        driver.rollback()
                    if isinstance(exc, (DBAPIError, sqlite3.Error)):
                        raise _translated(exc) from exc
                    raise
            return ids
        finally:
            if lock is not None:
                lock.release()

    def _insert_sqlite(self, driver: Any, stored_events: Sequence[StoredEvent]) -> list[int]:
        """The events and their seals, on SQLite, in one transaction of the driver's own
        connection: the file's write lock first, then the last seal and the clock, then the
        two batches, each one `executemany` (SQLAlchemy's statement bookkeeping cost more here
        than the batch itself; the caller commits, rolls back and translates errors)."""
        if not driver.in_transaction:  # BEGIN IMMEDIATE: see `_lock_table`
            driver.execute("BEGIN IMMEDIATE")
        row = driver.execute(_last_seal_sql(self.events_table_name)).fetchone()
        previous = seal_of(row) if row else None
        seen = Witness(datetime.now(UTC).isoformat(timespec="microseconds"))
        _check_clock(previous, seen)
        driver.executemany(self._insert_sql(), _event_rows(stored_events))
        ids = _ids_ending(driver, len(stored_events))
        driver.executemany(_insert_seals_sql("sqlite"),
                           seal_rows(ids, stored_events, previous, seen))
        return ids

    _lock_table_made = False  # seen once on PostgreSQL, it is there for good

    def _lock_table(self, session: Session) -> None:
        # Writers must commit in the order of their ids. On PostgreSQL the library takes an
        # EXCLUSIVE lock on the events table, which needs UPDATE, DELETE or TRUNCATE rights
        # on it; writers lock a table of their own instead (`WRITE_LOCK_TABLE`, on which
        # scripts/pg_roles.sql gives the writer UPDATE and nobody else anything but SELECT,
        # whose lock does not conflict): an advisory lock, which they took before, needs no
        # right at all, so a SELECT-only role could hold it and stall every writer (attack
        # round 9). A ledger an older version made has no lock table until `ledger init`
        # (which `ledger verify` asks for): its writers keep the advisory lock meanwhile.
        assert self.datastore.engine is not None
        if self.datastore.engine.dialect.name == "postgresql":
            if not self._lock_table_made:
                self._lock_table_made = bool(session.execute(text(
                    f"SELECT {in_this_schema('name')} IS NOT NULL"),
                    {"name": WRITE_LOCK_TABLE}).scalar_one())
            if self._lock_table_made:
                try:
                    session.execute(text(f"LOCK TABLE {WRITE_LOCK_TABLE} IN EXCLUSIVE MODE"))
                except DBAPIError as exc:
                    if sqlstate(exc) == INSUFFICIENT_PRIVILEGE:
                        msg = (f"this database role may not take the writers' lock (UPDATE on "
                               f"{WRITE_LOCK_TABLE}): nothing was written; as the owner, run "
                               f"scripts/pg_roles.sql again (it grants it to the writer)")
                        raise PersistenceError(msg) from None
                    raise
            else:
                session.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                {"key": WRITE_LOCK})
            return
        # SQLite: the driver begins a transaction only at the first INSERT, so the last seal
        # would be read outside it, and two processes could both chain after the same seal
        # (`ledger verify` then calls the second write a tampering). BEGIN IMMEDIATE takes the
        # file's write lock first (waiting for another writer up to the busy timeout); the
        # last seal is then read inside the transaction that writes after it.
        driver: Any = session.connection().connection.driver_connection
        if not driver.in_transaction:
            driver.execute("BEGIN IMMEDIATE")

    def _insert_stored_events(
        self, session: Session, stored_events: Sequence[StoredEvent], **kwargs: Any,
    ) -> Sequence[int]:
        del kwargs
        if not stored_events:
            return []
        self._lock_table(session)
        previous = last_seal(session, self.events_table_name)
        seen = witness(session)
        _check_clock(previous, seen)
        ids = self._insert_rows(session, stored_events)
        self._notify_channel(session)
        connection = session.connection()
        connection.exec_driver_sql(_insert_seals_sql(connection.dialect.name),
                                   seal_rows(ids, stored_events, previous, seen))
        return ids

    def _insert_rows(self, session: Session, stored_events: Sequence[StoredEvent]) -> list[int]:
        """Insert the events' rows in one driver-level batch; their ids, in order.

        The database assigns the ids, and they are consecutive: a trigger refuses any id but
        the next one (no gap, nothing after it) and this transaction holds the write lock.
        The rows go through `exec_driver_sql` with a list of tuples, which SQLAlchemy hands
        to the driver's `executemany` and whose errors it translates (a duplicate (stream,
        version) is SQLAlchemy's IntegrityError, which the library turns into its own).
        """
        table = self.events_record_cls.__table__
        connection = session.connection()
        if connection.dialect.name == "sqlite":
            return self._insert_rows_sqlite(connection, stored_events)
        # PostgreSQL (psycopg): SQLAlchemy's "insertmanyvalues" sends the rows as multi-row
        # INSERT ... VALUES (...), (...) ... RETURNING id statements of up to 1,000 rows each,
        # ordered by parameter (tests/integration/test_batch_insert.py watches what is sent).
        result = session.execute(
            insert(table).returning(table.c.id, sort_by_parameter_order=True),
            [{"originator_id": e.originator_id, "originator_version": e.originator_version,
              "topic": e.topic, "state": e.state} for e in stored_events])
        return [int(row[0]) for row in result]

    def _insert_rows_sqlite(self, connection: Connection,
                            stored_events: Sequence[StoredEvent]) -> list[int]:
        # SQLite: one prepared INSERT run for every row (sqlite3's executemany); the ids
        # end at last_insert_rowid(). SQLAlchemy's insert().returning(...,
        # sort_by_parameter_order=True) would send one INSERT ... RETURNING per row here.
        connection.exec_driver_sql(self._insert_sql(), _event_rows(stored_events))
        return _ids_ending(connection.connection.driver_connection, len(stored_events))

    def _insert_sql(self) -> str:
        """The events' INSERT on SQLite, in the driver's parameter style."""
        return (f"INSERT INTO {self.events_table_name} (originator_id, originator_version, "
                f"topic, state) VALUES (?, ?, ?, ?)")

    def select_events(
        self, originator_id: UUID | str, gt: int | None = None, lte: int | None = None,
        desc: bool = False, limit: int | None = None,
    ) -> list[StoredEvent]:
        """A stream's events, sealed ones only: a row added around the ledger is never the
        state a command builds on (`ledger verify` names it). On a SQLite file outside any
        transaction the library opened, a stream named by a UUID is read with one query on
        the pool's driver connection (an ORM session's making cost more than reading a short
        stream); anything else by the session (its conversions and errors for an id given as
        text, the library's)."""
        if type(originator_id) is UUID and self._on_sqlite_driver(None):
            return self._select_sqlite(originator_id, gt, lte, desc, limit)
        table = self.events_record_cls.__table__
        query = (select(table.c.originator_id, table.c.originator_version, table.c.topic,
                        table.c.state)
                 .join(chain, chain.c.position == table.c.id)
                 .where(table.c.originator_id == originator_id))
        if gt is not None:
            query = query.where(table.c.originator_version > gt)
        if lte is not None:
            query = query.where(table.c.originator_version <= lte)
        version = table.c.originator_version
        query = query.order_by(version.desc() if desc else version)
        if limit is not None:
            query = query.limit(limit)
        with self.transaction(commit=False) as session:
            rows = session.execute(query).all()
        return [StoredEvent(originator_id=r[0], originator_version=r[1], topic=r[2],
                            state=bytes(r[3])) for r in rows]

    def _select_sqlite(self, stream: UUID, gt: int | None, lte: int | None,
                       desc: bool, limit: int | None) -> list[StoredEvent]:
        """`select_events` as one statement to the driver (the same rows, the same order)."""
        sql = [f"SELECT e.originator_version, e.topic, e.state FROM {self.events_table_name} "
               f"e JOIN {CHAIN_TABLE} c ON c.position = e.id WHERE e.originator_id = ?"]
        parameters: list[Any] = [stream.bytes]
        if gt is not None:
            sql.append("AND e.originator_version > ?")
            parameters.append(gt)
        if lte is not None:
            sql.append("AND e.originator_version <= ?")
            parameters.append(lte)
        sql.append("ORDER BY e.originator_version" + (" DESC" if desc else ""))
        if limit is not None:
            sql.append("LIMIT ?")
            parameters.append(limit)
        with self._driver() as driver:
            try:
                rows = driver.execute(" ".join(sql), parameters).fetchall()
            except sqlite3.Error as exc:
                raise _translated(exc) from exc
        return [stored_event(stream, version, topic, bytes(state))
                for version, topic, state in rows]

    @contextmanager
    def _driver(self) -> Iterator[Any]:
        """The pool's SQLite connection itself, without a Core `Connection` around it (whose
        making and closing cost more than a save's rows); returned to the pool, reset."""
        assert isinstance(self.datastore.engine, Engine)
        pooled = self.datastore.engine.raw_connection()
        try:
            yield pooled.driver_connection
        finally:
            pooled.close()

    def _on_sqlite_driver(self, session: Session | None) -> bool:
        """Whether to talk to the SQLite driver directly: a SQLite file, no session given and
        no transaction the library opened (whose session must see the work)."""
        return (session is None and self.datastore.is_sqlite_filedb
                and transactions.get(None) is None)


def _check_clock(previous: Seal | None, seen: Witness) -> None:
    """Refuse to seal at a time before the ledger's last seal (SQLite: this machine's clock);
    a last seal whose time is no time the store writes is named, not blamed on the clock."""
    if previous is None:
        return
    checked_witness(previous.position, previous.witness)
    if seen.at < previous.witness.at:
        msg = (f"this machine's clock ({seen.at}) is behind the ledger's last recorded "
               f"time ({previous.witness.at}): nothing was written; correct the clock")
        raise ClockBehindError(msg)


def _translated(exc: DBAPIError | sqlite3.Error) -> PersistenceError:
    """The library's own error for a database error (as its transactions translate them)."""
    driver_error = exc.orig if isinstance(exc, DBAPIError) else exc
    kind = exception_classes.get(type(driver_error).__name__, PersistenceError)
    return kind(exc)


def _ids_ending(driver: Any, count: int) -> list[int]:
    """The ids of the `count` rows a SQLite connection just inserted (consecutive: a guard
    refuses any id but the next, and the transaction holds the write lock)."""
    last = int(driver.execute("SELECT last_insert_rowid()").fetchone()[0])
    return list(range(last - count + 1, last + 1))


def _event_rows(stored_events: Sequence[StoredEvent]) -> list[tuple[bytes, int, str, bytes]]:
    """The events' rows as SQLite's INSERT takes them (the stream as its 16 bytes)."""
    return [(_stream_bytes(e.originator_id), e.originator_version, e.topic, e.state)
            for e in stored_events]


def _insert_seals_sql(dialect: str) -> str:
    """The seals' INSERT in the driver's own parameter style (one executemany)."""
    mark = "?" if dialect == "sqlite" else "%s"
    return (f"INSERT INTO {CHAIN_TABLE} (position, content, link, previous, witnessed_at, "
            f"witnessed_by, stream) VALUES ({', '.join([mark] * 7)})")


def _uuid(stream: UUID | str) -> UUID:
    """A stream id as a UUID (the library's aggregates give one; its contract, text too)."""
    return stream if type(stream) is UUID else UUID(str(stream))


def _stream_bytes(stream: UUID | str) -> bytes:
    """A stream id as the library's SQLite column stores it (a binary UUID: 16 bytes)."""
    return _uuid(stream).bytes


class ChainedFactory(SQLAlchemyFactory):
    """eventsourcing-sqlalchemy's factory, with the sealing recorder."""

    application_recorder_class = ChainedRecorder
