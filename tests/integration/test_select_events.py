"""On a SQLite file a stream named by a UUID is read with one statement to the driver; inside
a transaction the library opened, or named by its text, through the ORM session. Both give
the same stored events in the same order for every bound, order and limit, sealed rows only
(a row added around the ledger is never read)."""

from __future__ import annotations

import sqlite3
from datetime import date
from itertools import product
from pathlib import Path
from uuid import UUID

import pytest

from ledger.domain.plan import Plan
from ledger.domain.values import Provenance
from ledger.store.app import open_ledger
from ledger.store.chain import ChainedRecorder


def prov() -> Provenance:
    return Provenance("clerk", date(2018, 9, 30), "test")


def test_the_driver_and_the_session_read_the_same_stream(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         ) -> None:
    path = tmp_path / "l.db"
    app = open_ledger(f"sqlite:///{path}", create=True)
    plan = Plan.register("cgip-2018", "Corporate Governance Improvement Plan", prov())
    for number in range(1, 6):
        plan.add_theme(str(number), f"Theme {number}", "", prov())
    other = Plan.register("other", "Another plan", prov())
    app.save(plan, other)
    with sqlite3.connect(path) as conn:  # the next version, added around the ledger: no seal
        conn.execute("INSERT INTO ledger_events (originator_id, originator_version, topic, "
                     "state) VALUES (?, 7, 'ledger.events:ThemeAdded', x'7b7d')",
                     (plan.id.bytes,))
    recorder = app.recorder
    assert isinstance(recorder, ChainedRecorder)
    driver_reads = []
    select_sqlite = ChainedRecorder._select_sqlite

    def watched(*args: object) -> object:
        driver_reads.append(args[1])
        return select_sqlite(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(ChainedRecorder, "_select_sqlite", watched)
    streams: tuple[UUID | str, ...] = (plan.id, str(plan.id), other.id)
    for stream, gt, lte, desc, limit in product(streams, (None, 0, 2), (None, 3, 7),
                                                (False, True), (None, 1, 2)):
        direct = recorder.select_events(stream, gt=gt, lte=lte, desc=desc, limit=limit)
        with recorder.transaction(commit=False):
            by_session = recorder.select_events(stream, gt=gt, lte=lte, desc=desc,
                                                limit=limit)
        assert direct == by_session
        assert [type(e.originator_id) for e in direct] == [type(e.originator_id)
                                                          for e in by_session]
    # the UUIDs' reads went to the driver, the text's and the session's did not
    assert len(driver_reads) == 2 * 3 * 3 * 2 * 3
    everything = recorder.select_events(plan.id)
    assert [e.originator_version for e in everything] == [1, 2, 3, 4, 5, 6]  # not 7
    assert b'"title":"Theme 5"' in everything[5].state
    assert [e.originator_version for e in recorder.select_events(plan.id, gt=2, lte=5,
                                                                desc=True, limit=2)] == [5, 4]
    app.close()
