"""Attack round 9: the PostgreSQL roles of scripts/pg_roles.sql against the guards' triggers,
the writers' advisory lock and the runner's LISTEN. PostgreSQL only: each attack is made by
the writer, the projector or the auditor on a copy of the ledger holding the September 2018
edition (tests/integrity/conftest.py's template, with the three roles applied).

Held (no defect found): as each role, `SET session_replication_role = replica` (the triggers
off), `CREATE OR REPLACE FUNCTION` of a guard's own function, a function of the same name as
one the guards call (`public.now()`) or a table in `public`, `CREATE SCHEMA` (a schema earlier
in `search_path`), `LOCK TABLE ... IN EXCLUSIVE MODE`, `INSERT ... ON CONFLICT DO UPDATE` on a
seal, `ALTER TABLE ... DISABLE TRIGGER` of one guard, `setval` on the events' old sequence, are
all refused; a re-inserted seal with `ON CONFLICT DO NOTHING` is refused by the witness check;
`NOTIFY ledger_events` with hostile payloads (SQL, 8000 bytes, a position far ahead) sent by
the writer and the auditor while `ledger projections run` follows (as the projector) only
wakes it: it applies nothing, skips nothing, and the next real write is applied and verifies;
`--read-only` on a SQLite path that holds no file creates none (not even for `verify`). The
id and seal guards' bypass below is named by `ledger verify` (*inserted*), so it breaks the
database's refusal, not the chain.

Found:
1. The writer chooses an event's id. The guards' PL/pgSQL functions
   (`ledger_events_assign_id`, `ledger_chain_witness`, `src/ledger/store/guards.py`
   `_postgres_rules`) name `ledger_events` unqualified and have no `SET search_path`, and
   PostgreSQL looks a relation up in the session's temporary schema first. Every role may
   make temporary tables (`TEMPORARY` on the database is PUBLIC's by default and
   `scripts/pg_roles.sql` does not revoke it). So the writer runs `CREATE TEMP TABLE
   ledger_events (id bigint, originator_id uuid)`, puts a row with id 999,999,999 in it and
   `INSERT INTO public.ledger_events ...`: the trigger's `MAX(id) + 1` reads the temporary
   table, and the event is stored at id 10^9. The README promises "only the database number
   events (the next id, no gaps: an explicit id is refused)" and RELIABILITY's table says the
   database refuses an event at 10^9; `test_postgres_the_writer_cannot_choose_an_id` only
   tried an explicit id. `ledger verify` still names the row (*inserted*). Fix: schema-qualify
   every table in the guards' functions (`public.ledger_events`, or the schema `init` made
   them in) and give each function `SET search_path = pg_catalog, pg_temp` (pg_temp last),
   re-made by `ledger init` (and named by `missing_guards`/`verify` where an old body is
   found); and `REVOKE TEMPORARY ON DATABASE ... FROM PUBLIC` in `scripts/pg_roles.sql`.
   Fixed as suggested: the functions name `<schema>.ledger_events` and run with `SET
   search_path = pg_catalog, pg_temp`; `missing_guards` names a function without it (verify
   exits 2, `init` re-makes it); pg_roles.sql revokes TEMPORARY (the tests give it back to
   attack the functions themselves, and check every role is refused a temporary table).
2. The writer squats the next seal position, and every write is blocked for good. By the same
   temporary table holding a row (next position, any stream), `ledger_chain_witness` finds
   "its event", and a seal with no event is stored at the next position, witnessed correctly
   (the server's clock, the writer's role). From then on every write (any role, the owner's
   too) exits 1 ("a seal with no event at position N ... blocks this write") and, the seal
   being immutable, only the owner dropping the guards can ever clear it. RELIABILITY says
   such a seal is refused by the database ("a seal squatting the next position: yes"); a role
   meant only to append can stop the ledger. Same fix as 1 (fixed with it).
3. Any role stalls every writer without end. Writers serialise on
   `pg_advisory_xact_lock(0x1ED6E5)` (`src/ledger/store/chain.py`
   `ChainedRecorder._lock_table`), with no lock or statement timeout. Advisory locks need no
   privilege: the auditor (SELECT only) runs `SELECT pg_advisory_lock(2021093)` and keeps its
   session open; every `ledger update`, `import` and `correct` then waits forever, saying
   nothing (a 15 s run here is killed still waiting). The README gives the auditor "SELECT
   only"; a reader must not be able to stop the ledger recording. Fix: serialise writers on a
   lock only the writer role can take (e.g. `SELECT ... FOR UPDATE` of a one-row table on
   which only the writer has UPDATE, granted by `pg_roles.sql`), or at least `SET LOCAL
   lock_timeout` before the advisory lock and fail in one line naming the session holding it
   (`pg_locks` joined to `pg_stat_activity`).
   Fixed: writers lock an empty table of their own, `ledger_write_lock` (made by `ledger
   init`), in EXCLUSIVE mode; `pg_roles.sql` grants the writer UPDATE on it, which that lock
   needs, and no other role more than SELECT, whose lock does not conflict with it. A ledger
   without the table (an older version's) keeps the advisory lock until `init`, and `verify`
   asks for it; a writer without the grant is told in one line to run the script again.
4. `ledger verify` accepts a gap in the positions. Through finding 1 the writer stores an event
   at the head + 2 (nothing at the head + 1) and seals it well-formed after the head (the
   public algorithm, `previous` = the head, its own witness): `verify` says "intact: 482
   events, head at position 483", and a later real write verifies too. The README states
   "previous is the position of the event before ...; positions have no gaps". Nothing is
   hidden by the gap itself (filling it later is named, though as *missing* at the position
   after it), but the stated invariant is not checked. Fix: in the chain walk of `ledger
   verify` (and `proof.py`'s, for packs), name a seal whose `previous` is not its position
   minus one (*version-gap*/*missing* at the first absent position). Minor. Fixed: `verify`
   names *position-gap* at the event after the gap, and both pack verifiers say "there is no
   position N" (`tests/integrity/test_events.py`, `tests/e2e/test_pack_forgery.py`).
"""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ledger.store.chain import WRITE_LOCK
from ledger.store.guards import PG_CLOCK, WRITE_LOCK_TABLE
from tests.integrity.attack import (
    CHAIN,
    EVENTS,
    SEAL_COLUMNS,
    connect,
    count,
    event,
    execute,
    intact,
    ledger,
    names,
    stream_hex,
    tampered,
)
from tests.integrity.conftest import (  # noqa: F401 - fixtures used by name
    AUDITOR,
    HEAD,
    PROJECTOR,
    WRITER,
    Templates,
    apply_roles,
    as_role,
    copy_of_template,
    templates,
)

POSTGRES = pytest.mark.postgres
LEDGER = str(Path(sys.executable).parent / "ledger")
DENIED = r"permission denied|must be owner"
UPDATE = ("update", "1.1", "Group leaders met again", "--month", "2018-09")
CLOCK = PG_CLOCK.format(clock="clock_timestamp()")


@pytest.fixture
def pgl(templates: Templates, tmp_path: Path) -> Iterator[str]:  # noqa: F811 - the fixture
    """A copy of the built ledger (September 2018, the three roles) on PostgreSQL."""
    with copy_of_template("postgres", templates, tmp_path) as copy:
        yield copy


def _shadow(conn: object, owner_url: str, position: int, stream: uuid.UUID) -> None:
    """In this session, a temporary table `ledger_events` (found before public's where the
    search path leaves the temporary schema out) holding one row. `scripts/pg_roles.sql`
    takes TEMPORARY from every role; it is given back here, as an owner who skipped that line
    would leave it, to attack the rules' functions themselves."""
    run = conn.execute  # type: ignore[attr-defined]
    database = str(run(text("SELECT current_database()")).scalar_one())
    execute(owner_url, f'GRANT TEMPORARY ON DATABASE "{database}" TO PUBLIC')
    run(text("CREATE TEMP TABLE ledger_events (id bigint, originator_id uuid)"))
    run(text("INSERT INTO pg_temp.ledger_events VALUES (:p, :s)"), {"p": position, "s": stream})


def _shadowed_insert(pg_url: str) -> tuple[int, dict[str, object]]:
    """As the writer: an event stored through the temporary table; its id and its columns."""
    forged = {**event(pg_url, 100), "originator_version": 999}
    with connect(as_role(pg_url, WRITER)) as conn:
        _shadow(conn, pg_url, 10**9 - 1, uuid.uuid4())
        position = int(conn.execute(text(
            f"INSERT INTO public.{EVENTS} (originator_id, originator_version, topic, state) "
            "VALUES (:originator_id, :originator_version, :topic, :state) RETURNING id"),
            forged).scalar_one())
    return position, forged


def _squat(pg_url: str) -> None:
    """As the writer: a seal with no event at the next position, through the temporary
    table, witnessed as the guard wants (the server's clock, the writer's role)."""
    stream = uuid.uuid4()
    with connect(as_role(pg_url, WRITER)) as conn:
        _shadow(conn, pg_url, HEAD + 1, stream)
        conn.execute(text(f"INSERT INTO public.{CHAIN} ({SEAL_COLUMNS}) VALUES "
                          f"(:p, :h, :h, :prev, {CLOCK}, session_user, :s)"),
                     {"p": HEAD + 1, "h": "a" * 64, "prev": HEAD, "s": stream.hex})


# --- 1. the writer chooses an event's id ----------------------------------------------------

@POSTGRES
def test_postgres_the_writer_cannot_choose_an_id_through_a_temporary_table(pgl: str) -> None:
    """The database numbers events: a temporary `ledger_events` of the writer's holding id
    10^9 - 1 does not change that (the rules' functions name the table with its schema and run
    with the temporary schema last). The row lands at the next id, unsealed, and `verify`
    names it *inserted* there."""
    position, forged = _shadowed_insert(pgl)
    assert position == HEAD + 1
    names(tampered(as_role(pgl, AUDITOR), "--events-only"), HEAD + 1, "inserted",
          stream_hex(forged["originator_id"]), 999)


@POSTGRES
def test_postgres_rules_an_older_version_made_are_sent_to_init(pgl: str) -> None:
    """Rules' functions as an older version made them (no pinned search path; the owner resets
    it here): `verify` names them and says to run `ledger init` (exit 2, no verdict); `init`
    re-makes them and says so; the temporary-table attack then fails and the ledger
    verifies intact."""
    for function in ("ledger_events_assign_id", "ledger_chain_witness"):
        execute(pgl, f"ALTER FUNCTION {function}() RESET search_path")
    _, out = ledger(as_role(pgl, AUDITOR), "verify", "--events-only", code=2)
    assert ("ledger_events_assign_id() with a pinned search path, ledger_chain_witness() with "
            "a pinned search path") in out, out
    assert "run `ledger init`" in out, out
    _, said = ledger(pgl, "init")
    assert "added the guards this version installs that the database lacked" in said, said
    with pytest.raises(DBAPIError, match="no event of stream"):
        _squat(pgl)
    intact(as_role(pgl, AUDITOR))


@POSTGRES
@pytest.mark.parametrize("role", [WRITER, PROJECTOR, AUDITOR])
def test_postgres_no_role_may_make_a_temporary_table(pgl: str, role: str) -> None:
    """`scripts/pg_roles.sql` takes TEMPORARY from PUBLIC: no role can make a table that a
    search path leaving the temporary schema out would find before the ledger's."""
    with pytest.raises(DBAPIError, match="permission denied"), \
            connect(as_role(pgl, role)) as conn:
        conn.execute(text("CREATE TEMP TABLE ledger_events (id bigint)"))


# --- 2. the writer squats the next seal position ----------------------------------------------

@POSTGRES
def test_postgres_the_writer_cannot_squat_the_next_seal(pgl: str) -> None:
    """A seal without its event is refused by the database, so writes go on. (The owner's
    squat, the guards dropped, is named and blocks writes: tests/integrity/test_chain.py.)"""
    with pytest.raises(DBAPIError, match="no event of stream"):
        _squat(pgl)
    ledger(as_role(pgl, WRITER), *UPDATE)
    intact(as_role(pgl, AUDITOR), "--events-only")


# --- 4. verify accepts a gap in the positions ----------------------------------------------

@POSTGRES
def test_postgres_the_writer_cannot_leave_a_gap_in_the_positions(pgl: str) -> None:
    """A temporary `ledger_events` holding the next id does not make the database skip it:
    the writer's row lands at the next id (the owner's gap, the guards dropped, is named
    *position-gap*: tests/integrity/test_events.py)."""
    forged = event(pgl, 300)
    with connect(as_role(pgl, WRITER)) as conn:
        _shadow(conn, pgl, HEAD + 1, uuid.uuid4())
        position = int(conn.execute(text(
            f"INSERT INTO public.{EVENTS} (originator_id, originator_version, topic, state) "
            "VALUES (:originator_id, :originator_version, :topic, :state) RETURNING id"),
            {**forged, "originator_version": 999}).scalar_one())
    assert position == HEAD + 1


# --- 3. any role stalls every writer ---------------------------------------------------------

@POSTGRES
def test_postgres_the_auditor_cannot_stall_the_writers(pgl: str) -> None:
    """A write while the auditor holds the old advisory key and, in an open transaction, has
    read the writers' lock table is written: writers lock `ledger_write_lock` EXCLUSIVE,
    which a SELECT's lock does not block, and no longer wait for the advisory key."""
    import psycopg  # noqa: PLC0415 - the driver the ledger uses on PostgreSQL

    holder = psycopg.connect(as_role(pgl, AUDITOR).replace("+psycopg", ""), autocommit=True)
    reader = psycopg.connect(as_role(pgl, AUDITOR).replace("+psycopg", ""))
    try:
        holder.execute("SELECT pg_advisory_lock(%s)", (WRITE_LOCK,))
        reader.execute(f"SELECT * FROM {WRITE_LOCK_TABLE}").fetchall()  # its lock is held
        try:
            done = subprocess.run([LEDGER, "--db", as_role(pgl, WRITER), *UPDATE],
                                  capture_output=True, text=True, timeout=15, check=False,
                                  env={**os.environ, "LEDGER_ACTOR": "tester"})
        except subprocess.TimeoutExpired:
            pytest.fail("the write was still waiting for the auditor's lock after 15 s")
        assert done.returncode == 0, done.stderr
    finally:
        reader.close()
        holder.close()
    assert count(pgl) == HEAD + 1
    intact(as_role(pgl, AUDITOR), "--events-only")


@POSTGRES
@pytest.mark.parametrize("role", [PROJECTOR, AUDITOR])
@pytest.mark.parametrize("mode", ["ROW SHARE", "SHARE", "EXCLUSIVE", "ACCESS EXCLUSIVE"])
def test_postgres_only_the_writer_may_take_a_lock_that_blocks_writers(
        pgl: str, role: str, mode: str) -> None:
    """Every lock that would block the writers' EXCLUSIVE lock is refused to the projector and
    the auditor (and so is FOR SHARE / FOR UPDATE of the lock table's rows)."""
    as_it = as_role(pgl, role)
    with pytest.raises(DBAPIError, match=DENIED):
        execute(as_it, f"LOCK TABLE {WRITE_LOCK_TABLE} IN {mode} MODE")
    with pytest.raises(DBAPIError, match=DENIED):
        execute(as_it, f"SELECT * FROM {WRITE_LOCK_TABLE} FOR SHARE")


@POSTGRES
def test_postgres_a_writer_without_the_lock_right_is_told_what_to_run(pgl: str) -> None:
    """A writer role made by an older scripts/pg_roles.sql (no UPDATE on the lock table):
    the write is refused in one line naming the table and the script, nothing written."""
    execute(pgl, f"REVOKE UPDATE ON {WRITE_LOCK_TABLE} FROM {WRITER}")
    _, out = ledger(as_role(pgl, WRITER), *UPDATE, code=1)
    assert f"UPDATE on {WRITE_LOCK_TABLE}" in out, out
    assert "scripts/pg_roles.sql" in out, out
    assert "Traceback" not in out
    assert count(pgl) == HEAD


@POSTGRES
def test_postgres_a_ledger_without_the_lock_table_is_sent_to_init(pgl: str) -> None:
    """A ledger an older version made has no lock table: its writers keep the advisory lock
    meanwhile (a write works), `verify` says to run `ledger init` (exit 2), which makes it;
    with the roles' script run again the writer writes under the table's lock."""
    execute(pgl, f"DROP TABLE {WRITE_LOCK_TABLE}")
    ledger(as_role(pgl, WRITER), *UPDATE)
    _, out = ledger(as_role(pgl, AUDITOR), "verify", "--events-only", code=2)
    assert f"{WRITE_LOCK_TABLE} (the writers' lock)" in out, out
    _, said = ledger(pgl, "init")
    assert f"{WRITE_LOCK_TABLE} (the writers' lock)" in said, said
    apply_roles(pgl)
    ledger(as_role(pgl, WRITER), "update", "1.1", "Group leaders met a third time", "--month",
           "2018-09")
    assert count(pgl) == HEAD + 2
    intact(as_role(pgl, AUDITOR))


@POSTGRES
def test_postgres_init_names_a_session_that_keeps_the_schema_lock(
        pgl: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The schema lock `ledger init` takes is advisory (the tables may not exist yet), so any
    role can hold it: the auditor keeps it, and init waits a bounded time, then says in one
    line which session of which role holds it, making nothing."""
    import psycopg  # noqa: PLC0415

    from ledger.store import app  # noqa: PLC0415

    monkeypatch.setattr(app, "SCHEMA_LOCK_WAIT_S", 1)
    holder = psycopg.connect(as_role(pgl, AUDITOR).replace("+psycopg", ""), autocommit=True)
    try:
        holder.execute("SELECT pg_advisory_lock(%s)", (app.SCHEMA_LOCK,))
        pid = holder.info.backend_pid
        _, out = ledger(pgl, "init", code=2)
    finally:
        holder.close()
    assert f"session {pid} of role '{AUDITOR}' has held the ledger's schema lock" in out, out
    assert "nothing was made" in out
    assert "Traceback" not in out
    ledger(pgl, "init")  # once it is let go
    intact(as_role(pgl, AUDITOR))


@POSTGRES
def test_postgres_a_query_is_not_stalled_by_the_writers_lock(pgl: str) -> None:
    """Held: the lock stalls writes only; queries (as the auditor) answer."""
    import psycopg  # noqa: PLC0415

    holder = psycopg.connect(as_role(pgl, AUDITOR).replace("+psycopg", ""), autocommit=True)
    try:
        holder.execute("SELECT pg_advisory_lock(%s)", (WRITE_LOCK,))
        done = subprocess.run([LEDGER, "--db", as_role(pgl, AUDITOR), "history", "1.1"],
                              capture_output=True, text=True, timeout=60, check=False,
                              env={**os.environ, "LEDGER_ACTOR": "tester"})
        assert done.returncode == 0, done.stderr
    finally:
        holder.close()


# --- held: what no role but the owner may do --------------------------------------------------

ROLE_ATTACKS = (
    "SET session_replication_role = replica",
    "CREATE OR REPLACE FUNCTION ledger_events_assign_id() RETURNS trigger LANGUAGE plpgsql "
    "AS $$ BEGIN RETURN NEW; END $$",
    "CREATE OR REPLACE FUNCTION ledger_chain_witness() RETURNS trigger LANGUAGE plpgsql "
    "AS $$ BEGIN RETURN NEW; END $$",
    "CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE sql "
    "AS $$ SELECT '2001-01-01'::timestamptz $$",
    "CREATE TABLE public.ledger_shadow (id bigint)",
    "CREATE SCHEMA shadow",
    f"LOCK TABLE {EVENTS} IN EXCLUSIVE MODE",
    f"INSERT INTO {CHAIN} SELECT * FROM {CHAIN} WHERE position = 5 "
    "ON CONFLICT (position) DO UPDATE SET link = 'x'",
    f"ALTER TABLE {EVENTS} DISABLE TRIGGER ledger_events_assign_id",
    f"ALTER TABLE {CHAIN} DISABLE TRIGGER ledger_chain_witness",
    "SELECT setval('ledger_events_id_seq', 5)",
)


@POSTGRES
@pytest.mark.parametrize("role", [WRITER, PROJECTOR, AUDITOR])
def test_postgres_no_role_can_switch_off_or_replace_a_guard(pgl: str, role: str) -> None:
    as_it = as_role(pgl, role)
    for statement in ROLE_ATTACKS:
        with pytest.raises(DBAPIError, match=DENIED):
            execute(as_it, statement)
    if role == WRITER:  # the writer may INSERT: the witness check refuses the old seal
        with pytest.raises(DBAPIError, match="this session's role"):
            execute(as_it, f"INSERT INTO {CHAIN} SELECT * FROM {CHAIN} WHERE position = 5 "
                           "ON CONFLICT DO NOTHING")
    assert count(pgl) == HEAD
    assert count(pgl, CHAIN) == HEAD
    intact(as_role(pgl, AUDITOR))


# --- held: hostile NOTIFYs to the runner -----------------------------------------------------

def _next_line(runner: subprocess.Popen[str], seconds: float) -> str | None:
    """The runner's next line on stderr, or None after `seconds`."""
    assert runner.stderr is not None
    with selectors.DefaultSelector() as selector:
        selector.register(runner.stderr, selectors.EVENT_READ)
        if not selector.select(seconds):
            return None
    return runner.stderr.readline()


@POSTGRES
def test_postgres_hostile_notifies_neither_skip_nor_forge_rows(pgl: str) -> None:
    """NOTIFYs from the writer and the auditor, with hostile payloads, while the projector's
    runner follows: it applies nothing for them, and the next real write is applied."""
    ledger(as_role(pgl, WRITER), *UPDATE)  # so that the runner's start applies one event
    runner = subprocess.Popen(
        [LEDGER, "--db", as_role(pgl, PROJECTOR), "projections", "run", "--poll", "600",
         "--verbose"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "LEDGER_ACTOR": "tester"})
    try:
        said = _next_line(runner, 60)
        assert said is not None, "the runner said nothing"
        assert said.endswith("(woken by start)\n"), said
        for role in (WRITER, AUDITOR):
            with connect(as_role(pgl, role)) as conn:
                for payload in ("999999999", "'; DELETE FROM proj_items; --", "x" * 7999,
                                "\x1b]0;owned\x07", "-1"):
                    conn.execute(text("SELECT pg_notify('ledger_events', :p)"), {"p": payload})
        said = _next_line(runner, 3)
        assert said is None, said  # woken, but nothing to apply: nothing said
        assert runner.poll() is None  # still following
        ledger(as_role(pgl, WRITER), "update", "1.2", "Scrutiny met", "--month", "2018-09")
        said = _next_line(runner, 60)
        assert said is not None, "the runner did not apply the real write"
        assert said == f"applied 1 events to position {HEAD + 2} (woken by notify)\n", said
    finally:
        runner.terminate()
        runner.wait()
    auditor = as_role(pgl, AUDITOR)
    intact(auditor)
    _, out = ledger(auditor, "projections", "status")
    assert "lag" in out


# --- held: read-only on SQLite writes no file ------------------------------------------------

@pytest.mark.parametrize("command", [("plan",), ("verify",), ("projections", "status")])
def test_read_only_on_a_path_with_no_ledger_creates_no_file(tmp_path: Path,
                                                             command: tuple[str, ...]) -> None:
    path = tmp_path / "none.db"
    code, out = ledger(f"sqlite:///{path}", "--read-only", *command, code=None)
    assert code == 2, out
    assert "no ledger" in out
    assert list(tmp_path.iterdir()) == []
