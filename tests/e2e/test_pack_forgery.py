"""Forged evidence packs: each made as the council's own signer could (files edited, sums and
the manifest's hashes recomputed, re-signed with the council's key), and each refused both by
`ledger verify-pack` and by the pack's standard-library verifier run with a bare `python3 -I`
(a trusted copy: a forged pack may carry a forged verifier)."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import subprocess
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from ledger.domain.chain import GENESIS, EventRecord, Seal, Witness, content_hash, link_hash
from ledger.export import proof, sheets
from ledger.export.signing import fingerprint, load_private_key, public_pem, sign
from tests.conftest import Cli, fresh_database
from tests.editions import SEPTEMBER, write_october

SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's, with no site packages of ours (and -I)


@dataclass(frozen=True)
class Council:
    """A ledger with two editions and a hostile note, its signed pack, the council's keys, and
    a digest an auditor took before the pack was made."""

    cli: Cli
    pack: Path
    key: Path
    public: Path
    other_key: Path
    digest: Path
    verifier: Path


def openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def council(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Council]:
    directory = tmp_path_factory.mktemp("council")
    with fresh_database("sqlite", directory) as url:
        cli = Cli(url)
        cli("init")
        cli("import", str(SEPTEMBER))
        cli("import", str(write_october(directory)))
        digest = directory / "auditor-digest.json"
        cli("digest", "--out", str(digest))
        cli("--plan", "cgip-2018", "update", "1.3", "Paperless meetings from 1 November",
            "--note", "=HYPERLINK(\"http://evil.example\",\"click\")", "--by", "@SUM(1+1)")
        key, public, other = (directory / n for n in ("council.pem", "council.pub.pem",
                                                      "other.pem"))
        openssl("genpkey", "-algorithm", "ed25519", "-out", str(key))
        openssl("pkey", "-in", str(key), "-pubout", "-out", str(public))
        openssl("genpkey", "-algorithm", "ed25519", "-out", str(other))
        pack = directory / "pack"
        cli("--plan", "cgip-2018", "export", "--out", str(pack), "--sign", str(key),
            "--no-pdf")
        verifier = directory / "trusted_verify_pack.py"
        shutil.copyfile(pack / "verify_pack.py", verifier)
        yield Council(cli, pack, key, public, other, digest, verifier)


@pytest.fixture
def pack(council: Council, tmp_path: Path) -> Path:
    return Path(shutil.copytree(council.pack, tmp_path / "pack"))


# --- how a forger with the council's key covers their tracks ------------------------------


def lines(path: Path) -> list[Any]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def write_lines(path: Path, rows: Sequence[Any]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False, sort_keys=isinstance(r, dict))
                            + "\n" for r in rows), encoding="utf-8")


def reseal(pack: Path, key: Path | None) -> None:
    """Recompute every hash the manifest and SHA256SUMS hold, and re-sign with `key`."""
    manifest = json.loads((pack / "manifest.json").read_text(encoding="utf-8"))
    for name, entry in manifest.get("files", {}).items():
        if (pack / name).is_file():
            entry["sha256"] = hashlib.sha256((pack / name).read_bytes()).hexdigest()
    if key is None:
        manifest.pop("signer_fingerprint", None)
    else:
        manifest["signer_fingerprint"] = fingerprint(public_pem(load_private_key(key)))
    data = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode()
    (pack / "manifest.json").write_bytes(data)
    names = [*manifest.get("files", {}), "manifest.json"]
    if key is not None:
        signature, public = sign(load_private_key(key), data)
        (pack / "manifest.json.sig").write_bytes(signature)
        (pack / "signer.pub.pem").write_bytes(public)
        names += ["manifest.json.sig", "signer.pub.pem"]
    else:
        for name in ("manifest.json.sig", "signer.pub.pem"):
            (pack / name).unlink(missing_ok=True)
    (pack / "SHA256SUMS").write_text("".join(
        f"{hashlib.sha256((pack / n).read_bytes()).hexdigest()}  {n}\n"
        for n in sorted(names) if (pack / n).is_file()), encoding="utf-8")


def replace_once(path: Path, old: bytes, new: bytes) -> None:
    data = path.read_bytes()
    assert old in data, (path.name, old)
    path.write_bytes(data.replace(old, new, 1))


def edit_manifest(pack: Path, change: Callable[[Any], object]) -> None:
    manifest = json.loads((pack / "manifest.json").read_text(encoding="utf-8"))
    change(manifest)
    (pack / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")


def an_update(rows: list[Any]) -> int:
    return next(i for i, r in enumerate(rows) if "UpdateRecorded" in r["topic"]
                and r["in_scope"] and json.loads(r["stored"]).get("text"))


def rechain(pack: Path, events: list[Any]) -> None:
    """Recompute every content hash and link from the events as edited: a self-consistent
    chain, with the manifest's digest moved to its new head."""
    chain = lines(pack / "chain.jsonl")
    by_position = {e["position"]: e for e in events}
    previous = GENESIS
    for row in chain:
        event = by_position.get(row[0])
        if event is not None:
            record = EventRecord(row[0], UUID(hex=row[2]), event["version"],
                                 event["topic"], event["stored"].encode())
            row[3] = event["content_hash"] = content_hash(record)
        row[4] = link_hash(previous, row[0], row[2], row[3], Witness(row[5], row[6]))
        previous = row[4]
        if event is not None:
            event["chain_hash"] = row[4]
    write_lines(pack / "chain.jsonl", chain)
    write_lines(pack / "events.jsonl", events)
    edit_manifest(pack, lambda m: m["ledger_digest"].update(hash=previous))
    rederive(pack)


def rederive(pack: Path) -> None:
    """Every derived file and total made again from the pack's events, with the ledger's own
    code, as a forger with the ledger installed would."""
    manifest = json.loads((pack / "manifest.json").read_text(encoding="utf-8"))
    scope = proof.Scope.from_parameters(manifest["parameters"])
    seals = {row[0]: Seal(row[0], row[3], row[4], row[1], Witness(row[5], row[6]), row[2])
             for row in lines(pack / "chain.jsonl")}
    events = proof.PlanEvents(scope.plan)
    for row in lines(pack / "events.jsonl"):
        record = EventRecord(row["position"], UUID(hex=row["stream"]), row["version"],
                             row["topic"], row["stored"].encode())
        events.add(record, seals[record.position])
    derived = proof.derive(scope, events, proof.stated(manifest))
    for name, data in derived.files.items():
        (pack / name).write_bytes(data)
    sheets.write(pack / "workbook.xlsx", sheets.expected(manifest, derived.grids))
    manifest["control_totals"].update(derived.totals)
    (pack / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")


# --- the forgeries -----------------------------------------------------------------------


def edited_event(pack: Path, council: Council) -> None:
    events = lines(pack / "events.jsonl")
    i = an_update(events)
    events[i]["stored"] = events[i]["stored"].replace('"text":"', '"text":"NOT ', 1)
    write_lines(pack / "events.jsonl", events)
    reseal(pack, council.key)


def dropped_event(pack: Path, council: Council) -> None:
    events = lines(pack / "events.jsonl")
    del events[an_update(events)]
    write_lines(pack / "events.jsonl", events)
    reseal(pack, council.key)


def dropped_event_and_its_seal(pack: Path, council: Council) -> None:
    events = lines(pack / "events.jsonl")
    gone = events.pop(an_update(events))
    write_lines(pack / "events.jsonl", events)
    chain = [row for row in lines(pack / "chain.jsonl") if row[0] != gone["position"]]
    write_lines(pack / "chain.jsonl", chain)
    reseal(pack, council.key)


def dropped_event_relabelled(pack: Path, council: Council) -> None:
    """The dropped event's seal claims another plan's stream."""
    events = lines(pack / "events.jsonl")
    gone = events.pop(an_update(events))
    write_lines(pack / "events.jsonl", events)
    chain = lines(pack / "chain.jsonl")
    for row in chain:
        if row[0] == gone["position"]:
            row[2] = "0" * 32
    write_lines(pack / "chain.jsonl", chain)
    reseal(pack, council.key)


def edited_csv(pack: Path, council: Council) -> None:
    replace_once(pack / "plan.csv", b",false,", b",true,")
    reseal(pack, council.key)


def edited_report(pack: Path, council: Council) -> None:
    replace_once(pack / "report.html", b"slipped", b"on track")
    reseal(pack, council.key)


def edited_totals(pack: Path, council: Council) -> None:
    edit_manifest(pack, lambda m: m["control_totals"].update(slips=0))
    reseal(pack, council.key)


def edited_run_by(pack: Path, council: Council) -> None:
    """The manifest's "run by" changed and re-signed: the report's cover states the manifest's
    run by, so the report re-derived from the pack no longer matches report.html."""
    edit_manifest(pack, lambda m: m.update(run_by="chief.executive"))
    reseal(pack, council.key)


def run_by_not_text(pack: Path, council: Council) -> None:
    edit_manifest(pack, lambda m: m.update(run_by=["chief.executive"]))
    reseal(pack, council.key)


def flipped_scope(pack: Path, council: Council) -> None:
    events = lines(pack / "events.jsonl")
    events[3]["in_scope"] = False
    write_lines(pack / "events.jsonl", events)
    reseal(pack, council.key)


def edited_witness_time(pack: Path, council: Council) -> None:
    chain = lines(pack / "chain.jsonl")
    chain[-1][5] = "2999" + chain[-1][5][4:]
    write_lines(pack / "chain.jsonl", chain)
    reseal(pack, council.key)


def swapped_events(pack: Path, council: Council) -> None:
    events = lines(pack / "events.jsonl")
    events[5]["stored"], events[6]["stored"] = events[6]["stored"], events[5]["stored"]
    write_lines(pack / "events.jsonl", events)
    reseal(pack, council.key)


def rewritten_history(pack: Path, council: Council) -> None:
    """An event edited and the whole chain recomputed after it, the digest moved: consistent
    in itself; only a digest kept outside the council (or the ledger) exposes it."""
    events = lines(pack / "events.jsonl")
    i = an_update(events)
    events[i]["stored"] = events[i]["stored"].replace('"text":"', '"text":"NOT ', 1)
    rechain(pack, events)
    reseal(pack, council.key)


def gapped_positions(pack: Path, council: Council) -> None:
    """The head event moved one position on, leaving nothing at its old one, and the chain
    recomputed around it (its seal still follows the one before): every link follows, but the
    database numbers events without gaps."""
    events, chain = lines(pack / "events.jsonl"), lines(pack / "chain.jsonl")
    head = chain[-1][0]
    chain[-1][0] = head + 1
    for event in events:
        if event["position"] == head:
            event["position"] = head + 1
    write_lines(pack / "chain.jsonl", chain)
    rechain(pack, events)
    reseal(pack, council.key)


def resigned_with_another_key(pack: Path, council: Council) -> None:
    reseal(pack, council.other_key)


def signature_removed(pack: Path, council: Council) -> None:
    reseal(pack, None)


def anchor_moved(pack: Path, council: Council) -> None:
    """The plan's first event dropped, and the seal list started one later: its seal becomes
    the anchor whose link is taken as given."""
    events = lines(pack / "events.jsonl")
    write_lines(pack / "events.jsonl", events[1:])
    write_lines(pack / "chain.jsonl", lines(pack / "chain.jsonl")[1:])
    reseal(pack, council.key)


def anchor_link_edited(pack: Path, council: Council) -> None:
    chain = lines(pack / "chain.jsonl")
    chain[0][4] = "f" * 64
    write_lines(pack / "chain.jsonl", chain)
    reseal(pack, council.key)


def extra_file(pack: Path, council: Council) -> None:
    (pack / "notes.txt").write_text("trust me")


def forged_verifier(pack: Path, council: Council) -> None:
    (pack / "verify_pack.py").write_text("print('intact')\n")
    reseal(pack, council.key)


def digest_removed(pack: Path, council: Council) -> None:
    edit_manifest(pack, lambda m: m.pop("ledger_digest"))
    reseal(pack, council.key)


def dotdot_name(pack: Path, council: Council) -> None:
    edit_manifest(pack, lambda m: m["files"].update({"../escape.csv": {"sha256": "0" * 64}}))


def manifest_a_list(pack: Path, council: Council) -> None:
    (pack / "manifest.json").write_text("[]")


def digest_position_text(pack: Path, council: Council) -> None:
    edit_manifest(pack, lambda m: m["ledger_digest"].update(position="abc"))


def rezip(path: Path, change: Callable[[dict[str, bytes]], None]) -> None:
    """The workbook unzipped, its parts changed, zipped again (as Excel or a script would)."""
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    change(parts)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def edited_workbook_cell(pack: Path, council: Council) -> None:
    """One cell's text edited in the workbook (1.3's latest update on the plan sheet), the
    sums fixed and the manifest re-signed."""
    def change(parts: dict[str, bytes]) -> None:
        old = b"Paperless meetings from 1 November"
        assert old in parts["xl/worksheets/sheet2.xml"]
        parts["xl/worksheets/sheet2.xml"] = parts["xl/worksheets/sheet2.xml"].replace(
            old, b"Paperless meetings from 1 December")
    rezip(pack / "workbook.xlsx", change)
    reseal(pack, council.key)


def workbook_formula(pack: Path, council: Council) -> None:
    """A cell of the plan sheet (1.1's first outcome_no) made a formula, its cached value
    unchanged."""
    def change(parts: dict[str, bytes]) -> None:
        sheet = parts["xl/worksheets/sheet2.xml"]
        start = sheet.index(b'<c r="J2"')
        end = sheet.index(b"<v>", start)
        parts["xl/worksheets/sheet2.xml"] = (sheet[:end] + b'<f>HYPERLINK("http://x","y")</f>'
                                             + sheet[end:])
    rezip(pack / "workbook.xlsx", change)
    reseal(pack, council.key)


def workbook_macro(pack: Path, council: Council) -> None:
    rezip(pack / "workbook.xlsx", lambda parts: parts.update({"xl/vbaProject.bin": b"\0" * 64}))
    reseal(pack, council.key)


def workbook_external_link(pack: Path, council: Council) -> None:
    def change(parts: dict[str, bytes]) -> None:
        rels = parts["xl/_rels/workbook.xml.rels"]
        parts["xl/_rels/workbook.xml.rels"] = rels.replace(
            b"</Relationships>", b'<Relationship Id="rIdX" Type="http://schemas.openxmlformats'
            b'.org/officeDocument/2006/relationships/hyperlink" Target="http://evil.example/" '
            b'TargetMode="External"/></Relationships>')
    rezip(pack / "workbook.xlsx", change)
    reseal(pack, council.key)


def events_not_json(pack: Path, council: Council) -> None:
    with (pack / "events.jsonl").open("a", encoding="utf-8") as handle:
        handle.write("{not json\n")
    reseal(pack, council.key)


# (forgery, what the ledger must say, ledger's exit, verify_pack.py's exit and message)
FORGERIES = [
    (edited_event, "the event differs from what was sealed", 1, 1, None),
    (dropped_event, "the event is not in events.jsonl: it was left out", 1, 1, None),
    (dropped_event_and_its_seal, "follows position", 1, 1, None),
    (dropped_event_relabelled, "the link does not follow from the links before it", 1, 1, None),
    (edited_csv, "plan.csv: line", 1, 1, None),
    (edited_report, "report.html: line", 1, 1, None),
    (edited_totals, "control_totals differ from the events'", 1, 1, None),
    (edited_run_by, "report.html: line", 1, 1, None),
    (run_by_not_text, "manifest.json: run_by: not text", 2, 2, None),
    (flipped_scope, "in_scope: 'False', the events give 'True'", 1, 1, None),
    (edited_witness_time, "the link does not follow", 1, 1, None),
    (swapped_events, "the event differs from what was sealed", 1, 1, None),
    (rewritten_history, "history before it was rewritten", 1, 1, "history before it was"),
    (gapped_positions, "there is no position", 1, 1, None),
    (resigned_with_another_key, "does not verify with your key", 1, 1, "another key signed"),
    (signature_removed, "not signed, but you named a signer", 1, 1, "not signed"),
    (anchor_moved, "the events between are not in the pack", 1, 1, None),
    (anchor_link_edited, "the link does not follow from the links before it", 1, 1, None),
    (extra_file, "notes.txt: in the pack but not in SHA256SUMS", 1, 1, None),
    (forged_verifier, "verify_pack.py: differs from the verifier", 1, 0, None),
    (digest_removed, "ledger_digest: missing", 2, 2, None),
    (dotdot_name, "'../escape.csv' is not a plain file name inside the pack", 2, 2, None),
    (manifest_a_list, "manifest.json: not a JSON object", 2, 2, None),
    (digest_position_text, "position 'abc' is not a whole number", 2, 2, None),
    (events_not_json, "events.jsonl line", 2, 2, None),
    (edited_workbook_cell, "workbook.xlsx: sheet plan, cell ", 1, 1, None),
    (workbook_formula, "workbook.xlsx: sheet plan, cell J2: not what the events give", 1, 1,
     None),
    (workbook_macro, "it holds ['xl/vbaProject.bin']; a pack's holds exactly 11 parts", 1, 1,
     None),
    (workbook_external_link, "workbook.xlsx: xl/_rels/workbook.xml.rels is not the pack's", 1,
     1, None),
]


def run_verifier(council: Council, pack: Path, *args: str) -> tuple[int, str]:
    done = subprocess.run([SYSTEM_PYTHON, "-I", str(council.verifier), str(pack), *args],
                          capture_output=True, text=True, check=False, timeout=120)
    return done.returncode, done.stdout + done.stderr


def test_the_good_pack_passes_both_verifiers(council: Council, pack: Path) -> None:
    """Intact, the council's key named: exit 0 from both; without a key, 3 (who signed is not
    established); the trusted verifier is byte-identical to the pack's."""
    said = council.cli("verify-pack", str(pack), "--key", str(council.public), "--digest",
                       str(council.digest), "--against-ledger")
    assert "intact:" in said
    assert "signed by the key you supplied (SHA256:" in said
    assert "the chain passes through your digest" in said
    code, out = run_verifier(council, pack, "--key", str(council.public))
    assert code == 0, out
    assert "every derived file agrees with the events" in out
    err = council.cli("verify-pack", str(pack), code=3)
    assert "proves nothing about who signed" in err
    assert run_verifier(council, pack)[0] == 3
    fingerprint = json.loads((pack / "manifest.json").read_text())["signer_fingerprint"]
    published = json.loads(council.cli("digest", "--signer", str(council.key)))
    assert published["signer_fingerprint"] == fingerprint
    der = subprocess.run(["openssl", "pkey", "-pubin", "-in", str(council.public), "-outform",
                          "DER"], capture_output=True, check=True).stdout
    assert fingerprint == "SHA256:" + hashlib.sha256(der).hexdigest()
    council.cli("verify-pack", str(pack), "--fingerprint", fingerprint)
    assert run_verifier(council, pack, "--fingerprint", fingerprint)[0] == 0


@pytest.mark.parametrize(("forge", "message", "code", "stdlib_code", "stdlib_message"),
                         FORGERIES, ids=[f[0].__name__ for f in FORGERIES])
def test_a_forged_pack_fails_both_verifiers(
    council: Council, pack: Path, forge: Callable[[Path, Council], None], message: str,
    code: int, stdlib_code: int, stdlib_message: str | None,
) -> None:
    forge(pack, council)
    args = ["--key", str(council.public), "--digest", str(council.digest)]
    out = council.cli("verify-pack", str(pack), *args, code=code)
    assert message in out, out
    got, said = run_verifier(council, pack, "--key", str(council.public))
    if forge is rewritten_history:  # consistent in itself: the stdlib verifier needs the digest
        assert got == 0, said
        return
    assert got == stdlib_code, said
    if stdlib_code:
        assert (stdlib_message or message) in said, said


def test_the_seal_list_starts_just_before_the_plan(council: Council, pack: Path,
                                                  tmp_path: Path) -> None:
    """The pack's seal list starts at the seal before the plan's first event (the anchor),
    not at genesis; a digest older than that cannot be checked by the pack alone (exit 2),
    only with the ledger."""
    first = lines(pack / "chain.jsonl")[0][0]
    assert first == lines(pack / "events.jsonl")[0]["position"] - 1 > 0
    early = tmp_path / "early.json"
    early.write_text(json.dumps({"ledger": "ledger", "position": 1, "hash": "a" * 64}))
    err = council.cli("verify-pack", str(pack), "--digest", str(early), code=2)
    assert "is before this pack's seal list" in err


def test_only_an_outside_digest_exposes_a_rewritten_history(council: Council,
                                                            pack: Path) -> None:
    """A chain recomputed after an edit is consistent in itself; the auditor's own digest and
    the ledger both expose it."""
    rewritten_history(pack, council)
    council.cli("verify-pack", str(pack), "--key", str(council.public), code=0)
    out = council.cli("verify-pack", str(pack), "--against-ledger", "--key",
                      str(council.public), code=1)
    assert "the ledger no longer extends the digest" in out


def test_no_csv_cell_starts_a_formula(council: Council) -> None:
    """The note `=HYPERLINK(...)` and the recorder `@SUM(1+1)` reach the CSVs as text (a
    leading '), and events.jsonl keeps them exactly as typed."""
    pack = council.pack
    cells = []
    for name in ("events.csv", "plan.csv", "snapshots.csv", "slippage.csv", "changes.csv"):
        with (pack / name).open(encoding="utf-8-sig", newline="") as handle:
            cells += [cell for row in csv.reader(handle) for cell in row]
    assert "'=HYPERLINK(\"http://evil.example\",\"click\")" in cells
    assert "'@SUM(1+1)" in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    stored = (pack / "events.jsonl").read_text(encoding="utf-8")
    assert '\\"note\\":\\"=HYPERLINK(\\\\\\"http://evil.example' in stored
    manifest = json.loads((pack / "manifest.json").read_text())
    assert "OWASP" in manifest["csv_cells"]


def test_a_failed_export_leaves_no_directory(council: Council, tmp_path: Path) -> None:
    """A missing key, a key that is not Ed25519, an unknown theme, no Chromium: exit non-zero
    and nothing at the target (nor a scratch directory beside it)."""
    rsa = tmp_path / "rsa.pem"
    openssl("genpkey", "-algorithm", "rsa", "-pkeyopt", "rsa_keygen_bits:1024", "-out", str(rsa))
    for args, expected in (
        (["--sign", str(tmp_path / "absent.pem")], "not a readable PEM private key"),
        (["--sign", str(rsa)], "the key is not Ed25519"),
        (["--theme", "9", "--no-pdf"], "has no theme 9"),
    ):
        out = council.cli("--plan", "cgip-2018", "export", "--out", str(tmp_path / "pack"),
                          *args, code=2)
        assert expected in out
        assert sorted(p.name for p in tmp_path.iterdir()) == ["rsa.pem"]
    out = council.cli("--plan", "cgip-2018", "export", "--out", str(tmp_path / "pack"),
                      code=2, env={"PATH": "/nonexistent"})
    assert "chromium" in out.lower()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rsa.pem"]
