"""`ledger projections`: rebuild the read models, show their positions, or follow new events."""

from __future__ import annotations

import signal
import sys
from typing import Annotated

import typer

from ledger.cli.context import echo, services_at
from ledger.cli.output import Format, FormatOption, render

projections_app = typer.Typer(no_args_is_help=True)


@projections_app.callback()
def projections() -> None:
    """Rebuild, inspect or run the read models.

    Example: ledger projections status --format json
    """


@projections_app.command("rebuild")
def rebuild(ctx: typer.Context,
            batch: Annotated[int, typer.Option("--batch", min=1, help="Events per "
                                               "transaction.")] = 20_000) -> None:
    """Empty the read models (never the events) and rebuild them from the first event.

    Example: ledger projections rebuild --batch 5000
    """
    with services_at(ctx) as services:
        projector = services.projector
        head = projector.head()
        with typer.progressbar(length=max(head, 1), label="rebuilding", file=sys.stderr) as bar:
            seen = [0]

            def advance(position: int, _head: int) -> None:
                bar.update(position - seen[0])
                seen[0] = position

            applied = projector.rebuild(batch, advance)
    echo(f"rebuilt the read models from {applied} events")


@projections_app.command("status")
def status(ctx: typer.Context,
           fmt: FormatOption = Format.TABLE) -> None:
    """Each read model's position and how many events it lags behind.

    Example: ledger projections status
    """
    from ledger.cli.context import report_lag

    with services_at(ctx, reads_only=True) as services:
        projector = services.projector
        head, positions = projector.head(), projector.positions()
        if services.read_only:
            report_lag(min(positions.values()), head, projector.standing())
    rows = [{"model": m, "position": p, "head": head, "lag": head - p}
            for m, p in positions.items()]
    echo(render(rows, fmt, ("model", "position", "head", "lag")))


@projections_app.command("run")
def run(ctx: typer.Context,
        poll: Annotated[float, typer.Option("--poll", min=0.05, help="Seconds between looks "
                                            "for new events.")] = 1.0,
        until_caught_up: Annotated[bool, typer.Option("--until-caught-up", help="Stop once "
                                                      "nothing is left to apply.")] = False,
        verbose: Annotated[bool, typer.Option("--verbose", help="One line on stderr per "
                                              "catch-up: events applied, position, and what "
                                              "woke the runner (notify, poll).")] = False,
        ) -> None:
    """Follow new events as a long-lived process, applying them as they arrive.

    On PostgreSQL the runner is woken by the writers' NOTIFY as each commits; --poll is
    then only a fallback. On SQLite it looks every --poll seconds. ^C or SIGTERM stops it.

    Example: ledger --db postgresql://ledger@db/ledger projections run --verbose
    """
    def woken(reason: str, applied: int, position: int) -> None:
        typer.echo(f"applied {applied} events to position {position} (woken by {reason})",
                   err=True)

    with services_at(ctx) as services:
        projector = services.projector
        if until_caught_up:
            echo(f"applied {projector.catch_up()} events")
            return
        # SIGTERM (a service manager's stop) stops it as ^C does: between batches or mid-
        # batch, whose transaction then rolls back. SIGINT is left as the process was given
        # it (a background job of a non-interactive shell has it ignored).
        previous = signal.signal(signal.SIGTERM, _stop)
        try:
            projector.run(poll, woken=woken if verbose else None)
        except KeyboardInterrupt:
            echo("stopped")
        finally:
            signal.signal(signal.SIGTERM, previous)


def _stop(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def register(app: typer.Typer) -> None:
    """Add `projections` to the app."""
    app.add_typer(projections_app, name="projections")
