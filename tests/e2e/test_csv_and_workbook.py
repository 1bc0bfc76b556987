"""CSV for people and for scripts, and the pack's workbook.xlsx, on the real seed editions.

Every query's `--format csv` is UTF-8 with a byte-order mark, one header row, flat cells (no
JSON), true/false, targets as YYYY-MM; the pack's workbook holds the same rows as its CSVs,
with the header frozen, filters on, and the legend's colours.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from ledger.domain.chain import EventRecord, Seal, Witness
from ledger.export import proof, sheets
from ledger.export.report import RAG_COLOURS, STATUS_COLOURS
from tests.conftest import BACKEND_PARAMS, Cli, fresh_database
from tests.editions import SEPTEMBER, write_october

LEDGER = str(Path(sys.executable).parent / "ledger")
SLIPPED = "In progress – completion slipped"  # the 2015 legend's words, with its en dash
HOSTILE = '=HYPERLINK("http://x","y")'
QUERIES = (("plan",), ("snapshots",), ("slippage",), ("changes",), ("summary",), ("log",),
           ("blame", "1.3"), ("history", "1.3"), ("diff", "2018-09-30", "2018-10-31"),
           ("editions",), ("projections", "status"), ("restatements", "--month", "2018-09"))


@dataclass(frozen=True)
class Ledger:
    """The September and October editions, 1.1 set green, 1.2 red, a hostile update on 1.4,
    and the pack exported from it."""

    cli: Cli
    pack: Path


@pytest.fixture(scope="module", params=BACKEND_PARAMS)
def ledger(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Ledger]:
    """Built once per backend: importing is most of this module's time."""
    directory = tmp_path_factory.mktemp("ledger")
    with fresh_database(request.param, directory) as url:
        cli = Cli(url)
        cli("init")
        cli("import", str(SEPTEMBER))
        cli("import", str(write_october(directory)))
        cli("--plan", "cgip-2018", "status", "1.1", "green", "--effective", "2018-10-31")
        cli("--plan", "cgip-2018", "status", "1.2", "red", "--effective", "2018-10-31")
        cli("--plan", "cgip-2018", "update", "1.4", HOSTILE, "--month", "2018-10",
            "--effective", "2018-10-31")
        pack = directory / "pack"
        cli("--plan", "cgip-2018", "export", "--out", str(pack), "--no-pdf")
        yield Ledger(cli, pack)


def raw(ledger: Ledger, *args: str) -> bytes:
    """What the real `ledger` process writes to a pipe, byte for byte."""
    return subprocess.run([LEDGER, "--db", ledger.cli.db, "--plan", "cgip-2018", *args],
                          capture_output=True, check=True, timeout=120).stdout


def parsed(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), data[:20]
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))


def is_json_blob(cell: str) -> bool:
    try:
        return isinstance(json.loads(cell), list | dict)
    except ValueError:
        return False


def csv_dicts(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_query_writes_csv_for_excel_and_for_scripts(ledger: Ledger) -> None:
    """Each query's CSV: a byte-order mark, then one header row and rows of its width; no cell
    holds a JSON list or object; booleans are true/false, never True/False."""
    for query in QUERIES:
        data = raw(ledger, *query, "--format", "csv")
        rows = parsed(data)
        header, body = rows[0], rows[1:]
        assert body, query
        assert header not in body, query
        assert {len(r) for r in body} == {len(header)}, query
        cells = [c for r in body for c in r]
        assert not [c for c in cells if is_json_blob(c)], query
        assert not {"True", "False", "None"} & set(cells), query
        for flag in ("complete", "delivered"):
            if flag in header:
                assert {r[header.index(flag)] for r in body} <= {"true", "false"}, query
        assert b"\r\n" in data  # RFC 4180 line ends, as the pack's files


def test_the_legends_en_dash_reaches_excel_as_written(ledger: Ledger) -> None:
    """The legend's "In Progress – completion slipped" is UTF-8 after the mark, so Excel reads
    the en dash; the pack's plan.csv is the same bytes as `ledger plan --format csv`."""
    data = raw(ledger, "plan", "--format", "csv")
    assert SLIPPED.encode("utf-8") in data
    assert "In progress â€“".encode() not in data  # the mojibake of a file read as cp1252
    assert data == (ledger.pack / "plan.csv").read_bytes()


def test_plan_csv_has_a_row_per_outcome_and_leads_joined(ledger: Ledger) -> None:
    """1.3's 13 outcomes are 13 rows, its other cells repeated; 7.3, which states no outcome,
    is one row with empty outcome cells; 1.1's two leads are one cell, joined with "; "."""
    header, *body = parsed(raw(ledger, "plan", "--format", "csv"))
    rows = [dict(zip(header, r, strict=True)) for r in body]
    item_13 = [r for r in rows if r["item"] == "1.3"]
    assert [r["outcome_no"] for r in item_13] == [str(n) for n in range(1, 14)]
    assert len({r["aim"] for r in item_13}) == 1
    fifth = item_13[4]
    assert fifth["outcome"] == "Complete the constitutional review (November 2018)"
    assert (fifth["outcome_due"], fifth["outcome_baseline_due"]) == ("2018-11", "2018-09")
    item_73 = [r for r in rows if r["item"] == "7.3"]
    assert len(item_73) == 1
    assert item_73[0]["aim"] == "Effective Communications and Marketing"
    assert item_73[0]["outcome_no"] == item_73[0]["outcome"] == item_73[0]["outcome_due"] == ""
    leads = {r["leads"] for r in rows if r["item"] == "1.1"}
    assert leads == {"ACE with Group Leaders / Deputy Leader; City Solicitor and Chief Whip"}
    assert item_13[0]["latest_update_month"] == "2018-09"
    assert item_13[0]["latest_update_text"].startswith("EMT and CBM agreement for all meetings")


def test_targets_are_months_in_before_after_and_moves(ledger: Ledger) -> None:
    """October's edition moves "Complete the constitutional review" to "(November 2018)": JSON
    keeps the document's words, CSV says 2018-11; slippage's moves read 2018-09→2018-11."""
    as_json = json.loads(raw(ledger, "log", "--kind", "target_moved", "--format", "json"))
    assert [r["after"] for r in as_json] == ["outcome #5 due November 2018"]
    header, row = parsed(raw(ledger, "log", "--kind", "target_moved", "--format", "csv"))
    found = dict(zip(header, row, strict=True))
    assert (found["before"], found["after"]) == ("outcome #5 due 2018-09",
                                                 "outcome #5 due 2018-11")
    header, *body = parsed(raw(ledger, "slippage", "--item", "1.3", "--min-slips", "1",
                               "--format", "csv"))
    slipped = [dict(zip(header, r, strict=True)) for r in body]
    assert [(r["outcome_no"], r["moves"], r["moves_effective"], r["slip_count"])
            for r in slipped] == [("5", "2018-09→2018-11", "2018-10-31", "1")]


def test_the_workbook_holds_the_packs_rows_in_the_legends_colours(ledger: Ledger) -> None:
    """workbook.xlsx: a Cover with the ledger's digest, then a sheet per read model whose
    cells are its CSV's; header frozen, filters over the data; 1.1's RAG cell green and
    1.2's red, a slipped status in the legend's colour."""
    book = load_workbook(ledger.pack / "workbook.xlsx")
    assert book.sheetnames == ["Cover", "plan", "snapshots", "slippage", "changes", "events"]
    for name, csv_name in sheets.SHEETS:
        sheet = book[name]
        with (ledger.pack / csv_name).open(encoding="utf-8-sig", newline="") as handle:
            expected = list(csv.reader(handle))
        assert sheet.freeze_panes == "A2", name
        assert sheet.auto_filter.ref == f"A1:{get_column_letter(len(expected[0]))}" \
                                        f"{len(expected)}", name
        got = [["" if v is None else str(v) for v in row] for row in
               sheet.iter_rows(values_only=True)]
        assert got == expected, name
    plan = book["plan"]
    header = [c.value for c in plan[1]]
    rag, status = header.index("rag"), header.index("status")
    by_item = {row[2].value: row for row in plan.iter_rows(min_row=2)}
    assert by_item["1.1"][rag].value == "green"
    assert by_item["1.1"][rag].fill.fgColor.rgb == "FF2E7D32" == colour(RAG_COLOURS["green"])
    assert by_item["1.2"][rag].value == "red"
    assert by_item["1.2"][rag].fill.fgColor.rgb == "FFC62828" == colour(RAG_COLOURS["red"])
    slipped = next(row for row in by_item.values() if row[status].value == SLIPPED)
    assert slipped[status].fill.fgColor.rgb == colour(STATUS_COLOURS[SLIPPED][0])
    assert by_item["1.3"][header.index("aim")].fill.fgColor.rgb == "00000000"  # not coloured
    cover = {row[0]: row[1] for row in book["Cover"].iter_rows(min_row=2, values_only=True)}
    digest = json.loads(ledger.cli("digest"))
    assert cover["digest hash (head link)"] == digest["hash"]
    assert cover["digest position"] == digest["position"]
    assert cover["parameter: plan"] == "cgip-2018"
    assert cover["pack format"] == proof.FORMAT


def colour(css: str) -> str:
    digits = css.lstrip("#")
    return "FF" + ("".join(d * 2 for d in digits) if len(digits) == 3 else digits).upper()


def test_a_formula_typed_into_an_update_is_text_in_the_workbook(ledger: Ledger) -> None:
    """The update `=HYPERLINK("http://x","y")` on 1.4 is a string cell holding the CSV's
    inert text, in the plan and changes sheets alike; no sheet holds a formula."""
    book = load_workbook(ledger.pack / "workbook.xlsx")
    found = [cell for name in ("plan", "changes", "events") for row in book[name].iter_rows()
             for cell in row if isinstance(cell.value, str) and "HYPERLINK" in cell.value]
    assert {c.value for c in found} >= {"'" + HOSTILE, "[2018-10] " + HOSTILE}
    assert {c.data_type for c in found} == {"s"}
    with zipfile.ZipFile(ledger.pack / "workbook.xlsx") as archive:
        parts = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        assert len(parts) == 6
        assert not [n for n in parts if b"<f>" in archive.read(n) or b"<f " in archive.read(n)]
    done = subprocess.run(["/usr/bin/python3", "-I", str(ledger.pack / "verify_pack.py"),
                           str(ledger.pack)], capture_output=True, text=True, check=False,
                          timeout=120)
    assert done.returncode == 3, done.stderr  # intact; unsigned, so who made it is unproven
    assert "every derived file agrees with the events" in done.stdout


def test_the_same_pack_gives_the_same_workbook_bytes(ledger: Ledger, tmp_path: Path) -> None:
    """The workbook re-made from the pack's own events and manifest is the pack's, byte for
    byte (its times are the export's run_at, its zip entries dated 1980-01-01)."""
    manifest = json.loads((ledger.pack / "manifest.json").read_text(encoding="utf-8"))
    scope = proof.Scope.from_parameters(manifest["parameters"])
    chain = [json.loads(line) for line in (ledger.pack / "chain.jsonl").read_text().splitlines()]
    seals = {r[0]: Seal(r[0], r[3], r[4], r[1], Witness(r[5], r[6]), r[2]) for r in chain}
    events = proof.PlanEvents(scope.plan)
    for line in (ledger.pack / "events.jsonl").read_text(encoding="utf-8").splitlines():
        row: dict[str, Any] = json.loads(line)
        events.add(EventRecord(row["position"], UUID(hex=row["stream"]), row["version"],
                               row["topic"], row["stored"].encode()), seals[row["position"]])
    derived = proof.derive(scope, events, proof.stated(manifest))
    sheets.write(tmp_path / "again.xlsx", sheets.expected(manifest, derived.grids))
    assert (tmp_path / "again.xlsx").read_bytes() == (ledger.pack / "workbook.xlsx").read_bytes()


def test_control_characters_reach_the_workbook_escaped(cli: Cli, tmp_path: Path) -> None:
    """An update holding an escape sequence and a bell (which XML cannot carry) is a workbook
    cell with them escaped, where the CSV keeps them as typed; the pack still verifies."""
    cli("new-plan", "cgip-2018", "--title", "Corporate Governance Improvement Plan")
    cli("add-theme", "1", "Political Leadership")
    cli("add-item", "1.3", "--theme", "1", "--aim", "Effective, modern governance")
    cli("update", "1.3", "Paperless\x1b[31m from\x07 November", "--month", "2018-09",
        "--effective", "2018-09-30")
    pack = tmp_path / "pack"
    cli("export", "--out", str(pack), "--no-pdf", "--as-of", "2018-09-30")
    plan = load_workbook(pack / "workbook.xlsx")["plan"]
    header = [c.value for c in plan[1]]
    text = plan.cell(row=2, column=header.index("latest_update_text") + 1).value
    assert text == "Paperless\\x1b[31m from\\x07 November"
    assert csv_dicts(pack / "plan.csv")[0]["latest_update_text"] == \
        "Paperless\x1b[31m from\x07 November"
    assert "who signed is not established" in cli("verify-pack", str(pack), code=3)
