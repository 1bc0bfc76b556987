"""`--read-only` on either backend: queries answer from the read models as they stand, say how
far behind they are, and write nothing; commands that write are refused in one line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledger.bootstrap import reading
from ledger.cli.app import app as cli_app
from projections import tracking
from tests.conftest import Cli, Prepared, stored_events
from tests.editions import SEPTEMBER


def september_imported(cli: Cli) -> None:
    """A new ledger with the September 2018 edition imported and its read models caught up."""
    cli("init")
    cli("import", str(SEPTEMBER), "--by", "improvement.team")
    cli("projections", "run", "--until-caught-up")


@pytest.fixture
def projected(backend: str, prepared: Prepared, tmp_path: Path) -> Iterator[Cli]:
    """The CLI on a copy of `september_imported`."""
    with prepared.copy(september_imported, backend, tmp_path) as cli:
        yield cli


def _positions(db: str) -> dict[str, int]:
    with reading(db) as models:
        return tracking.positions(models.reader.engine)


def _run(db: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli_app, ["--db", db, *args], env={"LEDGER_ACTOR": "tester"})
    return result.exit_code, result.stdout, result.stderr


def test_a_read_only_query_never_catches_up(projected: Cli) -> None:
    """An update the read models lack: `--read-only plan` answers without it, says "1 behind"
    in one line on stderr, and leaves every tracking position where it was."""
    projected("update", "1.3", "Survey results to CMT", "--month", "2018-10",
              "--effective", "2018-10-31")
    before = _positions(projected.db)
    code, out, said = _run(projected.db, "--plan", "cgip-2018", "--read-only", "plan",
                           "--item", "1.3", "--as-of", "2018-10-31", "--format", "json")
    assert code == 0, said
    assert said.endswith("(1 behind)\n")
    assert said.count("\n") == 1
    assert said.startswith("read-only: the read models hold the ledger to event ")
    # the edition's latest for 1.3: "EMT and CBM agreement for all meetings to be paperless
    # from 01 November. (September Update) COMPLETE"
    assert json.loads(out)[0]["latest_update"]["text"].startswith("EMT and CBM agreement")
    assert _positions(projected.db) == before
    code, out, said = _run(projected.db, "--plan", "cgip-2018", "plan", "--item", "1.3",
                           "--as-of", "2018-10-31", "--format", "json")
    assert json.loads(out)[0]["latest_update"]["text"] == "Survey results to CMT"


@pytest.mark.parametrize(("path", "command"), [
    ("update", ("update", "1.3", "Written read-only")),
    ("import", ("import", str(SEPTEMBER))),
    ("projections run", ("projections", "run", "--until-caught-up")),
])
def test_a_write_in_read_only_mode_is_refused(projected: Cli, path: str,
                                              command: tuple[str, ...]) -> None:
    """A command that writes, under --read-only: exit 1, one line naming it, nothing written."""
    events = stored_events(projected.db)
    code, _, said = _run(projected.db, "--read-only", *command)
    assert code == 1
    assert said == (f"error: read-only: `ledger {path}` writes, and the ledger is opened "
                    "read-only (--read-only): send writes to the primary, without --read-only\n")
    assert stored_events(projected.db) == events
