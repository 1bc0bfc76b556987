"""Bring the read models up to date from the event store: only new events, in batches.

Each batch writes its rows and the tracking positions in one transaction, so a
crash or a second runner never leaves a half-applied batch; a batch another
runner already applied fails on its primary keys and is simply skipped.
`rebuild` empties the read models (never the events) and catches up from zero,
decoding each event once: the change log batch by batch, then each item's derived rows
from its events kept in memory. A runner keeps each item's trail (its events and its
folded state) between batches, so that a batch whose events only add to the end of an
item's effective history is folded onto that state instead of the item's whole history;
a new item (its stream's first version in the batch) is folded from the batch's events,
never read back from the events table.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from ledger.domain.chain import EventRecord, Witness
from ledger.domain.errors import TamperedError
from ledger.domain.events import EditionImported, ItemAdded, PlanEvent, PlanRegistered, ThemeAdded
from ledger.store.app import LedgerApp
from ledger.store.engine import EVENTS_TABLE, head
from ledger.store.replica import Standing, standing
from ledger.store.sealed import chain as sealed_chain
from ledger.store.sealed import events as stored_events
from ledger.store.sealed import stored_record
from projections import schema, tracking
from projections.change_log import change_row
from projections.derived import DERIVED_TABLES, DerivedRows, ItemTrail, dumps, insert_rows

BATCH = 2000
KEPT_EVENTS = 500_000  # decoded events a runner keeps between batches, at most
REBUILD_KEPT = 1_000_000  # decoded events a rebuild keeps (about 1 GB); past it, read again
FOLLOW_BATCH = 20_000  # a runner behind takes the backlog in few transactions: items derived once
Progress = Callable[[int, int], None]
Woken = Callable[[str, int, int], None]


@dataclass
class _Batch:
    """What one batch changes: change rows, and which items and plans to recompute."""

    change_rows: list[dict[str, Any]] = field(default_factory=list)
    new_streams: dict[str, tuple[str, str]] = field(default_factory=dict)
    items: set[tuple[str, str]] = field(default_factory=set)
    plans: set[str] = field(default_factory=set)
    edition_rows: list[dict[str, Any]] = field(default_factory=list)
    news: dict[tuple[str, str], list[PlanEvent]] = field(default_factory=dict)
    trails: dict[tuple[str, str], ItemTrail] = field(default_factory=dict)
    last: int = 0  # the batch's last position
    plan_rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    themes: dict[str, dict[str, str]] = field(default_factory=lambda: defaultdict(dict))


class Projector:
    """The read models of one ledger database, and the catching up that writes them."""

    def __init__(self, app: LedgerApp, target: Engine | None = None) -> None:
        self.app = app
        # The read models' database: the ledger's own (its tables are made with the ledger),
        # or a scratch one where `ledger verify` derives them afresh to compare.
        self.engine = target if target is not None else app.engine
        self._streams: dict[str, tuple[str, str]] = {}
        # Each item's trail (its decoded events and folded state), kept by a runner between
        # its own batches; trusted only while the log position is the one this runner left.
        self._trails: dict[tuple[str, str], ItemTrail] = {}
        self._events_at = -1

    def positions(self) -> dict[str, int]:
        """Each read model's tracking position (the last event it has applied)."""
        return tracking.positions(self.engine)

    def can_write(self) -> bool:
        """Whether this connection's role may write the read models."""
        return tracking.can_write(self.engine)

    def standing(self) -> Standing:
        """Whether the read models' database is a standby, and how far behind it replays."""
        return standing(self.engine)

    def lag(self) -> int:
        """How many stored events the read models have yet to apply."""
        return self.head() - min(self.positions().values())

    def head(self) -> int:
        """The position of the newest stored event."""
        return head(self.app.engine)

    # --- catching up --------------------------------------------------------

    def catch_up(self, batch: int = BATCH, progress: Progress | None = None,
                 until: int | None = None) -> int:
        """Apply every event after the tracked positions; returns how many were applied.

        Incremental: each batch writes its change-log rows and recomputes the items it
        touched. If the derived models lag (a rebuild was interrupted), they are derived
        again from the change log in one transaction.
        """
        stopped: TamperedError | None = None
        try:
            applied = self._follow(batch, progress, derive=True, until=until)
        except TamperedError as exc:  # stopped before a tampered row: what came before it
            stopped, applied = exc, 0  # is derived (and answered) all the same
        if tracking.derived_lag(self.positions()):
            self.derive_all()
        if stopped is not None:
            raise stopped
        return applied

    def rebuild(self, batch: int = FOLLOW_BATCH, progress: Progress | None = None) -> int:
        """Empty the read models and apply every event from the first.

        The change log is filled batch by batch, keeping each item's decoded events; the
        derived models are then computed once per item (not once per batch that touched it)
        from those events, in a single transaction.
        """
        with self.engine.begin() as conn:
            for table in (*schema.ALL_READ_TABLES, schema.tracking):
                conn.execute(delete(table))
        self._streams.clear()
        self._forget_events()
        collected: dict[tuple[str, str], list[PlanEvent]] = {}
        try:
            applied = self._follow(batch, progress, derive=False, collect=collected)
        except TamperedError:  # stopped before a tampered row: derive what came before it
            self.derive_all()
            raise
        if applied > REBUILD_KEPT:  # too many to keep: derived from the events table instead
            collected.clear()
        self.derive_all(collected if applied <= REBUILD_KEPT else None)
        return applied

    def _follow(self, batch: int, progress: Progress | None, *, derive: bool,
                until: int | None = None,
                collect: dict[tuple[str, str], list[PlanEvent]] | None = None) -> int:
        applied = 0
        head = self.head() if until is None else until
        while True:
            at = self.positions()
            position = tracking.log_position(at)
            if position >= head:
                return applied
            records = self._read(position, head, batch)
            stray = next((i for i, (_r, seen) in enumerate(records) if seen is None), None)
            if stray == 0:
                raise _outside_chain(records[0][0])
            records = records[:stray]
            if not records:
                return applied
            derive_now = derive and not tracking.derived_lag(at)
            models = tracking.MODELS if derive_now else tracking.LOG_MODELS
            if position != self._events_at:  # another runner (or a rebuild) moved it
                self._forget_events()
            try:
                with self.engine.begin() as conn:
                    work = self._apply(conn, records, derive=derive_now)
                    tracking.track(conn, models, records[-1][0].position, at)
            except IntegrityError:
                self._forget_events()
                if self.positions() == at:  # nobody moved them: not a race but a bad row
                    raise
                time.sleep(0.05)  # another runner applied this batch first
                continue
            except BaseException:
                self._forget_events()
                raise
            self._keep_events(work, records[-1][0].position)
            if collect is not None and applied + len(records) <= REBUILD_KEPT:
                for key, news in work.news.items():
                    collect.setdefault(key, []).extend(news)
            applied += len(records)
            if progress is not None:
                progress(records[-1][0].position, head)

    def _read(self, after: int, head: int, batch: int,
              ) -> list[tuple[EventRecord, Witness | None]]:
        """The next `batch` stored rows with their witnesses; a malformed seal ends the
        batch before its row (the next read, which begins at it, raises), as a row outside
        the chain does."""
        records: list[tuple[EventRecord, Witness | None]] = []
        try:
            for pair in islice(self.app.iter_witnessed(after, head, batch), batch):
                records.append(pair)  # those read before a refusal are kept
        except TamperedError:
            if not records:
                raise
        return records

    def _forget_events(self) -> None:
        self._trails.clear()
        self._events_at = -1

    def _keep_events(self, work: _Batch, position: int) -> None:
        """After a batch committed: its items' trails, for the next batch."""
        if sum(len(trail.events) for trail in self._trails.values()) > KEPT_EVENTS:
            self._trails.clear()
        for key in work.news.keys() - work.trails.keys():  # new events, not derived: stale
            self._trails.pop(key, None)
        self._trails.update(work.trails)
        self._events_at = position

    def derive_all(self, collected: dict[tuple[str, str], list[PlanEvent]] | None = None,
                   ) -> None:
        """Recompute every item's derived rows, in one transaction: from `collected` (every
        item's events, decoded by a rebuild), else from the events table, stream by stream,
        up to the change log's position."""
        with self.engine.begin() as conn:
            position = tracking.log_position(self.positions())
            for table in DERIVED_TABLES:
                conn.execute(delete(table))
            writer = DerivedRows(conn)
            if collected is not None:
                for (plan, item), events in sorted(collected.items()):
                    if item:
                        writer.add(plan, item, events)
            else:
                for (plan, item), events in self._stored_items(conn, position):
                    writer.add(plan, item, events)
            writer.flush()
            tracking.reset(conn, tracking.DERIVED_MODELS, position)

    def _stored_items(self, conn: Connection, position: int,
                      ) -> Iterator[tuple[tuple[str, str], list[PlanEvent]]]:
        """Each item's events up to `position`, read from the events table stream by stream;
        a row outside the hash chain (no seal at its position) stops it, as it stops a
        batch: an insider's row in a gap of the ids is never folded."""
        items = {stream: (plan, item) for stream, plan, item in conn.execute(
            select(schema.streams).where(schema.streams.c.item != "")).all()}
        e = stored_events.c
        query = (select(e.id, e.originator_id, e.originator_version, e.topic, e.state,
                        sealed_chain.c.position)
                 .outerjoin(sealed_chain, sealed_chain.c.position == e.id)
                 .where(e.id <= position).order_by(e.originator_id, e.originator_version))
        with self.app.engine.connect() as read:
            result = read.execution_options(yield_per=5000).execute(query)
            current: str | None = None
            records: list[EventRecord] = []
            for row in result:
                record = stored_record(row)
                if row[5] is None:
                    raise _outside_chain(record)
                stream = record.originator_id.hex
                if stream != current:
                    if current in items and records:
                        yield items[current], self.app.decode_all(records)
                    current, records = stream, []
                records.append(record)
            if current in items and records:
                yield items[current], self.app.decode_all(records)

    def run(self, poll_seconds: float = 1.0, stop: Callable[[], bool] = lambda: False,
            woken: Woken | None = None, batch: int = FOLLOW_BATCH) -> None:
        """Follow new events until `stop()` says so (a long-lived projection process).

        On PostgreSQL the runner LISTENs on the events' channel, which every writer NOTIFYs in
        the transaction that stores its events (delivered when it commits), and wakes at once;
        `poll_seconds` is then only a fallback (a lost connection, a notification missed).
        On SQLite it looks every `poll_seconds`. Each catch-up takes everything recorded
        since the last one, up to `batch` events a transaction, and derives each item it
        touched once. `woken(reason, applied, position)` hears of every catch-up that applied
        something: reason "start", "notify" or "poll".
        """
        with _wakeups(self.app, poll_seconds) as wait:
            reason = "start"
            while not stop():
                applied = self.catch_up(batch)
                if applied and woken is not None:
                    woken(reason, applied, tracking.log_position(self.positions()))
                if stop():
                    return
                reason = wait()

    # --- one batch ----------------------------------------------------------

    def _stream(self, conn: Connection, stream: str, work: _Batch) -> tuple[str, str]:
        if stream in work.new_streams:
            return work.new_streams[stream]
        if stream not in self._streams:
            row = conn.execute(select(schema.streams.c.plan, schema.streams.c.item)
                               .where(schema.streams.c.stream == stream)).first()
            self._streams[stream] = (row[0], row[1]) if row else ("", "")
        return self._streams[stream]

    def _apply(self, conn: Connection, records: Sequence[tuple[EventRecord, Witness | None]],
               *, derive: bool) -> _Batch:
        work = _Batch(last=records[-1][0].position)
        for record, witness in records:
            assert witness is not None  # rows outside the chain never reach a batch
            try:
                event = self.app.decode(record)
                stream = record.originator_id.hex
                if isinstance(event, PlanRegistered):
                    work.new_streams[stream] = (event.slug, "")
                    work.plan_rows[event.slug] = {"plan": event.slug, "title": event.title}
                elif isinstance(event, ItemAdded):
                    work.new_streams[stream] = (event.plan, event.number)
            except Exception as exc:
                raise _unreadable(record, exc) from None
            plan, item = self._stream(conn, stream, work)
            try:  # a state that decodes but lacks an event's fields (`{}`) fails here
                row = change_row(record.position, plan, item, event, witness)
                if isinstance(event, ThemeAdded):
                    work.themes[plan][event.number] = event.title
                if isinstance(event, EditionImported):
                    work.edition_rows.append({"seq": record.position, "plan": plan,
                                              "row": dumps({
                        "plan": plan, "edition": event.month, "file": event.file,
                        "sha256": event.sha256, "format": event.format,
                        "imported_at": row["recorded_at"], "by": event.recorded_by,
                        "events": event.events, "seq": record.position})})
            except (AttributeError, TypeError, ValueError) as exc:
                raise _unreadable(record, exc) from None
            work.change_rows.append(row)
            if item:
                work.items.add((plan, item))
                work.news.setdefault((plan, item), []).append(event)
            if plan:
                work.plans.add(plan)
        self._write(conn, work, derive=derive)
        return work

    def _write(self, conn: Connection, work: _Batch, *, derive: bool) -> None:
        if work.new_streams:
            conn.execute(insert(schema.streams), [
                {"stream": s, "plan": p, "item": i} for s, (p, i) in work.new_streams.items()])
            self._streams.update(work.new_streams)
        insert_rows(conn, schema.changes, work.change_rows)
        insert_rows(conn, schema.editions, work.edition_rows)
        _plans(conn, work)
        if not derive:
            return
        writer = DerivedRows(conn)
        for key in sorted(work.items):
            new = work.news.get(key, [])
            trail = self._trails.get(key)
            if trail is not None and trail.extends(new):
                work.trails[key] = writer.extend(trail, new)
                continue
            writer.forget(*key)
            work.trails[key] = writer.add(*key, self._batch_item_events(key, work))
        writer.flush()

    def _batch_item_events(self, key: tuple[str, str], work: _Batch) -> list[PlanEvent]:
        """An item's events in stream order up to this batch's last: those kept from earlier
        batches and this batch's, else read back from the events table."""
        trail = self._trails.get(key)
        new = work.news.get(key, [])
        if trail is not None and (not trail.events or not new or new[0].originator_version
                                  == trail.events[-1].originator_version + 1):
            return [*trail.events, *new]
        if new and new[0].originator_version == Aggregate.INITIAL_VERSION:
            return list(new)  # the item's stream begins in this batch: nothing to read back
        stream = new[0].originator_id if new else UUID(hex=self._stream_of(key))
        return self.item_events(stream, work.last)

    def _stream_of(self, key: tuple[str, str]) -> str:
        return next(s for s, found in self._streams.items() if found == key)

    def item_events(self, stream: UUID, upto: int) -> list[PlanEvent]:
        """A stream's events in version order up to position `upto`, from the events table."""
        return self.app.decode_all(
            [record for record, _seal in self.app.stream_sealed(stream, upto)])


@contextmanager
def _wakeups(app: LedgerApp, poll_seconds: float) -> Iterator[Callable[[], str]]:
    """A wait for new events: "notify" when a writer's NOTIFY arrives (PostgreSQL), else
    "poll" after `poll_seconds`. Notifications that arrive together wake the runner once."""
    if app.engine.dialect.name != "postgresql":
        def sleep() -> str:
            time.sleep(poll_seconds)
            return "poll"

        yield sleep
        return
    pooled = app.engine.raw_connection()
    try:
        listener: Any = pooled.driver_connection  # psycopg 3, on its own connection
        listener.autocommit = True
        listener.execute(f"LISTEN {EVENTS_TABLE}")  # the channel writers notify

        def wait() -> str:
            if not any(True for _ in listener.notifies(timeout=poll_seconds, stop_after=1)):
                return "poll"
            for _ in listener.notifies(timeout=0):  # the rest, already here
                pass
            return "notify"

        yield wait
    finally:
        pooled.invalidate()  # closes it: a LISTENing connection never goes back to the pool


def _unreadable(record: EventRecord, exc: Exception) -> TamperedError:
    return TamperedError(
        f"the stored row at position {record.position} (stream {record.originator_id.hex}, "
        f"version {record.version}) cannot be read as an event ({type(exc).__name__}): the "
        f"read models stop before it; run `ledger verify`")


def _outside_chain(record: EventRecord) -> TamperedError:
    return TamperedError(
        f"the stored row at position {record.position} (stream {record.originator_id.hex}, "
        f"version {record.version}) is outside the hash chain: the read models stop before "
        f"it; run `ledger verify`")


def _plans(conn: Connection, work: _Batch) -> None:
    """Update each touched plan's title, themes and month range."""
    latest: dict[str, str] = {}  # each plan's latest effective month in the batch, in one pass
    for row in work.change_rows:
        month = row["effective"][:7]
        if month > latest.get(row["plan"], ""):
            latest[row["plan"]] = month
    for plan in sorted(work.plans):
        months = [latest[plan]] if plan in latest else []
        stored = conn.execute(select(schema.plans).where(schema.plans.c.plan == plan)).first()
        if stored is None:
            title = work.plan_rows.get(plan, {}).get("title", plan)
            conn.execute(insert(schema.plans).values(
                plan=plan, title=title, last_month=max(months),
                themes=dumps(work.themes.get(plan, {}))))
            continue
        themes = {**json.loads(stored.themes), **work.themes.get(plan, {})}
        last = max([stored.last_month, *months])
        conn.execute(update(schema.plans).where(schema.plans.c.plan == plan)
                     .values(last_month=last, themes=dumps(themes)))


__all__ = ["Projector"]
