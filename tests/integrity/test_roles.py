"""Attacks by each role of scripts/pg_roles.sql (PostgreSQL only: SQLite has no roles):
what the database refuses, and what verify names when a role may write."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.exc import DBAPIError

from ledger.domain.chain import Witness
from tests.integrity.attack import (
    CHAIN,
    EVENTS,
    connect,
    count,
    event,
    execute,
    forge_append,
    insert_event,
    intact,
    last_version,
    ledger,
    names,
    now_on_server,
    scalar,
    stream_hex,
    tampered,
)
from tests.integrity.conftest import AUDITOR, HEAD, PROJECTOR, WRITER, as_role

pytestmark = pytest.mark.postgres
DENIED = r"permission denied|must be owner"
ATTACKS_ON_EVENTS = (
    f"UPDATE {EVENTS} SET topic = 'x' WHERE id = 5",
    f"DELETE FROM {EVENTS} WHERE id = 5",
    f"TRUNCATE {EVENTS} CASCADE",
    f"DROP TRIGGER ledger_events_no_change ON {EVENTS}",
    f"ALTER TABLE {EVENTS} DISABLE TRIGGER ALL",
    "DROP INDEX ledger_events_aggregate_idx",
    f"UPDATE {CHAIN} SET link = 'x' WHERE position = 5",
    f"DELETE FROM {CHAIN} WHERE position = 5",
    f"ALTER TABLE {CHAIN} DISABLE TRIGGER ALL",
)
ATTACKS_ON_MODELS = (
    "UPDATE proj_items SET theme = '7' WHERE item = '1.3'",
    "DELETE FROM proj_changes WHERE seq = 300",
    "UPDATE proj_tracking SET position = 600",
    "TRUNCATE proj_item_history",
)


@pytest.mark.parametrize("role", [WRITER, PROJECTOR, AUDITOR])
def test_postgres_no_role_can_change_events_or_seals(pg: str, role: str) -> None:
    """UPDATE, DELETE, TRUNCATE, dropping or disabling a guard: refused for every role."""
    as_it = as_role(pg, role)
    for statement in ATTACKS_ON_EVENTS:
        with pytest.raises(DBAPIError, match=DENIED):
            execute(as_it, statement)
    assert intact(as_role(pg, AUDITOR), "--events-only")


@pytest.mark.parametrize("role", [WRITER, AUDITOR])
def test_postgres_the_writer_and_auditor_cannot_touch_the_read_models(pg: str,
                                                                      role: str) -> None:
    as_it = as_role(pg, role)
    for statement in ATTACKS_ON_MODELS:
        with pytest.raises(DBAPIError, match=DENIED):
            execute(as_it, statement)
    assert intact(as_role(pg, AUDITOR))


@pytest.mark.parametrize("role", [PROJECTOR, AUDITOR])
def test_postgres_the_projector_and_auditor_cannot_add_events(pg: str, role: str) -> None:
    forged = {**event(pg, 100), "originator_version": 999}
    with pytest.raises(DBAPIError, match=DENIED), connect(as_role(pg, role)) as conn:
        insert_event(conn, forged)
    assert count(pg) == HEAD


def test_postgres_the_writer_cannot_choose_an_id(pg: str) -> None:
    forged = {**event(pg, 100), "originator_version": 999}
    for position in (0, 10**9, HEAD + 1):
        with pytest.raises(DBAPIError, match="ids are assigned by the ledger"), \
                connect(as_role(pg, WRITER)) as conn:
            insert_event(conn, forged, position)
    assert count(pg) == HEAD


def test_postgres_an_unsealed_event_from_the_writer_is_named_inserted(pg: str) -> None:
    forged = {**event(pg, 100), "originator_version": 999}
    with connect(as_role(pg, WRITER)) as conn:
        position = insert_event(conn, forged)
    assert position == HEAD + 1
    names(tampered(as_role(pg, AUDITOR)), position, "inserted",
          stream_hex(forged["originator_id"]), 999)


def test_postgres_the_writer_cannot_forge_another_witness(pg: str) -> None:
    """A seal in the owner's name, or dated in the past: refused."""
    forged = event(pg, 300)
    values = {**forged, "originator_version": last_version(pg, forged["originator_id"]) + 1}
    writer = as_role(pg, WRITER)
    with pytest.raises(DBAPIError, match="this session's role"):
        forge_append(writer, values, Witness(now_on_server(pg), "ledger"))
    with pytest.raises(DBAPIError, match="server's clock"):
        forge_append(writer, values, Witness("2001-01-01T00:00:00.000000+00:00", WRITER))
    assert count(pg) == HEAD


def test_postgres_a_forged_seal_from_the_writer_carries_the_writers_role(pg: str) -> None:
    """The writer forges a well-formed seal (public algorithm) for an event it inserts, under
    any `recorded_by`: it verifies, but the seal, the change log and the history all show the
    database role that wrote it."""
    forged = event(pg, 300)
    state = json.loads(bytes(forged["state"]))
    state["recorded_by"] = "Chief Executive"
    version = last_version(pg, forged["originator_id"]) + 1
    position = forge_append(as_role(pg, WRITER), {
        **forged, "originator_version": version,
        "state": json.dumps(state, separators=(",", ":")).encode()})
    intact(as_role(pg, AUDITOR), "--events-only")
    assert scalar(pg, f"SELECT witnessed_by FROM {CHAIN} WHERE position = {position}") == WRITER
    projector = as_role(pg, PROJECTOR)
    _, out = ledger(projector, "changes", "--format", "json")  # the projector catches up
    last = json.loads(out)[-1]
    assert (last["seq"], last["by"], last["db_role"]) == (position, "Chief Executive", WRITER)
    item = last["item"]
    _, out = ledger(projector, "history", item, "--format", "json")
    assert json.loads(out)[-1]["db_role"] == WRITER
    intact(as_role(pg, AUDITOR))


@pytest.mark.parametrize(("statement", "report"), [
    ("UPDATE proj_items SET theme = '7' WHERE item = '1.3'",
     "proj_items (plan=cgip-2018, item=1.3): column theme says '7'"),
    ("UPDATE proj_changes SET by = 'mallory' WHERE seq = 300",
     "proj_changes (seq=300): column by says 'mallory'"),
    ("UPDATE proj_item_history SET valid_to = '2018-10-02' WHERE item = '1.3' "
     "AND valid_from = '2018-09-30'",
     "proj_item_history (plan=cgip-2018, item=1.3, valid_from=2018-09-30)"),
    ("UPDATE proj_tracking SET position = 600 WHERE model = 'change_log'",
     "proj_tracking (model=change_log): column position says 600"),
    ("DELETE FROM proj_tracking WHERE model = 'monthly_snapshots'",
     "proj_tracking (model=monthly_snapshots): missing"),
])
def test_postgres_a_read_model_edited_by_the_projector_is_named(
    pg: str, statement: str, report: str,
) -> None:
    """The projector may write the read models: verify (as the auditor) names its edit."""
    execute(as_role(pg, PROJECTOR), statement)
    found = tampered(as_role(pg, AUDITOR))
    assert found.startswith(report), found


@pytest.mark.slow
def test_postgres_a_190_character_by_works_as_the_roles(pg: str, tmp_path: object) -> None:
    """Written by the writer, caught up by the projector, exported and verified by the
    auditor, rebuilt by the projector."""
    by = ("Directrice générale adjointe — " * 7)[:190]
    ledger(as_role(pg, WRITER), "update", "1.1", "Group leaders met again", "--month",
           "2018-09", "--by", by)
    _, out = ledger(as_role(pg, PROJECTOR), "changes", "--item", "1.1", "--format", "json")
    assert json.loads(out)[-1]["by"] == by
    assert json.loads(out)[-1]["db_role"] == WRITER
    auditor = as_role(pg, AUDITOR)
    _, out = ledger(auditor, "plan", "--item", "1.1", "--format", "json")
    assert "Group leaders met again" in out
    ledger(auditor, "export", "--out", f"{tmp_path}/pack", "--no-pdf")
    ledger(as_role(pg, PROJECTOR), "projections", "rebuild")
    intact(auditor)


QUERIES = (("plan", "--as-of", "2018-09-30"), ("snapshots",), ("slippage",), ("changes",),
           ("summary", "--as-of", "2018-09-30"), ("diff", "2018-08-31", "2018-09-30"),
           ("editions",), ("history", "1.3"), ("projections", "status"))


def test_postgres_every_query_runs_as_the_auditor(pg: str) -> None:
    """SELECT only: every query answers (in JSON), once the projector has caught up."""
    ledger(as_role(pg, PROJECTOR), "projections", "run", "--until-caught-up")
    auditor = as_role(pg, AUDITOR)
    for query in QUERIES:
        _, out = ledger(auditor, *query, "--format", "json")
        assert json.loads(out), query
