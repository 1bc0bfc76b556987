"""The queries' decoder (the library's mapper without its recorder) reads every stored event
exactly as the event store does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.bootstrap import bootstrap
from ledger.store.decoding import decode
from tests.conftest import Cli, Prepared
from tests.e2e.test_queries import both_imported


@pytest.fixture
def imported(backend: str, prepared: Prepared, tmp_path: Path) -> Iterator[Cli]:
    """The September 2018 edition and the 2015 action plan, imported."""
    with prepared.copy(both_imported, backend, tmp_path) as cli:
        yield cli


def test_every_seed_event_decodes_alike_with_and_without_the_event_store(imported: Cli) -> None:
    """Same class, same fields (dates, datetimes, UUIDs and texts) for each of the seeds'
    events, on each backend."""
    with bootstrap(imported.db) as services:
        app = services.ledger.app
        records = list(app.iter_stored())
        assert len(records) > 800  # 479 September events and the 2015 plan's
        for record in records:
            by_store, alone = app.decode(record), decode(record)
            assert type(alone) is type(by_store)
            assert alone.__dict__ == by_store.__dict__, record.position
