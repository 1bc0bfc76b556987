"""Every command documents itself: a one-line summary, then an example (as sqlite-utils does).

The summary is what `ledger --help` lists, so it must be one complete line; the example
is what a user copies, so every `--help` shows one. Runs the real CLI's `--help`.
"""

from __future__ import annotations

from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from ledger.cli.app import app as cli_app


def _commands(command: Any,
              path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], str]]:
    """Each command and group below `command` (itself first), with its help text."""
    found = [(path, command.help or "")]
    for name, sub in getattr(command, "commands", {}).items():
        found += _commands(sub, (*path, name))
    return found


COMMANDS = _commands(typer.main.get_command(cli_app))


def test_every_command_is_found() -> None:
    """The walk sees the write, query, evidence and projections commands and the groups."""
    names = {" ".join(path) for path, _help in COMMANDS}
    assert {"", "init", "correct", "import", "history", "plan", "verify-pack",
            "projections", "projections rebuild"} <= names
    assert len(names) == 33


@pytest.mark.parametrize(("path", "text"), COMMANDS, ids=[" ".join(p) or "ledger"
                                                          for p, _t in COMMANDS])
def test_every_docstring_opens_with_a_one_line_summary(path: tuple[str, ...], text: str) -> None:
    """The first line is a whole sentence and the next is blank: the summary never runs over."""
    lines = text.strip().splitlines()
    assert len(lines) >= 3, f"ledger {' '.join(path)} has no summary and example"
    assert lines[0].endswith("."), f"summary runs over a line: {lines[0]!r}"
    assert lines[1] == "", f"summary runs over a line: {lines[:2]!r}"
    assert len(lines[0]) <= 88, f"summary too long for `ledger --help`: {lines[0]!r}"


@pytest.mark.parametrize("path", [p for p, _t in COMMANDS], ids=[" ".join(p) or "ledger"
                                                               for p, _t in COMMANDS])
def test_every_help_shows_an_example(path: tuple[str, ...]) -> None:
    """`ledger ... --help` exits 0 and shows an `Example:` that runs this very command."""
    result = CliRunner().invoke(cli_app, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Example:" in result.output
    example = result.output.split("Example:", 1)[1].splitlines()[0].strip()
    assert example.startswith("ledger ")
    assert f" {' '.join(path)}" in example
