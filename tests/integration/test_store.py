"""The store on each backend: events survive, the database refuses edits, conflicts lose nothing."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from ledger.application.services import Ledger
from ledger.bootstrap import bootstrap
from ledger.domain.errors import ConflictError, LedgerError
from ledger.domain.values import Provenance, Rag
from ledger.store.engine import EVENTS_TABLE


def prov(by: str = "clerk", note: str = "") -> Provenance:
    return Provenance(by, date(2018, 9, 30), "test", "", note)


@pytest.fixture
def ledger(db_url: str) -> Ledger:
    opened = bootstrap(db_url, create=True).ledger
    opened.init(prov())
    opened.new_plan("cgip-2018", "Corporate Governance Improvement Plan", prov())
    opened.add_theme(None, "1", "Political Leadership", "", prov())
    opened.add_item(None, "1.1", "1", "Well-organised political groups", "", prov())
    opened.assign_lead(None, "1.1", "ACE", prov())
    return opened


def count_events(ledger: Ledger) -> int:
    return ledger.app.recorder.max_notification_id() or 0


@pytest.mark.parametrize("statement", [
    f"UPDATE {EVENTS_TABLE} SET topic = 'forged'",
    f"DELETE FROM {EVENTS_TABLE}",
    f"DELETE FROM {EVENTS_TABLE} WHERE id = 1",
])
def test_the_database_refuses_to_edit_or_delete_events(ledger: Ledger, statement: str) -> None:
    """A raw UPDATE or DELETE on the events table fails in the database; every event stays."""
    before = count_events(ledger)
    with pytest.raises(DatabaseError, match="immutable"), ledger.app.engine.begin() as conn:
        conn.execute(text(statement))
    assert count_events(ledger) == before
    with ledger.app.engine.connect() as conn:
        topics = conn.execute(text(f"SELECT count(*) FROM {EVENTS_TABLE} WHERE topic='forged'"))
        assert topics.scalar() == 0


@pytest.mark.postgres
def test_postgres_refuses_truncate(pg_url: str) -> None:
    """TRUNCATE cannot empty the events table on PostgreSQL either."""
    ledger = bootstrap(pg_url, create=True).ledger
    ledger.init(prov())
    with pytest.raises(DatabaseError, match="immutable"), ledger.app.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {EVENTS_TABLE}"))
    assert count_events(ledger) == 1


def test_two_writers_on_one_item_one_wins_and_the_other_is_told(ledger: Ledger) -> None:
    """Both read item 1.1; the first lead change lands, the second gets a conflict, not a loss."""
    other = bootstrap(ledger.app.env["SQLALCHEMY_URL"]).ledger
    mine, theirs = ledger.item(None, "1.1"), other.item(None, "1.1")
    mine.assign_lead("City Solicitor", prov("alice"))
    theirs.assign_lead("Chief Executive", prov("bob"))
    ledger.app.save(mine)
    before = count_events(ledger)
    with pytest.raises(ConflictError, match=r"item 1\.1 changed while"):
        other.save(theirs)
    assert count_events(ledger) == before
    assert ledger.item(None, "1.1").state.leads == ["City Solicitor"]
    other.close()


def test_concurrent_progress_updates_on_one_item_all_land(ledger: Ledger) -> None:
    """Four people recording updates on one item at the same moment all succeed (retried)."""
    url = ledger.app.env["SQLALCHEMY_URL"]
    errors: list[Exception] = []
    start = threading.Barrier(4)

    def record(who: str) -> None:
        writer = bootstrap(url).ledger
        start.wait()
        try:
            for n in range(5):
                writer.record_update(None, "1.1", f"update {n} from {who}", "2018-09", prov(who))
        except LedgerError as exc:  # pragma: no cover - the assertion below reports it
            errors.append(exc)
        finally:
            writer.close()

    threads = [threading.Thread(target=record, args=(f"writer{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(ledger.item(None, "1.1").state.updates) == 20


def test_a_failed_command_writes_nothing(ledger: Ledger) -> None:
    """Adding an item under a missing theme leaves neither plan nor item events behind."""
    before = count_events(ledger)
    with pytest.raises(LedgerError):
        ledger.add_item(None, "9.1", "9", "Nowhere", "", prov())
    assert count_events(ledger) == before


def test_events_keep_their_provenance_through_the_store(ledger: Ledger) -> None:
    """Who, effective date, source and note come back from the database as they went in."""
    ledger.set_rag(None, "1.1", Rag.RED, Provenance("alice", date(2018, 8, 31), "cli:x",
                                                   "ACE", "INLOGOV late"))
    event = ledger.item_events(None, "1.1")[-1]
    assert (event.recorded_by, event.attributed_to, event.effective, event.source, event.note) == (
        "alice", "ACE", date(2018, 8, 31), "cli:x", "INLOGOV late")
    assert event.timestamp.tzinfo is not None


def test_a_new_sqlite_ledgers_seal_position_is_the_chain_tables_rowid(sqlite_url: str) -> None:
    """On SQLite the chain table's key is its rowid (one B-tree written a seal, not a table and
    an index): no index of its own, and the key column declared INTEGER, which makes it so."""
    ledger = bootstrap(sqlite_url, create=True).ledger
    ledger.init(prov())
    with ledger.app.engine.connect() as conn:
        indexes = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'index' "
                                    "AND tbl_name = 'ledger_chain'")).all()
        key = conn.execute(text("SELECT type FROM pragma_table_info('ledger_chain') "
                                "WHERE pk = 1")).all()
        sealed = conn.execute(text("SELECT count(*) FROM ledger_chain "
                                   "WHERE rowid = position")).scalar()
    events = count_events(ledger)
    ledger.close()
    assert indexes == []
    assert [tuple(row) for row in key] == [("INTEGER",)]
    assert sealed == events > 0


def test_an_uninitialised_database_is_not_created_by_accident(tmp_path: object) -> None:
    """Opening a missing SQLite file says to run init, and creates no file."""
    from pathlib import Path  # noqa: PLC0415

    path = Path(str(tmp_path)) / "missing.db"
    with pytest.raises(LedgerError, match="ledger init"):
        bootstrap(f"sqlite:///{path}")
    assert not path.exists()


@pytest.mark.slow
def test_several_processes_initialising_at_once_all_succeed(db_url: str) -> None:
    """Six `ledger init` at the same moment: all exit 0, one catalogue, guards in place."""
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    ledger_cli = str(Path(sys.executable).with_name("ledger"))
    runs = [subprocess.Popen([ledger_cli, "--db", db_url, "init"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(6)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0] * 6, outputs
    assert sum(out.strip() == "initialised the ledger" for out, _ in outputs) == 1
    ledger = bootstrap(db_url).ledger
    assert count_events(ledger) == 1
    with pytest.raises(DatabaseError, match="immutable"), ledger.app.engine.begin() as conn:
        conn.execute(text(f"DELETE FROM {EVENTS_TABLE}"))
    ledger.close()
