"""Attack round 6: start-up's deferred sqlalchemy_utils (4ccadaf) and the refusal of malformed
seals (f5cd441, 80e854d).

Found:
1. `ledger.store.deferred` leaves sqlalchemy_utils broken for anyone else in the process: asking
   `sqlalchemy_utils.types` for a name first (`from sqlalchemy_utils.types import ArrowType`)
   runs its `__init__`, which reaches the root package mid-way and fails with a circular
   ImportError; both packages are then left half-initialised for good (no `UUIDType`).
   `sqlalchemy_utils.__version__` is an AttributeError, and a second thread asking a name while
   the first completes the package gets an AttributeError.
2. An incremental catch-up (`projections run`, or any query catching up) re-reads an item's
   stream with `seal_of`, which refuses a malformed seal further on in that stream: the genuine
   row before the forged one is not applied, although the message says the answer is as of
   the last event before it.
3. (Older than these commits) a rebuild stopped by a tampered row never derives the plan:
   `ledger plan` then answers an empty plan, "as of the last event before it".
4. A witnessed time that is text but not a time ('5': an integer SQLite keeps as text; 'not
   a time') passes the runner's check: `history`, `changes` and `log` end in a traceback
   (ValueError), and a write blames the machine's clock.
5. `seal_of` (history, export, writes) accepts a seal whose role is a blob (SQLite) or NULL
   (PostgreSQL), which the runner refuses: `ledger history` shows the forged row as recorded
   by role "b'\\x00'" / "None" under a warning that the answer stops before it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests.conftest import POSTGRES, Cli, Prepared
from tests.e2e.test_attacks_3 import run
from tests.e2e.test_attacks_5 import append, change_rows, head_of
from tests.editions import SEPTEMBER
from tests.integrity.attack import connect, drop_guards, postgres

GENUINE = "A genuine update, written before the forgery."


def projected_then_updated(cli: Cli) -> None:
    """The September edition, the read models caught up, then one genuine update of item 1.3
    (not yet applied): the row a runner must apply before any forged row after it."""
    cli("init")
    cli("import", str(SEPTEMBER), "--by", "improvement.team")
    cli("projections", "run", "--until-caught-up")
    cli("update", "1.3", GENUINE, "--month", "2018-09", "--effective", "2018-09-30")


@pytest.fixture
def updated(backend: str, prepared: Prepared, tmp_path: Path) -> Iterator[Cli]:
    with prepared.copy(projected_then_updated, backend, tmp_path) as runner:
        yield runner


def forged_after_update(db: str, **seal: Any) -> int:
    """As the owner: item 1.3's next version appended at head + 1 with a chain row of `seal`'s
    columns (the rest copied from the genuine head); returns the genuine head."""
    head = head_of(db)
    drop_guards(db)
    append(db, position=head + 1, seal=seal)
    return head


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in done.stderr, done.stderr[-800:]
    return done.stderr


# --- 1. the deferred sqlalchemy_utils -------------------------------------------------------

PYTHON = sys.executable


def python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, check=False,
                          timeout=120)


def test_asking_the_types_package_first_gives_the_whole_package() -> None:
    """Finding 1: after the event store's import deferred the two packages, the types package
    asked for a name first (`from sqlalchemy_utils.types import ArrowType`, as a plain
    process may) must give it, as a plain import does, and leave both packages whole."""
    code = ("from sqlalchemy_utils.types import ArrowType\n"
            "import sqlalchemy_utils\n"
            "print(ArrowType.__name__, sqlalchemy_utils.UUIDType.__name__, "
            "sqlalchemy_utils.types.EmailType.__name__)\n")
    plain = python(code)
    assert plain.returncode == 0, plain.stderr
    deferred = python("import ledger.store.chain\n" + code)
    assert "ImportError" not in deferred.stderr, deferred.stderr[-600:]
    assert deferred.returncode == 0, deferred.stderr[-600:]
    assert deferred.stdout == plain.stdout == "ArrowType UUIDType EmailType\n"


def test_the_deferred_package_has_its_version() -> None:
    """Finding 1: `sqlalchemy_utils.__version__` (what a plain import gives) after the event
    store loaded: an AttributeError, as dunder names never complete the package."""
    deferred = python("import ledger.store.chain, sqlalchemy_utils\n"
                      "print(sqlalchemy_utils.__version__)")
    plain = python("import sqlalchemy_utils\nprint(sqlalchemy_utils.__version__)")
    assert plain.returncode == 0, plain.stderr
    assert deferred.returncode == 0, deferred.stderr[-400:]
    assert deferred.stdout == plain.stdout


def test_a_second_thread_sees_the_deferred_package_whole() -> None:
    """Finding 1: two threads each `import sqlalchemy_utils` and read a name; in a plain
    process the import lock makes the second wait for the package. After `defer()`, the second
    thread's read, while the first runs the package's `__init__`, is an AttributeError."""
    code = ("import threading, time\n"
            "import ledger.store.chain\n"
            "errors = []\n"
            "def first():\n"
            "    import sqlalchemy_utils\n"
            "    sqlalchemy_utils.UUIDType\n"
            "def second():\n"
            "    time.sleep(0.005)\n"
            "    import sqlalchemy_utils\n"
            "    try:\n"
            "        sqlalchemy_utils.WeekDaysType\n"
            "    except AttributeError as exc:\n"
            "        errors.append(str(exc))\n"
            "threads = [threading.Thread(target=first), threading.Thread(target=second)]\n"
            "for t in threads: t.start()\n"
            "for t in threads: t.join()\n"
            "print(errors)\n")
    done = python(code)
    assert done.returncode == 0, done.stderr[-400:]
    assert done.stdout == "[]\n"


def test_a_write_path_process_still_gets_every_name_it_asks_for() -> None:
    """Held: after the event store's import, `from sqlalchemy_utils import *` and
    `import sqlalchemy_utils.functions` give what a plain process gets; the library's column
    type is made from the package's own file (the write path leaves none of the package in
    `sys.modules`, so a later import makes its own classes: not the same object)."""
    code = ("import ledger.store.chain\n"
            "import sqlalchemy_utils.functions as f\n"
            "from sqlalchemy_utils import *\n"
            "import eventsourcing_sqlalchemy.models as m, sqlalchemy_utils, inspect\n"
            "assert UUIDType is sqlalchemy_utils.types.uuid.UUIDType\n"
            "assert inspect.getfile(m.UUIDType) == inspect.getfile(UUIDType)\n"
            "assert database_exists is f.database_exists\n"
            "print(sorted(n for n in dir() if not n.startswith('_')).__len__())\n")
    plain = ("import sqlalchemy_utils.functions as f\n"
             "from sqlalchemy_utils import *\n"
             "import eventsourcing_sqlalchemy.models as m, sqlalchemy_utils, ledger.store.chain\n"
             "assert UUIDType is sqlalchemy_utils.types.uuid.UUIDType\n"
             "import inspect\n"
             "assert inspect.getfile(m.UUIDType) == inspect.getfile(UUIDType)\n"
             "assert database_exists is f.database_exists\n"
             "print(sorted(n for n in dir() if not n.startswith('_')).__len__())\n")
    deferred, whole = python(code), python(plain)
    assert deferred.returncode == 0, deferred.stderr[-600:]
    assert whole.returncode == 0, whole.stderr[-600:]
    assert deferred.stdout == whole.stdout


# --- 2. the rows before a malformed seal ------------------------------------------------------


def test_a_catch_up_applies_the_genuine_row_before_a_malformed_seal(updated: Cli) -> None:
    """Finding 2: the genuine update of 1.3 at `head`, then (as the owner) 1.3's next version
    at head + 1 sealed with a `previous` that is no position (REAL 5.5 on SQLite, NULL on
    PostgreSQL). `projections run --until-caught-up` names head + 1 in one line (exit 1), as
    it should, but leaves the genuine row unapplied: reading 1.3's stream back through
    `seal_of` refused the whole stream. `ledger plan` then says its answer is as of the last
    event before the forged one, without the genuine update."""
    db = updated.db
    if postgres(db):
        with connect(db) as conn:
            conn.execute(text("ALTER TABLE ledger_chain ALTER COLUMN previous DROP NOT NULL"))
    head = forged_after_update(db, previous=None if postgres(db) else 5.5)
    done = run(db, "projections", "run", "--until-caught-up")
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"the seal at position {head + 1} is malformed" in one_line(done)
    assert max(change_rows(db)) == head  # the genuine row applied, the forged one not
    answer = run(db, "--plan", "cgip-2018", "plan", "--item", "1.3", "--format", "json")
    assert answer.returncode == 0, answer.stderr
    assert "as of the last event before it" in answer.stderr
    (row,) = json.loads(answer.stdout)
    assert row["latest_update"]["text"] == GENUINE


def test_a_plan_after_a_stopped_rebuild_is_not_empty(updated: Cli) -> None:
    """Finding 3 (before these commits too, for any row the runner stops at): a rebuild
    stopped by a malformed seal fills the change log up to the row before it but never
    derives the plan; every query then catches up, stops again, and `ledger plan` answers an
    empty plan (exit 0), "as of the last event before it"."""
    db = updated.db
    head = forged_after_update(db, previous=-5 if postgres(db) else "abc")
    if postgres(db):  # PostgreSQL keeps no text in a BIGINT: a role that is no text instead
        with connect(db) as conn:
            conn.execute(text("ALTER TABLE ledger_chain ALTER COLUMN witnessed_by DROP NOT "
                              "NULL"))
            conn.execute(text("UPDATE ledger_chain SET witnessed_by = NULL WHERE position = "
                              ":p"), {"p": head + 1})
    rebuilt = run(db, "projections", "rebuild")
    assert rebuilt.returncode == 1, rebuilt.stdout + rebuilt.stderr
    assert f"position {head + 1}" in one_line(rebuilt)
    assert max(change_rows(db)) == head
    answer = run(db, "--plan", "cgip-2018", "plan", "--format", "json")
    assert answer.returncode == 0, answer.stderr
    assert f"position {head + 1}" in answer.stderr
    items = [row["item"] for row in json.loads(answer.stdout)]
    assert "1.3" in items, answer.stdout[:300]
    assert len(items) > 30


# --- 3. a witnessed time that is no time ----------------------------------------------------


@pytest.mark.parametrize("at", [5, "not a time"])
def test_a_witnessed_time_that_is_no_time_is_named_not_a_traceback(updated: Cli,
                                                                   at: int | str) -> None:
    """Finding 4: a chain row whose witnessed time is text but no time ('5': SQLite's and
    PostgreSQL's text columns keep an integer as text). The runner applies it (a well-typed
    seal; verify names it as altered); then `history`, `changes` and `log` of the item ended
    in a traceback (ValueError: Invalid isoformat string). Each must answer, or name the
    position in one line."""
    db = updated.db
    head = forged_after_update(db, witnessed_at=at)
    checked = run(db, "verify")
    assert checked.returncode == 1
    assert f"position {head + 1}" in one_line(checked)
    for args in (("history", "1.3"), ("changes", "--item", "1.3"), ("log", "--item", "1.3")):
        done = run(db, "--plan", "cgip-2018", *args)
        said = one_line(done)
        assert done.returncode == 0 or f"position {head + 1}" in said, (args, said)


def test_a_write_after_a_seal_with_no_time_names_the_seal_not_the_clock(updated: Cli) -> None:
    """Finding 4: with that seal last in the chain, `ledger update` refuses to write (right)
    but says "this machine's clock is behind the ledger's last recorded time (not a time):
    correct the clock", advice that cannot help; it must name the seal's position."""
    db = updated.db
    head = forged_after_update(db, witnessed_at="not a time")
    done = run(db, "--plan", "cgip-2018", "update", "1.3", "After the forgery.", "--month",
               "2018-09", "--effective", "2018-09-30")
    assert done.returncode != 0
    said = one_line(done)
    assert head_of(db) == head + 1  # nothing written
    assert f"position {head + 1}" in said, said


# --- 4. a role that is no text ----------------------------------------------------------------


def test_history_shows_no_row_whose_role_the_runner_refuses(updated: Cli) -> None:
    """Finding 5: a chain row whose role is a blob (SQLite) or NULL (PostgreSQL, NOT NULL
    dropped). The runner refuses it, naming it (right). `ledger history 1.3` warns that the
    answer is as of the last event before it, yet lists the forged version, recorded by
    "b'\\x00'" or "None": `seal_of` turned the column into text."""
    db = updated.db
    if postgres(db):
        with connect(db) as conn:
            conn.execute(text("ALTER TABLE ledger_chain ALTER COLUMN witnessed_by DROP NOT "
                              "NULL"))
        head = forged_after_update(db, witnessed_by=None)
    else:
        head = forged_after_update(db, witnessed_by=b"\x00")
    done = run(db, "projections", "run", "--until-caught-up")
    assert done.returncode == 1
    assert f"the seal at position {head + 1} is malformed" in one_line(done)
    shown = run(db, "--plan", "cgip-2018", "history", "1.3", "--format", "json")
    said = one_line(shown)
    if shown.returncode == 0:
        roles = {row["db_role"] for row in json.loads(shown.stdout)}
        assert roles <= {"", "ledger"}, (roles, said)
    else:
        assert f"position {head + 1}" in said


# --- 5. what held ---------------------------------------------------------------------------


@pytest.mark.parametrize("previous", [5.5, 1e30, b"\x05"])
def test_a_previous_that_is_no_integer_is_named_by_every_command(
        tmp_path: Path, prepared: Prepared, previous: Any) -> None:
    """Held: on SQLite a `previous` kept as REAL (5.5, 1e30) or a blob: `verify`, `rebuild`,
    `history`, `export`, `digest` and a write each exit non-zero naming the position in one
    line; a rebuild applies the genuine row before it."""
    with prepared.copy(projected_then_updated, "sqlite", tmp_path) as cli:
        db = cli.db
        head = forged_after_update(db, previous=previous)
        rebuilt = run(db, "projections", "rebuild")
        assert rebuilt.returncode == 1
        assert f"the seal at position {head + 1} is malformed" in one_line(rebuilt)
        assert max(change_rows(db)) == head
        for args in (("verify",), ("--plan", "cgip-2018", "history", "1.3"),
                     ("--plan", "cgip-2018", "export", "--out", str(tmp_path / "pack"),
                      "--no-pdf"),
                     ("digest",),
                     ("--plan", "cgip-2018", "update", "1.3", "x", "--month", "2018-09")):
            done = run(db, *args)
            assert done.returncode != 0, args
            assert f"position {head + 1}" in one_line(done), args
        assert not (tmp_path / "pack").exists()
        assert head_of(db) == head + 1


def test_a_legitimate_ledger_is_unaffected(updated: Cli) -> None:
    """Held: with no forgery, the genuine update is applied, `verify` passes, the history
    shows it with the store's role, and an export is made."""
    db = updated.db
    done = run(db, "projections", "run", "--until-caught-up")
    assert done.returncode == 0, done.stderr
    assert one_line(done) == ""
    assert max(change_rows(db)) == head_of(db)
    assert run(db, "verify").returncode == 0
    shown = run(db, "--plan", "cgip-2018", "history", "1.3", "--format", "json")
    assert shown.returncode == 0, shown.stderr
    rows = json.loads(shown.stdout)
    assert GENUINE in json.dumps(rows[-1])
    assert {row["db_role"] for row in rows} <= {"", "ledger"}


@POSTGRES
def test_a_previous_null_on_postgres_is_named_by_verify_and_export(
        prepared: Prepared, tmp_path: Path) -> None:
    """Held: on PostgreSQL a `previous` of NULL (NOT NULL dropped): `verify`, `export`,
    `history` and a write name the position in one line."""
    with prepared.copy(projected_then_updated, "postgres", tmp_path) as cli:
        db = cli.db
        with connect(db) as conn:
            conn.execute(text("ALTER TABLE ledger_chain ALTER COLUMN previous DROP NOT NULL"))
        head = forged_after_update(db, previous=None)
        for args in (("verify",), ("--plan", "cgip-2018", "history", "1.3"),
                     ("--plan", "cgip-2018", "export", "--out", str(tmp_path / "pack"),
                      "--no-pdf"),
                     ("--plan", "cgip-2018", "update", "1.3", "x", "--month", "2018-09")):
            done = run(db, *args)
            assert done.returncode != 0, args
            assert f"position {head + 1}" in one_line(done), args
