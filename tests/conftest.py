"""Fixtures: a real ledger database on each backend, and the real CLI.

Every backend test runs on a fresh SQLite file and on a fresh database of the
real PostgreSQL server named by LEDGER_TEST_PG_URL (scripts/test.sh starts
one). Without that server the PostgreSQL tests fail rather than skip: a
skipped test is not a pass. LEDGER_TEST_BACKENDS=sqlite opts out knowingly.
"""

from __future__ import annotations

import functools
import io
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

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
    """Tests marked `slow` first (under xdist they start first, and no worker is left running
    one alone at the end); with LEDGER_TEST_BACKENDS leaving PostgreSQL out, its tests are
    deselected, not errors."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)  # stable: else as found
    if "postgres" in BACKENDS:
        return
    keep = [item for item in items if item.get_closest_marker("postgres") is None]
    config.hook.pytest_deselected(items=[item for item in items if item not in keep])
    items[:] = keep


# Modules whose tests share a fixture built once per module and backend (an evidence pack).
# The replica's module also starts its own pair of servers on fixed ports: two workers must
# never both start them.
ONCE_PER_MODULE = ("tests/e2e/test_evidence_pack.py", "tests/e2e/test_report.py",
                   "tests/e2e/test_csv_and_workbook.py",
                   "tests/integration/test_postgres_replica.py")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under xdist (scripts/test.sh runs two workers), tests go one at a time to whichever
    worker is free, except that the tests of one backend in a module of ONCE_PER_MODULE go
    together to one worker, which builds their fixture once, as a run without xdist does.
    (xdist's own `--dist loadgroup` does this by rewriting node ids, which pytest 9.2 no
    longer lets it do.) Tests marked `slow` are collected first, so they start first."""
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling  # noqa: PLC0415 - only under xdist

    class OneFixtureOneWorker(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            module, _, name = nodeid.partition("::")
            if module not in ONCE_PER_MODULE:
                return nodeid
            backend = "postgres" if "postgres" in name.partition("[")[2] else "sqlite"
            return f"{module}[{backend}]"

    return OneFixtureOneWorker(config, log)


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
def backend(request: pytest.FixtureRequest) -> str:
    """Each backend in turn: "sqlite", then "postgres" (marked `postgres`)."""
    return str(request.param)


@pytest.fixture
def db_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A fresh ledger database URL, once per backend."""
    with fresh_database(backend, tmp_path) as url:
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


def csv_text(said: str) -> io.StringIO:
    """A query's `--format csv` output to read with `csv`: its byte-order mark (there for
    Excel) removed."""
    assert said.startswith("\ufeff"), said[:40]
    return io.StringIO(said.removeprefix("\ufeff"))


Recipe = Callable[["Cli"], None]


class Prepared:
    """Ledgers made once per backend and session (in each xdist worker) by a recipe of `ledger`
    commands, and copied for each test that starts from one: SQLite's backup API copies the
    file, PostgreSQL's `CREATE DATABASE ... TEMPLATE` the database. A copy holds the very rows
    that running the recipe in the test would write; only the time they were recorded differs
    (earlier in the session), and the recipe's own commands are no test's subject."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.made: dict[tuple[Recipe, str], str] = {}  # SQLite path, or PostgreSQL database
        self.server: ThrowawayDatabases | None = None

    def made_by(self, recipe: Recipe, backend: str) -> str:
        """The ledger `recipe` made on `backend`, made now if not yet."""
        if (recipe, backend) not in self.made:
            if backend == "postgres":
                self.server = self.server or ThrowawayDatabases(_pg_admin_url(), "prepared")
                url = self.server.fresh()
                recipe(Cli(url))
                name = url.rsplit("/", 1)[1]
                self.server.disconnect(name)
                self.made[recipe, backend] = name
            else:
                # Named by module and recipe: two test files' recipes of the same name (both
                # `september`) must not make their ledgers in one file.
                path = self.directory / f"{recipe.__module__}.{recipe.__qualname__}.db"
                if path.exists():
                    msg = f"a prepared ledger {path.name} was already made by another recipe"
                    raise AssertionError(msg)
                recipe(Cli(f"sqlite:///{path}"))
                self.made[recipe, backend] = str(path)
        return self.made[recipe, backend]

    @contextmanager
    def copy(self, recipe: Recipe, backend: str, directory: Path) -> Iterator[Cli]:
        """The CLI on a fresh copy of the ledger `recipe` makes (a file in `directory`, or a
        new PostgreSQL database dropped afterwards)."""
        seed = self.made_by(recipe, backend)
        if backend != "postgres":
            target = directory / "ledger.db"
            with closing(sqlite3.connect(seed)) as source, \
                    closing(sqlite3.connect(target)) as copy:
                source.backup(copy)
            yield Cli(f"sqlite:///{target}")
            return
        databases = ThrowawayDatabases(_pg_admin_url(), "t")
        try:
            yield Cli(databases.fresh(template=seed))
        finally:
            databases.drop_all()

    def drop(self) -> None:
        """Drop the PostgreSQL ledgers (the SQLite ones go with the session's temporary files)."""
        if self.server is not None:
            self.server.drop_all()


@pytest.fixture(scope="session")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prepared]:
    """The session's prepared ledgers, dropped at its end."""
    made = Prepared(tmp_path_factory.mktemp("prepared"))
    yield made
    made.drop()


def initialised(cli: Cli) -> None:
    """`ledger init`, as the user "tester"."""
    cli("init")


@pytest.fixture
def cli(backend: str, prepared: Prepared, tmp_path: Path) -> Iterator[Cli]:
    """The CLI on a fresh, initialised ledger (a copy of one that `ledger init` made)."""
    with prepared.copy(initialised, backend, tmp_path) as runner:
        yield runner
