"""Attacks on the events table: rows inserted, edited, swapped, deleted; versions forged."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError

from tests.integrity.attack import (
    EVENTS,
    connect,
    count,
    drop_guards,
    event,
    execute,
    forge_append,
    insert_event,
    intact,
    last_version,
    names,
    postgres,
    stream_hex,
    tampered,
)
from tests.integrity.conftest import HEAD

FAR = 10**9
GUARD = r"ids are assigned by the ledger"


def test_the_built_ledger_is_intact(url: str) -> None:
    """The copy every attack starts from verifies, events and read models."""
    assert f"intact: {HEAD} events" in intact(url)
    assert count(url) == HEAD


@pytest.mark.parametrize("position", [0, FAR])
def test_an_event_at_a_chosen_id_is_refused_then_named_inserted(url: str, position: int) -> None:
    """An event at id 0 or 10^9: the database refuses the id; dropped by the owner, the
    unsealed row is named inserted at its position."""
    forged = {**event(url, 100), "originator_version": 999}
    with pytest.raises(DBAPIError, match=GUARD), connect(url) as conn:
        insert_event(conn, forged, position)
    assert count(url) == HEAD
    drop_guards(url)
    with connect(url) as conn:
        insert_event(conn, forged, position)
    names(tampered(url), position, "inserted", stream_hex(forged["originator_id"]), 999)


def test_an_event_at_the_next_id_without_a_seal_is_named_inserted(url: str) -> None:
    """The next id, as the database gives it, with the guards in place: no seal, inserted."""
    forged = event(url, 100)
    with connect(url) as conn:
        position = insert_event(conn, {**forged, "originator_version": 999})
    assert position == HEAD + 1
    names(tampered(url), position, "inserted", stream_hex(forged["originator_id"]), 999)


def test_a_version_that_skips_ahead_is_named_version_gap(url: str) -> None:
    """An event sealed with the public algorithm whose version skips one: version-gap."""
    forged = event(url, 120)
    version = last_version(url, forged["originator_id"]) + 2
    position = forge_append(url, {**forged, "originator_version": version})
    names(tampered(url), position, "version-gap", stream_hex(forged["originator_id"]), version)


def test_a_sealed_event_after_a_gap_in_the_positions_is_named_position_gap(url: str) -> None:
    """The owner drops the guards and appends an event two past the head, well sealed after
    it (`previous` is the head): nothing was ever at the head + 1, so the id was chosen
    around the ledger (the database numbers without gaps): position-gap at the event."""
    forged = event(url, 120)
    version = last_version(url, forged["originator_id"]) + 1
    drop_guards(url)
    position = forge_append(url, {**forged, "originator_version": version}, position=HEAD + 2)
    names(tampered(url), HEAD + 2, "position-gap", stream_hex(forged["originator_id"]), version)
    assert position == HEAD + 2
    assert f"nothing was ever stored at {HEAD + 1}" in tampered(url)


def test_a_duplicate_stream_version_is_named(url: str) -> None:
    """The owner drops the unique index (and on SQLite the trigger that refuses a taken
    (stream, version) too), appends a second version 1 of a stream, sealed."""
    forged = event(url, 120)
    execute(url, "DROP INDEX ledger_events_aggregate_idx")
    if not postgres(url):
        execute(url, "DROP TRIGGER ledger_events_never_replaced")
    position = forge_append(url, {**forged, "originator_version": 1})
    names(tampered(url), position, "duplicate-version", stream_hex(forged["originator_id"]), 1)


def test_an_edited_state_is_named_altered(url: str) -> None:
    """One word changed in a stored update: altered at its position."""
    drop_guards(url)
    before = event(url, 120)
    execute(url, f"UPDATE {EVENTS} SET state = :s WHERE id = 120",
            {"s": bytes(before["state"]).replace(b"20", b"21", 1)})
    names(tampered(url), 120, "altered", stream_hex(before["originator_id"]),
          before["originator_version"])


def test_an_edited_topic_is_named_altered(url: str) -> None:
    """The event's class changed (an update made into a completion): altered."""
    drop_guards(url)
    before = event(url, 130)
    execute(url, f"UPDATE {EVENTS} SET topic = :t WHERE id = 130",
            {"t": str(before["topic"]).rsplit(".", 1)[0] + ".Completed"})
    names(tampered(url), 130, "altered", stream_hex(before["originator_id"]),
          before["originator_version"])


def test_a_state_that_is_not_json_is_named_altered(url: str) -> None:
    """The state replaced by bytes that are not JSON: altered, and verify does not crash."""
    drop_guards(url)
    before = event(url, 140)
    execute(url, f"UPDATE {EVENTS} SET state = :s WHERE id = 140", {"s": b"\xff\x00{not json"})
    names(tampered(url), 140, "altered", stream_hex(before["originator_id"]),
          before["originator_version"])


def test_an_event_moved_to_another_stream_is_named_altered(url: str) -> None:
    """The originator id of one event changed to another stream's (at a free version)."""
    drop_guards(url)
    other = event(url, 300)
    version = last_version(url, other["originator_id"]) + 1
    execute(url, f"UPDATE {EVENTS} SET originator_id = :s, originator_version = :v "
                 "WHERE id = 150", {"s": other["originator_id"], "v": version})
    names(tampered(url), 150, "altered", stream_hex(other["originator_id"]), version)


def test_two_swapped_events_are_named_reordered(url: str) -> None:
    """Rows 50 and 60 exchange their contents: reordered at 50, naming 60."""
    drop_guards(url)
    first, second = event(url, 50), event(url, 60)
    statement = (f"UPDATE {EVENTS} SET originator_id = :originator_id, originator_version = "
                 ":originator_version, topic = :topic, state = :state WHERE id = :p")
    execute(url, statement, {**first, "originator_version": -1, "p": 60})
    execute(url, statement, {**second, "p": 50})
    execute(url, statement, {**first, "p": 60})
    report = tampered(url)
    names(report, 50, "reordered", stream_hex(second["originator_id"]),
          second["originator_version"])
    assert "position 60" in report


def test_a_deleted_event_is_named_missing(url: str) -> None:
    """DELETE of one event (its seal stays): missing at its position."""
    drop_guards(url)
    execute(url, f"DELETE FROM {EVENTS} WHERE id = 200")
    names(tampered(url), 200, "missing")


def test_the_guards_refuse_update_delete_and_a_chosen_id_as_the_owner(url: str) -> None:
    """Without dropping anything first, even the owner's UPDATE, DELETE are refused."""
    for statement in (f"UPDATE {EVENTS} SET topic = 'x' WHERE id = 5",
                      f"DELETE FROM {EVENTS} WHERE id = 5"):
        with pytest.raises(DBAPIError, match="immutable"):
            execute(url, statement)
    if postgres(url):
        with pytest.raises(DBAPIError, match="immutable"):
            execute(url, f"TRUNCATE {EVENTS} CASCADE")
    assert f"intact: {HEAD} events" in intact(url, "--events-only")
