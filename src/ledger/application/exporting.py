"""The evidence pack: every event in scope with its chain hash, the read models as of the
parameters, a report, a manifest with control totals, checksums and an optional signature.

`verify_pack` checks a pack without trusting the ledger: files against the
manifest and SHA256SUMS, the signature, and (given the ledger) that the pack's
digest is a prefix of the ledger's chain.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ledger import __version__
from ledger.application.evidence import parse_digest, take_digest, verify
from ledger.application.services import Ledger
from ledger.domain.chain import content_hash
from ledger.domain.errors import InvalidInputError
from ledger.domain.events import describe, kind_of
from ledger.domain.values import When, month_end
from ledger.export import files
from ledger.export.report import render_report
from projections.change_log import COLUMNS as CHANGE_COLUMNS
from projections.current_plan import COLUMNS as PLAN_COLUMNS
from projections.monthly_snapshots import COLUMNS as SNAPSHOT_COLUMNS
from projections.queries import Reader
from projections.slippage_history import COLUMNS as SLIPPAGE_COLUMNS

EVENT_COLUMNS = ("position", "chain_hash", "content_hash", "stream", "version", "plan", "item",
                 "kind", "topic", "recorded_at", "db_role", "effective", "basis", "edition",
                 "recorded_by", "attributed_to", "before", "after", "source", "note",
                 "corrected_by", "state")
MTA_MILESTONES = 10
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


def check_out_dir(out: Path, root: Path | None = None) -> None:
    """The pack goes into a new or empty directory, never over existing files; where the
    deployment names a permitted root ($LEDGER_EXPORT_ROOT), only inside it."""
    if root is not None and not out.resolve().is_relative_to(root.resolve()):
        msg = f"{out} is outside the permitted export directory {root}"
        raise InvalidInputError(msg)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        msg = f"{out} exists and is not an empty directory: a pack never overwrites files"
        raise InvalidInputError(msg)


def _event_rows(ledger: Ledger, reader: Reader, slug: str, request: PackRequest,
                items: set[str]) -> list[dict[str, Any]]:
    streams = reader.streams(slug)
    corrected = reader.corrections()
    rows = []
    plan = slug
    for stored, stamp in ledger.app.iter_sealed():
        item = streams.get(stored.originator_id.hex)
        if item is None or (item and item not in items) or (request.theme and not item):
            continue
        if stamp is None:
            continue  # outside the chain: never evidence (`ledger verify` names it)
        event = ledger.app.decode(stored)
        recorded = stamp.witness.at  # the store's witness, not the writer's own clock
        if request.when.known_at is not None and recorded > request.when.known_at:
            continue
        if event.effective > request.when.as_of and kind_of(event) != "correction":
            continue
        before, after = describe(event)
        rows.append({
            "position": stored.position, "chain_hash": stamp.link,
            "content_hash": content_hash(stored), "stream": stored.originator_id.hex,
            "version": stored.version, "plan": plan, "item": item, "kind": kind_of(event),
            "topic": stored.topic, "recorded_at": recorded, "db_role": stamp.witness.role,
            "effective": event.effective.isoformat(), "basis": event.basis,
            "edition": event.edition, "recorded_by": event.recorded_by,
            "attributed_to": event.attributed_to, "before": before, "after": after,
            "source": event.source, "note": event.note,
            "corrected_by": corrected.get((plan, item, stored.version), ""),
            "state": json.loads(stored.state),
        })
    return rows


def _mta_series(reader: Reader, slug: str, request: PackRequest, months: list[str],
                slippage: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Forecast month of each chosen milestone at each report month."""
    chosen = [r for r in slippage if r["moves"]] or [r for r in slippage if r["current_due"]]
    chosen = chosen[:MTA_MILESTONES]
    forecasts: dict[tuple[str, int], list[tuple[str, str]]] = {
        (r["item"], r["outcome_no"]): [] for r in chosen}
    for month in months:
        when = When(min(month_end(month), request.when.as_of), request.when.known_at)
        for state in reader.states(slug, when):
            for number, outcome in state.outcomes.items():
                key = (state.number, number)
                if key in forecasts:
                    forecasts[key].append((month, outcome.due))
    return [{"label": f"{r['item']} #{r['outcome_no']} {r['outcome']}",
             "baseline": r["baseline_due"], "points": forecasts[(r["item"], r["outcome_no"])]}
            for r in chosen]


def export_pack(ledger: Ledger, reader: Reader, request: PackRequest,
                progress: Progress | None = None) -> dict[str, Any]:
    """Write the pack into `request.out`; returns the manifest."""
    step = progress or (lambda _name: None)
    root = os.environ.get("LEDGER_EXPORT_ROOT")
    check_out_dir(request.out, Path(root) if root else None)
    slug = ledger.catalogue().check_plan(request.plan)
    when = request.when
    plan_rows = reader.plan(slug, when, request.theme)
    items = {r["item"] for r in plan_rows}
    snapshots = [r for r in reader.snapshots(slug, when) if r["item"] in items]
    slippage = [r for r in reader.slippage(slug, when) if r["item"] in items]
    changes = [r for r in reader.changes(slug, when)
               if r["item"] in items or (not r["item"] and not request.theme)]
    events = _event_rows(ledger, reader, slug, request, items)
    request.out.mkdir(parents=True, exist_ok=True)
    out, manifest_files = request.out, {}
    step("events")
    event_totals = {"events_per_kind": dict(sorted(Counter(e["kind"] for e in events).items()))}
    manifest_files["events.jsonl"] = {"rows": files.write_jsonl(out / "events.jsonl", events),
                                      **event_totals}
    manifest_files["events.csv"] = {
        "rows": files.write_csv(out / "events.csv", events, EVENT_COLUMNS), **event_totals}
    step("read models")
    statuses = dict(sorted(Counter(r["status"] for r in plan_rows).items()))
    slips = {"slips": sum(r["slip_count"] for r in slippage),
             "months_slipped": sum(r["months_slipped"] for r in slippage)}
    kinds = {"changes_per_kind": dict(sorted(Counter(r["kind"] for r in changes).items()))}
    for name, rows, columns, totals in (
        ("plan.csv", plan_rows, PLAN_COLUMNS, {"items_per_status": statuses}),
        ("snapshots.csv", snapshots, SNAPSHOT_COLUMNS, {}),
        ("slippage.csv", slippage, SLIPPAGE_COLUMNS, slips),
        ("changes.csv", changes, (*CHANGE_COLUMNS, "corrected_by"), kinds),
    ):
        manifest_files[name] = {"rows": files.write_csv(out / name, rows, columns), **totals}
    step("report")
    months = sorted({s["month"] for s in snapshots})
    params = _parameters(slug, request, reader)
    html = render_report(params, plan_rows, snapshots,
                         _mta_series(reader, slug, request, months, slippage), slippage, changes)
    files.write_text(out / "report.html", html)
    manifest_files["report.html"] = {"rows": len(plan_rows)}
    if request.pdf:
        step("report.pdf")
        from ledger.export.pdf import print_pdf  # noqa: PLC0415

        print_pdf(out / "report.html", out / "report.pdf")
        manifest_files["report.pdf"] = {"rows": len(plan_rows)}
    for name, entry in manifest_files.items():
        entry["sha256"] = files.sha256_of(out / name)
    step("manifest")
    manifest = {
        "tool": "ledger", "version": __version__, "parameters": params,
        "run_at": datetime.now(UTC).isoformat(timespec="seconds"), "run_by": request.actor,
        "ledger_digest": take_digest(ledger.app, request.actor),
        "control_totals": {"events": len(events), **event_totals, **slips},
        "files": manifest_files,
    }
    manifest_bytes = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode()
    files.write_bytes(out / "manifest.json", manifest_bytes)
    names = [*manifest_files, "manifest.json"]
    if request.sign_key is not None:
        from ledger.export.signing import load_private_key, sign  # noqa: PLC0415

        signature, public = sign(load_private_key(request.sign_key), manifest_bytes)
        files.write_bytes(out / "manifest.json.sig", signature)
        files.write_bytes(out / "signer.pub.pem", public)
        names += ["manifest.json.sig", "signer.pub.pem"]
    files.write_sums(out, names)
    return manifest


def _parameters(slug: str, request: PackRequest, reader: Reader) -> dict[str, Any]:
    return {"plan": slug, "plan_title": (reader.plan_info(slug) or {}).get("title", slug),
            "as_of": request.when.as_of.isoformat(), "known_at": request.when.known_at or "now",
            "theme": request.theme or "all"}


def verify_pack(directory: Path, ledger: Ledger | None = None,
                public_key: Path | None = None) -> list[str]:
    """Every problem found with a pack (an empty list: it checks out)."""
    problems: list[str] = []
    manifest_path = directory / "manifest.json"
    try:
        manifest_bytes = manifest_path.read_bytes()
        manifest = json.loads(manifest_bytes)
    except (OSError, ValueError) as exc:
        return [f"manifest.json: unreadable: {exc}"]
    for name, entry in manifest.get("files", {}).items():
        path = directory / name
        if not path.exists():
            problems.append(f"{name}: listed in the manifest but missing")
        elif files.sha256_of(path) != entry.get("sha256"):
            problems.append(f"{name}: its SHA-256 differs from the manifest's")
    problems += _check_sums(directory)
    signature = directory / "manifest.json.sig"
    if signature.exists():
        from ledger.export.signing import check_signature  # noqa: PLC0415

        key_path = public_key or directory / "signer.pub.pem"
        try:
            key = key_path.read_bytes()
        except OSError:
            problems.append(f"{key_path}: no public key to check the signature with")
        else:
            if not check_signature(key, manifest_bytes, signature.read_bytes()):
                problems.append("manifest.json.sig: the signature does not match the manifest")
    elif public_key is not None:
        problems.append("manifest.json.sig: the pack is not signed")
    if ledger is not None:
        problems += _against_ledger(manifest, ledger)
    return problems


def _against_ledger(manifest: dict[str, Any], ledger: Ledger) -> list[str]:
    """The problems in proving that the ledger extends the pack's digest."""
    try:
        digest = parse_digest(manifest.get("ledger_digest"), "manifest.json ledger_digest")
    except InvalidInputError as exc:
        return [str(exc)]
    verdict = verify(ledger.app, digest)
    if verdict.problem is not None:
        return [f"ledger: {verdict.problem}"]
    if verdict.digest_problem:
        return [f"ledger: {verdict.digest_problem}"]
    return []


def _check_sums(directory: Path) -> list[str]:
    sums = directory / "SHA256SUMS"
    if not sums.exists():
        return ["SHA256SUMS: missing"]
    problems, listed = [], set()
    for line in sums.read_text(encoding="utf-8").splitlines():
        digest, _, name = line.partition("  ")
        listed.add(name)
        path = directory / name
        if not path.exists() or files.sha256_of(path) != digest:
            problems.append(f"{name}: does not match SHA256SUMS")
    extra = sorted(p.name for p in directory.iterdir() if p.name not in listed | {"SHA256SUMS"})
    problems += [f"{name}: in the pack but not in SHA256SUMS" for name in extra]
    return problems


__all__ = ["PackRequest", "export_pack", "verify_pack"]
