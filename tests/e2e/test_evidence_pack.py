"""The external auditor's evidence pack, checked with the tools an auditor already has."""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ledger.export import proof
from ledger.export.files import csv_of, grid
from projections import current_plan, monthly_snapshots, slippage_history
from scripts.throwaway_databases import ThrowawayDatabases
from tests.conftest import BACKEND_PARAMS, Cli, fresh_database
from tests.editions import SEPTEMBER, write_october

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync")


def tool(name: str) -> str:
    found = shutil.which(name)
    assert found, f"{name} is not installed (scripts/setup.sh --for-tests installs it)"
    return found


@dataclass(frozen=True)
class Built:
    """A ledger holding two editions, and the signed pack exported from it."""

    cli: Cli
    pack: Path
    backend: str


@pytest.fixture(scope="module", params=BACKEND_PARAMS)
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[Built]:
    """The September and October editions, exported and signed with a fresh Ed25519 key:
    built once per backend (importing and printing the PDF is most of this module's time)."""
    directory = tmp_path_factory.mktemp("built")
    with fresh_database(request.param, directory) as url:
        cli = Cli(url)
        cli("init")
        cli("import", str(SEPTEMBER))
        cli("import", str(write_october(directory)))
        key = directory / "council.pem"
        subprocess.run([tool("openssl"), "genpkey", "-algorithm", "ed25519", "-out", str(key)],
                       check=True, capture_output=True)
        out = directory / "pack"
        said = cli("--plan", "cgip-2018", "export", "--out", str(out), "--sign", str(key))
        assert "wrote 15 files" in said
        yield Built(cli, out, request.param)


@pytest.fixture
def pack(built: Built, tmp_path: Path) -> Path:
    """A fresh copy of the built pack, which the test may change."""
    return Path(shutil.copytree(built.pack, tmp_path / "pack"))


@contextmanager
def copy_of_ledger(built: Built, directory: Path) -> Iterator[Cli]:
    """The CLI on a copy of the built ledger, which the test may grow."""
    url = make_url(built.cli.db)
    if built.backend != "postgres":
        copy = directory / "copy.db"
        with closing(sqlite3.connect(str(url.database))) as source, \
                closing(sqlite3.connect(copy)) as target:
            source.backup(target)
        yield Cli(f"sqlite:///{copy}")
        return
    admin = url.set(database="postgres").render_as_string(hide_password=False)
    # PostgreSQL copies only a database nobody is connected to; the CLI runs of the build
    # leave idle pooled connections behind in this process, never used again.
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = :name AND pid <> pg_backend_pid()"),
                     {"name": url.database})
    engine.dispose()
    databases = ThrowawayDatabases(admin, "copy")
    try:
        yield Cli(databases.fresh(template=str(url.database)))
    finally:
        databases.drop_all()


def read_csv(path: Path) -> list[dict[str, str]]:
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, for Excel
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_sha256sum_accepts_the_pack(pack: Path) -> None:
    """`sha256sum -c SHA256SUMS` passes for every file of the pack."""
    done = subprocess.run([tool("sha256sum"), "-c", "SHA256SUMS"], cwd=pack, check=True,
                          capture_output=True, text=True)
    assert done.stdout.count(": OK") == 14


def test_openssl_verifies_the_manifest_signature(pack: Path) -> None:
    """The detached Ed25519 signature verifies with `openssl pkeyutl`; a changed byte fails."""
    command = [tool("openssl"), "pkeyutl", "-verify", "-pubin", "-inkey", "signer.pub.pem",
               "-rawin", "-in", "manifest.json", "-sigfile", "manifest.json.sig"]
    assert "Signature Verified Successfully" in subprocess.run(
        command, cwd=pack, capture_output=True, text=True, check=True).stdout
    (pack / "manifest.json").write_bytes((pack / "manifest.json").read_bytes()
                                         .replace(b'"slips": 1', b'"slips": 0', 1))
    assert subprocess.run(command, cwd=pack, capture_output=True, check=False).returncode != 0


def test_the_csvs_load_and_their_counts_match_the_ledger(built: Built, pack: Path) -> None:
    """plan.csv has the 47 items, a row per outcome; changes.csv every change; the manifest
    counts agree."""
    manifest = json.loads((pack / "manifest.json").read_text(encoding="utf-8"))
    plan = read_csv(pack / "plan.csv")
    items = json.loads(built.cli("--plan", "cgip-2018", "plan", "--format", "json"))
    assert len(items) == 47 == len({r["item"] for r in plan})
    assert len(plan) == sum(max(len(i["outcomes"]), 1) for i in items) == manifest["files"][
        "plan.csv"]["rows"]
    assert {r["item"] for r in plan} >= {"1.1", "4.13", "7.4"}
    changes = read_csv(pack / "changes.csv")
    ledger_changes = json.loads(built.cli("--plan", "cgip-2018", "changes", "--format",
                                          "json"))
    assert len(changes) == len(ledger_changes) == manifest["files"]["changes.csv"]["rows"]
    slippage = read_csv(pack / "slippage.csv")
    moved = [r for r in slippage if r["slip_count"] == "1"]
    assert [(r["item"], r["baseline_due"], r["current_due"]) for r in moved] == [
        ("1.3", "2018-09", "2018-11")]
    assert manifest["control_totals"]["slips"] == 1
    assert manifest["control_totals"]["months_slipped"] == 2
    stored = [json.loads(line) for line in (pack / "events.jsonl").read_text().splitlines()]
    events = read_csv(pack / "events.csv")
    assert len(events) == manifest["control_totals"]["events_in_scope"]
    assert len(stored) == manifest["control_totals"]["events_in_pack"] >= len(events)
    assert all(len(e["chain_hash"]) == 64 for e in events)
    assert manifest["ledger_digest"]["position"] >= stored[-1]["position"]
    # Each event says how its date is known and which edition reported it; its recorded time
    # is the store's witness, the same as `history` shows.
    assert {e["basis"] for e in events} <= {"stated", "reported", "entered"}
    assert {e["edition"] for e in events if e["source"].startswith("cgip-2018-09")} == {
        "2018-09"}
    history = json.loads(built.cli("--plan", "cgip-2018", "history", "1.3", "-f", "json"))
    first = next(e for e in events if e["item"] == "1.3" and e["version"] == "1")
    assert first["recorded_at"] == history[0]["recorded_at"]


def test_verify_pack_checks_files_signature_and_the_ledger(
    built: Built, pack: Path, tmp_path: Path,
) -> None:
    """verify-pack passes; an edited CSV is named; the ledger extends the pack's digest."""
    with copy_of_ledger(built, tmp_path) as cli:
        check_pack_against(cli, pack)


def check_pack_against(cli: Cli, pack: Path) -> None:
    said = cli("verify-pack", str(pack), "--key", str(pack / "signer.pub.pem"),
               "--against-ledger")
    assert "signed by the key you supplied" in said
    assert "the ledger extends the pack's digest" in said
    cli("--plan", "cgip-2018", "update", "1.1", "A later update")  # the ledger grows: still OK
    assert "proves nothing about who signed" in cli("verify-pack", str(pack),
                                                    "--against-ledger", code=3)
    with (pack / "plan.csv").open("a", encoding="utf-8") as handle:
        handle.write("cgip-2018,1,9.9,forged\n")
    err = cli("verify-pack", str(pack), code=1)
    assert "plan.csv: its SHA-256 differs from the manifest's" in err


def test_export_refuses_a_directory_that_is_not_empty(built: Built, tmp_path: Path) -> None:
    """A pack never overwrites: an existing file or a non-empty directory is refused."""
    cli = built.cli
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("keep me")
    err = cli("export", "--out", str(tmp_path / "busy"), "--no-pdf", code=2)
    assert "not an empty directory" in err
    assert (tmp_path / "busy" / "notes.txt").read_text() == "keep me"


def test_a_theme_and_an_earlier_date_narrow_the_pack(built: Built, tmp_path: Path) -> None:
    """Theme 4 as of July 2018: only theme 4's items that July facts place there (8 of its
    13, their structure assumed from the September edition) and only events in force then."""
    cli = built.cli
    out = tmp_path / "theme4"
    cli("export", "--out", str(out), "--theme", "4", "--as-of", "2018-07-31", "--no-pdf")
    plan = read_csv(out / "plan.csv")
    assert len({r["item"] for r in plan}) == 8  # in rows, one per outcome
    assert all(r["theme"] == "4" and r["basis"] == "assumed" for r in plan)
    events = read_csv(out / "events.csv")
    assert events
    assert all(e["effective"] <= "2018-07-31" for e in events)
    assert "who signed is not established" in cli("verify-pack", str(out), code=3)
    assert {e["item"] for e in events} <= {f"4.{n}" for n in range(1, 14)}


COLUMNS_OF = {"plan": current_plan.COLUMNS, "snapshots": monthly_snapshots.COLUMNS,
              "slippage": slippage_history.COLUMNS, "changes": proof.CHANGES_COLUMNS}


@pytest.mark.parametrize("moment", ["now", "2018-09-30", "known-at-september"])
def test_the_pack_says_what_the_queries_say(built: Built, tmp_path: Path, moment: str) -> None:
    """The pack's CSVs are derived from its own events, not read from the read models; byte for
    byte they are what `ledger plan`, `snapshots`, `slippage` and `changes` print with
    `--format csv`, and that is their JSON answer made flat, for the same date and moment (as
    the ledger knew it when September was imported, too)."""
    cli = built.cli
    args: list[str] = []
    if moment == "2018-09-30":
        args = ["--as-of", "2018-09-30"]
    elif moment == "known-at-september":
        editions = json.loads(cli("--plan", "cgip-2018", "editions", "--format", "json"))
        september = next(e for e in editions if e["edition"] == "2018-09")
        args = ["--as-of", "2018-10-31", "--known-at", september["imported_at"]]
    out = tmp_path / "pack"
    cli("--plan", "cgip-2018", "export", "--out", str(out), "--no-pdf", *args)
    for query in ("plan", "snapshots", "slippage", "changes"):
        answer = json.loads(cli("--plan", "cgip-2018", query, "--format", "json", *args))
        said = cli("--plan", "cgip-2018", query, "--format", "csv", *args)
        written = (out / f"{query}.csv").read_bytes()
        assert said.encode("utf-8") == written.replace(b"\r\n", b"\n"), query  # click's \n
        assert csv_of(grid(answer, COLUMNS_OF[query])) == written, query
    # A subset pack proves itself as a whole one does (unsigned: who made it is unproven, 3).
    assert "who signed is not established" in cli("verify-pack", str(out), code=3)
    done = subprocess.run(["/usr/bin/python3", "-I", str(out / "verify_pack.py"), str(out)],
                          capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 3, done.stderr
    assert "every derived file agrees with the events" in done.stdout
    if moment == "known-at-september":  # October's slip of 1.3 was not yet known
        assert not [r for r in read_csv(out / "slippage.csv") if r["slip_count"] != "0"]
