"""`ledger export` and `ledger verify-pack`: the external auditor's evidence pack."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ledger.application.provenance import current_actor
from ledger.cli.context import echo, fail, ledger_at, plan_option, read_file, refusing
from ledger.cli.queries import AsOf, KnownAt, moment

STEPS = 5
EXIT_TAMPERED = 1
EXIT_UNPROVEN = 3  # intact, but who signed it is not established


def export(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="A new or empty directory for the pack.")],
    as_of: AsOf = None, known_at: KnownAt = None,
    theme: Annotated[str | None, typer.Option("--theme", help="Only this theme.")] = None,
    sign: Annotated[Path | None, typer.Option("--sign", help="Ed25519 private key (PEM) to "
                                              "sign the manifest with.")] = None,
    tsr: Annotated[Path | None, typer.Option("--tsr", help="A timestamp authority's reply "
                                             "for a digest of this ledger, to carry.")] = None,
    no_pdf: Annotated[bool, typer.Option("--no-pdf", help="Leave out report.pdf (it needs "
                                         "Chromium).")] = False,
    by: Annotated[str | None, typer.Option("--by", help="Who runs the export.")] = None,
) -> None:
    """Write an evidence pack that an external auditor can check without the ledger.

    The pack holds every event of the plan with its seal, the whole seal list to the head,
    the CSVs and report derived from those events, a manifest with control totals,
    SHA256SUMS, verify_pack.py (standard library only) and, with --sign, an Ed25519
    signature of the manifest. It is written beside --out and renamed into place only once
    it verifies: a failed export leaves nothing there.

    Example: ledger --plan cgip-2018 export --out pack-2018-09 --as-of 2018-09-30 --sign key.pem
    """
    from ledger.application.exporting import PackRequest, export_pack

    request = PackRequest(out, plan_option(ctx), moment(as_of, known_at), theme, sign, not no_pdf,
                          current_actor(by), tsr)
    with ledger_at(ctx, reads_only=True) as ledger, typer.progressbar(
            length=STEPS, label="exporting", file=sys.stderr) as bar:
        manifest = export_pack(ledger, request, lambda _name: bar.update(1))
    totals = manifest["control_totals"]
    echo("\n".join([
        f"wrote {len(manifest['files']) + 2 + ('signer_fingerprint' in manifest) * 2} files to "
        f"{out}",
        f"  {totals['events_in_scope']} events in scope of {totals['events_in_pack']} in the "
        f"pack, {totals['slips']} slips",
        f"  check with: ledger verify-pack {out} --key PUB.pem",
        f"  or without the ledger: python3 -I {out}/verify_pack.py {out}"]))


def verify_pack(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="The pack's directory.")],
    key: Annotated[Path | None, typer.Option("--key", help="The signer's public key (PEM), "
                                             "obtained by you, not from the pack.")] = None,
    fingerprint: Annotated[str | None, typer.Option("--fingerprint", help="The signer's key "
                                                    "fingerprint (SHA256:…), published by "
                                                    "the council.")] = None,
    digest_file: Annotated[Path | None, typer.Option("--digest", help="A digest you kept: the "
                                                     "pack's chain must pass through it.")]
    = None,
    against_ledger: Annotated[bool, typer.Option("--against-ledger", help="Also prove the "
                                                 "ledger (--db) extends the pack's digest.")]
    = False,
    tsa_cert: Annotated[Path | None, typer.Option("--tsa-cert", help="The certificate trusted "
                                                  "for the pack's digest.tsr (the TSA's CA, "
                                                  "or the TSA's own).")] = None,
) -> None:
    """Check a pack, trusting nothing in it; then who signed it.

    Integrity: every file against the manifest and SHA256SUMS, every event's content hash,
    every link from genesis to the head, the head against the digest, no event of the plan
    left out, every derived file recomputed from the events, verify_pack.py unaltered.
    Authenticity: the signature against the key (--key) or fingerprint (--fingerprint) you
    supply. Exit 0: intact and signed by the key you named; 1: tampered (the first problem
    named) or not signed by that key; 2: not a pack it can read; 3: intact, but who signed
    is not established (unsigned, or checked only against the key inside the pack).

    Example: ledger verify-pack pack-2018-09 --key council.pub.pem --against-ledger
    """
    from ledger.application.evidence import read_digest
    from ledger.application.exporting import verify_pack as check
    from ledger.domain.words import shown
    from ledger.export.proof import PDF_NOTE

    with refusing():
        given = read_digest(digest_file) if digest_file else None
        cert = read_file(tsa_cert) if tsa_cert else None
        if against_ledger:
            with ledger_at(ctx, reads_only=True) as ledger:
                verdict = check(directory, ledger, key, fingerprint, given, cert)
        else:
            verdict = check(directory, None, key, fingerprint, given, cert)
    problems = [*verdict.problems, *([verdict.ledger_problem] if verdict.ledger_problem else [])]
    if problems:
        for problem in problems[:-1]:
            typer.echo(shown(f"tampered: {problem}"), err=True)
        fail(f"tampered: {problems[-1]}", EXIT_TAMPERED)
    found = verdict.findings
    head = found.head.position if found.head else 0
    lines = [f"intact: {directory}", f"  {found.events} events of the plan, {found.positions} "
             f"positions of the chain to the head at {head}",
             "  every derived file agrees with the events"]
    if given is not None:
        lines.append(f"the chain passes through your digest at position {given.position}")
    if against_ledger:
        lines.append("the ledger extends the pack's digest")
    if verdict.timestamp:
        lines.append(verdict.timestamp)
    if (directory / "report.pdf").exists():
        lines.append(PDF_NOTE)
    if verdict.signer == "yours":
        echo("\n".join([*lines, verdict.signer_detail]))
        return
    echo("\n".join(lines))
    typer.echo(f"who signed is not established: {verdict.signer_detail}", err=True)
    raise typer.Exit(EXIT_UNPROVEN)


def register(app: typer.Typer) -> None:
    """Add `export` and `verify-pack` to the app."""
    app.command("export")(export)
    app.command("verify-pack")(verify_pack)
