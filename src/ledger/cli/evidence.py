"""Tamper evidence from the CLI: `ledger digest` to keep, `ledger verify` to check."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from ledger.application.provenance import current_actor
from ledger.cli.context import echo, fail, ledger_at, refusing

EXIT_TAMPERED = 1
PROGRESS_FROM = 50_000  # events: below this verify is quick enough without a bar
PROGRESS_STEP = 1_000


def digest(
    ctx: typer.Context,
    out: Annotated[Path | None, typer.Option("--out", help="Also write it to this new file.")]
    = None,
    by: Annotated[str | None, typer.Option("--by", help="Who takes the digest.")] = None,
) -> None:
    """Print the head of the ledger's hash chain (position, hash, time) as JSON.

    Keep it outside the council's systems, and later prove the ledger still extends it.

    Example: ledger digest --out ~/audit/ledger-2026-11.json
    """
    from ledger.application.evidence import take_digest

    if out is not None and out.exists():
        fail(f"{out} exists: a digest is never written over another")
    with ledger_at(ctx) as ledger:
        taken = take_digest(ledger.app, current_actor(by))
    text = json.dumps(taken, indent=2)
    if out is not None:
        try:
            out.write_text(text + "\n", encoding="utf-8")
        except OSError as exc:
            fail(f"cannot write {out}: {exc.strerror or exc}")
    echo(text)


def verify(
    ctx: typer.Context,
    digest_file: Annotated[Path | None, typer.Option("--digest", help="A digest taken "
                                                     "earlier, to prove the ledger extends.")]
    = None,
    events_only: Annotated[bool, typer.Option("--events-only", help="Check the chain only, "
                                              "not the read models (faster).")] = False,
) -> None:
    """Check every stored event against its seal, and the read models against the events.

    Exit 0 when intact; 1 naming the first bad row (position, stream, version) and what is
    wrong: altered, missing, inserted, reordered, version-gap, duplicate-version,
    time-backwards, chain-broken, a digest not extended, or a read-model row the events do
    not give.

    Example: ledger verify --digest ~/audit/ledger-2026-11.json
    """
    from ledger.application.evidence import read_digest
    from ledger.application.evidence import verify as check

    with refusing():
        given = read_digest(digest_file) if digest_file else None
    with ledger_at(ctx) as ledger, _progress(ledger.app.recorder.max_notification_id() or 0,
                                             "verifying") as advance:
        verdict = check(ledger.app, given, advance, read_models=not events_only)
    for found in (verdict.problem, verdict.digest_problem, verdict.models_problem):
        if found:
            fail(f"tampered: {found}", EXIT_TAMPERED)
    if verdict.events == 0:
        echo("empty: the ledger holds no events, so there is nothing to verify")
        return
    extends = f"; extends the digest at position {given.position}" if given else ""
    models = "" if events_only else "; the read models agree with the events"
    echo(f"intact: {verdict.events} events, head at position {verdict.head.position} "
         f"({verdict.head.link[:16]}…){extends}{models}")


@contextmanager
def _progress(total: int, label: str) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on a terminal's stderr (nothing when stderr is not a terminal)."""
    if not sys.stderr.isatty() or total < PROGRESS_FROM:
        yield None
        return
    with typer.progressbar(length=total, label=label, file=sys.stderr) as bar:
        seen = [0]

        def advance(position: int) -> None:
            if position - seen[0] >= PROGRESS_STEP:
                bar.update(position - seen[0])
                seen[0] = position

        yield advance


def register(app: typer.Typer) -> None:
    """Add `digest` and `verify` to the app."""
    app.command("digest")(digest)
    app.command("verify")(verify)
