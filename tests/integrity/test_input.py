"""Hostile sizes at the command line: refused with exit 2 and nothing written; a long but
reasonable name works through every query."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integrity.attack import count, intact, ledger
from tests.integrity.conftest import HEAD

UPDATE = ("update", "1.1", "Group leaders met again", "--month", "2018-09")


def test_a_10_kb_by_is_refused(url: str) -> None:
    code, out = ledger(url, *UPDATE, "--by", "b" * 10_240, code=2)
    assert code == 2
    assert "at most" in out
    assert count(url) == HEAD


def test_a_1_mb_update_text_is_refused(url: str) -> None:
    code, out = ledger(url, "update", "1.1", "u" * 1_000_000, "--month", "2018-09", code=2)
    assert code == 2
    assert "at most" in out, out[:300]
    assert count(url) == HEAD


@pytest.mark.slow
def test_a_190_character_by_works_through_every_query(url: str, tmp_path: Path) -> None:
    """A long (190 characters, non-ASCII) recorder's name: written, shown by plan and changes,
    exported, rebuilt, verified."""
    by = ("Directrice générale adjointe — " * 7)[:190]
    assert len(by) == 190
    ledger(url, *UPDATE, "--by", by)
    assert count(url) == HEAD + 1
    _, out = ledger(url, "changes", "--item", "1.1", "--format", "json")
    assert json.loads(out)[-1]["by"] == by
    _, out = ledger(url, "plan", "--item", "1.1", "--format", "json")
    assert "Group leaders met again" in out
    ledger(url, "export", "--out", str(tmp_path / "pack"), "--no-pdf")
    assert by in (tmp_path / "pack" / "changes.csv").read_text(encoding="utf-8-sig")
    ledger(url, "projections", "rebuild")
    intact(url)
