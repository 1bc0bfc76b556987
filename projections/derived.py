"""The derived read models of one item (plan row, slippage, history over effective time),
collected and written in bulk, and extended in place when new events only add to the end.

Each item's derived rows are a pure function of its events; this module turns them
into table rows and writes them in the caller's transaction. One history row per
effective date of the item (never per event, never per month), keeping only what changed
since the item's previous row: the top-level keys of its stored plan row whose values
differ (the whole row on its first date), the slippage rows of the outcomes that differ
(by outcome number), and the counts of updates per month its validity covers (from which
`ledger snapshots` answers every month-end). A reader folds an item's rows in date order.
An `ItemTrail` keeps the item's folded state after its last effective date, so that events
which take effect after everything already folded are applied to it (and only the item's
last history row is rewritten) instead of folding the whole history again.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import Connection, Table, bindparam, delete, insert

from ledger.domain.events import CorrectionRecorded, PlanEvent
from ledger.domain.state import ItemState, effective_order, states_at
from projections import schema
from projections.current_plan import item_record
from projections.slippage_history import outcome_rows

DERIVED_TABLES = (schema.items, schema.outcomes, schema.item_history)
FLUSH_ROWS = 20_000
_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=False, default=str,
                            separators=(",", ":"))
Record = dict[str, Any]
Slips = dict[str, Record]  # an item's slippage rows by outcome number (as text)


def dumps(value: Any) -> str:
    """JSON for a stored row, compact, its keys sorted (so rebuilds compare equal): orjson's,
    or, for what orjson refuses (a lone surrogate in a text, an integer past 64 bits), the
    standard `json` module's with the same options. Read models are read back as values
    (`json.loads`), so either writer's text gives the same answers."""
    try:
        return orjson.dumps(value, default=str, option=orjson.OPT_SORT_KEYS).decode()
    except (TypeError, orjson.JSONEncodeError):
        return _ENCODER.encode(value)


def update_months(state: ItemState) -> Counter[str]:
    """How many of the item's updates name each month (updates without a month left out)."""
    return Counter(u.month for u in state.updates if u.month)


def window(months: Counter[str], valid_from: str, valid_to: str | None) -> str:
    """The counts of the months whose month-end falls in [valid_from, valid_to), as JSON."""
    first, stop = valid_from[:7], (valid_to or "9999-99")[:7]
    inside = sorted((m, n) for m, n in months.items() if first <= m < stop)
    return "{" + ",".join(f"{dumps(m)}:{n}" for m, n in inside) + "}"  # as `dumps` writes it


def patch(now: Record, before: Record | None) -> Record:
    """The top-level keys of `now` whose values differ from `before`'s (all where none)."""
    if before is None:
        return now
    return {key: value for key, value in now.items() if before.get(key, _MISSING) != value}


def slips_patch(now: Slips, before: Slips) -> dict[str, Any] | None:
    """By outcome number, what changed in the item's slippage rows since `before`: a new
    row whole, a changed one's keys that changed (`patch`), None for a row `before` has and
    `now` has not; None where nothing changed."""
    if now is before:
        return None
    changed: dict[str, Any] = {}
    for number, row in now.items():
        previous = before.get(number)
        if previous != row:
            changed[number] = patch(row, previous)
    changed.update({number: None for number in before if number not in now})
    return changed or None


def slips_of(state: ItemState) -> Slips:
    """The item's slippage rows (`outcome_rows`) by outcome number."""
    return {str(row["outcome_no"]): row for row in outcome_rows(state)}


_MISSING = object()


_COMPILED: dict[tuple[str, str, str, tuple[str, ...]], tuple[str, list[int] | None]] = {}


def _statement(conn: Connection, how: str, table: Table, names: tuple[str, ...],
               ) -> tuple[str, list[int] | None]:
    """An INSERT of `names` (or a DELETE where `names` equal the given values) on `table`, as
    the driver's SQL, with the order its positional parameters take `names` in (None where
    they are named); compiled once per dialect, table and columns."""
    key = (conn.dialect.name, how, table.name, names)
    if key not in _COMPILED:
        statement = (insert(table) if how == "insert" else
                     delete(table).where(*(table.c[n] == bindparam(n) for n in names)))
        compiled = statement.compile(dialect=conn.dialect, column_keys=list(names))
        order = ([names.index(n) for n in compiled.positiontup or []] if compiled.positional
                 else None)
        _COMPILED[key] = (str(compiled), order)
    return _COMPILED[key]


def insert_rows(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows (all with the same keys) as one driver-level `executemany`: the statement
    compiled once, the values passed as they are (plain text and numbers need no processing),
    not each row through SQLAlchemy's parameter handling."""
    _execute_many(conn, "insert", table, rows)


def delete_rows(conn: Connection, table: Table, keys: list[dict[str, Any]]) -> None:
    """Delete the rows matching each of `keys` (all naming the same columns) as one
    driver-level `executemany`, the statement compiled once per table and columns (as
    `insert_rows`)."""
    _execute_many(conn, "delete", table, keys)


def _execute_many(conn: Connection, how: str, table: Table, rows: list[dict[str, Any]],
                  ) -> None:
    """`how` (insert, delete) for each of `rows` as one driver-level `executemany`."""
    if not rows:
        return
    names = tuple(rows[0])
    sql, order = _statement(conn, how, table, names)
    if order is None:
        conn.exec_driver_sql(sql, rows)
    elif len(order) == 1:
        conn.exec_driver_sql(sql, [(row[names[order[0]]],) for row in rows])
    else:
        values = itemgetter(*(names[i] for i in order))  # each row's values in order, in C
        conn.exec_driver_sql(sql, [values(row) for row in rows])


def outcomes_signature(state: ItemState) -> tuple[Any, ...]:
    """What the item's slippage rows are made of (`outcome_rows`), cheaply: equal signatures
    give equal rows (a target's moves are only ever appended, each one frozen)."""
    return (state.complete, tuple((o.number, o.text, o.baseline_due, o.baseline_edition,
                                   o.basis, o.due, len(o.moves))
                                  for o in state.outcomes.values()))


@dataclass
class _Row:
    """One history row as derived, before its end (the next date) is known."""

    valid_from: str
    record: Record
    slips: Slips
    months: Counter[str] | None  # None: the row ends within the month it begins (no month-end)
    signature: tuple[Any, ...] = ()


@dataclass
class ItemTrail:
    """What the last derivation of an item leaves for the next: its events in stream order,
    its state after its last effective date, its last history row and the row before it
    (what that row's patches are taken against)."""

    plan: str
    item: str
    events: list[PlanEvent]
    state: ItemState | None = None
    last: _Row | None = None
    prior: _Row | None = None  # the row before `last` (None: none)
    newest: tuple[date, str, int] | None = None  # effective order of the last event folded
    rows: list[_Row] = field(default_factory=list)  # derived, not yet queued
    base: _Row | None = None  # the row before rows[0] (None: none)

    def extends(self, new: list[PlanEvent]) -> bool:
        """Whether `new` only adds to the end: the stream's next versions, each taking effect
        after (in effective order) everything already folded, none a correction."""
        if self.state is None or self.last is None or self.newest is None or not new:
            return False
        if not self.events or new[0].originator_version != (
                self.events[-1].originator_version + 1):
            return False
        newest = self.newest
        return all(not isinstance(e, CorrectionRecorded) and effective_order(e) > newest
                   for e in new)


_NO_SLIPS: Slips = {}


def _step(trail: ItemTrail, day: date, state: ItemState, until: date | None) -> None:
    """The item's history row on `day`, until the next date folded (read now: the state
    advances after); its slippage rows made again only where what they are made of changed,
    its updates counted by month only where a month-end falls before `until`."""
    signature = outcomes_signature(state)
    previous = trail.rows[-1] if trail.rows else None
    slips = (previous.slips if previous is not None and previous.signature == signature
             else slips_of(state))
    within = until is not None and (until.year, until.month) == (day.year, day.month)
    trail.rows.append(_Row(day.isoformat(), item_record(state), slips,
                           None if within else update_months(state), signature))


def _counts(row: _Row, valid_to: str | None) -> str:
    """The row's `month_updates` (see `window`)."""
    if row.months is not None:
        return window(row.months, row.valid_from, valid_to)
    if valid_to is None or valid_to[:7] != row.valid_from[:7]:  # rows follow the dates folded
        msg = f"history row of {row.valid_from} ends on {valid_to}, past the next date folded"
        raise AssertionError(msg)
    return "{}"


class DerivedRows:
    """Collects the derived rows of items and writes them in bulk."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pending: dict[Any, list[dict[str, Any]]] = {t: [] for t in DERIVED_TABLES}
        # Rows to delete before the pending rows are written: by item, per table (an item
        # derived again), and the last history row of items extended.
        self.gone: dict[Any, list[dict[str, Any]]] = {t: [] for t in DERIVED_TABLES}
        self.gone_last: list[dict[str, Any]] = []

    def forget(self, plan: str, item: str) -> None:
        """Remove an item's old derived rows (incremental catch-up): deleted at the next
        flush, before what is derived again is written."""
        for table in DERIVED_TABLES:
            self.gone[table].append({"plan": plan, "item": item})

    def add(self, plan: str, item: str, events: list[PlanEvent]) -> ItemTrail:
        """The derived rows of one item, from its events in stream order; what the next
        derivation may extend."""
        trail = ItemTrail(plan, item, events)
        plain = [e for e in events if not isinstance(e, CorrectionRecorded)]
        days = sorted({e.effective for e in plain})
        state = None
        following: dict[date, date | None] = dict(zip(days, [*days[1:], None], strict=True))
        for day, state in states_at(events, days):
            _step(trail, day, state, following[day])
        if state is None or not trail.rows:
            return trail
        trail.state = state
        trail.newest = max(effective_order(e) for e in plain)
        self._close(trail)
        return trail

    def extend(self, trail: ItemTrail, new: list[PlanEvent]) -> ItemTrail:
        """Apply events that `trail.extends` accepts to the kept state: the last history row
        is rewritten (its end, or its state where the first new event shares its date), new
        dates added, and the item's current rows replaced."""
        assert trail.state is not None
        assert trail.last is not None
        plan, item, state, last = trail.plan, trail.item, trail.state, trail.last
        self.gone_last.append({"plan": plan, "item": item, "valid_from": last.valid_from})
        for table in (schema.items, schema.outcomes):
            self.gone[table].append({"plan": plan, "item": item})
        ordered = sorted(new, key=effective_order)
        same_day = ordered[0].effective.isoformat() == last.valid_from
        trail.rows, trail.base = ([] if same_day else [last]), trail.prior
        trail.events = [*trail.events, *new]
        for index, event in enumerate(ordered):
            state.apply(event)
            until = ordered[index + 1].effective if index + 1 < len(ordered) else None
            if until != event.effective:
                _step(trail, event.effective, state, until)
        trail.newest = effective_order(ordered[-1])
        self._close(trail)
        return trail

    def _close(self, trail: ItemTrail) -> None:
        """Queue the trail's derived history rows (each ending where the next begins, keeping
        what changed since the row before it) and the item's current rows."""
        key = {"plan": trail.plan, "item": trail.item}
        rows, before = trail.rows, trail.base
        for index, found in enumerate(rows):
            valid_to = rows[index + 1].valid_from if index + 1 < len(rows) else None
            slips = slips_patch(found.slips, _NO_SLIPS if before is None else before.slips)
            self.pending[schema.item_history].append(
                {**key, "valid_from": found.valid_from, "valid_to": valid_to,
                 "row_patch": dumps(patch(found.record, None if before is None
                                          else before.record)),
                 "slips": None if slips is None else dumps(slips),
                 "month_updates": _counts(found, valid_to)})
            before = found
        trail.prior = rows[-2] if len(rows) > 1 else trail.base
        trail.last, trail.rows, trail.base = rows[-1], [], None
        state = trail.state
        assert state is not None
        self.pending[schema.items].append(
            {**key, "theme": state.theme, "row": dumps(trail.last.record)})
        self.pending[schema.outcomes] += [
            {**key, "outcome": r["outcome_no"], "slip_count": r["slip_count"], "row": dumps(r)}
            for r in trail.last.slips.values()]
        if sum(len(rows) for rows in self.pending.values()) > FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        """Delete what was forgotten, then write what was collected."""
        for table, keys in self.gone.items():
            delete_rows(self.conn, table, keys)
            keys.clear()
        delete_rows(self.conn, schema.item_history, self.gone_last)
        self.gone_last.clear()
        for table, rows in self.pending.items():
            insert_rows(self.conn, table, rows)
            rows.clear()
