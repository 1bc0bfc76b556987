"""Digests an attacker (or a careless auditor) hands to verify, and an empty ledger."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.bootstrap import bootstrap
from tests.integrity.attack import ledger, tampered


def write(tmp_path: Path, data: object) -> str:
    path = tmp_path / "digest.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(("data", "says"), [
    ({"ledger": "ledger", "position": 0, "hash": "a" * 64}, "position"),
    ({"ledger": "ledger", "position": -5, "hash": "a" * 64}, "position"),
    ({"ledger": "ledger", "position": "12", "hash": "a" * 64}, "position"),
    ({"ledger": "ledger", "position": 12, "hash": "A" * 64}, "hash"),
    ({"ledger": "ledger", "position": 12, "hash": "a" * 63}, "hash"),
    ({"ledger": "ledger", "position": 12}, "hash"),
    ([1, 2, 3], "not a usable digest"),
    ("{not json", "not a readable digest"),
    ("", "not a readable digest"),
])
def test_a_malformed_digest_is_refused_with_exit_2(
    url: str, tmp_path: Path, data: object, says: str,
) -> None:
    _, out = ledger(url, "verify", "--digest", write(tmp_path, data), code=2)
    assert says in out, out


def test_a_digest_of_another_ledger_is_not_extended(url: str, tmp_path: Path) -> None:
    """A digest (of another ledger) at a position this ledger has: not extended, exit 1."""
    ours = json.loads(ledger(url, "digest")[1])
    other = {**ours, "position": 200, "hash": "0123456789abcdef" * 4}
    report = tampered(url, "--digest", write(tmp_path, other), "--events-only")
    assert report.startswith("position 200: the ledger no longer extends the digest"), report


def test_a_digest_past_the_head_says_events_were_removed(url: str, tmp_path: Path) -> None:
    ours = json.loads(ledger(url, "digest")[1])
    report = tampered(url, "--digest", write(tmp_path, {**ours, "position": 10**9}),
                      "--events-only")
    assert "events were removed" in report


def test_an_empty_ledger_says_empty_not_intact(db_url: str) -> None:
    """Tables made, no event stored: verify says empty (exit 0); digest refuses (exit 2)."""
    bootstrap(db_url, create=True).close()
    _, out = ledger(db_url, "verify")
    assert out.startswith("empty:"), out
    assert "intact" not in out
    _, out = ledger(db_url, "digest", code=2)
    assert "no events" in out
