"""Bring the read models up to date from the event store: only new events, in batches.

Each batch writes its rows and the tracking positions in one transaction, so a
crash or a second runner never leaves a half-applied batch; a batch another
runner already applied fails on its primary keys and is simply skipped.
`rebuild` empties the read models (never the events) and catches up from zero.
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

from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from ledger.domain.chain import EventRecord, Seal
from ledger.domain.errors import TamperedError
from ledger.domain.events import EditionImported, ItemAdded, PlanEvent, PlanRegistered, ThemeAdded
from ledger.store.app import LedgerApp
from ledger.store.engine import EVENTS_TABLE, head
from ledger.store.replica import Standing, standing
from projections import schema, tracking
from projections.change_log import change_row, events_of
from projections.derived import DERIVED_TABLES, DerivedRows, dumps
from projections.monthly_snapshots import months_from

BATCH = 2000
KEPT_EVENTS = 500_000  # decoded events a runner keeps between batches, at most
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
    events: dict[tuple[str, str], list[PlanEvent]] = field(default_factory=dict)
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
        # Each item's decoded events, kept by a runner between its own batches (an item's
        # derived rows are folded from all its events, and decoding them again was a quarter
        # of a catch-up); trusted only while the log position is the one this runner left.
        self._events: dict[tuple[str, str], list[PlanEvent]] = {}
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
        applied = self._follow(batch, progress, derive=True, until=until)
        if tracking.derived_lag(self.positions()):
            self.derive_all()
        return applied

    def rebuild(self, batch: int = BATCH, progress: Progress | None = None) -> int:
        """Empty the read models and apply every event from the first.

        The change log is filled batch by batch; the derived models are then computed
        once per item (not once per batch that touched it) in a single transaction.
        """
        with self.engine.begin() as conn:
            for table in (*schema.ALL_READ_TABLES, schema.tracking):
                conn.execute(delete(table))
        self._streams.clear()
        self._forget_events()
        applied = self._follow(batch, progress, derive=False)
        self.derive_all()
        return applied

    def _follow(self, batch: int, progress: Progress | None, *, derive: bool,
                until: int | None = None) -> int:
        applied = 0
        head = self.head() if until is None else until
        while True:
            at = self.positions()
            position = tracking.log_position(at)
            if position >= head:
                return applied
            records = list(islice(self.app.iter_sealed(after=position, stop=head, batch=batch),
                                  batch))
            stray = next((i for i, (_r, stamp) in enumerate(records) if stamp is None), None)
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
                time.sleep(0.05)  # another runner applied this batch first
                continue
            except BaseException:
                self._forget_events()
                raise
            self._keep_events(work, records[-1][0].position)
            applied += len(records)
            if progress is not None:
                progress(records[-1][0].position, head)

    def _forget_events(self) -> None:
        self._events.clear()
        self._events_at = -1

    def _keep_events(self, work: _Batch, position: int) -> None:
        """After a batch committed: its items' events, for the next batch."""
        if sum(len(events) for events in self._events.values()) > KEPT_EVENTS:
            self._events.clear()
        for key in work.news.keys() - work.events.keys():  # new events, not derived: stale
            self._events.pop(key, None)
        self._events.update(work.events)
        self._events_at = position

    def derive_all(self) -> None:
        """Recompute every item's derived rows from the change log, in one transaction."""
        c = schema.changes.c
        with self.engine.begin() as conn:
            position = tracking.log_position(self.positions())
            for table in DERIVED_TABLES:
                conn.execute(delete(table))
            months = {plan: _months(conn, plan) for (plan,) in
                      conn.execute(select(schema.plans.c.plan)).all()}
            query = (select(c.plan, c.item, c.stream, c.version, c.topic, c.state)
                     .where(c.item != "").order_by(c.plan, c.item, c.version))
            writer = DerivedRows(conn)
            current: tuple[str, str] | None = None
            rows: list[Any] = []
            for row in conn.execute(query):
                key = (row[0], row[1])
                if key != current and current is not None:
                    writer.add(*current, events_of(self.app.decode_all, rows), months[current[0]])
                    rows = []
                current = key
                rows.append(row[2:])
            if current is not None:
                writer.add(*current, events_of(self.app.decode_all, rows), months[current[0]])
            writer.flush()
            tracking.reset(conn, tracking.DERIVED_MODELS, position)

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

    def _apply(self, conn: Connection, records: Sequence[tuple[EventRecord, Seal | None]], *,
               derive: bool) -> _Batch:
        work = _Batch()
        for record, stamp in records:
            assert stamp is not None  # rows outside the chain never reach a batch
            try:
                event = self.app.decode(record)
            except Exception as exc:
                msg = (f"the stored row at position {record.position} (stream "
                       f"{record.originator_id.hex}, version {record.version}) cannot be "
                       f"read as an event ({type(exc).__name__}): the read models stop "
                       f"before it; run `ledger verify`")
                raise TamperedError(msg) from None
            stream = record.originator_id.hex
            if isinstance(event, PlanRegistered):
                work.new_streams[stream] = (event.slug, "")
                work.plan_rows[event.slug] = {"plan": event.slug, "title": event.title}
            elif isinstance(event, ItemAdded):
                work.new_streams[stream] = (event.plan, event.number)
            plan, item = self._stream(conn, stream, work)
            row = change_row(record.position, plan, item, event, stamp.witness)
            row["topic"], row["state"] = record.topic, record.state
            work.change_rows.append(row)
            if item:
                work.items.add((plan, item))
                work.news.setdefault((plan, item), []).append(event)
            if plan:
                work.plans.add(plan)
            if isinstance(event, ThemeAdded):
                work.themes[plan][event.number] = event.title
            if isinstance(event, EditionImported):
                work.edition_rows.append({"seq": record.position, "plan": plan, "row": dumps({
                    "plan": plan, "edition": event.month, "file": event.file,
                    "sha256": event.sha256, "format": event.format,
                    "imported_at": row["recorded_at"], "by": event.recorded_by,
                    "events": event.events, "seq": record.position})})
        self._write(conn, work, derive=derive)
        return work

    def _write(self, conn: Connection, work: _Batch, *, derive: bool) -> None:
        if work.new_streams:
            conn.execute(insert(schema.streams), [
                {"stream": s, "plan": p, "item": i} for s, (p, i) in work.new_streams.items()])
            self._streams.update(work.new_streams)
        conn.execute(insert(schema.changes), work.change_rows)
        if work.edition_rows:
            conn.execute(insert(schema.editions), work.edition_rows)
        extended = _plans(conn, work)
        if not derive:
            return
        touched = set(work.items)
        for plan in extended:
            touched |= {(plan, i) for (i,) in conn.execute(
                select(schema.items.c.item).where(schema.items.c.plan == plan)).all()}
        months = {plan: _months(conn, plan) for plan in {p for p, _ in touched}}
        writer = DerivedRows(conn)
        for plan, item in sorted(touched):
            writer.forget(plan, item)
            events = self._batch_item_events(conn, plan, item, work)
            writer.add(plan, item, events, months[plan])
        writer.flush()

    def _batch_item_events(self, conn: Connection, plan: str, item: str,
                           work: _Batch) -> list[PlanEvent]:
        """An item's events in stream order: those kept from earlier batches and this batch's
        (its change rows are in), else read back from the change log."""
        key = (plan, item)
        kept = self._events.get(key)
        new = work.news.get(key, [])
        if kept is not None and (not kept or not new
                                 or new[0].originator_version == kept[-1].originator_version + 1):
            events = [*kept, *new]
        else:
            events = self.item_events(conn, plan, item)
        work.events[key] = events
        return events

    def item_events(self, conn: Connection, plan: str, item: str) -> list[PlanEvent]:
        """An item's events in stream order, decoded from the change log."""
        c = schema.changes.c
        rows = conn.execute(select(c.stream, c.version, c.topic, c.state)
                            .where(c.plan == plan, c.item == item).order_by(c.version)).all()
        return events_of(self.app.decode_all, rows)


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


def _outside_chain(record: EventRecord) -> TamperedError:
    return TamperedError(
        f"the stored row at position {record.position} (stream {record.originator_id.hex}, "
        f"version {record.version}) is outside the hash chain: the read models stop before "
        f"it; run `ledger verify`")


def _plans(conn: Connection, work: _Batch) -> set[str]:
    """Update each touched plan's title, themes and month range; the plans whose range grew."""
    extended = set()
    for plan in sorted(work.plans):
        months = [r["effective"][:7] for r in work.change_rows if r["plan"] == plan]
        stored = conn.execute(select(schema.plans).where(schema.plans.c.plan == plan)).first()
        if stored is None:
            title = work.plan_rows.get(plan, {}).get("title", plan)
            conn.execute(insert(schema.plans).values(
                plan=plan, title=title, last_month=max(months),
                themes=dumps(work.themes.get(plan, {}))))
            extended.add(plan)
            continue
        themes = {**json.loads(stored.themes), **work.themes.get(plan, {})}
        last = max([stored.last_month, *months])
        if last != stored.last_month:
            extended.add(plan)
        conn.execute(update(schema.plans).where(schema.plans.c.plan == plan)
                     .values(last_month=last, themes=dumps(themes)))
    return extended


def _months(conn: Connection, plan: str) -> list[str]:
    """Every month from the plan's first effective date to its last month."""
    first = conn.execute(select(schema.changes.c.effective).where(schema.changes.c.plan == plan)
                         .order_by(schema.changes.c.effective).limit(1)).scalar_one()
    last = conn.execute(select(schema.plans.c.last_month)
                        .where(schema.plans.c.plan == plan)).scalar_one()
    return months_from(first[:7], last)


__all__ = ["Projector"]
