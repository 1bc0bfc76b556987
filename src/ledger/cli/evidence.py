"""Tamper evidence from the CLI: `ledger digest` to keep, `ledger verify` to check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ledger.application.provenance import current_actor
from ledger.cli.context import echo, fail, ledger_at, refusing

EXIT_TAMPERED = 1


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
) -> None:
    """Recompute the hash chain from the stored events: exit 0 when intact, 1 when not.

    A broken chain is reported at its first bad position, saying what is wrong there
    (altered, missing, inserted, reordered).

    Example: ledger verify --digest ~/audit/ledger-2026-11.json
    """
    from ledger.application.evidence import read_digest
    from ledger.application.evidence import verify as check

    with refusing():
        given = read_digest(digest_file) if digest_file else None
    with ledger_at(ctx) as ledger:
        verdict = check(ledger.app, given)
    if verdict.problem is not None:
        fail(f"tampered: {verdict.problem}", EXIT_TAMPERED)
    if verdict.digest_problem:
        fail(f"tampered: {verdict.digest_problem}", EXIT_TAMPERED)
    extends = f"; extends the digest at position {given['position']}" if given else ""
    echo(f"intact: {verdict.events} events, head at position {verdict.head.position} "
         f"({verdict.head.link[:16]}…){extends}")


def register(app: typer.Typer) -> None:
    """Add `digest` and `verify` to the app."""
    app.command("digest")(digest)
    app.command("verify")(verify)
