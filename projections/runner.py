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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent
from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from ledger.domain.events import (
    EditionImported,
    ItemAdded,
    PlanEvent,
    PlanRegistered,
    ThemeAdded,
)
from ledger.domain.state import fold
from ledger.store import LedgerApp
from projections import schema
from projections.change_log import change_row
from projections.current_plan import states_over_time, stored_row
from projections.monthly_snapshots import months_from, snapshot_rows
from projections.slippage_history import outcome_rows

BATCH = 2000
LOG_MODELS = ("change_log", "editions")
DERIVED_MODELS = ("current_plan", "slippage_history", "monthly_snapshots")
Progress = Callable[[int, int], None]


def dumps(value: Any) -> str:
    """JSON for a stored row (stable key order, so rebuilds compare equal)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


@dataclass
class _Batch:
    """What one batch changes: change rows, and which items and plans to recompute."""

    change_rows: list[dict[str, Any]] = field(default_factory=list)
    new_streams: dict[str, tuple[str, str]] = field(default_factory=dict)
    items: set[tuple[str, str]] = field(default_factory=set)
    plans: set[str] = field(default_factory=set)
    edition_rows: list[dict[str, Any]] = field(default_factory=list)
    plan_rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    themes: dict[str, dict[str, str]] = field(default_factory=lambda: defaultdict(dict))


class Projector:
    """The read models of one ledger database."""

    def __init__(self, app: LedgerApp) -> None:
        self.app = app
        self.engine = app.engine  # its tables are made with the ledger (Ledger.open create)
        self._streams: dict[str, tuple[str, str]] = {}

    # --- positions ----------------------------------------------------------

    def positions(self) -> dict[str, int]:
        """Each read model's tracking position (the last event it has applied)."""
        with self.engine.connect() as conn:
            rows: dict[str, int] = {model: position for model, position in conn.execute(
                select(schema.tracking.c.model, schema.tracking.c.position)).all()}
        return {model: int(rows.get(model, 0)) for model in schema.MODELS}

    def head(self) -> int:
        """The position of the newest stored event."""
        return int(self.app.recorder.max_notification_id() or 0)

    # --- catching up --------------------------------------------------------

    def catch_up(self, batch: int = BATCH, progress: Progress | None = None) -> int:
        """Apply every event after the tracked positions; returns how many were applied.

        Incremental: each batch writes its change-log rows and recomputes the items it
        touched. If the derived models lag (a rebuild was interrupted), they are derived
        again from the change log in one transaction.
        """
        applied = self._follow(batch, progress, derive=True)
        if self._derived_lag():
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
        applied = self._follow(batch, progress, derive=False)
        self.derive_all()
        return applied

    def _follow(self, batch: int, progress: Progress | None, *, derive: bool) -> int:
        applied = 0
        head = self.head()
        while True:
            positions = self.positions()
            position = min(positions[m] for m in LOG_MODELS)
            if position >= head:
                return applied
            notes = self.app.recorder.select_notifications(position + 1, batch, stop=head)
            if not notes:
                return applied
            derive_now = derive and not self._derived_lag(positions)
            try:
                with self.engine.begin() as conn:
                    self._apply(conn, notes, derive=derive_now)
                    models = (*LOG_MODELS, *DERIVED_MODELS) if derive_now else LOG_MODELS
                    self._track(conn, models, notes[-1].id, positions)
            except IntegrityError:
                time.sleep(0.05)  # another runner applied this batch first
                continue
            applied += len(notes)
            if progress is not None:
                progress(notes[-1].id, head)

    def _derived_lag(self, positions: dict[str, int] | None = None) -> bool:
        positions = positions or self.positions()
        log = min(positions[m] for m in LOG_MODELS)
        return any(positions[m] != log for m in DERIVED_MODELS)

    def derive_all(self) -> None:
        """Recompute every item's derived rows from the change log, in one transaction."""
        c = schema.changes.c
        with self.engine.begin() as conn:
            positions = self.positions()
            position = min(positions[m] for m in LOG_MODELS)
            for table in (schema.items, schema.outcomes, schema.snapshots, schema.item_history):
                conn.execute(delete(table))
            months = {plan: self._months(conn, plan) for (plan,) in
                      conn.execute(select(schema.plans.c.plan)).all()}
            query = (select(c.plan, c.item, c.stream, c.version, c.topic, c.state)
                     .where(c.item != "").order_by(c.plan, c.item, c.version))
            writer = _RowWriter(conn)
            current: tuple[str, str] | None = None
            rows: list[Any] = []
            for row in conn.execute(query):
                key = (row[0], row[1])
                if key != current and current is not None:
                    writer.item(*current, decode(self.app, rows), months[current[0]])
                    rows = []
                current = key
                rows.append(row[2:])
            if current is not None:
                writer.item(*current, decode(self.app, rows), months[current[0]])
            writer.flush()
            for model in DERIVED_MODELS:
                conn.execute(delete(schema.tracking).where(schema.tracking.c.model == model))
                conn.execute(insert(schema.tracking).values(model=model, position=position))

    def run(self, poll_seconds: float = 1.0, stop: Callable[[], bool] = lambda: False) -> None:
        """Follow new events until `stop()` says so (a long-lived projection process)."""
        while not stop():
            if not self.catch_up():
                time.sleep(poll_seconds)

    # --- one batch ----------------------------------------------------------

    def _event(self, note: Notification | StoredEvent) -> PlanEvent:
        event = self.app.mapper.to_domain_event(note)
        assert isinstance(event, PlanEvent)
        return event

    def _stream(self, conn: Connection, stream: str, work: _Batch) -> tuple[str, str]:
        if stream in work.new_streams:
            return work.new_streams[stream]
        if stream not in self._streams:
            row = conn.execute(select(schema.streams.c.plan, schema.streams.c.item)
                               .where(schema.streams.c.stream == stream)).first()
            self._streams[stream] = (row[0], row[1]) if row else ("", "")
        return self._streams[stream]

    def _apply(self, conn: Connection, notes: Sequence[Notification], *, derive: bool) -> None:
        work = _Batch()
        for note in notes:
            event = self._event(note)
            stream = UUID(str(note.originator_id)).hex
            if isinstance(event, PlanRegistered):
                work.new_streams[stream] = (event.slug, "")
                work.plan_rows[event.slug] = {"plan": event.slug, "title": event.title}
            elif isinstance(event, ItemAdded):
                work.new_streams[stream] = (event.plan, event.number)
            plan, item = self._stream(conn, stream, work)
            row = change_row(note.id, plan, item, event)
            row["topic"], row["state"] = note.topic, note.state
            work.change_rows.append(row)
            if item:
                work.items.add((plan, item))
            if plan:
                work.plans.add(plan)
            if isinstance(event, ThemeAdded):
                work.themes[plan][event.number] = event.title
            if isinstance(event, EditionImported):
                work.edition_rows.append({"seq": note.id, "plan": plan, "row": dumps({
                    "plan": plan, "edition": event.month, "file": event.file,
                    "sha256": event.sha256, "format": event.format,
                    "imported_at": row["recorded_at"], "by": event.recorded_by,
                    "events": event.events, "seq": note.id})})
        self._write(conn, work, derive=derive)

    def _write(self, conn: Connection, work: _Batch, *, derive: bool) -> None:
        if work.new_streams:
            conn.execute(insert(schema.streams), [
                {"stream": s, "plan": p, "item": i} for s, (p, i) in work.new_streams.items()])
            self._streams.update(work.new_streams)
        conn.execute(insert(schema.changes), work.change_rows)
        if work.edition_rows:
            conn.execute(insert(schema.editions), work.edition_rows)
        extended = self._plans(conn, work)
        if not derive:
            return
        touched = set(work.items)
        for plan in extended:
            touched |= {(plan, i) for (i,) in conn.execute(
                select(schema.items.c.item).where(schema.items.c.plan == plan)).all()}
        months = {plan: self._months(conn, plan) for plan in {p for p, _ in touched}}
        writer = _RowWriter(conn)
        for plan, item in sorted(touched):
            writer.replace(plan, item)
            writer.item(plan, item, self.item_events(conn, plan, item), months[plan])
        writer.flush()

    def _plans(self, conn: Connection, work: _Batch) -> set[str]:
        """Update each touched plan's title, themes and month range; the plans whose range grew."""
        extended = set()
        for plan in sorted(work.plans):
            months = [month_of_iso(r["effective"]) for r in work.change_rows if r["plan"] == plan]
            stored = conn.execute(select(schema.plans).where(schema.plans.c.plan == plan)).first()
            if stored is None:
                title = work.plan_rows.get(plan, {}).get("title", plan)
                conn.execute(insert(schema.plans).values(
                    plan=plan, title=title, last_month=max(months), complete=False,
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

    @staticmethod
    def _months(conn: Connection, plan: str) -> list[str]:
        first = conn.execute(select(schema.changes.c.effective).where(schema.changes.c.plan == plan)
                             .order_by(schema.changes.c.effective).limit(1)).scalar_one()
        last = conn.execute(select(schema.plans.c.last_month)
                            .where(schema.plans.c.plan == plan)).scalar_one()
        return months_from(month_of_iso(first), last)

    def item_events(self, conn: Connection, plan: str, item: str) -> list[PlanEvent]:
        """An item's events in stream order, decoded from the change log."""
        rows = conn.execute(
            select(schema.changes.c.stream, schema.changes.c.version, schema.changes.c.topic,
                   schema.changes.c.state)
            .where(schema.changes.c.plan == plan, schema.changes.c.item == item)
            .order_by(schema.changes.c.version)).all()
        return decode(self.app, rows)

    @staticmethod
    def _track(conn: Connection, models: Sequence[str], last: int,
               positions: dict[str, int]) -> None:
        """Move each model's position from what this batch read to `last`; a model another
        runner moved meanwhile makes the whole batch fail on its primary key."""
        for model in models:
            updated = conn.execute(update(schema.tracking)
                                   .where(schema.tracking.c.model == model,
                                          schema.tracking.c.position == positions[model])
                                   .values(position=last))
            if updated.rowcount == 0:
                conn.execute(insert(schema.tracking).values(model=model, position=last))


class _RowWriter:
    """Collects derived rows (items, outcomes, snapshots) and writes them in bulk."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.items: list[dict[str, Any]] = []
        self.outcomes: list[dict[str, Any]] = []
        self.snapshots: list[dict[str, Any]] = []
        self.history: list[dict[str, Any]] = []

    def replace(self, plan: str, item: str) -> None:
        """Remove an item's old derived rows first (incremental catch-up)."""
        for table in (schema.items, schema.outcomes, schema.snapshots, schema.item_history):
            self.conn.execute(delete(table).where(table.c.plan == plan, table.c.item == item))

    def item(self, plan: str, item: str, events: list[PlanEvent], months: list[str]) -> None:
        """The derived rows of one item."""
        state = fold(events)
        if state is None:
            return
        self.items.append({"plan": plan, "item": item, "theme": state.theme,
                           "row": dumps(stored_row(state))})
        self.outcomes += [{"plan": plan, "item": item, "outcome": r["outcome_no"],
                           "slip_count": r["slip_count"], "row": dumps(r)}
                          for r in outcome_rows(state)]
        self.snapshots += [{"plan": plan, "item": item, "month": r["month"], "row": dumps(r)}
                           for r in snapshot_rows(events, months)]
        history = [(day, dumps(stored_row(s)), dumps(outcome_rows(s)))
                   for day, s in states_over_time(events)]
        for index, (day, row, slips) in enumerate(history):
            valid_to = history[index + 1][0].isoformat() if index + 1 < len(history) else None
            self.history.append({"plan": plan, "item": item, "valid_from": day.isoformat(),
                                 "valid_to": valid_to, "row": row, "slippage": slips})
        if len(self.snapshots) + len(self.history) > 20_000:
            self.flush()

    def flush(self) -> None:
        """Write what was collected."""
        for table, rows in ((schema.items, self.items), (schema.outcomes, self.outcomes),
                            (schema.snapshots, self.snapshots),
                            (schema.item_history, self.history)):
            if rows:
                self.conn.execute(insert(table), rows)
            rows.clear()


def month_of_iso(day: str) -> str:
    """The `YYYY-MM` of an ISO date string."""
    return day[:7]


def decode(app: LedgerApp, rows: Iterable[Any]) -> list[PlanEvent]:
    """Events from change-log rows (stream, version, topic, state)."""
    events = []
    for stream, version, topic, state in rows:
        stored = StoredEvent(UUID(hex=stream), version, topic, bytes(state))
        event = app.mapper.to_domain_event(stored)
        assert isinstance(event, PlanEvent)
        events.append(event)
    return events


__all__ = ["Projector", "decode", "dumps"]
