"""Fixtures: a real ledger database on each backend, and the real CLI.

Every backend test runs on a fresh SQLite file and on a fresh database of the
real PostgreSQL server named by LEDGER_TEST_PG_URL (scripts/test.sh starts
one). Without that server the PostgreSQL tests fail rather than skip: a
skipped test is not a pass. LEDGER_TEST_BACKENDS=sqlite opts out knowingly.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from ledger.cli.app import app as cli_app

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
BACKENDS = os.environ.get("LEDGER_TEST_BACKENDS", "sqlite,postgres").split(",")


def _pg_admin_url() -> str:
    url = os.environ.get("LEDGER_TEST_PG_URL", "")
    if not url:
        pytest.fail("LEDGER_TEST_PG_URL is not set: run the tests with scripts/test.sh, "
                    "or set LEDGER_TEST_BACKENDS=sqlite to leave PostgreSQL out knowingly")
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty database on the real PostgreSQL server."""
    admin_url = _pg_admin_url()
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = admin_url.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite file in the test's temporary directory."""
    return f"sqlite:///{tmp_path / 'ledger.db'}"


@pytest.fixture(params=[pytest.param(b, marks=[pytest.mark.postgres] if b == "postgres" else [])
                        for b in BACKENDS])
def db_url(request: pytest.FixtureRequest) -> str:
    """A fresh ledger database URL, once per backend."""
    if request.param == "postgres":
        return str(request.getfixturevalue("pg_url"))
    return str(request.getfixturevalue("sqlite_url"))


def stored_events(db: str) -> int:
    """How many events the ledger at `db` holds (its newest position)."""
    from ledger.bootstrap import bootstrap  # noqa: PLC0415

    ledger = bootstrap(db).ledger
    try:
        return ledger.app.recorder.max_notification_id() or 0
    finally:
        ledger.close()


class Cli:
    """The real `ledger` app on one database, as a user types it."""

    def __init__(self, db: str) -> None:
        self.db = db
        self.runner = CliRunner()

    def __call__(self, *args: str, code: int = 0, env: dict[str, str] | None = None) -> str:
        result = self.runner.invoke(cli_app, ["--db", self.db, *args],
                                    env={"LEDGER_ACTOR": "tester", **(env or {})})
        if result.exit_code != code:
            raise AssertionError(
                f"ledger {' '.join(args)} exited {result.exit_code}, expected {code}\n"
                f"stdout: {result.stdout}\nstderr: {result.stderr}\n{result.exception!r}")
        return result.stdout if code == 0 else result.stderr


@pytest.fixture
def cli(db_url: str) -> Cli:
    """The CLI on a fresh, initialised ledger."""
    runner = Cli(db_url)
    runner("init")
    return runner
