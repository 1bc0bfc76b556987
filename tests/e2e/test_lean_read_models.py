"""The lean read models: no copy of the events, one history row per item per effective date,
month-ends answered from that history, catch-ups folded onto kept state, old tables upgraded."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from ledger.bootstrap import bootstrap
from ledger.domain.values import When
from projections.audit import first_difference
from projections.derived import DerivedRows
from projections.runner import Projector
from tests.conftest import Cli, stored_events
from tests.editions import SEPTEMBER, write_november, write_october
from tests.integrity.attack import execute, scalar

PLAN = "cgip-2018"


def rows(cli: Cli, *args: str) -> list[dict[str, Any]]:
    return list(json.loads(cli("--plan", PLAN, *args, "--format", "json")))


def three_editions(cli: Cli, directory: Path) -> None:
    """September, October and November 2018 imported, a hand update recorded between them
    and a correction of an earlier event (which takes effect in the past)."""
    cli("import", str(SEPTEMBER), "--by", "improvement.team")
    cli("import", str(write_october(directory)), "--by", "improvement.team")
    cli("--plan", PLAN, "update", "1.2", "Survey fieldwork under way", "--month", "2018-10",
        "--effective", "2018-10-20")
    cli("--plan", PLAN, "correct", "1.2@5", "--text", "Survey planned", "--note", "wording")
    cli("import", str(write_november(directory)), "--by", "improvement.team")


def test_a_catch_up_in_small_batches_derives_what_a_rebuild_does(
        cli: Cli, tmp_path: Path) -> None:
    """Catching up 7 events at a time (events folded onto each item's kept state where they
    only add to its end, refolded where a correction or an earlier date intervenes) leaves
    every read-model table row for row as a rebuild from the events does."""
    three_editions(cli, tmp_path)
    services = bootstrap(cli.db)
    assert services.projector.catch_up(batch=7) == stored_events(cli.db)
    scratch_url = f"sqlite:///{tmp_path / 'scratch.db'}"
    bootstrap(scratch_url, create=True).close()
    target = create_engine(scratch_url)
    Projector(services.ledger.app, target).rebuild()
    assert first_difference(services.projector.engine, target) == ""
    target.dispose()
    services.close()


def test_derived_models_read_again_from_the_events_table_equal_a_rebuild(
        cli: Cli, tmp_path: Path) -> None:
    """Deriving every item again from the events table, stream by stream (what a catch-up
    does after an interrupted rebuild, or a rebuild past what it keeps in memory), gives the
    rows a rebuild from its decoded events does."""
    three_editions(cli, tmp_path)
    cli("projections", "rebuild")
    services = bootstrap(cli.db)
    scratch_url = f"sqlite:///{tmp_path / 'scratch.db'}"
    bootstrap(scratch_url, create=True).close()
    target = create_engine(scratch_url)
    Projector(services.ledger.app, target).catch_up()
    Projector(services.ledger.app, target).derive_all()
    assert first_difference(services.projector.engine, target) == ""
    target.dispose()
    services.close()


def test_month_ends_from_the_history_equal_the_folded_ones(cli: Cli, tmp_path: Path) -> None:
    """`ledger snapshots` answers month-ends from the item-history model; as known at a far
    future moment it folds the events instead: both give the same rows, and 1.2's "[2018-08]
    Survey being planned" update counts in August."""
    three_editions(cli, tmp_path)
    stored = rows(cli, "snapshots")
    folded = rows(cli, "snapshots", "--known-at", "2199-01-01T00:00:00+00:00")
    assert stored == folded
    august = next(r for r in stored if r["item"] == "1.2" and r["month"] == "2018-08")
    assert august["updates_in_month"] == 2
    months = {r["month"] for r in stored}
    assert {"2018-09", "2018-10", "2018-11"} <= months


def test_no_read_model_row_per_event_beyond_the_change_log(cli: Cli, tmp_path: Path) -> None:
    """One change-log row per event, one history row per item per effective date (the
    dates its events name, corrections aside), and no month-by-item table at all."""
    three_editions(cli, tmp_path)
    cli("projections", "run", "--until-caught-up")
    events = stored_events(cli.db)
    assert scalar(cli.db, "SELECT count(*) FROM proj_changes") == events
    dates = scalar(cli.db, "SELECT count(*) FROM (SELECT DISTINCT plan, item, effective FROM "
                           "proj_changes WHERE item != '' AND kind != 'correction') AS d")
    assert scalar(cli.db, "SELECT count(*) FROM proj_item_history") == dates
    assert dates < events
    assert scalar(cli.db, "SELECT count(*) FROM proj_item_history WHERE slips IS NULL") > 0


def test_read_models_take_at_most_twice_the_events_on_disk(sqlite_url: str,
                                                            tmp_path: Path) -> None:
    """On the September edition (a SQLite file), the read models' pages (tables and their
    indexes, from `dbstat`) come to at most twice the events' and their seals'."""
    cli = Cli(sqlite_url)
    cli("init")
    three_editions(cli, tmp_path)
    cli("projections", "run", "--until-caught-up")
    cli("projections", "rebuild")
    path = sqlite_url.removeprefix("sqlite:///")
    owner = "(SELECT tbl_name FROM sqlite_master WHERE name = dbstat.name)"
    models = scalar(sqlite_url, f"SELECT sum(pgsize) FROM dbstat WHERE {owner} LIKE 'proj_%'")
    events = scalar(sqlite_url, f"SELECT sum(pgsize) FROM dbstat WHERE {owner} IN "
                                f"('ledger_events', 'ledger_chain')")
    assert Path(path).exists()
    assert 0 < models <= 2 * events


def test_init_brings_read_models_of_the_old_shape_up_to_date(cli: Cli, backend: str) -> None:
    """A ledger whose change log still keeps each event's topic and state, with an item-by-
    month snapshot table and slippage on every history row: a query names `ledger init` (exit
    2); `init` says what it brought up to date and drops what is no longer kept (no event
    touched), the next query derives the
    models again, and `verify` finds them agreeing with the events."""
    cli("import", str(SEPTEMBER), "--by", "improvement.team")
    before = stored_events(cli.db)
    blob = "BYTEA" if backend == "postgres" else "BLOB"
    execute(cli.db, "ALTER TABLE proj_changes ADD COLUMN topic TEXT NOT NULL DEFAULT ''")
    execute(cli.db, f"ALTER TABLE proj_changes ADD COLUMN state {blob}")
    execute(cli.db, "ALTER TABLE proj_item_history DROP COLUMN month_updates")
    execute(cli.db, "ALTER TABLE proj_item_history ADD COLUMN slippage TEXT")
    execute(cli.db, "CREATE TABLE proj_snapshots (plan TEXT, item TEXT, month TEXT, row TEXT)")
    said = cli("--plan", PLAN, "snapshots", code=2)
    assert said == ("error: the read models were made by an older version of ledger "
                    "(proj_changes.state is no longer kept): run `ledger init`, which brings them "
                    "up to date (it touches no event; the next query derives them again)\n")
    assert cli("init") == (
        "the ledger was already initialised\n"
        "its read models were made by an older version of ledger (proj_changes.state is no "
        "longer kept): brought to this version's shape; the next query derives them again "
        "from the events, which are untouched\n")
    assert stored_events(cli.db) == before
    assert scalar(cli.db, "SELECT count(*) FROM proj_changes") == 0  # derived again
    assert cli("init") == "the ledger was already initialised\n"  # nothing left to bring up
    snapshot = next(r for r in rows(cli, "snapshots", "--from", "2018-09")
                    if r["item"] == "1.3")
    assert snapshot["month"] == "2018-09"
    assert "the read models agree with the events" in cli("verify")
    assert stored_events(cli.db) == before


def test_a_later_event_is_folded_onto_the_kept_state_and_a_correction_refolds(
        cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """After a catch-up, an update to 1.3 dated after everything 1.3 holds extends its kept
    state (its history is not folded again), while a correction of 1.3's fifth event refolds
    1.3 from its events; either way the plan row shows the new update."""
    cli("import", str(SEPTEMBER), "--by", "improvement.team")
    services = bootstrap(cli.db)
    services.projector.catch_up()
    folded: list[str] = []
    whole = DerivedRows.add

    def counted(self: DerivedRows, plan: str, item: str, events: list[Any]) -> Any:
        folded.append(item)
        return whole(self, plan, item, events)

    monkeypatch.setattr(DerivedRows, "add", counted)
    cli("--plan", PLAN, "update", "1.3", "Review panel met", "--month", "2018-10",
        "--effective", "2018-10-05")
    assert services.projector.catch_up() == 1
    assert folded == []
    row = services.reader.plan(PLAN, When(date(2018, 10, 31)), item="1.3")[0]
    assert row["latest_update"]["text"] == "Review panel met"
    cli("--plan", PLAN, "correct", "1.3@5", "--text", "Review under way", "--note", "wording")
    assert services.projector.catch_up() == 1
    assert folded == ["1.3"]
    services.close()
