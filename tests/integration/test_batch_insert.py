"""What the write path sends to the database: one driver-level batch per save, on each backend.

SQLAlchemy's `insert().returning(..., sort_by_parameter_order=True)` becomes one
`INSERT ... RETURNING` per row on SQLite; the recorder sends the rows through the driver's
`executemany` instead (on a SQLite file, on the driver's own connection), and on PostgreSQL
through SQLAlchemy's multi-row "insertmanyvalues" batches. Statements are watched with
SQLAlchemy's `before_cursor_execute` hook and at the driver's connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent
from sqlalchemy import event, text

from ledger.bootstrap import bootstrap
from ledger.domain.values import Provenance
from ledger.store.app import LedgerApp
from ledger.store.chain import ChainedRecorder, iter_seals
from ledger.store.engine import EVENTS_TABLE
from ledger.store.sealed import CHAIN_TABLE


def prov() -> Provenance:
    return Provenance("clerk", date(2018, 9, 30), "test")


class _Driver:
    """The driver's connection, every INSERT it is sent noted as `watched` notes them."""

    def __init__(self, driver: Any, sent: list[tuple[str, bool, int]]) -> None:
        self.driver, self.sent = driver, sent

    def executemany(self, statement: str, rows: Any) -> Any:
        rows = list(rows)
        if statement.lstrip().upper().startswith("INSERT"):
            self.sent.append((statement, True, len(rows)))
        return self.driver.executemany(statement, rows)

    def execute(self, statement: str, *args: Any) -> Any:
        if statement.lstrip().upper().startswith("INSERT"):
            self.sent.append((statement, False, 1))
        return self.driver.execute(statement, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.driver, name)


@contextmanager
def watched(app: LedgerApp, monkeypatch: pytest.MonkeyPatch,
            ) -> Iterator[list[tuple[str, bool, int]]]:
    """Every INSERT sent while inside: (statement, sent as executemany, rows of parameters).
    SQLAlchemy's `before_cursor_execute` hook sees what goes through SQLAlchemy; on a SQLite
    file a save talks to the driver's connection itself, which is watched instead."""
    sent: list[tuple[str, bool, int]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any,
               executemany: bool) -> None:
        if statement.lstrip().upper().startswith("INSERT"):
            sent.append((statement, executemany, len(parameters) if executemany else 1))

    insert_sqlite = ChainedRecorder._insert_sqlite

    def insert_watched(recorder: ChainedRecorder, driver: Any, events: Any) -> list[int]:
        return insert_sqlite(recorder, _Driver(driver, sent), events)

    monkeypatch.setattr(ChainedRecorder, "_insert_sqlite", insert_watched)
    event.listen(app.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(app.engine, "before_cursor_execute", record)


def stored(stream: Any, versions: range) -> list[StoredEvent]:
    return [StoredEvent(stream, v, "ledger.events:ThemeAdded", b'{"n":%d}' % v) for v in versions]


def test_a_save_of_many_events_is_one_batch_per_table(db_url: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A save of 1,500 events sends the events as one driver batch on SQLite (executemany, not
    a statement per row) or as multi-row INSERTs of at most 1,000 rows on PostgreSQL, and the
    seals as one executemany; every row gets the next id and its seal."""
    app = bootstrap(db_url, create=True).ledger.app
    recorder = app.recorder
    assert isinstance(recorder, ChainedRecorder)
    stream = uuid4()
    with watched(app, monkeypatch) as sent:
        ids = recorder.insert_events(stored(stream, range(1, 1501)))
    assert ids == list(range(1, 1501))
    events = [s for s in sent if EVENTS_TABLE in s[0]]
    seals = [s for s in sent if CHAIN_TABLE in s[0]]
    if app.engine.dialect.name == "sqlite":
        assert [(many, rows) for _s, many, rows in events] == [(True, 1500)]
        assert "RETURNING" not in events[0][0].upper()
    else:
        # insertmanyvalues: INSERT ... SELECT ... FROM (VALUES (...), (...), ...) ORDER BY
        # sen_counter RETURNING id, 1,000 rows a statement, ids in the parameters' order
        assert [s.count("), (") + 1 for s, _many, _rows in events] == [1000, 500]
        assert all("ORDER BY sen_counter RETURNING" in s for s, *_ in events)
    assert [(many, rows) for _s, many, rows in seals] == [(True, 1500)]
    assert [s.position for s in iter_seals(app.engine)] == list(range(1, 1501))
    assert {s.stream for s in iter_seals(app.engine)} == {stream.hex}
    app.close()


def test_a_duplicate_version_in_a_batch_is_the_librarys_integrity_error(db_url: str) -> None:
    """A batch holding a (stream, version) already stored fails with the library's own
    IntegrityError (the driver's error translated), and none of the batch is stored."""
    app = bootstrap(db_url, create=True).ledger.app
    recorder = app.recorder
    stream = uuid4()
    recorder.insert_events(stored(stream, range(1, 4)))
    with pytest.raises(IntegrityError):
        recorder.insert_events(stored(stream, range(3, 10)))
    with app.engine.connect() as conn:
        assert conn.execute(text(f"SELECT count(*) FROM {EVENTS_TABLE}")).scalar() == 3
        assert conn.execute(text(f"SELECT count(*) FROM {CHAIN_TABLE}")).scalar() == 3
    assert recorder.insert_events(stored(stream, range(4, 6))) == [4, 5]  # no id was lost
    app.close()
