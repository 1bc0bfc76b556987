"""`ledger export` and `ledger verify-pack`: the external auditor's evidence pack."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ledger.application.provenance import current_actor
from ledger.cli.context import catch_up, echo, fail, ledger_at, plan_option, services_at
from ledger.cli.queries import AsOf, KnownAt, moment

STEPS = 5


def export(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="A new or empty directory for the pack.")],
    as_of: AsOf = None, known_at: KnownAt = None,
    theme: Annotated[str | None, typer.Option("--theme", help="Only this theme.")] = None,
    sign: Annotated[Path | None, typer.Option("--sign", help="Ed25519 private key (PEM) to "
                                              "sign the manifest with.")] = None,
    no_pdf: Annotated[bool, typer.Option("--no-pdf", help="Leave out report.pdf (it needs "
                                         "Chromium).")] = False,
    by: Annotated[str | None, typer.Option("--by", help="Who runs the export.")] = None,
) -> None:
    """Write an evidence pack that an external auditor can check without the ledger.

    The pack holds the events with their chain hashes, the read models as CSV, a
    self-contained report (HTML and PDF), a manifest with control totals, SHA256SUMS, and
    with --sign an Ed25519 signature of the manifest.

    Example: ledger --plan cgip-2018 export --out pack-2018-09 --as-of 2018-09-30 --sign key.pem
    """
    from ledger.application.exporting import PackRequest, export_pack

    request = PackRequest(out, plan_option(ctx), moment(as_of, known_at), theme, sign, not no_pdf,
                          current_actor(by))
    with services_at(ctx) as services, typer.progressbar(length=STEPS, label="exporting",
                                                         file=sys.stderr) as bar:
        catch_up(services)
        manifest = export_pack(services.ledger, services.reader, request,
                               lambda _name: bar.update(1))
    totals = manifest["control_totals"]
    echo(f"wrote {sum(1 for _ in out.iterdir())} files to {out}: {totals['events']} events, "
         f"{totals['slips']} slips; check with: cd {out} && sha256sum -c SHA256SUMS")


def verify_pack(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="The pack's directory.")],
    key: Annotated[Path | None, typer.Option("--key", help="The signer's public key (PEM) "
                                             "you trust; default the pack's own.")] = None,
    against_ledger: Annotated[bool, typer.Option("--against-ledger", help="Also prove the "
                                                 "ledger (--db) extends the pack's digest.")]
    = False,
) -> None:
    """Check a pack: every file against its manifest and SHA256SUMS, and its signature.

    With --against-ledger, also that the pack's digest is a prefix of the ledger's chain.

    Example: ledger verify-pack pack-2018-09 --key council.pub.pem --against-ledger
    """
    from ledger.application.exporting import verify_pack as check

    if against_ledger:
        with ledger_at(ctx) as ledger:
            problems = check(directory, ledger, key)
    else:
        problems = check(directory, None, key)
    if problems:
        for problem in problems[:-1]:
            typer.echo(f"error: {problem}", err=True)
        fail(problems[-1], 1)
    echo(f"{directory}: every file matches its manifest and SHA256SUMS"
         + ("; the signature holds" if (directory / "manifest.json.sig").exists() else "")
         + ("; the ledger extends its digest" if against_ledger else ""))


def register(app: typer.Typer) -> None:
    """Add `export` and `verify-pack` to the app."""
    app.command("export")(export)
    app.command("verify-pack")(verify_pack)
