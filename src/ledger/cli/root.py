"""The `ledger` Typer application's root: global options, and which module holds each command.

A command line names one command, so `app_for` imports and registers only the
module that holds it (a query pays neither for the write commands' imports nor
for typer building thirty commands); `--help`, completion and anything it does
not recognise get every command (`ledger.cli.app`).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable, Sequence
from typing import Annotated

import typer

from ledger.cli.context import Options

DEFAULT_DB = "sqlite:///ledger.db"

# Each command-line module of ledger.cli and the commands its `register` adds (a test checks
# this against the full app, so the two cannot drift).
COMMANDS: dict[str, tuple[str, ...]] = {
    "write": ("init", "new-plan", "add-theme", "add-item", "add-outcome", "status", "update",
              "lead", "target", "complete", "reopen", "correct"),
    "importing": ("import",),
    "read": ("history",),
    "queries": ("plan", "snapshots", "slippage", "changes", "summary", "diff", "editions"),
    "trail": ("log", "blame"),
    "restated": ("restatements",),
    "projections": ("projections",),
    "evidence": ("digest", "verify"),
    "export": ("export", "verify-pack"),
}
_GLOBAL_OPTIONS_WITH_VALUES = ("--db", "--plan", "--read-db")


def _version(asked: bool) -> None:
    if asked:
        from ledger import __version__

        typer.echo(f"ledger {__version__}")
        raise typer.Exit


def main(
    ctx: typer.Context,
    db: Annotated[str, typer.Option(
        "--db", envvar="LEDGER_DB", show_default=True,
        help="Database URL: sqlite:///FILE or postgresql://USER@HOST/DB.",
    )] = DEFAULT_DB,
    plan: Annotated[str | None, typer.Option(
        "--plan", envvar="LEDGER_PLAN", help="Plan slug, where the ledger holds several.",
    )] = None,
    read_only: Annotated[bool, typer.Option(
        "--read-only", envvar="LEDGER_READ_ONLY",
        help="Open the ledger for reading only (a streaming replica): queries never catch the "
             "read models up but say how far they lag; commands that write are refused.",
    )] = False,
    read_db: Annotated[str | None, typer.Option(
        "--read-db", envvar="LEDGER_READ_DB",
        help="Database URL for commands that only read (a streaming replica), opened "
             "read-only; writes still go to --db.",
    )] = None,
    version: Annotated[bool, typer.Option(  # acted on by its callback, _version
        "--version", callback=_version, is_eager=True, help="Print the version and exit.",
    )] = False,
) -> None:
    """An audit ledger of improvement-plan changes: every change an immutable event.

    Record every change to an improvement plan, and ask who changed what, when and why.

    Example: ledger --db sqlite:///council.db history 1.3
    """
    ctx.obj = Options(db=db, plan=plan, read_only=read_only, read_db=read_db)


def make_app(modules: Iterable[str]) -> typer.Typer:
    """The `ledger` app with the commands of `modules` (names of ledger.cli modules)."""
    app = typer.Typer(
        name="ledger",
        no_args_is_help=True,
        add_completion=True,  # typer's --install-completion / --show-completion
        pretty_exceptions_enable=False,
    )
    app.callback()(main)
    for module in modules:
        importlib.import_module(f"ledger.cli.{module}").register(app)
    return app


def command_named(args: Sequence[str]) -> str | None:
    """The command a command line names: its first word that is neither a global option nor
    that option's value (None when there is none)."""
    words = iter(args)
    for word in words:
        if word in _GLOBAL_OPTIONS_WITH_VALUES:
            next(words, None)
        elif not word.startswith("-"):
            return word
        elif word == "--":
            return next(words, None)
    return None


def app_for(args: Sequence[str]) -> typer.Typer:
    """The app for this command line: only the module of the command it names, or every
    command where it names none we know (help, completion, a misspelt command)."""
    named = command_named(args)
    if "_LEDGER_COMPLETE" not in os.environ and "--help" not in args:
        for module, commands in COMMANDS.items():
            if named in commands:
                return make_app([module])
    return make_app(COMMANDS)
