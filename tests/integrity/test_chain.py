"""Attacks on the seals (ledger_chain) and on the chain as a whole: seals deleted, edited,
squatted or forged with the public algorithm; the tail cut off; the clock set back."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.exc import DBAPIError

from ledger.domain.chain import Witness
from tests.integrity.attack import (
    CHAIN,
    EVENTS,
    count,
    drop_guards,
    event,
    execute,
    forge_append,
    intact,
    last_version,
    ledger,
    names,
    now_on_server,
    postgres,
    scalar,
    stream_hex,
    tampered,
)
from tests.integrity.conftest import HEAD, WRITER

FAR = 10**9
UPDATE = ("update", "1.1", "Group leaders met again", "--month", "2018-09")
NOT_IMPLEMENTED = "the ledger cannot tell this yet (see the report)"


def sealed(url: str, position: int) -> tuple[str, int]:
    """The stream (hex) and version of the event at a position."""
    found = event(url, position)
    return stream_hex(found["originator_id"]), int(found["originator_version"])


def test_the_last_event_and_its_seal_deleted_are_caught_by_a_digest(
    url: str, tmp_path: Path,
) -> None:
    """Cut the tail off: the chain alone cannot tell; the digest taken before can."""
    digest = tmp_path / "digest.json"
    ledger(url, "digest", "--out", str(digest))
    assert json.loads(digest.read_text())["position"] == HEAD
    drop_guards(url)
    execute(url, f"DELETE FROM {EVENTS} WHERE id = {HEAD}")
    execute(url, f"DELETE FROM {CHAIN} WHERE position = {HEAD}")
    report = tampered(url, "--digest", str(digest), "--events-only")
    assert report.startswith(f"the ledger ends at position {HEAD - 1}, before the digest's "
                             f"position {HEAD}: events were removed"), report


def test_a_far_seal_then_a_real_write_names_the_seal_not_the_write(url: str) -> None:
    """A seal at 10^9 with no event, then a real write: the write is sealed after the last
    real event, and verify names the bogus seal."""
    drop_guards(url, CHAIN)
    execute(url, f"INSERT INTO {CHAIN} VALUES ({FAR}, :h, :h, {HEAD}, '2999-01-01', '', :s)",
            {"h": "a" * 64, "s": "a" * 32})
    ledger(url, *UPDATE)
    assert count(url) == HEAD + 1
    names(tampered(url), FAR, "inserted")


def test_a_seal_squatting_the_next_position_is_named_inserted(url: str) -> None:
    """A seal put at the next position before any event is there: inserted."""
    drop_guards(url, CHAIN)
    execute(url, f"INSERT INTO {CHAIN} VALUES ({HEAD + 1}, :h, :h, {HEAD}, '2999-01-01', '', :s)",
            {"h": "a" * 64, "s": "a" * 32})
    names(tampered(url), HEAD + 1, "inserted")


def test_a_seal_squatting_the_next_position_is_named_when_writing(url: str) -> None:
    """A seal at the next free position blocks every write: the write says so (exit 1,
    naming the position), not 'retry'."""
    drop_guards(url, CHAIN)
    execute(url, f"INSERT INTO {CHAIN} VALUES ({HEAD + 1}, :h, :h, {HEAD}, '2999-01-01', '', :s)",
            {"h": "a" * 64, "s": "a" * 32})
    code, out = ledger(url, *UPDATE, code=None)
    assert code == 1, (code, out)
    assert f"a seal with no event at position {HEAD + 1}" in out


@pytest.mark.parametrize(("column", "value", "what"), [
    ("witnessed_at", "2999-12-31T00:00:00.000000+00:00", "chain-broken"),
    ("witnessed_at", "2000-01-01T00:00:00.000000+00:00", "time-backwards"),
    ("witnessed_by", "mallory", "chain-broken"),
    ("link", "b" * 64, "chain-broken"),
])
def test_an_edited_witness_or_link_is_named(url: str, column: str, value: str,
                                            what: str) -> None:
    """A seal's witness (time, role) or link edited: named at its position."""
    drop_guards(url)
    execute(url, f"UPDATE {CHAIN} SET {column} = :v WHERE position = 200", {"v": value})
    names(tampered(url), 200, what, *sealed(url, 200))


# Edits of a seal: each is one test that it is found, and one that it is named right.

def _seal_deleted(url: str) -> None:
    execute(url, f"DELETE FROM {CHAIN} WHERE position = 200")


def _previous_edited(url: str) -> None:
    execute(url, f"UPDATE {CHAIN} SET previous = 198 WHERE position = 200")


def _content_edited(url: str) -> None:
    execute(url, f"UPDATE {CHAIN} SET content = :c WHERE position = 200", {"c": "0" * 64})


def _event_and_seal_deleted(url: str) -> None:
    execute(url, f"DELETE FROM {CHAIN} WHERE position = 200")
    execute(url, f"DELETE FROM {EVENTS} WHERE id = 200")


SEAL_EDITS = {
    # attack: (what it should be named, at which position)
    "seal-deleted": (_seal_deleted, "chain-broken", 200),
    "previous-edited": (_previous_edited, "chain-broken", 200),
    "content-edited": (_content_edited, "chain-broken", 200),
    "event-and-seal-deleted": (_event_and_seal_deleted, "missing", 200),
}


@pytest.mark.parametrize("attack", list(SEAL_EDITS))
def test_a_seal_edit_is_found(url: str, attack: str) -> None:
    """Found: exit 1, at the position (or the one after, for a row gone with its seal)."""
    edit, _what, position = SEAL_EDITS[attack]
    drop_guards(url)
    edit(url)
    report = tampered(url)
    assert report.startswith((f"position {position} ", f"position {position}:",
                              f"position {position + 1} ")), report


@pytest.mark.parametrize("attack", list(SEAL_EDITS))
def test_a_seal_edit_is_named_right(url: str, attack: str) -> None:
    """A seal deleted alone, its `previous` or content edited: chain-broken at it (the event
    is intact); an event deleted with its seal: missing at the event's own position."""
    edit, what, position = SEAL_EDITS[attack]
    stream, version = sealed(url, position)
    drop_guards(url)
    edit(url)
    if what == "missing":  # the event is gone: there is no stream or version to name
        assert tampered(url).startswith(f"position {position}: missing: "), tampered(url)
        return
    names(tampered(url), position, what, stream, version)


def test_a_seal_witnessed_in_the_past_is_refused_then_named_time_backwards(url: str) -> None:
    """A forged seal dated before the head: the guards refuse it; with them dropped by the
    owner, verify names it time-backwards."""
    forged = event(url, 300)
    values = {**forged, "originator_version": last_version(url, forged["originator_id"]) + 1}
    role = str(scalar(url, "SELECT session_user")) if postgres(url) else ""
    past = Witness("2001-01-01T00:00:00.000000+00:00", role)
    with pytest.raises(DBAPIError, match=r"backwards|server.s clock"):
        forge_append(url, values, past)
    assert count(url) == HEAD
    drop_guards(url)
    position = forge_append(url, values, past, HEAD + 1)
    names(tampered(url), position, "time-backwards", stream_hex(forged["originator_id"]),
          values["originator_version"])


def test_a_forged_seal_in_another_roles_name_is_refused_on_postgres(url: str) -> None:
    """On PostgreSQL the witness must be the session's own role: a seal claiming another is
    refused, even from the owner. (On SQLite a seal has no role: every witness is empty.)"""
    if not postgres(url):
        assert scalar(url, f"SELECT COUNT(*) FROM {CHAIN} WHERE witnessed_by <> ''") == 0
        return
    forged = event(url, 300)
    values = {**forged, "originator_version": last_version(url, forged["originator_id"]) + 1}
    with pytest.raises(DBAPIError, match="this session's role"):
        forge_append(url, values, Witness(now_on_server(url), WRITER))
    assert count(url) == HEAD


def test_a_well_formed_forged_append_carries_its_witness(url: str) -> None:
    """An event appended with a seal made by the public algorithm: on PostgreSQL it verifies
    but is witnessed by the session's role (the owner here), and the change log shows that
    role. On SQLite (one user, one file) whoever can write the file can append an event as the
    ledger would: a known limit (docs/RELIABILITY.md), which this test pins down so that a
    change in it is seen."""
    forged = event(url, 300)
    version = last_version(url, forged["originator_id"]) + 1
    position = forge_append(url, {**forged, "originator_version": version})
    if not postgres(url):
        intact(url)
        return
    intact(url)
    owner = str(scalar(url, "SELECT session_user"))
    assert scalar(url, f"SELECT witnessed_by FROM {CHAIN} WHERE position = {position}") == owner
    _, out = ledger(url, "changes", "--format", "json")
    assert json.loads(out)[-1]["db_role"] == owner


def test_an_owner_forging_an_append_in_another_roles_name_is_a_known_limit(url: str) -> None:
    """The database owner drops the witness trigger and seals an event in the writer's name:
    the chain cannot tell an append made so from a real one. A known limit
    (docs/RELIABILITY.md): the owner is trusted for appends after the last digest kept
    outside; nothing before that digest can be changed unseen. This test pins the limit:
    `ledger verify` sees the guards gone (exit 2, `ledger init`), but once the owner puts
    them back (`ledger init`), says intact."""
    forged = event(url, 300)
    drop_guards(url)
    version = last_version(url, forged["originator_id"]) + 1
    forge_append(url, {**forged, "originator_version": version},
                 Witness(now_on_server(url), WRITER if postgres(url) else ""), HEAD + 1)
    _, out = ledger(url, "verify", code=2)
    assert "lacks guards" in out, out
    assert "run `ledger init`" in out, out
    ledger(url, "init")
    intact(url)


def test_a_reserialised_state_is_named_altered(url: str) -> None:
    """The same JSON written with other white space: the stored bytes changed, so altered."""
    drop_guards(url)
    before = event(url, 300)
    state = json.loads(bytes(before["state"]))
    execute(url, f"UPDATE {EVENTS} SET state = :s WHERE id = 300",
            {"s": json.dumps(state, indent=1).encode()})
    names(tampered(url), 300, "altered", stream_hex(before["originator_id"]),
          before["originator_version"])


def test_a_write_with_the_clock_set_back_is_refused_on_sqlite(url: str) -> None:
    """On SQLite the witness is this machine's clock: three years back, the write is refused
    with exit 2 and nothing is written. (On PostgreSQL the server's clock is the witness.)"""
    if postgres(url):
        assert intact(url, "--events-only")
        return
    assert shutil.which("faketime"), "faketime is not installed (scripts/setup.sh installs it)"
    bindir = Path(sys.executable).parent
    result = subprocess.run(
        ["faketime", "-f", "-3y", str(bindir / "ledger"), "--db", url, *UPDATE],
        capture_output=True, text=True, check=False,
        env={**os.environ, "LEDGER_ACTOR": "tester"}, timeout=120)
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "behind the ledger's last recorded time" in result.stderr
    assert count(url) == HEAD
    assert intact(url, "--events-only")
