"""What a query imports: SQLAlchemy Core and the read models' schema, not the write path.

Start-up is what people feel on every command (issue 16), and it is set by what a
command imports; this guards what, not how fast (timings are the benchmark's job,
`scripts/bench.py`). Each query runs in a fresh `ledger` process on a SQLite copy
of the imported seeds whose read models are caught up, and reports the modules it loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer.core
import typer.main

from ledger.cli.root import COMMANDS, app_for, command_named
from tests.conftest import Cli, Prepared
from tests.e2e.test_queries import both_imported_and_projected

# The write path: the library's recorder and its SQLAlchemy models (which pull in the ORM and
# sqlalchemy_utils), pydantic, the application services, the importers, the export.
NEVER_ON_A_QUERY = ("eventsourcing_sqlalchemy", "sqlalchemy_utils", "sqlalchemy.orm", "pydantic",
                    "ledger.store.app", "ledger.store.chain", "ledger.application.services",
                    "ledger.importers.cgip", "ledger.export", "projections.runner", "rich")
# A query as of a date reads materialised rows: it decodes no stored event, and so needs
# neither the domain's events (the library's dataclasses: about 50 ms to import) nor the fold.
NOT_ON_A_PLAN_AS_OF = ("eventsourcing", "ledger.store.decoding", "ledger.domain.events",
                       "ledger.domain.state", "ledger.domain.plan", "ledger.application.history")
SLIPPAGE_AND_MONTH_ENDS = (("slippage",), ("snapshots",))

RUN = ("import sys\n"
       "from ledger.cli import main\n"
       "try:\n    main()\n"
       "finally:\n    sys.stderr.write('\\nMODULES ' + ' '.join(sorted(sys.modules)))\n")


def loaded(db: str, *args: str) -> set[str]:
    """The modules a `ledger` process loaded to answer `args` (it must exit 0)."""
    done = subprocess.run([sys.executable, "-c", RUN, "--db", db, "--plan", "cgip-2018", *args],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return set(done.stderr.rsplit("MODULES ", 1)[1].split())


def heavy(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in names))


@pytest.fixture
def projected(prepared: Prepared, tmp_path: Path) -> Iterator[Cli]:
    """The seeds imported into SQLite, the read models caught up."""
    with prepared.copy(both_imported_and_projected, "sqlite", tmp_path) as cli:
        yield cli


def test_the_plan_as_of_a_date_imports_neither_the_write_path_nor_the_event_decoder(
        projected: Cli) -> None:
    """`ledger plan --as-of D --format json` (the start-up target of issue 16) loads
    SQLAlchemy Core and the read models, and nothing of the event store."""
    modules = loaded(projected.db, "plan", "--as-of", "2018-09-30", "--format", "json")
    assert "sqlalchemy" in modules
    assert heavy(modules, NEVER_ON_A_QUERY + NOT_ON_A_PLAN_AS_OF) == []


@pytest.mark.parametrize("args", SLIPPAGE_AND_MONTH_ENDS)
def test_slippage_and_month_ends_read_stored_rows_alone(projected: Cli,
                                                       args: tuple[str, ...]) -> None:
    """The slippage and the month-end snapshots the read models hold load no event either;
    a question that re-folds events (here: as known at a moment) does load them."""
    modules = loaded(projected.db, *args, "--format", "json")
    assert heavy(modules, NEVER_ON_A_QUERY + NOT_ON_A_PLAN_AS_OF) == []
    refolded = loaded(projected.db, *args, "--known-at", "2099-01-01", "--format", "json")
    assert "ledger.domain.events" in refolded


@pytest.mark.parametrize("args", [
    ("snapshots", "--from", "2018-07", "--to", "2018-09"),
    ("slippage",),
    ("changes", "--item", "1.3"),
    ("summary", "--as-of", "2018-09-30"),
    ("diff", "2018-08-31", "2018-09-30"),
    ("editions",),
    ("log", "--item", "1.3"),
    ("blame", "1.3"),
    ("history", "1.3"),
    ("restatements", "--month", "2018-09"),
    ("plan", "--known-at", "2099-01-01"),
])
def test_every_query_stays_off_the_write_path(projected: Cli, args: tuple[str, ...]) -> None:
    """Every other query (also one as known at a moment, which re-folds stored events with
    the library's mapper alone) loads nothing of the write path."""
    modules = loaded(projected.db, *args, "--format", "json")
    assert heavy(modules, NEVER_ON_A_QUERY) == []


def test_a_query_on_read_models_that_lag_catches_them_up_first(projected: Cli) -> None:
    """Where events were stored after the read models' position, the query opens the event
    store to catch them up and answers with the new event (the one write a query makes)."""
    projected("--plan", "cgip-2018", "update", "1.3",
              "A new update, written after the last catch-up.",
              "--month", "2018-09", "--effective", "2018-09-30")
    answer = subprocess.run([sys.executable, "-c", RUN, "--db", projected.db, "--plan",
                             "cgip-2018", "plan", "--item", "1.3", "--format", "json"],
                            capture_output=True, text=True, check=True)
    (row,) = json.loads(answer.stdout)
    assert row["latest_update"]["text"] == "A new update, written after the last catch-up."
    assert "projections.runner" in answer.stderr.rsplit("MODULES ", 1)[1].split()


def test_the_command_modules_listed_are_exactly_the_apps_commands() -> None:
    """`ledger.cli.root.COMMANDS` (which module each command needs) names every command of the
    full app, each in the module that registers it: a command missing from it would still
    work (it gets the full app), but slowly."""
    full = typer.main.get_command(app_for(["--help"]))
    assert isinstance(full, typer.core.TyperGroup)
    assert sorted(full.commands) == sorted(c for cs in COMMANDS.values() for c in cs)
    for module, commands in COMMANDS.items():
        alone = typer.main.get_command(app_for([commands[0]]))
        assert isinstance(alone, typer.core.TyperGroup)
        assert sorted(alone.commands) == sorted(commands), module


@pytest.mark.parametrize(("args", "named"), [
    (["--db", "plan", "plan"], "plan"),
    (["--plan", "log", "--db=sqlite:///x", "blame", "1.3"], "blame"),
    (["--version"], None),
    (["--", "import", "-"], "import"),
    ([], None),
])
def test_the_command_a_line_names_skips_global_options_and_their_values(
        args: list[str], named: str | None) -> None:
    """`--db` and `--plan` take a value, which is never taken for the command."""
    assert command_named(args) == named


# sqlalchemy_utils' package `__init__`s (every type it has, and SQLAlchemy's Oracle, MySQL and
# SQL Server dialects with them): the event store needs one column type of it.
NEVER_ON_A_WRITE = ("sqlalchemy_utils.types.password", "sqlalchemy_utils.functions",
                    "sqlalchemy.dialects.oracle", "sqlalchemy.dialects.mysql")


def test_a_write_loads_the_one_sqlalchemy_utils_type_the_event_store_needs(
        projected: Cli) -> None:
    """`ledger update` opens the event store, whose models take `UUIDType` from
    sqlalchemy_utils: that module loads from its own file, not the whole package (and none
    of the package stays in `sys.modules` after)."""
    modules = loaded(projected.db, "update", "1.3", "Progress written by the import test.",
                     "--month", "2018-09", "--effective", "2018-09-30", "--by", "tester")
    assert "eventsourcing_sqlalchemy.models" in modules
    assert heavy(modules, NEVER_ON_A_WRITE) == []
    assert heavy(modules, ("sqlalchemy_utils",)) == []


def test_after_the_write_path_sqlalchemy_utils_imports_as_plainly_as_ever() -> None:
    """The event store's models loaded (with one module of sqlalchemy_utils), no module of
    the package is left in the process: `import sqlalchemy_utils` then gives every name a
    plain import gives, its `types` too, and the models' `UUIDType` is made from the same
    file as the package's own."""
    names = ("sorted(n for n in dir(sqlalchemy_utils) if not n.startswith('_')), "
             "sorted(n for n in dir(sqlalchemy_utils.types) if not n.startswith('_'))")
    deferred = subprocess.run(
        [sys.executable, "-c", "import inspect, json, sys, ledger.store.chain\n"
         "left = [m for m in sys.modules if m.startswith('sqlalchemy_utils')]\n"
         "import sqlalchemy_utils, sqlalchemy_utils.types.uuid\n"
         "import eventsourcing_sqlalchemy.models as m\n"
         "assert inspect.getfile(m.UUIDType) == inspect.getfile(sqlalchemy_utils.UUIDType)\n"
         f"print(json.dumps([left, sqlalchemy_utils.__version__, {names}]))"],
        capture_output=True, text=True, check=True)
    plain = subprocess.run(
        [sys.executable, "-c", "import json, sqlalchemy_utils\n"
         f"print(json.dumps([[], sqlalchemy_utils.__version__, {names}]))"],
        capture_output=True, text=True, check=True)
    left, version, every, types = json.loads(deferred.stdout)
    assert left == []
    assert [left, version, every, types] == json.loads(plain.stdout)
    assert {"UUIDType", "EmailType", "database_exists"} <= set(every)
