"""Tables never lie, and fit: every query's table, read back cell by cell, says what its JSON
says, and no line is wider than the terminal (`COLUMNS`)."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import pytest

from ledger.domain.words import shown
from ledger.export.files import flat
from tests.conftest import Cli
from tests.editions import SEPTEMBER

QUERIES = (
    ("plan",), ("plan", "--as-of", "2018-07-31"), ("snapshots",),
    ("snapshots", "--from", "2018-01", "--to", "2018-12"), ("slippage",), ("changes",),
    ("summary", "--as-of", "2018-09-30"), ("diff", "2018-07-31", "2018-09-30"), ("editions",),
    ("history", "1.3"), ("restatements", "--month", "2018-09"),
)
HOSTILE = "Escaped \x1b]0;owned\x07\x1b[2J and https://example.org/" + "x" * 120 + " after"


@pytest.fixture
def september(cli: Cli) -> Cli:
    """The real September 2018 edition, plus one hand update of 1.3 carrying a terminal
    escape and a word longer than any column."""
    cli("import", str(SEPTEMBER), "--by", "improvement.team")
    cli("--plan", "cgip-2018", "update", "1.3", HOSTILE, "--month", "2018-09",
        "--effective", "2018-09-30", "--by", "Monitoring Officer")
    return cli


def read_table(text: str) -> list[dict[str, str]]:
    """A rendered table back into rows: columns from the rule under the headers, a line with
    an empty first column continuing the row above, bands joined row by row."""
    rows: list[dict[str, str]] = []
    for n, block in enumerate(text.rstrip("\n").split("\n\n")):
        header, rule, *body = block.split("\n")
        starts = [m.start() for m in re.finditer(r"-+", rule)]
        spans = list(zip(starts, [*starts[1:], None], strict=True))
        names = [header[a:b].strip() for a, b in spans]
        found: list[list[list[str]]] = []
        for line in body:
            cells = [line[a:b].strip() for a, b in spans]
            if cells[0]:
                found.append([[c] if c else [] for c in cells])
            else:
                for parts, cell in zip(found[-1], cells, strict=True):
                    parts.extend([cell] if cell else [])
        band = [{k: " ".join(p) for k, p in zip(names, row, strict=True)} for row in found]
        if n == 0:
            rows = band
        else:
            assert len(band) == len(rows)
            for whole, part in zip(rows, band, strict=True):
                assert whole[names[0]] == part[names[0]]  # the key column, repeated
                whole.update(part)
    return rows


def agrees(cell: str, value: Any) -> bool:
    """The cell is the JSON value made one line (flat, control characters escaped, white
    space as single spaces), or a prefix of it cut with …."""
    full = " ".join(shown(flat(value)).split())
    return cell == full or (cell.endswith("…") and full.startswith(cell[:-1]) and
                            len(cell) > 1)


def snapshot_cell(row: dict[str, Any]) -> str:
    """`snapshots` pivots its rows (item × month): a cell is status, (RAG), * where assumed."""
    return str(row["status"]) + (f" ({row['rag']})" if row["rag"] else "") + (
        " *" if row["basis"] == "assumed" else "")


@pytest.mark.parametrize("columns", ["100", "60"])
def test_every_table_cell_is_the_json_value(september: Cli, columns: str) -> None:
    """For every query on the September edition, each table cell (its wrapped lines joined)
    equals the JSON value flat, or is a prefix of it ending in …; the rows are the same
    rows in the same order. The hand update's escape is shown as `\\x1b`, never sent."""
    for query in QUERIES:
        args = ("--plan", "cgip-2018", *query)
        want = json.loads(september(*args, "--format", "json"))
        text = september(*args, env={"COLUMNS": columns})
        assert "\x1b" not in text
        assert "\x07" not in text
        got = read_table(text)
        assert want, query
        if query[0] == "snapshots":
            grid = {(r["item"], r["month"]): snapshot_cell(r) for r in want}
            assert [r["item"] for r in got] == list(dict.fromkeys(r["item"] for r in want))
            for row in got:
                for month, cell in row.items():
                    if month != "item":
                        assert agrees(cell, grid.get((row["item"], month), "")), (row, month)
            continue
        assert len(got) == len(want), query
        for seen, row in zip(got, want, strict=True):
            assert set(seen) <= set(row), query
            for column, cell in seen.items():
                assert agrees(cell, row[column]), (query, column, cell, row[column])


def test_the_hand_update_and_the_hash_read_true(september: Cli) -> None:
    """Facts, quoted: 1.3's latest update is the hand one, escaped, cut with … at 100
    columns and whole with --wide; the September edition's SHA-256 is cut, never wrapped."""
    digest = hashlib.sha256(SEPTEMBER.read_bytes()).hexdigest()
    assert digest.startswith("640e3c16bf52")
    editions = september("--plan", "cgip-2018", "editions", env={"COLUMNS": "100"})
    sha = read_table(editions)[0]["sha256"]
    assert sha.endswith("…")
    assert digest.startswith(sha[:-1])
    assert " " not in sha
    wide = september("--plan", "cgip-2018", "editions", "--wide", env={"COLUMNS": "100"})
    assert digest in wide
    assert len(wide.splitlines()) == 3  # header, rule, one edition on one line
    plan = september("--plan", "cgip-2018", "plan", "--item", "1.3", "--wide")
    # latest_update is a JSON object: JSON writes the escape as \u001b, as the JSON output does
    assert r"Escaped \u001b]0;owned\u0007\u001b[2J and https://example.org/xxx" in plan
    assert "x" * 120 + " after" in plan
    narrow = read_table(september("--plan", "cgip-2018", "plan", "--item", "1.3",
                                  env={"COLUMNS": "100"}))
    assert narrow[0]["item"] == "1.3"
    assert narrow[0]["latest_update"].endswith("…")


def test_no_line_of_any_table_is_wider_than_columns(september: Cli) -> None:
    """With COLUMNS=100 (and 40, and 250) no line of any query's table is wider; --wide
    has lines wider than 100 (plan: its aims and outcomes whole)."""
    for columns in (100, 40, 250):
        for query in QUERIES:
            text = september("--plan", "cgip-2018", *query, env={"COLUMNS": str(columns)})
            widest = max(len(line) for line in text.splitlines())
            assert widest <= columns, (query, columns, widest)
    wide = september("--plan", "cgip-2018", "plan", "--wide", env={"COLUMNS": "100"})
    assert max(len(line) for line in wide.splitlines()) > 1000
