"""The same rows in every format: a cell reads alike in the table, the CSV and the pack."""

from __future__ import annotations

import csv
import json

from tests.conftest import Cli, csv_text
from tests.editions import SEPTEMBER


def test_an_undelivered_outcome_reads_false_in_the_table_as_in_json(cli: Cli) -> None:
    """`delivered` is false in table and CSV too (tabulate once showed the text False as True)."""
    cli("import", str(SEPTEMBER), "--by", "improvement.team")
    args = ("--plan", "cgip-2018", "slippage", "--item", "1.1", "--as-of", "2018-09-30")
    from_json = json.loads(cli(*args, "--format", "json"))
    from_csv = list(csv.DictReader(csv_text(cli(*args, "--format", "csv"))))
    table = [line for line in cli(*args, "--format", "table", "--wide").splitlines()
             if line.startswith("cgip-2018")]
    assert [r["delivered"] for r in from_json] == [False, False]
    assert [r["delivered"] for r in from_csv] == ["false", "false"]
    assert len(table) == 2
    assert all(" false " in f"{line} " and "True" not in line for line in table)


def test_a_formula_typed_into_a_note_is_text_in_query_csv(cli: Cli) -> None:
    """`changes --format csv`: the note `=HYPERLINK(...)` and the name `+cmd` are prefixed
    with ', so a spreadsheet shows them and runs nothing; JSON keeps them as typed."""
    cli("import", str(SEPTEMBER), "--by", "improvement.team")
    cli("--plan", "cgip-2018", "update", "--by", "+cmd|' /C calc'!A0",
        "--note", '=HYPERLINK("http://evil.example","x")', "--", "1.3", "-2+3 done")
    args = ("--plan", "cgip-2018", "changes", "--item", "1.3")
    row = list(csv.DictReader(csv_text(cli(*args, "--format", "csv"))))[-1]
    assert row["note"] == '\'=HYPERLINK("http://evil.example","x")'
    assert row["by"] == "'+cmd|' /C calc'!A0"
    raw = json.loads(cli(*args, "--format", "json"))[-1]
    assert raw["note"] == '=HYPERLINK("http://evil.example","x")'
    cells = [c for r in csv.reader(csv_text(cli(*args, "--format", "csv"))) for c in r]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
