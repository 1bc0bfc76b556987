"""Attack round 11: today's fixes (position gaps, pinned search paths, the writers' lock table,
blame's `_stated`, restatements keyed by an update's words, empty date options) attacked.

Held (no defect found):
- `ledger verify` names a chain whose first event is at position 2 (*position-gap* at 2), and a
  gap combined with a deleted head event (tampered, exit 1).
- Both pack verifiers refuse a gap right after the pack's anchor ("there is no position"), and a
  genuine pack whose plan's first event is far into the chain (another plan recorded first) is
  intact for both.
- PostgreSQL: with TEMPORARY given back, a writer's `pg_temp.replace(text, text, text)` (the
  witness rule's call) changes nothing: functions are never looked up in the temporary schema,
  and the rule's search path puts `pg_catalog` first; the squat is still refused.
- PostgreSQL: while a writer waits on nothing, the auditor and the projector, each in a
  transaction left open, try `LOCK ... IN ROW SHARE/SHARE UPDATE EXCLUSIVE/SHARE MODE`, `SELECT
  ... FOR KEY SHARE`, `COMMENT ON TABLE`, `ANALYZE`, `CREATE INDEX`, `TRUNCATE`, `ALTER TABLE`,
  `VACUUM` and `PREPARE TRANSACTION` on `ledger_write_lock`: each is refused (or, for
  `ANALYZE`, skipped) and none keeps a lock that stops a write.
- `--as-of " "`, `--known-at " "`, `snapshots --from " "`, `changes --since " "`, `restatements
  --month ""`/`" "`, `update --month " "`/`--effective " "`, `target ... " "` are refused (exit
  2).

Not finished (no test): `ledger init` on a ledger in a non-public schema; two writers of which
one cached "no lock table" (read: `_lock_table_made` is re-checked until true, so only a write
in flight while `init` commits can take the old key; a clash then fails on the id's unique key,
not out of order). Noted, not attacked: `missing_guards` looks triggers up in `pg_trigger` by
name only, and `_ids_numbered_by_postgres` reads `information_schema.columns` by table name
only: another schema's ledger in the same database would answer for this one.

Findings:

1. `restatements` no longer shows a corrected update whose meaning changed but whose "words"
   did not. `facts` (projections/restatements.py) compares an update by `[month] words`, where
   `words` is `update_identity(text)`: case, punctuation, every bracketed group holding
   "update" or a year, and the markers "COMPLETE"/"Complete." are folded away. So `correct
   1.3@27 --text` that removes the September update's "COMPLETE", or adds "(postponed to March
   2019)", restates what was reported for September (plan and history show the new text), yet
   `restatements --month 2018-09` lists no row for the update (before e028c34 it did: it
   compared the text). Repro: test_a_corrected_update_text_is_a_restatement. Breaks:
   `restatements` "one row per fact that changed afterwards ... each progress update".
   Severity: medium (an auditor is not told a reported completion was withdrawn by a later
   correction). Fix: in `facts`, keep the *key* by words (so re-wordings of tags by another
   edition pair up) but compare the text as well when the later event is not an edition's
   repetition, e.g. compare `[month] words` only between events of different editions and
   `[month] text` otherwise; or simply compare `(month, words, corrected text)` where the
   update's UpdateState was replaced by a `correct` (`ItemState.corrected` names it).
   Fixed the second way: a corrected update is compared by its text as well.
2. `update --month ""` and `complete --month ""` record for the effective date's month (today's
   month by default) instead of exit 2: `services.record_update`/`complete` do `month = month
   or month_of(prov.effective)`. Round 10 refused the empty string for every query date and
   `--effective`; a script's unset `$MONTH` still writes an update dated this month, a fact in
   the immutable ledger. `--month " "` is refused, so "" and " " disagree. Repro:
   test_an_empty_month_is_refused_by_the_writes. Breaks "an invalid date must exit 2 with a
   clear message". Severity: low-medium (a wrong, permanent event; `correct` can amend it).
   Fix: `src/ledger/application/services.py` `record_update`/`complete`: `if month is None`
   (and let `parse_month` refuse ""), or in `src/ledger/cli/write.py` refuse "" for `--month`.
   Fixed the first way.
3. PostgreSQL: a reader plus the `ledger init` that `verify` asks for stalls every writer. On a
   ledger missing a guard (an older version's: no `ledger_write_lock`, or a function without the
   pinned path), `install_guards` re-runs every statement, among them `ALTER TABLE ledger_events
   ALTER COLUMN id DROP DEFAULT` (ACCESS EXCLUSIVE). If the auditor has any transaction open
   that read the events (a long export, an idle session), `init` queues behind it, and every
   writer's INSERT queues behind `init`: writes wait, silently, as long as the auditor keeps
   its transaction. Repro: test_a_reader_and_init_do_not_stall_the_writers. Breaks the
   promise of round 9's fix (a SELECT-only role must not be able to stop recording).
   Severity: low (needs the owner's `init` at that moment, but `verify` asks for it).
   Fix: `src/ledger/store/guards.py` `install_guards`: `SET LOCAL lock_timeout = '5s'` on
   PostgreSQL and fail in one line naming the sessions holding the events table
   (`pg_locks`/`pg_stat_activity`), and run only the statements for what is missing (the
   `ALTER TABLE` only where the id still has a default). Fixed: both (the wait is 10 s, and
   `test_init_that_must_alter_the_events_names_the_reader_it_waited_for` holds it); the
   write in the repro now ends at once, refused in one line until the roles' script has
   granted the new lock table, then written.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ledger.domain.chain import EventRecord, seal
from tests.conftest import Cli, fresh_database
from tests.e2e.test_attacks_9 import LEDGER, POSTGRES, UPDATE, _squat, pgl
from tests.e2e.test_pack_forgery import (
    Council,
    council,
    lines,
    openssl,
    pack,
    rechain,
    reseal,
    run_verifier,
    write_lines,
)
from tests.editions import SEPTEMBER
from tests.integrity.attack import (
    CHAIN,
    EVENTS,
    connect,
    drop_guards,
    execute,
    insert_event,
    insert_seal,
    ledger,
    scalar,
    session_witness,
    stream_hex,
    tampered,
)
from tests.integrity.conftest import (
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

__all__ = ["council", "pack", "pgl", "templates"]  # fixtures used by name

PLAN = ("--plan", "cgip-2018")
ITEM_UPDATE = "1.3@27"  # the September edition's update of 1.3, "... (September Update) COMPLETE"


# --- the chain: position gaps ----------------------------------------------------------------

@pytest.fixture
def sqlite_url(templates: Templates, tmp_path: Path) -> Iterator[str]:
    with copy_of_template("sqlite", templates, tmp_path) as copy:
        yield copy


def _all_events(url: str) -> list[dict[str, Any]]:
    with connect(url) as conn:
        rows = conn.execute(text(f"SELECT id, originator_id, originator_version, topic, state "
                                 f"FROM {EVENTS} ORDER BY id")).all()
    return [dict(r._mapping) for r in rows]


def test_a_chain_starting_at_position_2_is_named_position_gap(sqlite_url: str) -> None:
    """Every event moved one on (nothing at 1) and the whole chain resealed from genesis with
    the public algorithm, the first seal following 0: *position-gap* at 2."""
    events = _all_events(sqlite_url)
    drop_guards(sqlite_url)
    with connect(sqlite_url) as conn:
        conn.execute(text(f"DELETE FROM {CHAIN}"))
        conn.execute(text(f"DELETE FROM {EVENTS}"))
        records = []
        for row in events:
            values = {k: v for k, v in row.items() if k != "id"}
            position = insert_event(conn, values, row["id"] + 1)
            stream = conn.execute(text(f"SELECT originator_id FROM {EVENTS} WHERE id = :p"),
                                  {"p": position}).scalar_one()
            records.append(EventRecord(position, _uuid(stream), int(row["originator_version"]),
                                       str(row["topic"]), bytes(row["state"])))
        for forged in seal(records, None, session_witness(conn)):
            insert_seal(conn, forged.position, forged.content, forged.link, forged.previous,
                        forged.witness, forged.stream)
    report = tampered(sqlite_url)
    assert report.startswith("position 2 "), report
    assert ": position-gap:" in report, report


def _uuid(stored: object) -> Any:
    from uuid import UUID  # noqa: PLC0415 - only here

    return UUID(stream_hex(stored))


def test_a_gap_with_the_head_event_deleted_is_tampered(sqlite_url: str) -> None:
    """The head event and its seal deleted, and an event sealed after the one before it but
    stored one past the old head: verify exits 1."""
    events = _all_events(sqlite_url)
    head, before = events[-1], events[-2]
    drop_guards(sqlite_url)
    with connect(sqlite_url) as conn:
        conn.execute(text(f"DELETE FROM {CHAIN} WHERE position = :p"), {"p": head["id"]})
        conn.execute(text(f"DELETE FROM {EVENTS} WHERE id = :p"), {"p": head["id"]})
        values = {k: v for k, v in head.items() if k != "id"}
        position = insert_event(conn, values, head["id"] + 1)
        previous = conn.execute(text(
            f"SELECT position, content, link, previous, witnessed_at, witnessed_by, stream "
            f"FROM {CHAIN} WHERE position = :p"), {"p": before["id"]}).one()
        from ledger.store.sealed import seal_of  # noqa: PLC0415 - only here

        record = EventRecord(position, _uuid(head["originator_id"]),
                             int(head["originator_version"]), str(head["topic"]),
                             bytes(head["state"]))
        [forged] = seal([record], seal_of(previous), session_witness(conn))
        insert_seal(conn, forged.position, forged.content, forged.link, forged.previous,
                    forged.witness, forged.stream)
    report = tampered(sqlite_url)
    assert f"position {head['id'] + 1} " in report or f"position {head['id']}" in report, report


def test_a_gap_right_after_the_anchor_fails_both_verifiers(council: Council,
                                                           pack: Path) -> None:
    """Every event after the anchor moved one position on (nothing at anchor + 1) and the chain
    recomputed: both verifiers say there is no such position."""
    chain, events = lines(pack / "chain.jsonl"), lines(pack / "events.jsonl")
    anchor = chain[0][0]
    assert events[0]["position"] == anchor + 1
    for row in chain[1:]:
        row[0] += 1
        row[1] = row[1] + 1 if row[1] > anchor else row[1]
    for event in events:
        event["position"] += 1
    write_lines(pack / "chain.jsonl", chain)
    rechain(pack, events)
    reseal(pack, council.key)
    out = council.cli("verify-pack", str(pack), "--key", str(council.public), code=1)
    assert "there is no position" in out, out
    code, said = run_verifier(council, pack, "--key", str(council.public))
    assert code == 1, said
    assert "there is no position" in said, said


def test_a_genuine_pack_of_a_plan_far_into_the_chain_is_intact(tmp_path: Path) -> None:
    """Another plan's history first (the September edition), then a plan registered after it,
    with an event of the first plan between two of its own, exported: its first event is
    hundreds of positions in; both verifiers accept it."""
    with fresh_database("sqlite", tmp_path) as url:
        cli = Cli(url)
        cli("init")
        cli("import", str(SEPTEMBER))
        later = ("--plan", "later-2019")
        cli("new-plan", "later-2019", "--title", "A later plan", "--effective", "2019-01-01")
        cli(*later, "add-theme", "1", "Leadership", "--effective", "2019-01-01")
        cli(*later, "add-item", "1.1", "--theme", "1", "--aim", "Stable groups",
            "--effective", "2019-01-01")
        cli(*later, "add-outcome", "1.1", "A report", "--due", "2019-03",
            "--effective", "2019-01-01")
        cli(*later, "update", "1.1", "Started", "--month", "2019-01", "--effective", "2019-01-31")
        cli(*PLAN, "update", "1.3", "Interleaved", "--month", "2018-10",
            "--effective", "2018-10-31")
        cli(*later, "update", "1.1", "Going on", "--month", "2019-02", "--effective", "2019-02-28")
        key, public = tmp_path / "k.pem", tmp_path / "k.pub.pem"
        openssl("genpkey", "-algorithm", "ed25519", "-out", str(key))
        openssl("pkey", "-in", str(key), "-pubout", "-out", str(public))
        out = tmp_path / "pack"
        cli(*later, "export", "--out", str(out), "--sign", str(key), "--no-pdf")
        first = lines(out / "events.jsonl")[0]["position"]
        assert first > HEAD, first
        assert lines(out / "chain.jsonl")[0][0] == first - 1
        said = cli("verify-pack", str(out), "--key", str(public), "--against-ledger")
        assert said.startswith("intact:"), said
        verifier = tmp_path / "trusted.py"
        shutil.copyfile(out / "verify_pack.py", verifier)
        done = subprocess.run(["/usr/bin/python3", "-I", str(verifier), str(out), "--key",
                               str(public)], capture_output=True, text=True, check=False,
                              timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr


# --- queries: restatements and empty dates -------------------------------------------------

@pytest.fixture
def september(tmp_path: Path) -> Cli:
    cli = Cli(f"sqlite:///{tmp_path / 'ledger.db'}")
    cli("init")
    cli("import", str(SEPTEMBER), "--by", "improvement.team")
    return cli


def _restated(cli: Cli) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(cli(*PLAN, "restatements", "--month", "2018-09",
                                                "--format", "json"))
    return rows


def _update_text(cli: Cli) -> str:
    rows = json.loads(cli(*PLAN, "history", "1.3", "--format", "json"))
    return str(next(r for r in rows if r["event"] == ITEM_UPDATE)["after"])


def test_a_corrected_update_text_with_other_words_is_a_restatement(september: Cli) -> None:
    """Held: a correction that changes the words is listed."""
    assert "COMPLETE" in _update_text(september)
    assert _restated(september) == []
    september(*PLAN, "correct", ITEM_UPDATE, "--text", "Paperless meetings postponed",
              "--note", "wrong update")
    rows = [r for r in _restated(september) if r["fact"] == "update" and r["item"] == "1.3"]
    assert rows, _restated(september)


@pytest.mark.parametrize("change", ["drop COMPLETE", "add a dated bracket"])
def test_a_corrected_update_text_is_a_restatement(september: Cli, change: str) -> None:
    """The September update of 1.3 said "... (September Update) COMPLETE"; corrected later to
    say it is not complete (or postponed to a date in brackets), what was reported for
    September is restated: `restatements --month 2018-09` must list the update."""
    original = _update_text(september)
    corrected = (original.replace(" COMPLETE", "") if change == "drop COMPLETE"
                 else original + " (postponed to March 2019)")
    assert corrected != original
    september(*PLAN, "correct", ITEM_UPDATE, "--text", corrected, "--note", "not so")
    assert corrected in september(*PLAN, "history", "1.3", "--format", "json")
    rows = [r for r in _restated(september) if r["item"] == "1.3" and r["fact"] == "update"]
    assert rows, "the corrected update is not listed as restated"


@pytest.mark.parametrize("command", [("update", "1.3", "Scripted update"), ("complete", "1.4")])
def test_an_empty_month_is_refused_by_the_writes(september: Cli,
                                                 command: tuple[str, ...]) -> None:
    before = september(*PLAN, "history", "1.3", "--format", "json")
    err = september(*PLAN, *command, "--month", "", code=2)
    assert "is not a month" in err
    assert september(*PLAN, "history", "1.3", "--format", "json") == before


@pytest.mark.parametrize("args", [
    ("plan", "--as-of", " "), ("plan", "--known-at", " "), ("snapshots", "--from", " "),
    ("changes", "--since", " "), ("restatements", "--month", ""),
    ("restatements", "--month", " "), ("update", "1.3", "x", "--month", " "),
    ("update", "1.3", "x", "--effective", " "), ("target", "1.3", "1", " "),
])
def test_blank_dates_are_refused(september: Cli, args: tuple[str, ...]) -> None:
    september(*PLAN, *args, code=2)


# --- PostgreSQL: shadowing the rules' calls, the writers' lock, init -------------------------

@POSTGRES
def test_postgres_a_temporary_function_does_not_shadow_the_rules(pgl: str) -> None:
    """TEMPORARY given back, the writer makes `pg_temp.replace(text, text, text)` that would
    make any stream match: the squat is still refused (functions are never looked up in the
    temporary schema; the rule's path puts pg_catalog first)."""
    database = pgl.rsplit("/", 1)[1].split("?", maxsplit=1)[0]
    execute(pgl, f'GRANT TEMPORARY ON DATABASE "{database}" TO PUBLIC')
    with connect(as_role(pgl, WRITER)) as conn:
        conn.execute(text("CREATE FUNCTION pg_temp.replace(text, text, text) RETURNS text "
                          "LANGUAGE sql AS $$ SELECT 'x' $$"))
        conn.execute(text("CREATE FUNCTION pg_temp.session_user() RETURNS text "
                          "LANGUAGE sql AS $$ SELECT 'x' $$"))
    with pytest.raises(DBAPIError, match="no event of stream"):
        _squat(pgl)


def _write_within(url: str, seconds: float) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run([LEDGER, "--db", as_role(url, WRITER), *UPDATE],
                              capture_output=True, text=True, timeout=seconds, check=False,
                              env={**os.environ, "LEDGER_ACTOR": "tester"})
    except subprocess.TimeoutExpired:
        return None


LOCK_ATTEMPTS = [
    "LOCK TABLE ledger_write_lock IN ROW SHARE MODE",
    "LOCK TABLE ledger_write_lock IN SHARE UPDATE EXCLUSIVE MODE",
    "LOCK TABLE ledger_write_lock IN SHARE MODE",
    "SELECT * FROM ledger_write_lock FOR KEY SHARE",
    "COMMENT ON TABLE ledger_write_lock IS 'mine'",
    "ANALYZE ledger_write_lock",
    "CREATE INDEX ON ledger_write_lock ((1))",
    "TRUNCATE ledger_write_lock",
    "ALTER TABLE ledger_write_lock ADD COLUMN x int",
    "VACUUM ledger_write_lock",
    "PREPARE TRANSACTION 'held'",
]


@POSTGRES
@pytest.mark.parametrize("role", [AUDITOR, PROJECTOR])
def test_postgres_no_other_statement_on_the_lock_table_stalls_the_writers(pgl: str,
                                                                         role: str) -> None:
    """Each attempt in its own transaction left open (what succeeded keeps its lock): a write
    still goes through within 15 s."""
    import psycopg  # noqa: PLC0415 - the driver the ledger uses on PostgreSQL

    sessions = []
    try:
        for statement in LOCK_ATTEMPTS:
            conn = psycopg.connect(as_role(pgl, role).replace("+psycopg", ""))
            sessions.append(conn)
            conn.execute("SELECT 1 FROM ledger_events LIMIT 1")
            with contextlib.suppress(psycopg.Error):  # refused: left open, failed
                conn.execute(statement)
        done = _write_within(pgl, 15)
        assert done is not None, "the write was still waiting after 15 s"
        assert done.returncode == 0, done.stderr
    finally:
        for conn in sessions:
            conn.close()


@POSTGRES
def test_a_reader_and_init_do_not_stall_the_writers(pgl: str) -> None:
    """An older ledger (no lock table); the auditor has read the events in a transaction left
    open; the owner runs `ledger init`, as `verify` asks: a write must not wait on them."""
    import psycopg  # noqa: PLC0415 - the driver the ledger uses on PostgreSQL

    execute(pgl, "DROP TABLE ledger_write_lock")
    reader = psycopg.connect(as_role(pgl, AUDITOR).replace("+psycopg", ""))
    init = None
    try:
        reader.execute("SELECT count(*) FROM ledger_events").fetchall()
        init = subprocess.Popen([LEDGER, "--db", pgl, "init"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env={**os.environ,
                                                             "LEDGER_ACTOR": "owner"})
        time.sleep(3)  # init would be queued behind the reader by now
        done = _write_within(pgl, 15)
        assert done is not None, "the write was still waiting after 15 s"
        # init has made the lock table, without the writer's grant: the write is refused in
        # one line (exit 1) rather than waiting; once the roles' script has run, it writes
        assert done.returncode == 1, done.stderr
        assert "run scripts/pg_roles.sql again" in done.stderr
        assert init.wait(timeout=60) == 0, init.communicate()
    finally:
        reader.close()
        if init is not None and init.poll() is None:
            init.wait(timeout=60)
    apply_roles(pgl)
    done = _write_within(pgl, 15)
    assert done is not None
    assert done.returncode == 0, done.stderr


@POSTGRES
def test_init_that_must_alter_the_events_names_the_reader_it_waited_for(
        pgl: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the events' id column still has a default (a ledger made before the database
    numbered events; set back here by the owner), `init` must ALTER the table, whose lock
    waits for every open reader. It waits a bounded time (1 s here), then names the session
    and role it waited for, changing nothing; the writers were never queued behind it for
    longer. Once the reader has gone, init drops the default."""
    import psycopg  # noqa: PLC0415 - the driver the ledger uses on PostgreSQL

    from ledger.store import guards  # noqa: PLC0415

    monkeypatch.setattr(guards, "GUARDS_LOCK_WAIT_S", 1)
    execute(pgl, "CREATE SEQUENCE IF NOT EXISTS ledger_events_id_seq")
    execute(pgl, "ALTER TABLE ledger_events ALTER COLUMN id "
                 "SET DEFAULT nextval('ledger_events_id_seq')")
    reader = psycopg.connect(as_role(pgl, AUDITOR).replace("+psycopg", ""))
    try:
        reader.execute("SELECT count(*) FROM ledger_events").fetchall()
        pid = reader.info.backend_pid
        _, out = ledger(pgl, "init", code=2)
    finally:
        reader.close()
    assert f"session {pid} of role '{AUDITOR}', idle in transaction" in out, out
    assert "nothing was changed" in out
    ledger(pgl, "init")
    assert scalar(pgl, "SELECT column_default FROM information_schema.columns WHERE "
                       "table_name = 'ledger_events' AND column_name = 'id'") is None


@POSTGRES
def test_another_schemas_ledger_does_not_answer_for_this_ones_guards() -> None:
    """Two ledgers in one database, one in `public`, one in schema `other` (its URL's
    search_path): a guard dropped from the first is named by its `verify`, though a trigger
    of that name guards the other's table; the other verifies intact."""
    from scripts.throwaway_databases import ThrowawayDatabases  # noqa: PLC0415
    from tests.conftest import _pg_admin_url  # noqa: PLC0415

    databases = ThrowawayDatabases(_pg_admin_url(), "g")
    try:
        url = databases.fresh()
        execute(url, "CREATE SCHEMA other")
        other = f"{url}?options=-csearch_path%3Dother"
        for each in (url, other):
            ledger(each, "init")
        assert scalar(url, "SELECT count(*) FROM other.ledger_events") == 1
        execute(url, "DROP TRIGGER ledger_chain_witness ON public.ledger_chain")
        _, out = ledger(url, "verify", "--events-only", code=2)
        assert "lacks guards this version of ledger installs (ledger_chain_witness)" in out
        _, out = ledger(other, "verify", "--events-only")
        assert out.startswith("intact: 1 events")
    finally:
        databases.drop_all()

