"""Attack round 5: the runner's raw read (`sealed.iter_witnessed`) and the mapper's fast
decoding (`OrjsonMapper.event_of`), each held against the path it replaced: `iter_sealed`
(a whole Seal per row) and the library's own `Mapper.to_domain_event`.

Found, and fixed since: 1, on SQLite a chain row the owner writes with a `previous` that
is not a position (a text) used to stop a rebuild by accident (a ValueError building its
Seal), and the new read, which never looked at `previous`, let the row into the read models;
2, on PostgreSQL a chain row with no witnessed time (the owner dropped the column's NOT NULL)
was applied with the recorded time "None", then taken for a row outside the chain; 3 (older),
`ledger verify` ended in a traceback on that text `previous`. Each such seal is now refused
as malformed, naming its position."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import Mapper, StoredEvent
from sqlalchemy import create_engine, text

from ledger.bootstrap import bootstrap
from ledger.domain.chain import EventRecord
from ledger.domain.errors import TamperedError
from ledger.store.engine import normalise_url
from ledger.store.sealed import iter_sealed, iter_witnessed
from tests.conftest import POSTGRES, Cli, Prepared
from tests.e2e.test_attacks_3 import run
from tests.editions import SEPTEMBER
from tests.integrity.attack import connect, drop_guards, postgres, scalar
from tests.unit.test_fast_encoding_fuzz import OLD

PLAN = "cgip-2018"
FORGED = "Forged: every outcome met"


def september(cli: Cli) -> None:
    """`ledger init` and the September 2018 edition (read models not yet caught up)."""
    cli("init")
    cli("import", str(SEPTEMBER), "--by", "improvement.team")


@pytest.fixture
def ledger(backend: str, prepared: Prepared, tmp_path: Path) -> Iterator[Cli]:
    with prepared.copy(september, backend, tmp_path) as runner:
        yield runner


def head_of(db: str) -> int:
    return int(scalar(db, "SELECT max(id) FROM ledger_events"))


def append(db: str, *, position: int, state: bytes | None = None, topic: str | None = None,
           step: int = 1, seal: dict[str, Any] | None = None) -> None:
    """As the owner (guards dropped): the last event's stream's next version (its state with
    FORGED, or `state`) at `position`, with a chain row of `seal`'s columns unless None."""
    with connect(db) as conn:
        head = conn.execute(text("SELECT max(id) FROM ledger_events")).scalar_one()
        stream, version, last_topic, last_state = conn.execute(text(
            "SELECT originator_id, originator_version, topic, state FROM ledger_events "
            "WHERE id = :h"), {"h": head}).one()
        if state is None:
            decoded = json.loads(bytes(last_state))
            decoded["note"] = FORGED
            state = json.dumps(decoded, separators=(",", ":")).encode()
        conn.execute(text("INSERT INTO ledger_events (id, originator_id, originator_version, "
                          "topic, state) VALUES (:i, :o, :v, :t, :s)"),
                     {"i": position, "o": stream, "v": version + step,
                      "t": topic or last_topic, "s": state})
        if seal is None:
            return
        at, role, hexed = conn.execute(text(
            "SELECT witnessed_at, witnessed_by, stream FROM ledger_chain WHERE position = :h"),
            {"h": head}).one()
        columns = {"position": position, "content": "0" * 64, "link": "1" * 64,
                   "previous": head, "witnessed_at": at, "witnessed_by": role,
                   "stream": hexed, **seal}
        names = ", ".join(columns)
        conn.execute(text(f"INSERT INTO ledger_chain ({names}) VALUES "
                          f"({', '.join(':' + n for n in columns)})"), columns)


def change_rows(db: str) -> dict[int, tuple[str, str]]:
    """The change log: each position's (recorded_at, db_role)."""
    engine = create_engine(normalise_url(db))
    try:
        with engine.connect() as conn:
            return {int(seq): (str(at), str(role)) for seq, at, role in conn.execute(text(
                "SELECT seq, recorded_at, db_role FROM proj_changes ORDER BY seq"))}
    finally:
        engine.dispose()


def library_mapper() -> Mapper[UUID]:
    """The library's own mapper and `json` transcoder with the ledger's transcodings."""
    return Mapper(transcoder=OLD)


def outcome(decode: Any, record: EventRecord | StoredEvent) -> tuple[Any, ...]:
    """What decoding gives: the event's class and each attribute with its type, or the
    failure's kind."""
    try:
        event = decode(record)
    except Exception as exc:  # the kind of failure is what is compared
        return ("error", type(exc).__name__)
    return ("ok", type(event), sorted((k, type(v), repr(v)) for k, v in vars(event).items()))


# --- 1. the raw read against iter_sealed ----------------------------------------------------


def test_the_raw_read_gives_what_iter_sealed_gave_around_forged_rows(ledger: Cli) -> None:
    """Two rows the owner appends with seals of other roles (one time, roles "mallory" and
    "eve"), a gap in the ids, then a row with no seal: `iter_witnessed` gives each row and
    witness exactly as `iter_sealed` does (None for the unsealed row), for every batch size
    and window; a rebuild applies the two forged rows, each with its own role (no witness
    reused across roles), and stops before the unsealed one, naming it."""
    db = ledger.db
    head = head_of(db)
    drop_guards(db)
    append(db, position=head + 1, seal={"witnessed_by": "mallory"})
    append(db, position=head + 5, seal={"witnessed_by": "eve", "previous": head + 1})
    append(db, position=head + 9)
    services = bootstrap(db)
    try:
        engine = services.ledger.app.engine
        for after, stop in ((0, head + 9), (head - 3, head + 9), (head, head + 5), (7, 7)):
            for batch in (1, 2, 3, 500, 5000):
                old = [(record, stamp.witness if stamp else None)
                       for record, stamp in iter_sealed(engine, after, stop, batch)]
                assert list(iter_witnessed(engine, after, stop, batch)) == old, \
                    (after, stop, batch)
        tail = {r.position: (w.role if w else None)
                for r, w in iter_witnessed(engine, head, head + 9, 2)}
        assert tail == {head + 1: "mallory", head + 5: "eve", head + 9: None}
        with pytest.raises(TamperedError, match=f"position {head + 9} .* outside the hash "
                                                 f"chain"):
            services.projector.rebuild(batch=7)
    finally:
        services.close()
    rows = change_rows(db)
    assert max(rows) == head + 5
    assert rows[head + 1][1] == "mallory"
    assert rows[head + 5][1] == "eve"
    assert rows[head + 1][0] == rows[head][0]  # the forged seals copied the last time


@POSTGRES
def test_the_raw_read_leaves_no_transaction_open(prepared: Prepared, tmp_path: Path) -> None:
    """On PostgreSQL the raw cursor's read, even abandoned between two batches, leaves its
    pooled connection idle (rolled back), not idle in a transaction holding a snapshot."""
    with prepared.copy(september, "postgres", tmp_path) as cli:
        services = bootstrap(cli.db)
        try:
            engine = services.ledger.app.engine
            rows = iter_witnessed(engine, 0, 10**9, 100)
            taken = [next(rows) for _ in range(150)]
            assert [r.position for r, _w in taken] == list(range(1, 151))
            states = scalar(cli.db, "SELECT string_agg(state, ',') FROM pg_stat_activity "
                                    "WHERE datname = current_database() AND "
                                    "pid <> pg_backend_pid()")
            assert "in transaction" not in str(states), states
            rows.close()  # type: ignore[attr-defined]  # a generator
        finally:
            services.close()


# --- 2. the fast decoding against the library's mapper ---------------------------------------


def test_every_stored_event_decodes_as_the_librarys_mapper_decodes_it(ledger: Cli) -> None:
    """Every event of the September edition: `LedgerApp.decode` (the fast path) gives the
    library mapper's event, class, attribute values and their types (dates, UUIDs, texts);
    so do hostile variants of one: `class_version` in its state (1, 2, a text), its own
    `originator_id`/`originator_version` in the state, an empty state, a list, null, JSON
    that is not, an unknown topic, a topic that is not an event (`builtins:dict`), and a
    text stream id; failures have the same kind."""
    services = bootstrap(ledger.db)
    try:
        app = services.ledger.app
        mapper = library_mapper()

        def library(record: EventRecord) -> Any:
            return mapper.to_domain_event(StoredEvent(record.originator_id, record.version,
                                                      record.topic, record.state))

        records = [r for r, _w in iter_witnessed(app.engine, 0, head_of(ledger.db), 5000)]
        assert len(records) > 400
        for record in records:
            assert outcome(app.decode, record) == outcome(library, record)
        last = records[-1]
        body = last.state[:-1]
        hostile = [
            EventRecord(9, last.originator_id, 99, last.topic, body + b',"class_version":1}'),
            EventRecord(9, last.originator_id, 99, last.topic, body + b',"class_version":2}'),
            EventRecord(9, last.originator_id, 99, last.topic, body + b',"class_version":"1"}'),
            EventRecord(9, last.originator_id, 99, last.topic,
                        body + b',"originator_id":"x","originator_version":1}'),
            EventRecord(9, last.originator_id, 99, last.topic, b"{}"),
            EventRecord(9, last.originator_id, 99, last.topic, b"[1]"),
            EventRecord(9, last.originator_id, 99, last.topic, b"null"),
            EventRecord(9, last.originator_id, 99, last.topic, b"{not json"),
            EventRecord(9, last.originator_id, 99, last.topic,
                        b'{"_type_":"date_iso","_data_":"2020-01-01"}'),
            EventRecord(9, last.originator_id, 99, "ledger.events:NoSuchEvent", last.state),
            EventRecord(9, last.originator_id, 99, "builtins:dict", last.state),
            EventRecord(9, last.originator_id.hex, 99, last.topic, last.state),  # type: ignore[arg-type]
        ]
        for record in hostile:
            mine = outcome(app.mapper.to_domain_event, StoredEvent(
                record.originator_id, record.version, record.topic, record.state))
            theirs = outcome(library, record)
            assert mine == theirs, record
    finally:
        services.close()


@pytest.mark.parametrize(("state", "topic", "kind"), [
    (b"{not json", None, "MapperDeserialisationError"),
    (b"[1, 2]", None, "TypeError"),
    (None, "ledger.events:NoSuchEvent", "TopicError"),
    (None, "builtins:dict", "TypeError"),
    (b"{}", None, "AttributeError"),  # decodes, but holds none of the event's fields
])
def test_a_sealed_row_that_is_no_event_stops_the_runner_naming_it(
        ledger: Cli, state: bytes | None, topic: str | None, kind: str) -> None:
    """A row the owner appends with a forged seal, whose state or topic is no ledger event:
    `projections rebuild` stops before it (exit 1) naming its position and the library's kind
    of failure, as before; the row is not in the change log; `ledger verify`
    names the position (exit 1), no traceback."""
    db = ledger.db
    head = head_of(db)
    drop_guards(db)
    append(db, position=head + 1, state=state, topic=topic, seal={})
    done = run(db, "projections", "rebuild")
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"position {head + 1}" in done.stderr, done.stderr
    assert f"({kind})" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert head + 1 not in change_rows(db)  # the batch holding it is rolled back
    checked = run(db, "verify")
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert f"position {head + 1}" in checked.stderr, checked.stderr
    assert "Traceback" not in checked.stderr


# --- 3. seals whose other columns the store never writes so ----------------------------------


def test_a_seal_whose_previous_is_no_position_keeps_its_row_out(tmp_path: Path,
                                                                prepared: Prepared) -> None:
    """Finding 1: on SQLite the owner appends 1 row with a chain row whose `previous` is the
    text 'abc' (SQLite keeps a text in an integer column). Before 2433d0e a rebuild stopped
    there by accident (ValueError building its Seal); the runner's raw read took only the
    witness and applied the row as witnessed by the store. A seal the store cannot have
    written now stops the runner before its row, naming it as malformed."""
    with prepared.copy(september, "sqlite", tmp_path) as cli:
        head = head_of(cli.db)
        drop_guards(cli.db)
        append(cli.db, position=head + 1, seal={"previous": "abc"})
        assert scalar(cli.db, "SELECT typeof(previous) FROM ledger_chain WHERE position = "
                              ":p", {"p": head + 1}) == "text"
        done = run(cli.db, "projections", "rebuild")
        assert head + 1 not in change_rows(cli.db), done.stdout + done.stderr
        assert done.returncode == 1, done.stdout + done.stderr
        assert f"the seal at position {head + 1} is malformed" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr


def test_verify_names_a_seal_whose_previous_is_no_position(tmp_path: Path,
                                                           prepared: Prepared) -> None:
    """Finding 3 (older than 2433d0e): with that chain row, `ledger verify` ended in a
    traceback (ValueError: invalid literal for int()), as `projections run` did reading the
    item's stream back (`stream_sealed`); it now exits 1 naming position head + 1."""
    with prepared.copy(september, "sqlite", tmp_path) as cli:
        head = head_of(cli.db)
        drop_guards(cli.db)
        append(cli.db, position=head + 1, seal={"previous": "abc"})
        done = run(cli.db, "verify")
        assert "Traceback" not in done.stderr, done.stderr[-600:]
        assert done.returncode == 1, done.stdout + done.stderr
        assert f"position {head + 1}" in done.stderr, done.stderr


@POSTGRES
def test_a_seal_without_a_witnessed_time_now_stops_the_runner(prepared: Prepared,
                                                              tmp_path: Path) -> None:
    """Finding 2: on PostgreSQL the owner drops the NOT NULL of the chain's `witnessed_at`
    and seals an appended row with no time. Before 2433d0e a rebuild applied it (its
    recorded time the text "None"); the runner now stops before it, naming the seal as
    malformed (it is in the chain, with no time), and `ledger verify` names it."""
    with prepared.copy(september, "postgres", tmp_path) as cli:
        db = cli.db
        head = head_of(db)
        drop_guards(db)
        with connect(db) as conn:
            conn.execute(text("ALTER TABLE ledger_chain ALTER COLUMN witnessed_at DROP NOT "
                              "NULL"))
        append(db, position=head + 1, seal={"witnessed_at": None})
        assert postgres(db)
        done = run(db, "projections", "rebuild")
        assert done.returncode == 1, done.stdout + done.stderr
        assert f"position {head + 1}" in done.stderr, done.stderr
        assert "is malformed" in done.stderr, done.stderr
        assert max(change_rows(db)) == head
        checked = run(db, "verify")
        assert checked.returncode == 1, checked.stdout + checked.stderr
        assert f"position {head + 1}" in checked.stderr, checked.stderr


def test_a_state_stored_as_text_is_named_not_a_traceback(tmp_path: Path,
                                                        prepared: Prepared) -> None:
    """On SQLite the owner appends a sealed row whose state is TEXT (the column takes it),
    where the ledger writes bytes: `projections rebuild` stops there, naming the position
    (exit 1), with the rows before it applied; `ledger verify` names it too; no traceback."""
    with prepared.copy(september, "sqlite", tmp_path) as cli:
        head = head_of(cli.db)
        drop_guards(cli.db)
        append(cli.db, position=head + 1, seal={})
        with connect(cli.db) as conn:
            conn.execute(text("UPDATE ledger_events SET state = CAST(state AS TEXT) "
                              "WHERE id = :p"), {"p": head + 1})
        assert scalar(cli.db, "SELECT typeof(state) FROM ledger_events WHERE id = :p",
                      {"p": head + 1}) == "text"
        done = run(cli.db, "projections", "rebuild")
        assert done.returncode == 1, done.stdout + done.stderr
        assert f"position {head + 1} holds its state as str" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
        assert max(change_rows(cli.db)) == head
        checked = run(cli.db, "verify")
        assert checked.returncode == 1, checked.stdout + checked.stderr
        assert f"position {head + 1}" in checked.stderr, checked.stderr
        assert "Traceback" not in checked.stderr
