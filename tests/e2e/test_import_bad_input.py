"""Bad documents: one clear line naming file, line and problem; exit 2; nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Cli, stored_events
from tests.editions import KERSLAKE, SEPTEMBER


def september() -> str:
    return SEPTEMBER.read_text(encoding="utf-8")


def _no_number(text: str) -> str:
    return text.replace("| 1.4   |", "| x   |", 1)


def _truncated_mid_row(text: str) -> str:
    lines = text.split("\n")
    return "\n".join([*lines[:26], lines[26][:400]])  # line 27 (item 1.4) cut mid-row


CASES = {
    "empty.md": (b"", "empty.md: the file is empty"),
    "blank.md": (b"  \n\n ", "blank.md: the file is empty"),
    "binary.md": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary.md:3: the file is binary"),
    "latin1.md": ("**Septembre Update 2018**\ncaf\u00e9".encode("latin-1"),
                  "latin1.md:2: not UTF-8 text"),
    "notes.md": (b"# Minutes\nNothing to see here.\n", "notes.md:1: not a plan document"),
    "no-number.md": (_no_number(september()).encode(),
                     "no-number.md:27: row has no item number"),
    "truncated.md": (_truncated_mid_row(september()).encode(),
                     "truncated.md:27: a table row is cut short"),
    "no-month.md": (september().replace("**September Update 2018**", "").encode(),
                    "no-month.md: no edition month in the heading"),
    "kerslake-cut.txt": (KERSLAKE.read_bytes()[:20000],
                         "kerslake-cut.txt: found actions per plan (27, 7), expected"),
    "bad-date.csv": (b"plan,theme,item,aim,outcome,due\nhousing,1,1.1,Aim,Outcome,2018-13\n",
                     "bad-date.csv:2: '2018-13': there is no month 13"),
    "no-item.csv": (b"plan,theme,item,aim\nhousing,1,,Aim\n",
                    "no-item.csv:2: the item column is empty"),
    "bad-year.csv": (b"plan,theme,item,aim,outcome,due\nhousing,1,1.1,Aim,Outcome,9999-01\n",
                     "bad-year.csv:2: '9999-01': year 9999 is outside"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_bad_document_is_refused_whole(cli: Cli, tmp_path: Path, name: str) -> None:
    """Each bad file: exit 2, one line with file:line: problem, and no event stored."""
    data, message = CASES[name]
    path = tmp_path / name
    path.write_bytes(data)
    before = stored_events(cli.db)
    err = cli("import", str(path), code=2)
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
    assert stored_events(cli.db) == before


def test_a_missing_file_is_named(cli: Cli, tmp_path: Path) -> None:
    """A path that does not exist: exit 2, named."""
    err = cli("import", str(tmp_path / "nope.md"), code=2)
    assert "nope.md: cannot read" in err


def test_a_failed_import_into_an_existing_plan_writes_nothing(cli: Cli, tmp_path: Path) -> None:
    """After a good import, a broken later edition leaves the ledger exactly as it was."""
    cli("import", str(SEPTEMBER))
    before = stored_events(cli.db)
    broken = tmp_path / "october.md"
    broken.write_text(_no_number(september().replace("September Update 2018",
                                                     "October Update 2018")), encoding="utf-8")
    cli("import", str(broken), code=2)
    assert stored_events(cli.db) == before
