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
from ledger.cli.context import echo, fail, ledger_at, read_file, refusing

EXIT_TAMPERED = 1
PROGRESS_FROM = 50_000  # events: below this verify is quick enough without a bar
PROGRESS_STEP = 1_000


def digest(
    ctx: typer.Context,
    out: Annotated[Path | None, typer.Option("--out", help="Also write it to this new file.")]
    = None,
    by: Annotated[str | None, typer.Option("--by", help="Who takes the digest.")] = None,
    tsq: Annotated[Path | None, typer.Option("--tsq", help="Also write an RFC 3161 timestamp "
                                             "request for it to this new file.")] = None,
    signer: Annotated[Path | None, typer.Option("--signer", help="The key (PEM, private or "
                                                "public) that signs evidence packs: its "
                                                "fingerprint goes beside the digest.")]
    = None,
) -> None:
    """Print the head of the ledger's hash chain (position, hash, time) as JSON.

    Keep it outside the council's systems, and later prove the ledger still extends it.
    With --tsq, send the request to a timestamp authority (TSA): its reply proves the head
    existed by then (`ledger verify --tsr`). With --signer, publish the fingerprint it adds
    so auditors can name the signer of a pack (`ledger verify-pack --fingerprint`).

    Example: ledger digest --out ~/audit/ledger-2026-11.json --tsq ~/audit/ledger-2026-11.tsq
    """
    from ledger.application.evidence import take_digest

    for path, what in ((out, "a digest"), (tsq, "a timestamp request")):
        if path is not None and path.exists():
            fail(f"{path} exists: {what} is never written over another")
    with ledger_at(ctx, reads_only=True) as ledger:
        taken = take_digest(ledger.app, current_actor(by))
    if signer is not None:
        from ledger.export.signing import fingerprint

        with refusing():
            taken["signer_fingerprint"] = fingerprint(read_file(signer), str(signer))
    text = json.dumps(taken, indent=2)
    if out is not None:
        _write(out, (text + "\n").encode())
    if tsq is not None:
        from ledger.application.timestamps import timestamp_request

        _write(tsq, timestamp_request(taken["hash"]))
    echo(text)


def _write(path: Path, data: bytes) -> None:
    """A new file (never over another, even one made since the check), or one line and exit 2."""
    try:
        with path.open("xb") as new:
            new.write(data)
    except FileExistsError:
        fail(f"{path} exists: it is never written over")
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or exc}")


def verify(
    ctx: typer.Context,
    digest_file: Annotated[Path | None, typer.Option("--digest", help="A digest taken "
                                                     "earlier, to prove the ledger extends.")]
    = None,
    events_only: Annotated[bool, typer.Option("--events-only", help="Check the chain only, "
                                              "not the read models (faster).")] = False,
    tsr: Annotated[Path | None, typer.Option("--tsr", help="A timestamp authority's reply to "
                                             "the digest's request (`digest --tsq`).")] = None,
    tsa_cert: Annotated[Path | None, typer.Option("--tsa-cert", help="The certificate trusted "
                                                  "for --tsr (PEM or DER): the TSA's CA, or "
                                                  "the TSA's own.")] = None,
) -> None:
    """Check every stored event against its seal, and the read models against the events.

    Exit 0 when intact; 1 naming the first bad row (position, stream, version) and what is
    wrong: altered, missing, inserted, reordered, version-gap, position-gap, duplicate-version,
    time-backwards, chain-broken, a digest not extended, or a read-model row the events do
    not give. With --tsr, 1 also when the timestamp fails: not granted, untrusted signer,
    signature, or imprint differs. 2 when the events check out but the database lacks a
    guard this version installs: `ledger init` adds it.

    Example: ledger verify --digest ~/audit/ledger-2026-11.json
    """
    from ledger.application.evidence import read_digest
    from ledger.application.evidence import verify as check

    with refusing():
        given = read_digest(digest_file) if digest_file else None
    stamped = _timestamped(given.hash if given else None, tsr, tsa_cert)
    with ledger_at(ctx, reads_only=True) as ledger, _progress(
            ledger.app.recorder.max_notification_id() or 0, "verifying") as advance:
        verdict = check(ledger.app, given, advance, read_models=not events_only)
    for found in (verdict.problem, verdict.digest_problem, verdict.models_problem):
        if found:
            fail(f"tampered: {found}", EXIT_TAMPERED)
    if verdict.unguarded:
        fail(f"the events check out, but the database lacks guards this version of ledger "
             f"installs ({', '.join(verdict.unguarded)}): it was made by an older version, or "
             f"they were dropped; run `ledger init`, which adds them (it touches no event), "
             f"then verify again")
    if verdict.events == 0:
        echo("empty: the ledger holds no events, so there is nothing to verify")
        return
    extends = f"; extends the digest at position {given.position}" if given else ""
    models = "" if events_only else "; the read models agree with the events"
    echo(f"intact: {verdict.events} events, head at position {verdict.head.position} "
         f"({verdict.head.link[:16]}…){extends}{models}")
    if given and stamped:
        echo(f"timestamped: the ledger's head at position {given.position} existed by "
             f"{stamped}")


def _timestamped(link: str | None, tsr: Path | None, tsa_cert: Path | None) -> str:
    """"GENTIME, per TSA" when the reply proves the digest's link existed then; exit 1 naming
    what failed when it does not; exit 2 for an unusable file or option."""
    if tsr is None and tsa_cert is None:
        return ""
    if tsr is None or tsa_cert is None or link is None:
        fail("--tsr needs --tsa-cert and --digest (the digest it timestamps), and --tsa-cert "
             "needs --tsr")
    from ledger.application.timestamps import check_reply
    from ledger.domain.errors import UntrustedTimestampError

    with refusing():
        try:
            reply = check_reply(read_file(tsr), link, read_file(tsa_cert))
        except UntrustedTimestampError as exc:
            fail(f"timestamp refused: {exc}", EXIT_TAMPERED)
    assert reply.gen_time is not None  # a checked reply is granted, so it has one
    return f"{reply.gen_time.isoformat()}, per {reply.tsa}"


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
