"""Fixtures: a real ledger database on each backend, and the real CLI.

Every backend test runs on a fresh SQLite file and on a fresh database of the
real PostgreSQL server named by LEDGER_TEST_PG_URL (scripts/test.sh starts
one). Without that server the PostgreSQL tests fail rather than skip: a
skipped test is not a pass. LEDGER_TEST_BACKENDS=sqlite opts out knowingly.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import typer.testing
from typer.main import get_command
from typer.testing import CliRunner

from ledger.cli.app import app as cli_app
from scripts.throwaway_databases import ThrowawayDatabases

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
BACKENDS = os.environ.get("LEDGER_TEST_BACKENDS", "sqlite,postgres").split(",")


POSTGRES = pytest.mark.postgres
BACKEND_PARAMS = [pytest.param(b, marks=[POSTGRES] if b == "postgres" else []) for b in BACKENDS]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With LEDGER_TEST_BACKENDS leaving PostgreSQL out, its tests are deselected, not errors."""
    if "postgres" in BACKENDS:
        return
    keep = [item for item in items if item.get_closest_marker("postgres") is None]
    config.hook.pytest_deselected(items=[item for item in items if item not in keep])
    items[:] = keep


def _pg_admin_url() -> str:
    url = os.environ.get("LEDGER_TEST_PG_URL", "")
    if not url:
        pytest.fail("LEDGER_TEST_PG_URL is not set: run the tests with scripts/test.sh, "
                    "or set LEDGER_TEST_BACKENDS=sqlite to leave PostgreSQL out knowingly")
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture(scope="session", autouse=True)
def _command_tree_built_once() -> Iterator[None]:
    """typer's test runner rebuilds the click command tree from the app on every invoke
    (about 40 ms, over a thousand times a run); the `ledger` process builds it once, and so
    does the suite. Same app, same tree: only the rebuilding is saved."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(typer.testing, "_get_command", functools.cache(get_command))
        yield


@contextmanager
def fresh_database(backend: str, directory: Path) -> Iterator[str]:
    """A fresh, empty database URL: a SQLite file in `directory`, or a database on the real
    PostgreSQL server, dropped afterwards."""
    if backend != "postgres":
        yield f"sqlite:///{directory / 'ledger.db'}"
        return
    databases = ThrowawayDatabases(_pg_admin_url(), "t")
    try:
        yield databases.fresh()
    finally:
        databases.drop_all()


@pytest.fixture
def pg_url(tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database on the real PostgreSQL server."""
    with fresh_database("postgres", tmp_path) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite file in the test's temporary directory."""
    return f"sqlite:///{tmp_path / 'ledger.db'}"


@pytest.fixture(params=BACKEND_PARAMS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh ledger database URL, once per backend."""
    with fresh_database(request.param, tmp_path) as url:
        yield url


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
