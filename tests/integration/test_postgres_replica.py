"""Queries on a PostgreSQL streaming replica: two real servers on loopback, a primary and a
standby made by `pg_basebackup -R` (`scripts/pg.sh standby`).

The September 2018 edition is imported and projected on the primary; on the standby, read-only
queries answer as the primary does, say how far the read models lag, and never write; a
write sent to the standby is refused in one line, nothing written.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, make_url
from typer.testing import CliRunner

from ledger.cli.app import app as cli_app
from tests.conftest import Cli, _pg_admin_url, stored_events
from tests.editions import SEPTEMBER

PG_SH = Path(__file__).resolve().parents[2] / "scripts" / "pg.sh"
LEDGER = str(Path(sys.executable).parent / "ledger")
REPLAY_DEADLINE = 120  # seconds: a standby that has not replayed by then is broken
pytestmark = [pytest.mark.postgres, pytest.mark.slow]  # two servers of its own: start it first


@dataclass
class Pair:
    """The primary and its standby, each a ledger database URL."""

    primary: str
    standby: str

    def run(self, db: str, *args: str, code: int = 0,
            env: dict[str, str] | None = None) -> tuple[str, str]:
        """`ledger --db DB ARGS` in this process: its stdout and stderr."""
        result = CliRunner().invoke(cli_app, ["--db", db, *args],
                                    env={"LEDGER_ACTOR": "tester", **(env or {})})
        assert result.exit_code == code, (args, result.exit_code, result.stdout, result.stderr,
                                          result.exception)
        return result.stdout, result.stderr

    def replayed(self) -> None:
        """Wait until the standby has replayed everything the primary has written so far."""
        with _connected(self.primary) as conn:
            lsn = conn.execute(text("SELECT pg_current_wal_lsn()")).scalar()
        deadline = time.monotonic() + REPLAY_DEADLINE
        with _connected(self.standby) as conn:
            while not conn.execute(text("SELECT pg_last_wal_replay_lsn() >= CAST(:l AS pg_lsn)"),
                                   {"l": lsn}).scalar():
                assert time.monotonic() < deadline, "the standby never replayed the primary"
                time.sleep(0.05)
                conn.rollback()


@contextmanager
def _connected(url: str) -> Iterator[Connection]:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def _pg_sh(*args: str, port: int) -> str:
    done = subprocess.run(["bash", str(PG_SH), *args], capture_output=True, text=True,
                          check=False, env={**os.environ, "LEDGER_PG_PORT": str(port)})
    if done.returncode != 0:  # say why: a bare CalledProcessError hides pg.sh's words
        msg = f"pg.sh {' '.join(args)} exited {done.returncode}: {done.stderr.strip()[-2000:]}"
        raise RuntimeError(msg)
    return done.stdout.strip()


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    """A primary and its standby on the two ports after the suite's own server's, the
    September 2018 edition imported and projected on the primary and replayed on the standby."""
    base = make_url(_pg_admin_url()).port or 5432
    primary_dir = Path(tempfile.mkdtemp(prefix="ledger-primary-"))
    standby_dir = Path(tempfile.mkdtemp(prefix="ledger-standby-"))
    try:
        made = Pair(_pg_sh("start", str(primary_dir), port=base + 1), "")
        made.standby = _pg_sh("standby", str(standby_dir), str(base + 1), port=base + 2)
        cli = Cli(made.primary)
        cli("init")
        cli("import", str(SEPTEMBER))
        cli("projections", "run", "--until-caught-up")
        made.replayed()
        yield made
    finally:
        for directory in (standby_dir, primary_dir):
            subprocess.run(["bash", str(PG_SH), "stop", str(directory)], check=False,
                           capture_output=True)


def _plan(rows: str) -> dict[str, dict[str, object]]:
    return {str(row["item"]): row for row in json.loads(rows)}


def test_postgres_standby_answers_as_the_primary_once_caught_up(pair: Pair) -> None:
    """On the standby, `ledger --read-only plan` prints the primary's very answer, and says the
    read models are 0 events behind on a standby."""
    asked = ("plan", "--as-of", "2018-09-30", "--format", "json")
    on_primary, _ = pair.run(pair.primary, *asked)
    on_standby, said = pair.run(pair.standby, "--read-only", *asked)
    assert on_standby == on_primary
    september = _plan(on_standby)
    assert len(september) == 46
    # 3.2: "Yammer, social media, CEO updates all now BAU.</b><br><b>COMPLETE</b>"
    assert [n for n, r in september.items() if r["complete"]] == ["3.2", "4.9"]
    lines = said.strip().splitlines()
    assert len(lines) == 1
    assert "read-only: the read models hold the ledger to event " in lines[0]
    assert "(0 behind); a standby: the last transaction it replayed" in lines[0]


def test_postgres_reads_go_to_ledger_read_db_and_writes_to_the_primary(pair: Pair) -> None:
    """With LEDGER_READ_DB naming the standby, the real `ledger` process answers a query from
    the standby (it says so); a write still goes to --db, the primary."""
    env = {**os.environ, "LEDGER_READ_DB": pair.standby, "LEDGER_ACTOR": "tester",
           "COLUMNS": "100"}
    command = [LEDGER, "--db", pair.primary, "plan", "--item", "3.2", "--as-of", "2018-09-30",
               "--format", "json"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "; a standby: " in done.stderr
    assert _plan(done.stdout)["3.2"]["complete"] is True
    before = stored_events(pair.primary)
    pair.run(pair.primary, "update", "3.2", "Standby check", "--month", "2018-10",
             env={"LEDGER_READ_DB": pair.standby})
    assert stored_events(pair.primary) == before + 1
    pair.run(pair.primary, "projections", "run", "--until-caught-up")
    pair.replayed()


def test_postgres_a_write_sent_to_the_standby_is_refused_in_one_line(pair: Pair) -> None:
    """`ledger update` on the standby exits 1 with one line naming the refusal; with
    --read-only it is refused before the database is asked; nothing is written."""
    before = stored_events(pair.primary)
    _, said = pair.run(pair.standby, "update", "1.3", "Written to the standby", code=1)
    assert said.count("\n") == 1
    assert said.startswith("error: read-only: the database at ")
    # the writers' lock is the first thing a write asks for (`ledger_write_lock`)
    assert "cannot execute LOCK TABLE during recovery" in said
    assert "send writes to the primary" in said
    _, said = pair.run(pair.standby, "--read-only", "update", "1.3", "Again", code=1)
    assert said == ("error: read-only: `ledger update` writes, and the ledger is opened "
                    "read-only (--read-only): send writes to the primary, without --read-only\n")
    pair.run(pair.primary, "--read-only", "projections", "run", code=1)
    assert stored_events(pair.primary) == before
    assert stored_events(pair.standby) == before


def test_postgres_lag_is_reported_while_the_primary_has_unprojected_events(pair: Pair) -> None:
    """An update recorded on the primary and not yet projected: queries on the standby (and
    --read-only ones on the primary, which do not catch up) say 1 behind and answer without
    it; once the primary's runner applies it, the standby says 0 behind and shows it."""
    pair.run(pair.primary, "update", "1.3", "Survey results to CMT", "--month", "2018-10",
             "--effective", "2018-10-31")
    pair.replayed()
    asked = ("plan", "--item", "1.3", "--as-of", "2018-10-31", "--format", "json")
    for db in (pair.standby, pair.primary):
        out, said = pair.run(db, "--read-only", *asked)
        assert "(1 behind)" in said
        assert "Survey results to CMT" not in out
    status, _ = pair.run(pair.primary, "--read-only", "projections", "status", "--format",
                         "json")
    assert {row["lag"] for row in json.loads(status)} == {1}  # the query caught nothing up
    pair.run(pair.primary, "projections", "run", "--until-caught-up")
    pair.replayed()
    out, said = pair.run(pair.standby, "--read-only", *asked)
    assert "(0 behind)" in said
    assert "Survey results to CMT" in out
    assert out == pair.run(pair.primary, *asked)[0]
