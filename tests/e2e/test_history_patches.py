"""The item history keeps only what changed on each date: as-of answers folded from those
rows equal a fold of the events, and a catch-up writes the rows a rebuild does."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy import create_engine

from ledger.bootstrap import bootstrap
from ledger.domain.events import PlanEvent
from ledger.domain.values import When, month_end
from projections.audit import first_difference
from projections.monthly_snapshots import months_from
from projections.runner import Projector
from scripts.generate_history import generate
from tests.conftest import Cli
from tests.integrity.attack import scalar

FAR = "2999-01-01T00:00:00+00:00"  # as known at a far moment: folded from the events
PLAN = "council-00000"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A generated history of about 2,500 events in a SQLite file (updates, target moves,
    RAG changes, completions, lead reassignments, corrections), its read models rebuilt."""
    url = f"sqlite:///{tmp_path_factory.mktemp('history') / 'ledger.db'}"
    generate(url, 2500, seed=3)
    Cli(url)("projections", "rebuild")
    return url


def test_later_history_rows_keep_only_what_changed(generated: str) -> None:
    """An item's first history row holds its whole plan row (its aim among it); most later
    rows hold no aim, and a later row whose outcome's target moved holds that outcome's
    changed keys without repeating its text."""
    first = ("valid_from = (SELECT min(valid_from) FROM proj_item_history g WHERE "
             "g.plan = h.plan AND g.item = h.item)")
    rows = scalar(generated, "SELECT count(*) FROM proj_item_history")
    assert scalar(generated, f"SELECT count(*) FROM proj_item_history h WHERE {first} AND "
                             "row_patch NOT LIKE '%\"aim\":%'") == 0
    later_whole = scalar(generated, f"SELECT count(*) FROM proj_item_history h WHERE NOT "
                                    f"({first}) AND row_patch LIKE '%\"aim\":%'")
    later = scalar(generated, f"SELECT count(*) FROM proj_item_history h WHERE NOT ({first})")
    assert later > rows / 2
    assert later_whole < later / 10
    moved = scalar(generated, f"SELECT slips FROM proj_item_history h WHERE NOT ({first}) AND "
                              "slips LIKE '%\"current_due\":%' LIMIT 1")
    changed = next(iter(json.loads(moved).values()))
    assert "current_due" in changed
    assert "outcome" not in changed


def test_as_of_answers_from_the_history_equal_the_folded_ones(generated: str) -> None:
    """For every month-end of a generated plan's life and a mid-month day of each, `plan`,
    `slippage` and `snapshots` as of that day, answered from the history rows, equal the
    answers folded from the events (as known at a far moment)."""
    services = bootstrap(generated)
    reader = services.reader
    info = reader.plan_info(PLAN)
    assert info is not None
    first = "2016-01"
    days = [d for m in months_from(first, info["last_month"])
            for d in (month_end(m), date.fromisoformat(f"{m}-15"))]
    moved = 0
    for day in days:
        for ask in (reader.plan, reader.slippage):
            stored, folded = ask(PLAN, When(day)), ask(PLAN, When(day, FAR))
            assert stored == folded, (ask.__name__, day)
        moved += sum(1 for r in reader.slippage(PLAN, When(day)) if r["moves"])
    assert moved > 0
    last = info["last_month"]
    assert reader.snapshots(PLAN, When(month_end(last))) == reader.snapshots(
        PLAN, When(month_end(last), FAR))
    services.close()


def test_a_catch_up_in_small_batches_writes_the_rows_a_rebuild_does(
        generated: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Catching the generated history up 97 events at a time (folding onto kept state, or
    refolding where a correction or an earlier date arrives) writes every history row's
    patches, and every other read-model row, as a rebuild from zero does; no item's events
    are read back from the events table (a new item's are all in the batch, a known one's
    kept from the last)."""
    services = bootstrap(generated)
    scratch_url = f"sqlite:///{tmp_path / 'scratch.db'}"
    bootstrap(scratch_url, create=True).close()
    target = create_engine(scratch_url)
    read_back: list[object] = []
    reader = Projector.item_events

    def counted(self: Projector, stream: UUID, upto: int) -> list[PlanEvent]:
        read_back.append(stream)
        return reader(self, stream, upto)

    monkeypatch.setattr(Projector, "item_events", counted)
    Projector(services.ledger.app, target).catch_up(batch=97)
    assert first_difference(services.projector.engine, target) == ""
    assert read_back == []
    target.dispose()
    services.close()
