"""The `ledger` Typer application: global options, then the commands of each module."""

from __future__ import annotations

from typing import Annotated

import typer

from ledger.cli import (
    evidence,
    export,
    importing,
    projections,
    queries,
    read,
    restated,
    trail,
    write,
)
from ledger.cli.context import Options

DEFAULT_DB = "sqlite:///ledger.db"

app = typer.Typer(
    name="ledger",
    no_args_is_help=True,
    add_completion=True,  # typer's --install-completion / --show-completion
    pretty_exceptions_enable=False,
)


def _version(asked: bool) -> None:
    if asked:
        from ledger import __version__

        typer.echo(f"ledger {__version__}")
        raise typer.Exit


@app.callback()
def main(
    ctx: typer.Context,
    db: Annotated[str, typer.Option(
        "--db", envvar="LEDGER_DB", show_default=True,
        help="Database URL: sqlite:///FILE or postgresql://USER@HOST/DB.",
    )] = DEFAULT_DB,
    plan: Annotated[str | None, typer.Option(
        "--plan", envvar="LEDGER_PLAN", help="Plan slug, where the ledger holds several.",
    )] = None,
    version: Annotated[bool, typer.Option(  # acted on by its callback, _version
        "--version", callback=_version, is_eager=True, help="Print the version and exit.",
    )] = False,
) -> None:
    """An audit ledger of improvement-plan changes: every change an immutable event.

    Record every change to an improvement plan, and ask who changed what, when and why.

    Example: ledger --db sqlite:///council.db history 1.3
    """
    ctx.obj = Options(db=db, plan=plan)


write.register(app)
importing.register(app)
read.register(app)
queries.register(app)
trail.register(app)
restated.register(app)
projections.register(app)
evidence.register(app)
export.register(app)
