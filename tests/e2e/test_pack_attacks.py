"""Attacks on the evidence pack found by a fresh pair of eyes, each now refused (each test failed
until the weakness it names was fixed).

The council holds the signing key and the database; the auditor holds a digest taken at the
export and the council's public key, and runs `ledger verify-pack PACK --key K --digest D` or
a trusted copy of `verify_pack.py`. Also: hostile text typed by users, malformed packs."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from uuid import UUID

import pytest

from ledger.domain.chain import GENESIS, EventRecord, Seal, Witness, content_hash, link_hash
from ledger.domain.values import Provenance
from ledger.export import proof
from ledger.export.signing import load_private_key, sign
from tests.conftest import Cli, fresh_database
from tests.e2e.test_pack_forgery import (
    an_update,
    edit_manifest,
    lines,
    openssl,
    reseal,
    write_lines,
)
from tests.editions import SEPTEMBER

SYSTEM_PYTHON = "/usr/bin/python3"
LEDGER = str(Path(sys.executable).parent / "ledger")
SCRIPT = 'x"><script>document.body.innerHTML="all on track"</script><b class="'
ESCAPES = "\x1b]0;owned\x07\x1b[2J"


@dataclass(frozen=True)
class Council:
    """A ledger with hostile hand entries, two signed packs (one as known at a moment before
    the hand entries), the keys, and the auditor's digest taken at the export."""

    cli: Cli
    url: str
    pack: Path
    known_pack: Path
    key: Path
    public: Path
    digest: Path
    verifier: Path


@pytest.fixture(scope="module")
def council(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Council]:
    directory = tmp_path_factory.mktemp("attack")
    with fresh_database("sqlite", directory) as url:
        cli = Cli(url)
        cli("init")
        cli("import", str(SEPTEMBER))
        time.sleep(0.05)
        known_at = datetime.now(UTC).isoformat(timespec="microseconds")
        time.sleep(0.05)
        cli("--plan", "cgip-2018", "update", "1.3", "Paperless meetings from 1 November",
            "--note", "=HYPERLINK(\"http://evil.example\",\"click\")", "--by", "+cmd|calc")
        cli("--plan", "cgip-2018", "update", "1.2", f"evil {ESCAPES} text", "--by", "me")
        digest = directory / "auditor-digest.json"
        cli("digest", "--out", str(digest))
        key, public = directory / "council.pem", directory / "council.pub.pem"
        openssl("genpkey", "-algorithm", "ed25519", "-out", str(key))
        openssl("pkey", "-in", str(key), "-pubout", "-out", str(public))
        pack, known_pack = directory / "pack", directory / "known"
        cli("--plan", "cgip-2018", "export", "--out", str(pack), "--sign", str(key),
            "--no-pdf")
        cli("--plan", "cgip-2018", "export", "--out", str(known_pack), "--sign", str(key),
            "--no-pdf", "--known-at", known_at)
        verifier = directory / "trusted_verify_pack.py"
        shutil.copyfile(pack / "verify_pack.py", verifier)
        yield Council(cli, url, pack, known_pack, key, public, digest, verifier)


def council_writes_a_rag_of_its_own(url: str, item: str, rag: str) -> None:
    """The council, owning the database, records an event through its own code (sealed like
    any other) with a RAG value the CLI would refuse."""
    from ledger.bootstrap import bootstrap  # noqa: PLC0415

    services = bootstrap(url)
    try:
        services.ledger.set_rag("cgip-2018", item, SimpleNamespace(value=rag),  # type: ignore[arg-type]
                                Provenance("council", date(2018, 9, 1), "cli"))
    finally:
        services.ledger.close()


@pytest.fixture
def pack(council: Council, tmp_path: Path) -> Path:
    return Path(shutil.copytree(council.pack, tmp_path / "pack"))


def run_ledger(council: Council, pack: Path, *args: str, timeout: float = 120,
               ) -> tuple[int, str]:
    """`ledger verify-pack` as the auditor runs it: the council's key and the auditor's digest."""
    done = subprocess.run([LEDGER, "verify-pack", str(pack), "--key", str(council.public),
                           "--digest", str(council.digest), *args], capture_output=True,
                          text=True, check=False, timeout=timeout)
    return done.returncode, done.stdout + done.stderr


def run_stdlib(council: Council, pack: Path, timeout: float = 120) -> tuple[int, str]:
    done = subprocess.run([SYSTEM_PYTHON, "-I", str(council.verifier), str(pack), "--key",
                           str(council.public)], capture_output=True, text=True, check=False,
                          timeout=timeout)
    return done.returncode, done.stdout + done.stderr


def rescope(pack: Path) -> None:
    """Every in_scope flag, derived file, row count and total made again from the pack's events
    and chain with the ledger's own code (what a forger with the ledger installed does)."""
    manifest = json.loads((pack / "manifest.json").read_text(encoding="utf-8"))
    scope = proof.Scope.from_parameters(manifest["parameters"])
    seals = {r[0]: Seal(r[0], r[3], r[4], r[1], Witness(r[5], r[6]), r[2])
             for r in lines(pack / "chain.jsonl")}
    rows = lines(pack / "events.jsonl")
    events = proof.PlanEvents(scope.plan)
    for row in rows:
        events.add(EventRecord(row["position"], UUID(hex=row["stream"]), row["version"],
                               row["topic"], row["stored"].encode()), seals[row["position"]])
    items = events.items()
    for index, row in enumerate(rows):
        row["in_scope"] = proof.in_scope(scope, events, index, items)
    write_lines(pack / "events.jsonl", rows)
    derived = proof.derive(scope, events, proof.stated(manifest))
    for name, data in derived.files.items():
        (pack / name).write_bytes(data)
        manifest["files"][name]["rows"] = derived.rows[name]
    manifest["control_totals"].update(derived.totals)
    (pack / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")


def relink(pack: Path, events: list[Any]) -> None:
    """Every content hash and link recomputed from the events as edited, the manifest's
    digest moved to the new head (the derived files left as they are)."""
    chain = lines(pack / "chain.jsonl")
    by_position = {e["position"]: e for e in events}
    previous = GENESIS
    for row in chain:
        event = by_position.get(row[0])
        if event is not None:
            row[3] = event["content_hash"] = content_hash(EventRecord(
                row[0], UUID(hex=row[2]), event["version"], event["topic"],
                event["stored"].encode()))
        row[4] = previous = link_hash(previous, row[0], row[2], row[3], Witness(row[5], row[6]))
        if event is not None:
            event["chain_hash"] = row[4]
    write_lines(pack / "chain.jsonl", chain)
    write_lines(pack / "events.jsonl", events)
    edit_manifest(pack, lambda m: m["ledger_digest"].update(hash=previous))


def resum(pack: Path) -> None:
    """SHA256SUMS made again over every file of the pack (no key needed)."""
    (pack / "SHA256SUMS").write_text("".join(
        f"{hashlib.sha256((pack / n).read_bytes()).hexdigest()}  {n}\n"
        for n in sorted(p.name for p in pack.iterdir() if p.name != "SHA256SUMS")),
        encoding="utf-8")


def sign_raw(pack: Path, key: Path) -> None:
    """Sign manifest.json exactly as it is on disk (no re-encoding) and redo SHA256SUMS."""
    signature, public = sign(load_private_key(key), (pack / "manifest.json").read_bytes())
    (pack / "manifest.json.sig").write_bytes(signature)
    (pack / "signer.pub.pem").write_bytes(public)
    resum(pack)


# --- (1) a pack that misstates the plan, passing with the auditor's digest ----------------


def test_markup_in_an_event_never_reaches_report_html(tmp_path: Path) -> None:
    """A RAG value the council wrote through its own code (sealed like any other): the report
    never carries it as markup, and no pack is made of a ledger holding it (an event the
    ledger's rules never write), exit 1 naming it."""
    from ledger.export.report import heatmap  # noqa: PLC0415

    html = heatmap([{"item": "1.4", "month": "2018-09", "status": "In progress",
                     "rag": SCRIPT}])
    assert "<script" not in html
    with fresh_database("sqlite", tmp_path) as url:
        cli = Cli(url)
        cli("init")
        cli("import", str(SEPTEMBER))
        council_writes_a_rag_of_its_own(url, "1.4", SCRIPT)
        err = cli("--plan", "cgip-2018", "export", "--out", str(tmp_path / "pack"),
                  "--no-pdf", code=1)
    assert "not one of the legend's (red, amber, green)" in err
    assert not (tmp_path / "pack").exists()


def test_a_report_pdf_is_declared_unproven(council: Council, pack: Path) -> None:
    """report.pdf cannot be re-derived (Chromium prints it): a pack holding one must say so in
    its signed manifest, and both verifiers say so to the auditor; without the statement the
    pack is refused."""
    (pack / "report.pdf").write_bytes(b"%PDF-1.4\n% every milestone on track\n%%EOF\n")
    edit_manifest(pack, lambda m: m["files"].update({"report.pdf": {"rows": 46}}))
    reseal(pack, council.key)
    code, said = run_ledger(council, pack)
    assert code == 1, said
    assert "report.pdf must come with the statement that it is not re-derived" in said
    code, said = run_stdlib(council, pack)
    assert code == 1, said
    edit_manifest(pack, lambda m: m.update(report_pdf=proof.PDF_NOTE))
    reseal(pack, council.key)
    for code, said in (run_ledger(council, pack), run_stdlib(council, pack)):
        assert code == 0, said
        assert "its content is not re-derived from the events (report.html is)" in said


@pytest.mark.parametrize("name", ["report.pdf", "digest.tsr"])
def test_a_file_the_signed_manifest_does_not_list_is_refused(council: Council, pack: Path,
                                                             name: str) -> None:
    """Anyone, without the council's key, can add an optional file to a signed pack by
    listing it in SHA256SUMS only: the manifest (and so the signature) never names it."""
    (pack / name).write_bytes(b"%PDF-1.4\n% forged by a third party\n%%EOF\n")
    resum(pack)
    code, said = run_ledger(council, pack)
    assert code == 1, said
    code, said = run_stdlib(council, pack)
    assert code == 1, said


def test_the_witness_time_cannot_be_moved_into_the_role(council: Council, pack: Path) -> None:
    """The link hashes `...:witnessed_at:witnessed_by` with ':' both inside the time and as
    the separator: at `2026-11-30T00:35:25.4+00:00` with role `` and at `2026-11-30T00` with
    role `35:25.4+00:00:` give the same link. Every recorded time of the pack rewritten this
    way passes with the auditor's digest at the head."""
    chain = lines(pack / "chain.jsonl")
    for row in chain:
        row[5], row[6] = row[5][:13], row[5][14:] + ":" + row[6]
    write_lines(pack / "chain.jsonl", chain)
    rescope(pack)
    reseal(pack, council.key)
    with (pack / "events.csv").open(encoding="utf-8-sig", newline="") as handle:
        recorded = {row["recorded_at"] for row in csv.DictReader(handle)}
    assert all(len(at) == 13 for at in recorded)  # the pack now says other times
    code, said = run_ledger(council, pack)
    assert code == 1, said
    code, said = run_stdlib(council, pack)
    assert code == 1, said


def test_known_at_is_compared_as_a_moment_not_as_text(council: Council, tmp_path: Path) -> None:
    """`known_at` is compared with the witness times as text: the same moment written with a
    +10:00 offset brings in events recorded after it, and the pack passes."""
    pack = Path(shutil.copytree(council.known_pack, tmp_path / "known"))
    manifest = json.loads((pack / "manifest.json").read_text(encoding="utf-8"))
    honest = manifest["control_totals"]["events_in_scope"]
    moment = datetime.fromisoformat(manifest["parameters"]["known_at"])
    same = moment.astimezone(timezone(timedelta(hours=10))).isoformat(timespec="microseconds")
    edit_manifest(pack, lambda m: m["parameters"].update(known_at=same))
    with pytest.raises(proof.MalformedPack, match="is not a moment in UTC"):
        rescope(pack)  # the ledger's own code will not make such a pack...
    reseal(pack, council.key)  # ...and one made by hand is refused: exit 2, not a pass
    assert honest >= 0
    code, said = run_ledger(council, pack)
    assert code == 2, said
    assert "is not a moment in UTC as the store writes one" in said
    code, said = run_stdlib(council, pack)
    assert code == 2, said


def test_a_manifest_with_duplicate_keys_is_refused(council: Council, pack: Path) -> None:
    """JSON with a key twice: Python keeps the last, a reader (and many parsers) the first.
    A signed manifest saying `"slips": 17` and `"as_of": "2018-09-30"` first passes."""
    text = (pack / "manifest.json").read_text(encoding="utf-8")
    manifest = json.loads(text)
    slips, as_of = manifest["control_totals"]["slips"], manifest["parameters"]["as_of"]
    text = text.replace(f'"slips": {slips},', f'"slips": {slips + 17},\n    "slips": {slips},',
                        1)
    text = text.replace(f'"as_of": "{as_of}",', f'"as_of": "2018-09-30",\n    "as_of": '
                        f'"{as_of}",', 1)
    (pack / "manifest.json").write_text(text, encoding="utf-8")
    sign_raw(pack, council.key)
    code, said = run_ledger(council, pack)
    assert code == 2, said
    code, said = run_stdlib(council, pack)
    assert code == 2, said


def test_the_digest_time_in_the_manifest_is_checked(council: Council, pack: Path) -> None:
    """manifest.json's ledger_digest.recorded_at (the head's time) is never compared with the
    head's witness time: the signed manifest can state any time."""
    edit_manifest(pack, lambda m: m["ledger_digest"].update(recorded_at="2018-09-30T09:00:00"
                                                            ".000000+00:00"))
    reseal(pack, council.key)
    code, said = run_ledger(council, pack)
    assert code == 1, said


# --- (3) malformed packs: one line, exit 2, never a traceback or a hang -------------------


def lone_surrogate(pack: Path) -> None:
    rows = lines(pack / "events.jsonl")
    i = an_update(rows)
    rows[i]["stored"] = rows[i]["stored"].replace('"note":"', '"note":"\ud800', 1)
    (pack / "events.jsonl").write_text("".join(json.dumps(r, sort_keys=True) + "\n"
                                               for r in rows), encoding="utf-8")
    reseal(pack, None)


def stream_with_a_newline(pack: Path) -> None:
    rows = lines(pack / "events.jsonl")
    rows[-1]["stream"] += "\n"
    write_lines(pack / "events.jsonl", rows)
    reseal(pack, None)


def deep_manifest(pack: Path) -> None:
    (pack / "manifest.json").write_text("[" * 100_000 + "]" * 100_000)
    resum(pack)


@pytest.mark.parametrize("malform", [lone_surrogate, stream_with_a_newline, deep_manifest],
                         ids=lambda f: f.__name__)
def test_a_malformed_pack_is_one_line_and_exit_2(council: Council, pack: Path,
                                                 malform: Any) -> None:
    malform(pack)
    for code, said in (run_ledger(council, pack), run_stdlib(council, pack)):
        assert "Traceback" not in said, said
        assert code == 2, said


def test_a_chain_line_json_does_not_read_gives_one_answer(council: Council, pack: Path) -> None:
    """A chain line with a leading zero (`[0482, ...`) or Arabic-Indic digits passes the chain
    check (its pattern's \\d), then the --digest check reads the same line as JSON and raises
    MalformedPack outside the handler: a traceback, exit 1; verify_pack.py says intact."""
    chain = (pack / "chain.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    chain[-1] = "[0" + chain[-1][1:]
    (pack / "chain.jsonl").write_text("".join(chain), encoding="utf-8")
    reseal(pack, council.key)
    ledger_code, ledger_said = run_ledger(council, pack)
    stdlib_code, stdlib_said = run_stdlib(council, pack)
    assert "Traceback" not in ledger_said, ledger_said
    assert ledger_code == stdlib_code, (ledger_said, stdlib_said)


def test_a_fifo_in_the_pack_does_not_hang_the_verifiers(council: Council, pack: Path) -> None:
    (pack / "manifest.json").unlink()
    os.mkfifo(pack / "manifest.json")
    for run in (run_ledger, run_stdlib):
        try:
            code, said = run(council, pack, timeout=20)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{run.__name__} hangs on a FIFO named manifest.json")
        assert code == 2, said


def test_a_symlink_out_of_the_pack_is_refused(council: Council, pack: Path,
                                              tmp_path: Path) -> None:
    """README: 'a name that is not a plain file of the pack ... is refused'; a symlink to a
    file outside the pack is followed and the pack passes."""
    outside = tmp_path / "elsewhere.jsonl"
    shutil.move(pack / "events.jsonl", outside)
    (pack / "events.jsonl").symlink_to(outside)
    code, said = run_ledger(council, pack)
    assert code in (1, 2), said
    code, said = run_stdlib(council, pack)
    assert code in (1, 2), said


def test_an_ancient_effective_date_does_not_pin_the_verifier(council: Council,
                                                             pack: Path) -> None:
    """One event re-dated to 0001-01-01 (a self-consistent rewrite, signed by nobody) makes
    the derived files span 24,000 months: minutes of CPU before any signature is checked."""
    rows = lines(pack / "events.jsonl")
    i = an_update(rows)
    rows[i]["stored"] = rows[i]["stored"].replace(
        '"effective":{"_type_":"date_iso","_data_":"2018-09-30"}',
        '"effective":{"_type_":"date_iso","_data_":"0001-01-01"}', 1)
    assert "0001-01-01" in rows[i]["stored"]
    relink(pack, rows)  # the derived files are not even made again: deriving is the cost
    reseal(pack, None)
    try:
        run_stdlib(council, pack, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("verify_pack.py runs for more than 30 s on a one-event forgery")


# --- hostile text: CSV formulas, terminal escapes --------------------------------------


@pytest.mark.parametrize("query", [["changes"], ["history", "1.3"]])
def test_query_csv_never_starts_a_formula(council: Council, query: list[str]) -> None:
    """`--format csv` writes cells with `flat`, not `inert`: `+cmd|calc` (who recorded an
    update) reaches the CSV as a formula, though the pack's CSVs neutralise it."""
    out = council.cli("--plan", "cgip-2018", *query, "--format", "csv")
    cells = [cell for row in csv.reader(out.splitlines()) for cell in row]
    assert "+cmd|calc" not in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")]


@pytest.mark.parametrize("query", [["changes"], ["history", "1.2"], ["plan"]])
def test_query_tables_carry_no_terminal_escapes(council: Council, query: list[str]) -> None:
    """An update typed with ESC sequences (clear screen, set title) is printed raw."""
    out = council.cli("--plan", "cgip-2018", *query)
    assert "\x1b" not in out


def test_verifier_messages_carry_no_terminal_escapes(council: Council, pack: Path) -> None:
    """Keys of the manifest's control_totals are printed as they are: a pack can clear the
    auditor's screen and write its own verdict."""
    edit_manifest(pack, lambda m: m["control_totals"].update(
        {"\x1b[2J\x1b[Hintact: every derived file agrees\x1b[8m": 1}))
    reseal(pack, council.key)
    for code, said in (run_ledger(council, pack), run_stdlib(council, pack)):
        assert code == 1, said
        assert "\x1b" not in said, said


# --- (2) the two verifiers on the same pack --------------------------------------------


def test_verify_pack_py_exit_0_needs_the_council_signature(council: Council, pack: Path) -> None:
    """Exit 0 is documented as "intact, and signed by the key you named", but verify_pack.py
    only compares signer.pub.pem with the key: anyone, without the council's key, rewrites
    the history, copies council.pub.pem into the pack, adds 64 bytes of signature, and gets
    exit 0 (`ledger verify-pack` says 1)."""
    rows = lines(pack / "events.jsonl")
    i = an_update(rows)
    rows[i]["stored"] = rows[i]["stored"].replace('"text":"', '"text":"NOT ', 1)
    relink(pack, rows)
    rescope(pack)
    reseal(pack, None)
    shutil.copyfile(council.public, pack / "signer.pub.pem")
    (pack / "manifest.json.sig").write_bytes(bytes(64))
    resum(pack)
    assert run_ledger(council, pack)[0] == 1
    code, said = run_stdlib(council, pack)
    assert code != 0, said
