"""The sealing recorder passes the eventsourcing library's own application-recorder contract.

`ChainedRecorder` overrides private methods of eventsourcing-sqlalchemy's recorder
(`_lock_table`, `_insert_stored_events`); a library upgrade that changes what they
must do fails here, on SQLite and on the real PostgreSQL, rather than in production.
The recorder is the one `open_ledger` builds, with its seals table and guards.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from eventsourcing.tests.persistence import ApplicationRecorderTestCase
from sqlalchemy import text

from ledger.store.app import LedgerApp, open_ledger
from ledger.store.chain import ChainedRecorder, iter_seals
from ledger.store.engine import EVENTS_TABLE
from scripts.throwaway_databases import ThrowawayDatabases


class ChainedRecorderContract(ApplicationRecorderTestCase[ChainedRecorder]):
    """The library's contract, on a fresh ledger database per test; `database_url` per backend."""

    app: LedgerApp | None = None

    def database_url(self) -> str:
        raise NotImplementedError

    def create_recorder(self) -> ChainedRecorder:
        self.app = open_ledger(self.database_url(), create=True)
        recorder = self.app.recorder
        assert isinstance(recorder, ChainedRecorder)
        if self.app.engine.dialect.name == "sqlite":
            # The library switches a new SQLite file to WAL in the first transaction of whichever
            # thread comes first, and a second thread already writing makes the switch fail
            # ("database is locked": the 4-thread throughput case, about 1 run in 8 under load).
            # A `ledger` process is one thread; the switch is made here before the threads start.
            recorder.datastore.init_sqlite_wal_mode()
        return recorder

    def tearDown(self) -> None:
        if self.app is not None:
            # Every event the contract stored was sealed in its own transaction, and no
            # seal was left by an insert that failed (the contract provokes conflicts).
            with self.app.engine.connect() as conn:
                ids = list(conn.execute(text(f"SELECT id FROM {EVENTS_TABLE} ORDER BY id"))
                           .scalars())
            assert [s.position for s in iter_seals(self.app.engine)] == ids
            self.app.close()
        super().tearDown()


class TestChainedRecorderSQLite(ChainedRecorderContract):
    """The contract on a SQLite file, as `ledger --db sqlite:///FILE` uses it."""

    def setUp(self) -> None:
        super().setUp()
        self.directory = tempfile.TemporaryDirectory()
        self.addCleanup(self.directory.cleanup)

    def database_url(self) -> str:
        return f"sqlite:///{Path(self.directory.name) / 'ledger.db'}"


@pytest.mark.postgres
class TestChainedRecorderPostgres(ChainedRecorderContract):
    """The contract on a fresh database of the real PostgreSQL server (LEDGER_TEST_PG_URL)."""

    def setUp(self) -> None:
        super().setUp()
        admin = os.environ.get("LEDGER_TEST_PG_URL", "")
        if not admin:
            pytest.fail("LEDGER_TEST_PG_URL is not set: run the tests with scripts/test.sh")
        self.databases = ThrowawayDatabases(admin, "contract")
        self.addCleanup(self.databases.drop_all)

    def database_url(self) -> str:
        return self.databases.fresh()


del ApplicationRecorderTestCase, ChainedRecorderContract  # abstract: not tests themselves
