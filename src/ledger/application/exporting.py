"""The evidence pack: every event of one plan with its seal, the whole seal list to the head,
the files derived from those events, a manifest, checksums, the pack's own verifier and an
optional signature. Written beside the target and renamed into place only once it verifies.

`verify_pack` checks a pack trusting nothing in it (`export.proof`), then who signed it
against a key the auditor supplies, then (given the ledger) that the ledger extends it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from ledger import __version__
from ledger.application.evidence import Digest, parse_digest, verify
from ledger.application.services import Ledger
from ledger.application.times import utc_text
from ledger.domain.chain import ENCODING, Seal, content_hash
from ledger.domain.errors import InvalidInputError, NotFoundError, TamperedError
from ledger.domain.events import ItemFiled, ThemeAdded
from ledger.domain.ids import item_id, plan_id
from ledger.domain.values import When
from ledger.export import files, proof, sheets
from ledger.store.app import LedgerApp
from ledger.store.chain import iter_seal_lines, last_seal, position_of_link

Progress = Callable[[str], None]


@dataclass(frozen=True)
class PackRequest:
    """What to export, and how."""

    out: Path
    plan: str | None
    when: When
    theme: str | None = None
    sign_key: Path | None = None
    pdf: bool = True
    actor: str = ""
    timestamp_reply: Path | None = None


def check_out_dir(out: Path, root: Path | None = None) -> None:
    """The pack goes into a new or empty directory, never over existing files; where the
    deployment names a permitted root ($LEDGER_EXPORT_ROOT), only inside it."""
    if root is not None and not out.resolve().is_relative_to(root.resolve()):
        msg = f"{out} is outside the permitted export directory {root}"
        raise InvalidInputError(msg)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        msg = f"{out} exists and is not an empty directory: a pack never overwrites files"
        raise InvalidInputError(msg)
    if not out.parent.is_dir():
        msg = f"{out.parent} is not a directory to write the pack in"
        raise InvalidInputError(msg)


def plan_events(app: LedgerApp, slug: str, head: Seal) -> proof.PlanEvents:
    """Every event of the plan's streams up to the head, with its seal, read stream by stream
    through the index on stream id (never the whole ledger)."""
    found: list[tuple[Any, Seal]] = []
    own = _sealed_stream(app, plan_id(slug).hex, head)
    found += own
    filed = [e for e in app.decode_all(r for r, _s in own) if isinstance(e, ItemFiled)]
    for event in filed:
        found += _sealed_stream(app, item_id(slug, event.number).hex, head)
    pack = proof.PlanEvents(slug)
    for record, seal in sorted(found, key=lambda pair: pair[0].position):
        if content_hash(record) != seal.content:
            msg = (f"position {record.position}: the stored event differs from what was "
                   f"sealed: no pack is made from it; run `ledger verify`")
            raise TamperedError(msg)
        pack.add(record, seal)
    return pack


def _sealed_stream(app: LedgerApp, stream: str, head: Seal) -> list[tuple[Any, Seal]]:
    rows = []
    for record, seal in app.stream_sealed(UUID(hex=stream)):
        if seal is None:
            msg = (f"position {record.position} (stream {stream}) is outside the hash chain: "
                   f"no pack is made while it is there; run `ledger verify`")
            raise TamperedError(msg)
        if record.position <= head.position:
            rows.append((record, seal))
    return rows


def _themes(pack: proof.PlanEvents) -> list[str]:
    return [e.number for e in pack.events if isinstance(e, ThemeAdded)]


@contextmanager
def _beside(out: Path) -> Iterator[Path]:
    """A scratch directory next to `out`, removed unless renamed into place."""
    scratch = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    mask = os.umask(0)
    os.umask(mask)
    scratch.chmod(0o777 & ~mask)  # as `mkdir` would make it, not mkdtemp's owner-only
    try:
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def export_pack(ledger: Ledger, request: PackRequest,
                progress: Progress | None = None) -> dict[str, Any]:
    """Write the pack into `request.out` (all of it or nothing); returns the manifest."""
    step = progress or (lambda _name: None)
    root = os.environ.get("LEDGER_EXPORT_ROOT")
    check_out_dir(request.out, Path(root) if root else None)
    signer = None
    if request.sign_key is not None:
        from ledger.export.signing import load_private_key  # noqa: PLC0415

        signer = load_private_key(request.sign_key)
    reply = _read_reply(request.timestamp_reply)
    slug = ledger.catalogue().check_plan(request.plan)
    with ledger.app.engine.connect() as conn:
        head = last_seal(conn, ledger.app.events_table.name)
    if head is None:
        msg = "the ledger holds no events yet: there is nothing to export"
        raise InvalidInputError(msg)
    pack = plan_events(ledger.app, slug, head)
    themes = _themes(pack)
    if request.theme is not None and request.theme not in themes:
        msg = f"plan {slug} has no theme {request.theme} (themes: {', '.join(themes)})"
        raise NotFoundError(msg)
    scope = proof.Scope(slug, request.when.as_of, request.when.known_at, request.theme)
    with _beside(request.out) as out:
        manifest = _write_pack(out, ledger.app, scope, pack, head, request, signer, reply, step)
        try:
            os.replace(out, request.out)  # an empty directory there is replaced, atomically
        except OSError as exc:
            msg = f"{request.out}: cannot put the pack there: {exc.strerror or exc}"
            raise InvalidInputError(msg) from None
    return manifest


def _write_pack(out: Path, app: LedgerApp, scope: proof.Scope, pack: proof.PlanEvents,
                head: Seal, request: PackRequest, signer: Any,
                reply: tuple[bytes, str] | None, step: Progress) -> dict[str, Any]:
    """Every file of the pack into `out`, then the pack checked as an auditor would."""
    step("events")
    stamped = position_of_link(app.engine, reply[1], head.position) if reply else 0
    # The seal list starts after the anchor: the seal before the plan's first event (or before
    # the timestamped position, if earlier). Only the true link there leads to the head, and
    # no event of the plan is older (each stream's versions start at 1 in the pack).
    anchor = min(pack.records[0][0].position, stamped or head.position) - 1
    anchor = anchor if anchor > 1 else 0  # the seal at 1 is proven from genesis, not anchored
    listed = _write_events(out, scope, pack, app, head, anchor)
    if reply is not None and not stamped:
        msg = (f"{request.timestamp_reply}: it timestamps {reply[1][:16]}…, which is no link of "
               f"this ledger's chain up to its head")
        raise InvalidInputError(msg)
    step("derived files")
    claims = {"run_at": utc_text(datetime.now(UTC)), "run_by": request.actor,
              "ledger_digest": {"ledger": app.name, "position": head.position, "hash": head.link,
                                "recorded_at": head.witness.at}}
    derived = proof.derive(scope, pack, proof.stated(claims))
    for name, data in derived.files.items():
        files.write_bytes(out / name, data)
        listed[name] = {"rows": derived.rows[name]}
    manifest: dict[str, Any] = {
        "format": proof.FORMAT, "tool": "ledger", "version": __version__,
        "parameters": derived.parameters,
        **claims,
        "chain_encoding": ENCODING, "csv_cells": proof.CSV_RULE, "workbook": sheets.NOTE,
        **({"report_pdf": proof.PDF_NOTE} if request.pdf else {}),
    }
    sheets.write(out / sheets.WORKBOOK, sheets.expected(manifest, derived.grids))
    listed[sheets.WORKBOOK] = {"sheets": 1 + len(sheets.SHEETS)}
    from ledger.export.standalone import verifier_source  # noqa: PLC0415

    files.write_bytes(out / proof.VERIFIER, verifier_source().encode("utf-8"))
    listed[proof.VERIFIER] = {}
    if request.pdf:
        step("report.pdf")
        from ledger.export.pdf import print_pdf  # noqa: PLC0415

        print_pdf(out / "report.html", out / "report.pdf")
        listed["report.pdf"] = {"rows": derived.rows["report.html"]}
    if reply is not None:
        files.write_bytes(out / "digest.tsr", reply[0])
        listed["digest.tsr"] = {}
    for name, entry in listed.items():
        entry["sha256"] = files.sha256_of(out / name)
    step("manifest")
    manifest["control_totals"] = {**derived.totals, "events_in_pack": len(pack.records),
                                  "positions": listed[proof.CHAIN]["rows"] - (anchor > 0)}
    manifest["files"] = listed
    if reply is not None:
        manifest["timestamp"] = {"file": "digest.tsr", "position": stamped, "hash": reply[1]}
    files.write_sums(out, _seal_manifest(out, manifest, signer))
    step("verify")
    try:
        problems = proof.check_pack(out).problems
    except proof.MalformedPack as exc:
        problems = [str(exc)]
    if problems:
        msg = f"the pack did not verify, so none was written: {problems[0]}"
        raise TamperedError(msg)
    return manifest


def _write_events(out: Path, scope: proof.Scope, pack: proof.PlanEvents, app: LedgerApp,
                  head: Seal, anchor: int) -> dict[str, dict[str, Any]]:
    """events.jsonl, and chain.jsonl from the anchor (0: genesis) to the head; their manifest
    entries."""
    items = pack.items()
    with (out / proof.EVENTS).open("w", encoding="utf-8") as handle:
        for index, (record, seal) in enumerate(pack.records):
            handle.write(proof.event_line(record, seal, proof.in_scope(scope, pack, index,
                                                                         items)))
    lines = 0
    with (out / proof.CHAIN).open("w", encoding="utf-8") as handle:
        for line in iter_seal_lines(app.engine, max(anchor, 1), head.position,
                                    proof.chain_line):
            handle.write(line)
            lines += 1
    return {proof.EVENTS: {"rows": len(pack.records)}, proof.CHAIN: {"rows": lines}}


def _seal_manifest(out: Path, manifest: dict[str, Any], signer: Any) -> list[str]:
    """Write the manifest (and its signature); the names SHA256SUMS lists."""
    names = [*manifest["files"], "manifest.json"]
    if signer is not None:
        from ledger.export.signing import fingerprint, public_pem  # noqa: PLC0415

        manifest["signer_fingerprint"] = fingerprint(public_pem(signer))
    data = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode()
    files.write_bytes(out / "manifest.json", data)
    if signer is not None:
        from ledger.export.signing import sign  # noqa: PLC0415

        signature, public = sign(signer, data)
        files.write_bytes(out / "manifest.json.sig", signature)
        files.write_bytes(out / "signer.pub.pem", public)
        names += ["manifest.json.sig", "signer.pub.pem"]
    return names


def _read_reply(path: Path | None) -> tuple[bytes, str] | None:
    """A timestamp reply to carry, and the link it stamps (InvalidInputError if unreadable)."""
    if path is None:
        return None
    from ledger.application.timestamps import read_reply  # noqa: PLC0415

    try:
        data = path.read_bytes()
    except OSError as exc:
        msg = f"{path}: cannot read the timestamp reply: {exc.strerror or exc}"
        raise InvalidInputError(msg) from None
    reply = read_reply(data)
    if not reply.granted or reply.algorithm != "sha256":
        msg = f"{path}: not a granted SHA-256 timestamp of a digest ({reply.status_text})"
        raise InvalidInputError(msg)
    return data, reply.imprint


# --- checking a pack -------------------------------------------------------------------


@dataclass(frozen=True)
class PackVerdict:
    """Integrity (the files, chain and derived files hold), then authenticity (who signed)."""

    problems: list[str]
    findings: proof.Findings
    signer: str  # "yours", "pack-key", "unsigned"
    signer_detail: str
    ledger_problem: str = ""
    timestamp: str = ""  # what the pack's timestamp reply proves, or why it was not checked

    @property
    def intact(self) -> bool:
        """True when nothing in the pack (or against the ledger) is wrong."""
        return not self.problems and not self.ledger_problem


def verify_pack(directory: Path, ledger: Ledger | None = None, public_key: Path | None = None,
                fingerprint: str | None = None, digest: Digest | None = None,
                tsa_cert: bytes | None = None) -> PackVerdict:
    """Check a pack. InvalidInputError where it cannot be read as one (exit 2)."""
    try:
        return _verify_pack(directory, ledger, public_key, fingerprint, digest, tsa_cert)
    except proof.MalformedPack as exc:
        raise InvalidInputError(str(exc)) from None


def _verify_pack(directory: Path, ledger: Ledger | None, public_key: Path | None,
                 fingerprint: str | None, digest: Digest | None,
                 tsa_cert: bytes | None) -> PackVerdict:
    findings = proof.check_pack(directory)
    manifest, manifest_bytes = proof.read_manifest(directory)
    problems = list(findings.problems)
    from ledger.export.standalone import verifier_source  # noqa: PLC0415

    verifier = directory / proof.VERIFIER
    if verifier.is_file() and verifier.read_bytes() != verifier_source().encode("utf-8"):
        problems.append(f"{proof.VERIFIER}: differs from the verifier ledger {__version__} "
                        f"writes: do not run it")
    if digest is not None and not problems:
        problems += _extends(directory, digest)
    stamped = _timestamp(directory, manifest, tsa_cert, problems) if not problems else ""
    signer, detail = _signer(directory, manifest_bytes, public_key, fingerprint, problems)
    ledger_problem = ""
    if ledger is not None and not problems:
        head = parse_digest(manifest["ledger_digest"], "manifest.json ledger_digest")
        verdict = verify(ledger.app, head)
        found = verdict.problem or verdict.digest_problem
        ledger_problem = f"ledger: {found}" if found else ""
    return PackVerdict(problems, findings, signer, detail, ledger_problem, stamped)


def _timestamp(directory: Path, manifest: dict[str, Any], tsa_cert: bytes | None,
               problems: list[str]) -> str:
    """The pack's timestamp reply, checked against the certificate the auditor trusts."""
    stamp = proof.timestamped(manifest)
    if stamp is None:
        if tsa_cert is not None:
            problems.append("digest.tsr: the pack carries no timestamp to check")
        return ""
    if tsa_cert is None:
        return (f"digest.tsr: a timestamp of position {stamp[0]} is in the pack, not checked "
                f"(give --tsa-cert)")
    from ledger.application.timestamps import check_reply  # noqa: PLC0415
    from ledger.domain.errors import UntrustedTimestampError  # noqa: PLC0415

    try:
        reply = check_reply((directory / "digest.tsr").read_bytes(), stamp[1], tsa_cert)
    except UntrustedTimestampError as exc:
        problems.append(f"digest.tsr: timestamp refused: {exc}")
        return ""
    assert reply.gen_time is not None
    return (f"timestamped: the chain up to position {stamp[0]} existed by "
            f"{reply.gen_time.isoformat()}, per {reply.tsa}")


def _extends(directory: Path, digest: Digest) -> list[str]:
    """Whether the pack's chain passes through the auditor's own digest (InvalidInputError
    where the pack's seal list starts after it: the pack cannot say)."""
    for number, position, *_fields, link, _at, _role in proof.chain_rows(directory / proof.CHAIN):
        if number == 1 and position > digest.position:
            msg = (f"your digest's position {digest.position} is before this pack's seal list, "
                   f"which starts at {position} (just before the plan's first event): the pack "
                   f"cannot show the ledger extends it; use --against-ledger")
            raise InvalidInputError(msg)
        if position == digest.position:
            if link == digest.hash:
                return []
            return [f"{proof.CHAIN} position {digest.position}: link {link[:16]}…, your "
                    f"digest says {digest.hash[:16]}…: history before it was rewritten"]
    return [f"{proof.CHAIN}: ends before your digest's position {digest.position}"]


def _signer(directory: Path, manifest_bytes: bytes, public_key: Path | None,
            fingerprint: str | None, problems: list[str]) -> tuple[str, str]:
    """Who signed: checked against the auditor's key or fingerprint; adds to `problems` when
    the signature fails or the pack is not signed by the key the auditor named."""
    from ledger.export import signing  # noqa: PLC0415

    signature, shipped = directory / "manifest.json.sig", directory / "signer.pub.pem"
    named = public_key is not None or fingerprint is not None
    key = _read_key(public_key) if public_key is not None else (
        shipped.read_bytes() if shipped.is_file() else None)
    problem, verdict = "", ("unsigned", "the pack is not signed: nothing says who made it")
    if not signature.is_file():
        problem = "manifest.json.sig: the pack is not signed, but you named a signer" \
            if named else ""
    elif key is None:
        problem = "signer.pub.pem: missing, and no --key given to check the signature"
    elif not signing.check_signature(key, manifest_bytes, signature.read_bytes()):
        whose = "your key" if public_key is not None else "the key in the pack"
        problem = f"manifest.json.sig: the signature does not verify with {whose}"
    elif public_key is not None:
        verdict = ("yours", f"signed by the key you supplied ({signing.fingerprint(key)})")
    elif fingerprint is not None:
        problem = "".join(proof.named_signer(directory, fingerprint))
        verdict = ("yours", f"signed by the key with the fingerprint you supplied "
                            f"({signing.fingerprint(key)})")
    else:
        verdict = ("pack-key", f"the signature matches the key inside the pack "
                               f"({signing.fingerprint(key)}), which proves nothing about who "
                               f"signed: give --key or --fingerprint")
    if problem:
        problems.append(problem)
        return "unsigned", ""
    return verdict


def _read_key(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        msg = f"{path}: cannot read the key: {exc.strerror or exc}"
        raise InvalidInputError(msg) from None


__all__ = ["PackRequest", "PackVerdict", "export_pack", "verify_pack"]
