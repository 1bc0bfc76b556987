"""Tampering as an attacker would do it, with plain SQL, on each backend: each is named."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.engine import Engine

from ledger.application.evidence import parse_digest, take_digest, verify
from ledger.application.reconcile import import_document
from ledger.application.services import Ledger
from ledger.bootstrap import bootstrap
from ledger.domain.chain import Witness, link_hash, seal
from ledger.domain.values import Provenance
from ledger.store.chain import iter_seals
from ledger.store.engine import EVENTS_TABLE
from ledger.store.sealed import CHAIN_TABLE
from tests.conftest import Cli
from tests.editions import SEPTEMBER, SEPTEMBER_HEAD


@pytest.fixture
def ledger(db_url: str) -> Iterator[Ledger]:
    """The September edition imported; the immutability triggers dropped, as an attacker would."""
    opened = bootstrap(db_url, create=True).ledger
    opened.init(Provenance("clerk", date(2018, 9, 30), "test"))
    import_document(opened, SEPTEMBER)
    drop_guards(opened.app.engine)
    yield opened
    opened.close()


def drop_guards(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in (EVENTS_TABLE, CHAIN_TABLE):
            if engine.dialect.name == "postgresql":
                conn.execute(text(f"DROP TRIGGER {table}_no_change ON {table}"))
            else:
                conn.execute(text(f"DROP TRIGGER {table}_no_update"))
                conn.execute(text(f"DROP TRIGGER {table}_no_delete"))


def row(engine: Engine, position: int) -> dict[str, object]:
    with engine.connect() as conn:
        found = conn.execute(text(f"SELECT originator_id, originator_version, topic, state "
                                  f"FROM {EVENTS_TABLE} WHERE id = :p"), {"p": position}).one()
    return dict(found._mapping)


def stored_state(engine: Engine, position: int) -> bytes:
    state = row(engine, position)["state"]
    assert isinstance(state, bytes | memoryview), type(state)  # memoryview on PostgreSQL
    return bytes(state)


def write_state(engine: Engine, position: int, state: bytes) -> None:
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE {EVENTS_TABLE} SET state = :s WHERE id = :p"),
                     {"s": state, "p": position})


def test_an_untouched_ledger_verifies(ledger: Ledger) -> None:
    """The imported edition's chain is intact from its first event to its last."""
    verdict = verify(ledger.app)
    assert verdict.intact
    assert verdict.head.position == verdict.events == SEPTEMBER_HEAD


def test_an_edited_event_is_named_altered(ledger: Ledger) -> None:
    """One word changed inside a stored update: position and 'altered'."""
    state = stored_state(ledger.app.engine, 120)
    write_state(ledger.app.engine, 120, state.replace(b"20", b"21", 1))
    problem = verify(ledger.app).problem
    assert problem is not None
    assert (problem.position, problem.what) == (120, "altered")


def test_a_deleted_event_is_named_missing(ledger: Ledger) -> None:
    """DELETE of one event row: its position and 'missing'."""
    with ledger.app.engine.begin() as conn:
        conn.execute(text(f"DELETE FROM {EVENTS_TABLE} WHERE id = 200"))
    problem = verify(ledger.app).problem
    assert problem is not None
    assert (problem.position, problem.what) == (200, "missing")


def test_an_inserted_event_is_named_inserted(ledger: Ledger) -> None:
    """A forged event appended with plain SQL has no seal: 'inserted'."""
    forged = row(ledger.app.engine, 100)
    with ledger.app.engine.begin() as conn:
        conn.execute(text(f"INSERT INTO {EVENTS_TABLE} (originator_id, originator_version, "
                          "topic, state) VALUES (:originator_id, 999, :topic, :state)"), forged)
    problem = verify(ledger.app).problem
    assert problem is not None
    assert (problem.position, problem.what) == (SEPTEMBER_HEAD + 1, "inserted")


def test_two_swapped_events_are_named_reordered(ledger: Ledger) -> None:
    """Rows 50 and 60 exchange their contents: 'reordered' at the first of them."""
    engine = ledger.app.engine
    first, second = row(engine, 50), row(engine, 60)
    with engine.begin() as conn:
        statement = text(f"UPDATE {EVENTS_TABLE} SET originator_id = :originator_id, "
                         "originator_version = :originator_version, topic = :topic, "
                         "state = :state WHERE id = :p")
        conn.execute(statement, {**first, "originator_version": -1, "p": 60})
        conn.execute(statement, {**second, "p": 50})
        conn.execute(statement, {**first, "p": 60})
    problem = verify(ledger.app).problem
    assert problem is not None
    assert (problem.position, problem.what) == (50, "reordered")
    assert "position 60" in problem.detail


def test_a_rewritten_chain_passes_alone_but_not_against_a_digest(ledger: Ledger) -> None:
    """Alter an event and re-seal everything after it: only the auditor's digest shows it."""
    engine = ledger.app.engine
    digest = take_digest(ledger.app, "external.auditor")
    state = stored_state(engine, 300)
    write_state(engine, 300, state.replace(b"20", b"21", 1))
    rows = list(ledger.app.iter_stored())
    seals = {s.position: s for s in iter_seals(engine)}
    previous = seals[299]
    with engine.begin() as conn:
        for rewritten in (r for r in rows if r.position >= 300):
            [forged] = seal([rewritten], previous, seals[rewritten.position].witness)
            conn.execute(text(f"UPDATE {CHAIN_TABLE} SET content = :c, link = :l "
                              "WHERE position = :p"),
                         {"c": forged.content, "l": forged.link, "p": forged.position})
            previous = forged
    assert verify(ledger.app).problem is None
    verdict = verify(ledger.app, parse_digest(digest, "the auditor's digest"))
    assert not verdict.intact
    expected = f"position {SEPTEMBER_HEAD}: the ledger no longer extends the digest"
    assert expected in verdict.digest_problem


def test_a_broken_link_in_the_chain_table_is_named(ledger: Ledger) -> None:
    """A seal edited on its own: 'chain-broken' at its position."""
    with ledger.app.engine.begin() as conn:
        conn.execute(text(f"UPDATE {CHAIN_TABLE} SET link = :l WHERE position = 42"),
                     {"l": link_hash("x", 42, "z", "y", Witness(""))})
    problem = verify(ledger.app).problem
    assert problem is not None
    assert (problem.position, problem.what) == (42, "chain-broken")


@settings(max_examples=15, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(position=st.integers(min_value=1, max_value=SEPTEMBER_HEAD), offset=st.integers(min_value=0),
       flip=st.integers(min_value=1, max_value=255))
def test_any_byte_changed_anywhere_is_found_at_its_position(
    ledger: Ledger, position: int, offset: int, flip: int,
) -> None:
    """Flip any byte of any event: verification names that position; restoring it heals."""
    engine = ledger.app.engine
    original = stored_state(engine, position)
    index = offset % len(original)
    mutated = bytearray(original)
    mutated[index] ^= flip
    write_state(engine, position, bytes(mutated))
    try:
        problem = verify(ledger.app).problem
        assert problem is not None
        assert (problem.position, problem.what) == (position, "altered")
    finally:
        write_state(engine, position, original)
    assert verify(ledger.app).intact


def test_the_cli_names_tampering_with_exit_1(cli: Cli, tmp_path: Path) -> None:
    """`ledger verify` exits 0 on an intact ledger, 1 naming the position after a DELETE."""
    cli("import", str(SEPTEMBER))
    out = cli("digest", "--out", str(tmp_path / "digest.json"))
    assert json.loads(out)["position"] == SEPTEMBER_HEAD
    verified = cli("verify", "--digest", str(tmp_path / "digest.json"))
    assert f"intact: {SEPTEMBER_HEAD} events" in verified
    assert "exists" in cli("digest", "--out", str(tmp_path / "digest.json"), code=2)
    ledger = bootstrap(cli.db).ledger
    drop_guards(ledger.app.engine)
    with ledger.app.engine.begin() as conn:
        conn.execute(text(f"DELETE FROM {EVENTS_TABLE} WHERE id = 10"))
    ledger.close()
    err = cli("verify", code=1)
    assert "tampered: position 10: missing" in err
