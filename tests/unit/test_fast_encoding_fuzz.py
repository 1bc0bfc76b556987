"""The orjson encodings write exactly the bytes the standard `json` encodings write, for any
text and value hypothesis makes (or fall back to `json`, errors included), so the stored
bytes and the seals of a ledger do not depend on which encoder wrote them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    UUIDAsHex,
)
from eventsourcing.utils import get_topic
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.domain.chain import EventRecord, Seal, Witness, canonical, content_hash, seal
from ledger.domain.events import ItemAdded, UpdateRecorded
from ledger.domain.values import Rag
from ledger.store.decoding import DateAsISO
from ledger.store.fastjson import (
    OrjsonMapper,
    OrjsonTranscoder,
    _iso_datetime,
    canonical_fast,
    content_hash_fast,
    seal_rows,
)


def _transcoders() -> tuple[JSONTranscoder, OrjsonTranscoder]:
    old, new = JSONTranscoder(), OrjsonTranscoder()
    for transcoder in (old, new):
        for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), DateAsISO()):
            transcoder.register(transcoding)
    return old, new


OLD, NEW = _transcoders()

# Any text but lone surrogates (which neither encoder can write as UTF-8; see below):
# control characters, quotes, backslashes, U+2028, non-BMP, the lot.
texts = st.text(st.characters(exclude_categories=["Cs"]))
huge = st.integers(min_value=-(2**200), max_value=2**200)
zones = st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), None])
scalars = st.one_of(
    texts, huge, st.integers(), st.booleans(), st.none(), st.dates(),
    st.datetimes(timezones=zones), st.decimals(allow_nan=False), st.uuids(),
    st.floats(), st.sampled_from(list(Rag)), st.times())
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.tuples(inner, inner),
    st.dictionaries(texts, inner, max_size=4)), max_leaves=20)
states = st.dictionaries(texts, values, max_size=12)


def _outcome(encode: Any, obj: Any) -> bytes | str:
    try:
        return bytes(encode(obj))
    except Exception as exc:  # the kind of failure is what is compared
        return type(exc).__name__


@settings(max_examples=400, deadline=None)
@given(states)
def test_the_orjson_transcoder_writes_the_librarys_bytes(state: dict[str, Any]) -> None:
    """For any event state (texts of every kind, ints past 64 bits, dates, decimals, UUIDs,
    floats, enums, nesting) the transcoder's bytes equal the library's JSONTranscoder's."""
    assert _outcome(NEW.encode, state) == _outcome(OLD.encode, state)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(texts, st.one_of(texts, st.integers(-(2**63), 2**63 - 1), st.booleans(),
                                        st.none(), st.dates(), st.datetimes(timezones=zones)),
                       max_size=12))
def test_plain_states_take_the_orjson_path(state: dict[str, Any]) -> None:
    """A state of texts, 64-bit ints, booleans, dates and times (what ledger events hold) is
    written by orjson itself, not handed to `json`, and still gives json's bytes."""
    fast = NEW.encode_fast(state)
    assert fast is not None
    assert fast == OLD.encode(state)


@pytest.mark.parametrize("value", [
    "\ud800", 2**64, -(2**63) - 1, 1e16, float("nan"), Rag.RED, UUID(int=7),
    {1: "a"}, time(1, 2), Decimal("1e-7"), [[[[[[[[[[["deep"]]]]]]]]]]] * 3,
])
def test_values_orjson_would_write_otherwise_go_to_json(value: Any) -> None:
    """A lone surrogate, an int past 64 bits, a float, an enum, a UUID, a non-text key: the
    bytes (or the error) are json's."""
    state = {"value": value}
    assert _outcome(NEW.encode, state) == _outcome(OLD.encode, state)
    if value in ("\ud800", 2**64, 1e16) or isinstance(value, (UUID, Rag)):
        assert NEW.encode_fast(state) is None


def test_nesting_past_orjsons_depth_is_written_by_json() -> None:
    """A state nested deeper than orjson writes gives json's bytes."""
    deep: Any = "x"
    for _ in range(300):
        deep = [deep]
    assert NEW.encode({"deep": deep}) == OLD.encode({"deep": deep})
    assert NEW.encode({"deep": deep}).startswith(b'{"deep":[[[')


@settings(max_examples=400, deadline=None)
@given(st.builds(EventRecord, st.integers(1, 2**40), st.uuids(), huge, texts,
                 st.one_of(st.binary(), texts.map(lambda t: t.encode()),
                           states.map(lambda s: json.dumps(s, default=str).encode()))))
def test_the_fast_canonical_encoding_is_the_proofs(row: EventRecord) -> None:
    """For any stored row (any text, any bytes, UTF-8 or not, huge versions) the fast
    canonical bytes and content hash equal the ones evidence packs recompute."""
    assert canonical_fast(row) == canonical(row)
    assert content_hash_fast(row) == content_hash(row)


stored_rows = st.lists(st.builds(
    StoredEvent, st.one_of(st.uuids(), st.uuids().map(str)), huge, texts,
    st.one_of(st.binary(), texts.map(lambda t: t.encode()))), min_size=1, max_size=6)
previous_seals = st.one_of(st.none(), st.builds(
    Seal, st.integers(1, 2**40), st.text("0123456789abcdef", min_size=64, max_size=64),
    st.text("0123456789abcdef", min_size=64, max_size=64)))


@settings(max_examples=300, deadline=None)
@given(stored_rows, previous_seals, st.builds(Witness, texts, texts), st.integers(1, 2**40))
def test_the_fast_seals_are_the_proofs(events: list[StoredEvent], previous: Seal | None,
                                       witness: Witness, first: int) -> None:
    """For any stored events (streams as UUIDs or text, any topic, any bytes, huge versions),
    after any seal or none, with any witness, the recorder's seal rows are the domain's
    `seal` (which evidence packs recompute), field for field."""
    positions = list(range(first, first + len(events)))
    records = [EventRecord(p, e.originator_id if isinstance(e.originator_id, UUID)
                           else UUID(e.originator_id), e.originator_version, e.topic, e.state)
               for p, e in zip(positions, events, strict=True)]
    expected = [(s.position, s.content, s.link, s.previous, s.witness.at, s.witness.role,
                 s.stream) for s in seal(records, previous, witness)]
    assert seal_rows(positions, events, previous, witness) == expected


def _decoded(decode: Any, data: bytes) -> Any:
    try:
        return ("ok", repr(decode(data)))  # repr: nan == nan, and types (1 against 1.0) differ
    except Exception as exc:  # the kind of failure is what is compared
        return ("error", type(exc).__name__)


# What a stored state can hold: what `json` writes for any state above, and texts it never
# writes (lone surrogates, integers past 64 bits, NaN, two keys `_type_` and `_data_` inside
# other objects, a transcoding not registered, text that is not JSON).
def _written(state: dict[str, Any]) -> bytes:
    """What `json` stores for a state (a time or an enum it cannot write: its own error's name
    as a state)."""
    try:
        return OLD.encode(state)
    except TypeError as exc:
        return OLD.encode({"unwritable": type(exc).__name__})


written = states.map(_written)
spelt = st.sampled_from([
    b'{"a":"\\ud800"}', b'{"a":"\\udc00\\ud800","b":1}', b'{"n":123456789012345678901234567890}',
    b'{"n":-9223372036854775809}', b'{"n":18446744073709551616}', b'{"x":NaN}', b'{"x":1e400}',
    b'{"x":[1,2.5,{"_type_":"date_iso","_data_":"2018-09-30"}]}',
    b'{"_type_":"date_iso","_data_":"2018-09-30"}', b'{"d":{"_type_":"nope","_data_":1}}',
    b'{"d":{"_type_":"date_iso","_data_":"2018-02-30"}}', b'\xef\xbb\xbf{}', b'{"a":1', b'',
    b'[{"_type_":"decimal_str","_data_":"1.50"}]', b'{"a":1,"a":{"_type_":"uuid_hex",'
    b'"_data_":"00000000000000000000000000000001"}}', b'{"\xff":1}', b'"text"', b'17'])


@settings(max_examples=400, deadline=None)
@given(st.one_of(written, spelt))
def test_the_orjson_transcoder_reads_what_the_librarys_reads(data: bytes) -> None:
    """Every stored state (what `json` writes for any state, and texts it never writes: lone
    surrogates, integers past 64 bits, NaN, nested transcodings, unknown ones, broken JSON)
    decodes to what the library's JSONTranscoder gives, value for value and type for type,
    or fails as it fails."""
    assert _decoded(NEW.decode, data) == _decoded(OLD.decode, data)


MAPPERS: tuple[Mapper[Any], ...] = (Mapper(transcoder=OLD), OrjsonMapper(transcoder=NEW))
topics = st.sampled_from([get_topic(UpdateRecorded), get_topic(ItemAdded),
                          "ledger.domain.events:NoSuchEvent", "no.such.module:Event"])
streams = st.one_of(st.uuids(), st.uuids().map(str))
versioned = st.sampled_from([b'{"class_version":1,"text":"x"}', b'{"class_version":2}',
                             b'{"class_version":"1"}'])


def _mapped(mapper: Mapper[Any], stored: StoredEvent) -> Any:
    try:
        event = mapper.to_domain_event(stored)
    except Exception as exc:  # the kind of failure is what is compared
        return ("error", type(exc).__name__)
    return ("ok", type(event), repr(vars(event)))


@settings(max_examples=300, deadline=None)
@given(streams, st.integers(min_value=1, max_value=2**40), topics,
       st.one_of(written, spelt, versioned))
def test_the_ledgers_mapper_reads_events_as_the_librarys_does(
        stream: UUID | str, version: int, topic: str, data: bytes) -> None:
    """A stored event (any state, a topic known or not, a stream id as a UUID or as text, a
    `class_version` in the state) becomes the very event the library's mapper makes, field
    for field and type for type, or fails as it fails."""
    stored = StoredEvent(stream, version, topic, data)
    library, ledger = (_mapped(mapper, stored) for mapper in MAPPERS)
    assert ledger == library


class _Event:
    """An object whose attributes are whatever the test gives it (as a domain event's are)."""


def _stored_by(mapper: Mapper[Any], event: Any) -> Any:
    try:
        stored = mapper.to_stored_event(event)
    except Exception as exc:  # the kind of failure is what is compared
        return ("error", type(exc).__name__)
    return ("ok", type(stored), list(vars(stored).items()))


@settings(max_examples=400, deadline=None)
@given(states, streams, st.one_of(st.integers(min_value=1, max_value=2**40), huge),
       st.integers(0, 12), st.integers(0, 12), st.booleans())
def test_the_ledgers_mapper_stores_events_as_the_librarys_does(
        state: dict[str, Any], stream: UUID | str, version: int, id_at: int, version_at: int,
        identity: bool) -> None:
    """An event's attributes (any values; its stream and version anywhere among them, or
    missing) stored by the ledger's mapper give the library mapper's StoredEvent, column for
    column in the same order, or fail as it fails."""
    attributes = {k: v for k, v in state.items() if k not in ("originator_id",
                                                              "originator_version")}
    items = list(attributes.items())
    if identity:
        items.insert(min(id_at, len(items)), ("originator_id", stream))
        items.insert(min(version_at, len(items)), ("originator_version", version))
    event = _Event()
    event.__dict__.update(items)
    library, ledger = (_stored_by(mapper, event) for mapper in MAPPERS)
    assert ledger == library


# The two attributes every ledger event has and the mapper writes before orjson runs: any value
# there (a time in any zone or none, a datetime where a date belongs, a date, text, a float).
stamps = st.one_of(st.datetimes(timezones=zones), st.dates(), texts, st.floats(), st.none())


@settings(max_examples=400, deadline=None)
@given(states, stamps, stamps, st.integers(0, 12), st.integers(0, 12))
def test_an_events_timestamp_and_effective_date_are_stored_as_the_library_stores_them(
        state: dict[str, Any], timestamp: Any, effective: Any, stamp_at: int,
        effective_at: int) -> None:
    """Whatever an event's `timestamp` and `effective` hold, wherever they stand among its
    attributes, the ledger's mapper stores the library mapper's bytes (or fails as it fails)."""
    items = [(k, v) for k, v in state.items() if k not in ("timestamp", "effective")]
    items.insert(min(stamp_at, len(items)), ("timestamp", timestamp))
    items.insert(min(effective_at, len(items)), ("effective", effective))
    event = _Event()
    event.__dict__.update([("originator_id", UUID(int=1)), ("originator_version", 1), *items])
    library, ledger = (_stored_by(mapper, event) for mapper in MAPPERS)
    assert ledger == library


@settings(max_examples=500, deadline=None)
@given(st.datetimes(timezones=st.just(UTC)))
def test_a_time_in_utc_is_written_as_isoformat_writes_it(moment: datetime) -> None:
    """orjson's text for a time in UTC (how the mapper writes the library's timestamps) is
    `isoformat()`'s, at every year, second and microsecond (none included)."""
    assert _iso_datetime(moment) == moment.isoformat()
    assert _iso_datetime(moment.replace(microsecond=0)) == moment.replace(
        microsecond=0).isoformat()
