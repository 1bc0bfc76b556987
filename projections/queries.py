"""The auditors' questions, answered from the read models as of any date and recorded moment.

`as_of` is effective time (what was true in the world then); `known_at` is
recorded time (what the ledger knew then). Effective-time questions read the
item-history model (each item's state over effective time, each row keeping what changed
since the item's previous one: one indexed range of the plan's rows up to the date, folded
item by item; month-end snapshots are the rows valid on each month's last day);
recorded-time questions pick the plan's events from the time-indexed change log and
re-fold them, read from the events table by position.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import ColumnElement, Engine, and_, or_, select

from ledger.domain.errors import TamperedError
from ledger.domain.ids import event_ref
from ledger.domain.values import When, month_end
from ledger.store.sealed import events as stored_events
from projections import schema
from projections.current_plan import COLUMNS as PLAN_COLUMNS
from projections.current_plan import item_row, item_sort_key
from projections.slippage_history import COLUMNS as SLIPPAGE_COLUMNS
from projections.slippage_history import outcome_rows
from projections.status_summary import Summary, status_at, summarise

# The plan, its slippage and its month-ends as of a date are read from stored rows; only the
# questions that re-fold events (as known at a moment, blame, diff, restatements, the change
# log) load the domain's events, each in the method that asks it (start-up: issue 16).
if TYPE_CHECKING:
    from ledger.domain.chain import EventRecord
    from ledger.domain.events import PlanEvent
    from ledger.domain.state import ItemState

    Decoder = Callable[[Iterable[EventRecord]], list[PlanEvent]]
# What an item's first history row holds (`item_record`), and each outcome's slippage row.
RECORD_KEYS = frozenset(PLAN_COLUMNS) | {"baseline_due", "progress", "withdrawn"}
SLIPS_KEYS = frozenset(SLIPPAGE_COLUMNS)


def _patch(item: str, column: str, text: Any, first: frozenset[str] | None = None,
           ) -> dict[str, Any]:
    """One history row's patch (`row_patch`, or a slippage row in `slips`) as the fold takes
    it: an object, holding every key of `first` where it is the first of its kind (nothing
    before it to patch). Anything else no derivation writes: the read model was edited, and
    the query says so in one line (`ledger verify` names the row) rather than answering from
    half a row."""
    try:
        found = orjson.loads(text) if isinstance(text, str | bytes) else text
    except orjson.JSONDecodeError:
        found = None
    if type(found) is not dict or (first is not None and not first <= found.keys()):
        msg = (f"the read model {schema.item_history.name} holds, for item {item}, a {column} "
               f"no event gives: run `ledger verify`, which names the row, and `ledger "
               f"projections rebuild`, which derives it again")
        raise TamperedError(msg)
    return found


class Reader:
    """Queries on one ledger's read models. Reading never writes: bring the models up to
    date first (`Projector.catch_up`) where the connection may write."""

    def __init__(self, engine: Engine, decode_all: Decoder) -> None:
        self.engine = engine
        self.decode_all = decode_all

    # --- plans ---------------------------------------------------------------

    def plan_slugs(self) -> list[str]:
        """The projected plans' slugs, in order."""
        with self.engine.connect() as conn:
            return [slug for (slug,) in conn.execute(
                select(schema.plans.c.plan).order_by(schema.plans.c.plan)).all()]

    def plan_info(self, plan: str) -> dict[str, Any] | None:
        """One projected plan: title, themes and last month (None where not projected)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(schema.plans).where(schema.plans.c.plan == plan)).first()
        if row is None:
            return None
        return {"title": row.title, "themes": json.loads(row.themes), "last_month": row.last_month}

    def _fresh(self, plan: str, when: When) -> bool:
        """Whether the materialised models answer for this moment (nothing filtered out)."""
        last = (self.plan_info(plan) or {}).get("last_month", "")
        return when.known_at is None and bool(last) and when.as_of >= month_end(last)

    def item_events(self, plan: str, when: When, *, effective: bool = True,
                    item: str | None = None) -> list[list[PlanEvent]]:
        """Each item's events known at `when` (and, with `effective`, in force by its date),
        in stream order, read from the time-indexed change log."""
        c = schema.changes.c
        conditions: list[ColumnElement[bool]] = [c.plan == plan, c.item != ""]
        if effective:
            conditions.append(or_(c.effective <= when.as_of.isoformat(),
                                  c.kind == "correction"))
        if when.known_at is not None:
            conditions.append(c.recorded_at <= when.known_at)
        if item is not None:
            conditions.append(c.item == item)
        from projections.change_log import events_of

        return [events_of(self.decode_all, [row[:4] for row in stream_rows])
                for stream_rows in self._changed_streams(conditions)]

    def _changed_streams(self, conditions: list[ColumnElement[bool]],
                         *more: ColumnElement[Any]) -> list[list[Any]]:
        """The change log's rows meeting `conditions`, each with its stored event (stream,
        version, topic, state, then the columns `more`), grouped by stream in version order."""
        c, e = schema.changes.c, stored_events.c
        query = (select(c.stream, c.version, e.topic, e.state, *more)
                 .join_from(schema.changes, stored_events, e.id == c.seq)
                 .where(and_(*conditions)).order_by(c.stream, c.version))
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        by_stream: dict[str, list[Any]] = defaultdict(list)
        for row in rows:
            by_stream[row[0]].append(row)
        return list(by_stream.values())

    def states(self, plan: str, when: When, item: str | None = None) -> list[ItemState]:
        """Each item's state on `when.as_of`, folded from the events known at `when` (all of
        them: an item's structure before its first report is assumed from that report)."""
        from ledger.domain.state import fold

        states = [fold(events, when.as_of)
                  for events in self.item_events(plan, when, effective=False, item=item)]
        found = [s for s in states if s is not None]
        return sorted(found, key=lambda s: item_sort_key(s.number))

    def _history(self, plan: str, as_of: date) -> list[dict[str, Any]]:
        """Each item's stored row in force on `as_of`: its history rows from its first to
        the last one begun by then, folded (one indexed range of the plan's rows)."""
        h = schema.item_history.c
        query = (select(h.item, h.row_patch)
                 .where(h.plan == plan, h.valid_from <= as_of.isoformat())
                 .order_by(h.item, h.valid_from))
        rows: dict[str, dict[str, Any]] = {}
        with self.engine.connect() as conn:
            for item, changed in conn.execute(query).all():
                found = rows.get(item)
                if found is None:
                    rows[item] = _patch(item, "row_patch", changed, RECORD_KEYS)
                else:
                    found.update(_patch(item, "row_patch", changed))
        return list(rows.values())

    def _slips_history(self, plan: str, as_of: date) -> list[Any]:
        """Each item's slippage rows in force on `as_of`: what its history rows changed,
        outcome by outcome, from its first to the last one begun by then, folded (a row keeps
        a new outcome's row whole, a changed one's changed keys, null for one gone)."""
        h = schema.item_history.c
        query = (select(h.item, h.slips).where(
            h.plan == plan, h.valid_from <= as_of.isoformat(), h.slips.is_not(None))
            .order_by(h.item, h.valid_from))
        outcomes: dict[str, dict[str, Any]] = defaultdict(dict)
        with self.engine.connect() as conn:
            for item, changed in conn.execute(query).all():
                slips = outcomes[item]
                for number, row in _patch(item, "slips", changed).items():
                    if row is None:
                        slips.pop(number, None)
                    elif number in slips:
                        slips[number].update(_patch(item, "slips", row))
                    else:
                        slips[number] = _patch(item, "slips", row, SLIPS_KEYS)
        return [row for slips in outcomes.values() for row in slips.values()]

    # --- ledger plan ------------------------------------------------------------

    def plan(self, plan: str, when: When, theme: str | None = None,
             item: str | None = None) -> list[dict[str, Any]]:
        """The plan's items as of `when`."""
        if when.known_at is None:
            if self._fresh(plan, when):
                query = select(schema.items.c.row).where(schema.items.c.plan == plan)
                with self.engine.connect() as conn:
                    stored = [json.loads(r) for (r,) in conn.execute(query).all()]
            else:
                stored = self._history(plan, when.as_of)
            rows = []
            for row in stored:
                if row.pop("withdrawn"):
                    continue
                due, progress = row.pop("baseline_due"), row.pop("progress")
                row["status"] = status_at(row["complete"], due, progress, when.as_of)
                rows.append(row)
        else:
            rows = [item_row(s, when.as_of) for s in self.states(plan, when) if not s.withdrawn]
        rows = [{k: r[k] for k in PLAN_COLUMNS} for r in rows
                if (theme is None or r["theme"] == theme) and (item is None or r["item"] == item)]
        return sorted(rows, key=lambda r: item_sort_key(r["item"]))

    # --- ledger slippage --------------------------------------------------------

    def slippage(self, plan: str, when: When, item: str | None = None,
                 min_slips: int = 0) -> list[dict[str, Any]]:
        """Per outcome: baseline, current target, moves, slips (as of `when`)."""
        if self._fresh(plan, when):
            query = select(schema.outcomes.c.row).where(schema.outcomes.c.plan == plan)
            with self.engine.connect() as conn:
                rows = [json.loads(r) for (r,) in conn.execute(query).all()]
        elif when.known_at is None:
            rows = self._slips_history(plan, when.as_of)
        else:
            rows = [r for s in self.states(plan, when) for r in outcome_rows(s)]
        rows = [{k: r[k] for k in SLIPPAGE_COLUMNS} for r in rows
                if (item is None or r["item"] == item) and r["slip_count"] >= min_slips]
        return sorted(rows, key=lambda r: (item_sort_key(r["item"]), r["outcome_no"]))

    # --- ledger snapshots -------------------------------------------------------

    def snapshots(self, plan: str, when: When, first: str | None = None,
                  last: str | None = None) -> list[dict[str, Any]]:
        """Item × month rows of RAG, status, leads and updates in the month."""
        from projections.monthly_snapshots import COLUMNS, months_from, snapshot_rows

        info = self.plan_info(plan)
        if info is None:
            return []
        with self.engine.connect() as conn:
            start = conn.execute(select(schema.changes.c.effective)
                                 .where(schema.changes.c.plan == plan)
                                 .order_by(schema.changes.c.effective).limit(1)).scalar_one()
        stored_first, stored_last = start[:7], info["last_month"]
        first, last = first or stored_first, last or stored_last
        months = months_from(first, last)
        if (when.known_at is None and first >= stored_first and last <= stored_last
                and when.as_of >= month_end(last)):
            rows = self._month_ends(plan, first, last)
        else:
            months = [m for m in months if month_end(m) <= when.as_of] or months[:0]
            rows = []
            for events in self.item_events(plan, when, effective=False):
                rows.extend(snapshot_rows(events, months))
        rows = [{k: r[k] for k in COLUMNS} for r in rows]
        return sorted(rows, key=lambda r: (item_sort_key(r["item"]), r["month"]))

    def _month_ends(self, plan: str, first: str, last: str) -> list[dict[str, Any]]:
        """Each item's snapshot at each month-end from `first` to `last`: its history row
        valid on that day (the plan's rows begun by the last month-end, folded item by
        item in date order: one indexed range of the item-history model)."""
        from projections.monthly_snapshots import months_from
        from projections.monthly_snapshots import stored_row as snapshot_row

        h = schema.item_history.c
        query = (select(h.item, h.row_patch, h.valid_from, h.valid_to, h.month_updates)
                 .where(h.plan == plan, h.valid_from <= month_end(last).isoformat())
                 .order_by(h.item, h.valid_from))
        start = month_end(first).isoformat()
        rows = []
        records: dict[str, dict[str, Any]] = {}
        with self.engine.connect() as conn:
            for item, changed, valid_from, valid_to, counts in conn.execute(query).all():
                row = records.get(item)
                if row is None:
                    row = records[item] = _patch(item, "row_patch", changed, RECORD_KEYS)
                else:
                    row.update(_patch(item, "row_patch", changed))
                if (valid_to is not None and valid_to <= start) or row["withdrawn"]:
                    continue
                updates = orjson.loads(counts)
                for month in months_from(max(first, valid_from[:7]), last):
                    if valid_to is not None and month >= valid_to[:7]:
                        break
                    rows.append(snapshot_row(row, month, updates.get(month, 0)))
        return rows

    # --- ledger changes / diff ----------------------------------------------------

    def changes(self, plan: str | None, when: When, *, item: str | None = None,
                by: str | None = None, kind: str | None = None, since: date | None = None,
                until: date | None = None, late_days: int | None = None,
                source: str | None = None) -> list[dict[str, Any]]:
        """Who changed what: one row per change, filtered (`late_days`: only those first
        reported more than that many days after they took effect; `source`: only those an
        `import` or a hand entry, `cli`, reported)."""
        from projections.change_log import COLUMNS as CHANGE_COLUMNS
        from projections.change_log import HIDDEN_KINDS, lateness

        c = schema.changes.c
        conditions: list[ColumnElement[bool]] = [c.kind.not_in(HIDDEN_KINDS),
                                                 c.effective <= when.as_of.isoformat()]
        if plan is not None:
            conditions.append(c.plan == plan)
        if when.known_at is not None:
            conditions.append(c.recorded_at <= when.known_at)
        if item is not None:
            conditions.append(c.item == item)
        if by is not None:  # part of a name, in any case: "officer" finds "A Officer"
            conditions.append(or_(c.by.icontains(by, autoescape=True),
                                  c.attributed_to.icontains(by, autoescape=True)))
        if kind is not None:
            conditions.append(c.kind == kind)
        if since is not None:
            conditions.append(c.effective >= since.isoformat())
        if until is not None:
            conditions.append(c.effective <= until.isoformat())
        if source is not None:
            conditions.append(c.edition != "" if source == "import" else c.edition == "")
        columns = [getattr(c, name) for name in CHANGE_COLUMNS]
        query = select(*columns, c.version, c.corrects).where(and_(*conditions)).order_by(c.seq)
        with self.engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(query).all()]
        corrected = self.corrections()
        out = []
        for row in rows:
            version = row.pop("version")
            row.pop("corrects")
            row.update(lateness(row["recorded_at"], row["effective"], row["edition"]))
            row["corrected_by"] = corrected.get((row["plan"], row["item"], version), "")
            if late_days is not None and row["days_late"] <= late_days:
                continue
            # the reference `history` and `correct` use (none for the plan's own events)
            ref = event_ref(row["item"], version) if row["item"] else ""
            out.append({"seq": row.pop("seq"), "ref": ref, **row})
        return out

    def change_refs(self, plan: str) -> dict[int, str]:
        """How a user names each change of the plan: change-log seq -> `ITEM@N` (as `history`
        and `correct` do), or `plan@N` for the plan's own events (N: its stream's version)."""
        c = schema.changes.c
        query = select(c.seq, c.item, c.version).where(c.plan == plan)
        with self.engine.connect() as conn:
            found = conn.execute(query).all()
        return {seq: event_ref(item or "plan", version) for seq, item, version in found}

    def blame(self, plan: str, when: When, item: str) -> list[dict[str, Any]] | None:
        """Each current fact of the item as of `when` and the event that set it (None where
        the ledger knows no such item then, or it is not in the plan on that date)."""
        from ledger.domain.state import fold
        from projections.blame import blame_rows

        streams = self.item_events(plan, when, effective=False, item=item)
        if not streams:
            return None
        events = streams[0]
        state = fold(events, when.as_of)
        if state is None:
            return None
        c = schema.changes.c
        query = select(c.version, c.recorded_at, c.db_role).where(c.plan == plan, c.item == item)
        with self.engine.connect() as conn:
            witnessed = {v: (at, role) for v, at, role in conn.execute(query).all()}
        return blame_rows(state, events, when.as_of, witnessed)

    def streams(self, plan: str) -> dict[str, str]:
        """The plan's event streams: stream id (hex) -> item number ("" for the plan's own)."""
        query = select(schema.streams.c.stream, schema.streams.c.item).where(
            schema.streams.c.plan == plan)
        with self.engine.connect() as conn:
            return {stream: item for stream, item in conn.execute(query).all()}

    def corrections(self) -> dict[tuple[str, str, int], str]:
        """Which change corrected which: (plan, item, version corrected) -> `ITEM@N`."""
        c = schema.changes.c
        query = select(c.plan, c.item, c.version, c.corrects).where(c.kind == "correction")
        with self.engine.connect() as conn:
            found = conn.execute(query).all()
        return {(p, i, int(target)): event_ref(i, v) for p, i, v, target in found}

    def diff(self, plan: str, first: date, second: date, known_at: str | None = None,
             ) -> list[dict[str, Any]]:
        """What changed in the plan after `first` and by `second`: each item's state on the
        two dates compared (as known at `known_at`), one row per change."""
        from ledger.domain.state import fold
        from projections.plan_diff import item_changes

        when = When(second, known_at)
        rows = []
        for events in self.item_events(plan, when, effective=False):
            rows += item_changes(fold(events, first), fold(events, second))
        return sorted(rows, key=lambda r: (r["effective"], item_sort_key(r["item"]), r["kind"]))

    # --- ledger restatements -------------------------------------------------------

    def first_import(self, plan: str, month: str) -> str | None:
        """When the plan first imported an edition of `month` (its recorded time), if ever."""
        found = [row["imported_at"] for row in self.editions(plan) if row["edition"] == month]
        return min(found, default=None)

    def restatements(self, plan: str, as_of: date, reported_at: str,
                     known_at: str | None = None) -> tuple[int, list[dict[str, Any]]]:
        """The plan on `as_of` as known at `reported_at` beside the same date as known at
        `known_at` (default now): how many items the report had, and one row per fact that
        differs, with the events recorded since that restated it."""
        from ledger.domain.state import fold
        from projections.change_log import events_of
        from projections.restatements import restated_rows

        c = schema.changes.c
        conditions: list[ColumnElement[bool]] = [c.plan == plan, c.item != ""]
        if known_at is not None:
            conditions.append(c.recorded_at <= known_at)
        reported, rows = 0, []
        for stream_rows in self._changed_streams(conditions, c.item, c.recorded_at, c.db_role):
            events = events_of(self.decode_all, [r[:4] for r in stream_rows])
            # a stream's versions follow its recorded order: the report knew a prefix
            known = sum(1 for r in stream_rows if r.recorded_at <= reported_at)
            then = fold(events[:known], as_of) if known else None
            reported += then is not None and not then.withdrawn
            witnessed = {r.version: (r.recorded_at, r.db_role) for r in stream_rows}
            rows += restated_rows(stream_rows[0].item, events, known, as_of, witnessed)
        rows.sort(key=lambda r: item_sort_key(r["item"]))  # stable: facts keep their order
        return reported, rows

    # --- ledger summary / editions -------------------------------------------------

    def summary(self, plan: str, when: When, *, stated_only: bool = False) -> Summary:
        """2015-legend counts, RAG counts and BEI as of `when` (without assumed items)."""
        states = [s for s in self.states(plan, when) if not (stated_only and s.assumed)]
        return summarise(states, when.as_of)

    def editions(self, plan: str | None = None) -> list[dict[str, Any]]:
        """Each imported document: month, file, SHA-256, when and by whom, events produced."""
        query = select(schema.editions.c.row).order_by(schema.editions.c.seq)
        if plan is not None:
            query = query.where(schema.editions.c.plan == plan)
        with self.engine.connect() as conn:
            return [json.loads(r) for (r,) in conn.execute(query).all()]

