"""A digest is untrusted input: a malformed one is a one-line error (exit 2), never "extends"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Cli


@pytest.mark.parametrize(("digest", "says"), [
    ({"ledger": "ledger", "position": 0, "hash": "0" * 64}, "position: Input should be greater"),
    ({"ledger": "ledger", "position": "abc", "hash": "0" * 64}, "position: Input should be"),
    ({"ledger": "ledger", "position": 1, "hash": "xyz"}, "hash: String should match pattern"),
    ({"ledger": "ledger", "hash": "0" * 64}, "position: Field required"),
    ([], "the digest: Input should be a valid dictionary"),
])
def test_a_malformed_digest_is_refused_with_one_line(cli: Cli, tmp_path: Path,
                                                       digest: object, says: str) -> None:
    """Position 0 would 'extend' anything; a wrong type or a short hash proves nothing."""
    cli("new-plan", "p", "--title", "A plan")
    path = tmp_path / "digest.json"
    path.write_text(json.dumps(digest), encoding="utf-8")
    err = cli("verify", "--digest", str(path), code=2)
    assert says in err
    assert len(err.strip().splitlines()) == 1


def test_a_digest_taken_earlier_is_extended(cli: Cli, tmp_path: Path) -> None:
    """The good case: a digest taken, more written, the ledger still extends it."""
    cli("new-plan", "p", "--title", "A plan")
    path = tmp_path / "digest.json"
    cli("digest", "--out", str(path))
    taken = json.loads(path.read_text(encoding="utf-8"))
    cli("--plan", "p", "add-theme", "1", "Leadership")
    out = cli("verify", "--digest", str(path))
    assert f"extends the digest at position {taken['position']}" in out
