"""The read models checked against the events: derived afresh into a scratch database, then
compared with the live tables row by row in key order, streaming, naming the first difference.

A read model is derived data anyone with write access could edit; `ledger verify`
uses this so that no query, CSV or report can say what the events do not.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Engine, Table, create_engine, func, select

from ledger.domain.errors import LedgerError
from ledger.store.app import LedgerApp
from projections import schema, tracking
from projections.runner import Projector

COMPARED = (*schema.ALL_READ_TABLES, schema.tracking)
STREAM_ROWS = 2000
SHOWN = 60


def check_read_models(app: LedgerApp, live: Engine) -> str:
    """The first read-model row that the events do not give ("" when they all agree).
    Read models an older version made are refused (LedgerError): `ledger init` upgrades them."""
    stale = schema.out_of_date(live)
    if stale is not None:
        msg = (f"the read models were made by an older version of ledger ({stale}): run "
               f"`ledger init`, which brings them up to date (it touches no event), then "
               f"verify again; `ledger verify --events-only` checks the events alone")
        raise LedgerError(msg)
    at = tracking.positions(live)
    moved_back = _tracking_moved_back(live, at, int(app.recorder.max_notification_id() or 0))
    if moved_back:
        return moved_back
    position = tracking.log_position(at)
    with tempfile.TemporaryDirectory(prefix="ledger-verify-") as scratch_dir:
        scratch = create_engine(f"sqlite:///{Path(scratch_dir) / 'models.db'}")
        try:
            schema.create_tables(scratch)
            Projector(app, scratch).catch_up(until=position)
            return first_difference(live, scratch)
        finally:
            scratch.dispose()


def _tracking_moved_back(live: Engine, at: dict[str, int], head: int) -> str:
    """A log model whose tracking position is behind rows it already holds for real events
    was moved back (a true lag never holds rows past its position; a row past the ledger's
    head is not the position's fault, and the comparison names it)."""
    with live.connect() as conn:
        held = {"change_log": conn.execute(select(func.max(schema.changes.c.seq))).scalar(),
                "editions": conn.execute(select(func.max(schema.editions.c.seq))).scalar()}
    for model, highest in held.items():
        if type(highest) is int and at[model] < highest <= head:  # a text: compared below
            return (f"{schema.tracking.name} (model={model}): column position says {at[model]}, "
                    f"but the model holds rows up to position {highest}: the tracking position "
                    f"was moved back")
    return ""


def first_difference(live: Engine, fresh: Engine) -> str:
    """Compare every read-model table of two databases; the first difference, named."""
    for table in COMPARED:
        found = _table_difference(table, live, fresh)
        if found:
            return found
    return ""


def _table_difference(table: Table, live: Engine, fresh: Engine) -> str:
    """Merge the two tables' rows by key: the first row only one side has, or that differs."""
    key_names = [c.name for c in table.primary_key.columns]
    live_rows, fresh_rows = _rows(table, live), _rows(table, fresh)
    pending_live, pending_fresh = next(live_rows, None), next(fresh_rows, None)
    while pending_live is not None or pending_fresh is not None:
        live_key = _key(pending_live, key_names)
        fresh_key = _key(pending_fresh, key_names)
        if pending_fresh is None or (pending_live is not None and live_key < fresh_key):
            return (f"{table.name} {_show_key(pending_live, key_names)}: a row the events do "
                    f"not give")
        if pending_live is None or fresh_key < live_key:
            return (f"{table.name} {_show_key(pending_fresh, key_names)}: missing from the read "
                    f"model, though the events give it")
        for name, value in pending_live.items():
            if value != pending_fresh[name]:
                says, gives = _around_difference(value, pending_fresh[name])
                return (f"{table.name} {_show_key(pending_live, key_names)}: column {name} says "
                        f"{says}, the events give {gives}")
        pending_live, pending_fresh = next(live_rows, None), next(fresh_rows, None)
    return ""


def _rows(table: Table, engine: Engine) -> Iterator[dict[str, Any]]:
    """A table's rows in primary-key order (byte order of text on both backends), streamed."""
    order: list[ColumnElement[Any]] = []
    for column in table.primary_key.columns:
        text_like = column.type.python_type is str
        binary = "C" if engine.dialect.name == "postgresql" else "BINARY"
        order.append(column.collate(binary) if text_like else column)
    query = select(*table.c).order_by(*order)
    with engine.connect() as conn:
        result = conn.execution_options(yield_per=STREAM_ROWS).execute(query)
        for row in result:
            yield {name: bytes(v) if isinstance(v, memoryview) else v
                   for name, v in row._mapping.items()}


def _key(row: dict[str, Any] | None, names: list[str]) -> tuple[Any, ...]:
    """A row's key as SQL orders it: on SQLite a column holds any type (an owner may write a
    text into an integer key), ordered numbers, then texts (by their bytes), then blobs."""
    if row is None:
        return ()
    return tuple(_ranked(row[n]) for n in names)


def _ranked(value: Any) -> tuple[int, Any]:
    if isinstance(value, str):
        return 2, value.encode()
    if isinstance(value, bytes):
        return 3, value
    return (0, 0) if value is None else (1, value)


def _show_key(row: dict[str, Any] | None, names: list[str]) -> str:
    assert row is not None
    return "(" + ", ".join(f"{n}={row[n]}" for n in names) + ")"


def _around_difference(live: Any, fresh: Any) -> tuple[str, str]:
    """Both values, cut to a window around where they first differ."""
    first, second = repr(live), repr(fresh)
    at = next((i for i, (a, b) in enumerate(zip(first, second, strict=False)) if a != b),
              min(len(first), len(second)))
    start = max(0, at - SHOWN // 2)
    return _window(first, start), _window(second, start)


def _window(text: str, start: int) -> str:
    return (("…" if start else "") + text[start:start + SHOWN]
            + ("…" if len(text) > start + SHOWN else ""))
