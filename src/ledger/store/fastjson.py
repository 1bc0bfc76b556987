"""orjson where it writes the very bytes the standard `json` module writes, and `json` elsewhere.

The stored bytes of an event are sealed (their SHA-256 is chained), and evidence packs and
old ledgers are verified against them, so a faster encoder may change nothing: for the same
object it must give the same bytes as the library's `JSONTranscoder` (`json`, compact,
`ensure_ascii=False`), and the seals' canonical encoding the same bytes as
`ledger.domain.chain.canonical` (which stays standard-library only: evidence packs embed it).
orjson is used only for what it writes exactly as `json` does: exact `str` (escapes and
UTF-8 alike: the tests fuzz it), `int` within 64 bits, `bool`, `None`, and `dict` (with
`str` keys), `list` and `tuple` of those, with the transcodings' own types (dates, times,
decimals) handed back to the transcodings. Anything else (a float, whose text differs; a
UUID or an enum, which orjson would write itself; a subclass; an integer past 64 bits; a
lone surrogate; nesting past orjson's depth) goes to `json`, which then does exactly what it
did before, errors included. Decoding parses with orjson where orjson reads the text and
applies the library's object hook as `json` would; where orjson refuses, `json` decodes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

import orjson
from eventsourcing.persistence import (
    DatetimeAsISO,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    Transcoding,
    find_id_convertor,
)
from eventsourcing.utils import get_topic, resolve_topic

from ledger.domain.chain import GENESIS, EventRecord, Seal, Witness, canonical
from ledger.store.decoding import DateAsISO

# Types orjson hands to `default` under these options (so to the transcodings), rather than
# writing them its own way: datetime, date and time (passed through), Decimal (unsupported).
_HANDED_BACK = (datetime, date, time, Decimal)
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS \
    | orjson.OPT_PASSTHROUGH_DATACLASS
_SCALARS: frozenset[type] = frozenset({str, int, bool, type(None)})
_MAX_DEPTH = 200  # orjson refuses deeper nesting (254); json's own limit is the interpreter's
_INT_RANGE = (-(2**63), 2**64 - 1)  # what orjson writes; beyond it json does
# Transcodings whose data is the value's `isoformat()` text (an event's timestamp and dates).
_ISO = (DatetimeAsISO, DateAsISO)
_DATES_KEPT = 4_096
_T = TypeVar("_T")


def _iso_datetime(moment: datetime) -> str:
    """`moment.isoformat()`: by orjson for a time in UTC (the library's timestamps), which it
    writes alike (a third of the time; a test compares the two over any time), else itself."""
    if moment.tzinfo is UTC:
        return orjson.dumps(moment)[1:-1].decode()
    return moment.isoformat()


def made(cls: type[_T], fields: dict[str, Any]) -> _T:
    """An instance of `cls` holding `fields` (in its fields' order), without its `__init__`:
    for the library's frozen dataclasses (whose `__init__` sets each field with
    `object.__setattr__`) and domain events, equal and hashed as if made by it."""
    instance = object.__new__(cls)
    object.__setattr__(instance, "__dict__", fields)
    return instance


def stored_event(originator_id: UUID | str, version: int, topic: str, state: bytes,
                 ) -> StoredEvent:
    """`StoredEvent(originator_id, version, topic, state)`, made without its `__init__` (about
    0.6 µs an event saved)."""
    return made(StoredEvent, {"originator_id": originator_id, "originator_version": version,
                              "topic": topic, "state": state})


def _plain(obj: Any, extra: frozenset[type]) -> bool:
    """Whether orjson writes `obj` exactly as `json` does (types in `extra` are handed back)."""
    stack: list[tuple[Any, int]] = [(obj, 0)]
    while stack:
        value, depth = stack.pop()
        kind = type(value)
        if kind in _SCALARS or kind in extra:
            continue
        if depth >= _MAX_DEPTH:
            return False
        if kind is dict:
            for key, item in value.items():
                if type(key) is not str:
                    return False
                stack.append((item, depth + 1))
        elif kind is list or kind is tuple:
            stack.extend((item, depth + 1) for item in value)
        else:
            return False
    return True


class _ReadByJsonError(Exception):
    """A value orjson may not read as `json` does: `json` decodes the whole text."""


class OrjsonTranscoder(JSONTranscoder):
    """The library's JSON transcoder, encoding with orjson where the bytes are the same."""

    def __init__(self) -> None:
        super().__init__()
        self._handed_back: frozenset[type] = frozenset()
        self._flat_kinds: frozenset[type] = _SCALARS
        self._dates: dict[date, dict[str, str]] = {}
        self._iso: dict[type, str] = {}

    def register(self, transcoding: Transcoding) -> None:
        super().register(transcoding)
        self._handed_back = frozenset(t for t in self.types if t in _HANDED_BACK)
        self._flat_kinds = _SCALARS | self._handed_back
        self._iso = {t: c.name for t, c in self.types.items() if type(c) in _ISO}

    def encode(self, obj: Any) -> bytes:
        fast = self.encode_fast(obj)
        return fast if fast is not None else super().encode(obj)

    def decode(self, data: bytes) -> Any:
        """What the library's `json` decoding gives (every object of two keys `_type_` and
        `_data_` handed to its transcoding, innermost first), parsed by orjson where orjson
        reads the text; where it refuses (a lone surrogate, an integer past 64 bits, NaN,
        text that is not JSON) `json` decodes it, errors included. Any number orjson reads as
        a float is read by `json` too: orjson reads an integer past 64 bits as a float."""
        try:
            parsed = orjson.loads(data)
            if type(parsed) is not dict:
                return self._hooked(parsed)
            names = self.names
            for key, value in parsed.items():  # the usual state: flat but for transcoded dates
                if type(value) is dict:
                    kind = value.get("_type_")
                    data_ = value.get("_data_")
                    if len(value) == 2 and type(kind) is str and type(data_) is str \
                            and kind in names:  # a date or a time, as its transcoding wrote it
                        parsed[key] = names[kind].decode(data_)
                    else:
                        parsed[key] = self._hooked(value)
                elif type(value) is list:
                    parsed[key] = self._hooked(value)
                elif type(value) is float:
                    raise _ReadByJsonError
            return self._decode_obj(parsed)
        except (orjson.JSONDecodeError, _ReadByJsonError):
            return super().decode(data)

    def _hooked(self, value: Any) -> Any:
        """`value` with `json`'s object hook applied as `json` applies it: innermost first."""
        if type(value) is dict:
            return self._decode_obj({key: self._hooked(item) for key, item in value.items()})
        if type(value) is list:
            return [self._hooked(item) for item in value]
        if type(value) is float:
            raise _ReadByJsonError
        return value


    def encode_fast(self, obj: Any) -> bytes | None:
        """orjson's bytes for `obj`, or None where `json` must write it."""
        if type(obj) is dict:
            flat = self._encode_flat(obj)
            if flat is not None:
                return flat
        if not _plain(obj, self._handed_back):
            return None
        try:
            return orjson.dumps(obj, default=self._handed, option=_OPTIONS)
        except TypeError:  # orjson.JSONEncodeError: an int past 64 bits, a surrogate, ...
            return None

    def encode_event_state(self, attributes: dict[str, Any]) -> bytes | None:
        """The bytes `encode` writes for an event's attributes less its stream and version (the
        library's mapper stores those in their own columns), where they are the usual flat
        state; None otherwise (then the library's mapper does it its own way). The library's
        timestamp and the ledger's effective date, which every event has, are put in the copy
        as their transcodings write them before orjson runs (orjson's calls back into Python
        for them cost more than the rest of the encoding)."""
        state = attributes.copy()  # in the attributes' order, as the library's mapper copies
        try:
            del state["originator_id"], state["originator_version"]
        except KeyError:
            return None
        if not set(map(type, state.values())) <= self._flat_kinds:
            return None
        iso = self._iso
        stamp = state.get("timestamp")
        if type(stamp) is datetime and datetime in iso:
            state["timestamp"] = {"_type_": iso[datetime], "_data_": _iso_datetime(stamp)}
        effective = state.get("effective")
        if type(effective) is date and date in iso:
            state["effective"] = self._date(effective, iso[date])
        return self._dumped(state)

    def _encode_flat(self, state: dict[Any, Any]) -> bytes | None:
        """orjson's bytes for the usual event state (texts, numbers, dates), None for any other.

        Checked at C speed: every value's exact type is a scalar orjson writes as `json` does
        or a type handed back to its transcoding (so no float, UUID, enum, subclass, list or
        dict); a key that is no text, an integer past 64 bits or a lone surrogate makes orjson
        raise, and None is returned."""
        if not set(map(type, state.values())) <= self._flat_kinds:
            return None
        return self._dumped(state)

    def _dumped(self, state: dict[Any, Any]) -> bytes | None:
        try:
            return orjson.dumps(state, default=self._flat_handed, option=_OPTIONS)
        except TypeError:
            return None

    def _date(self, day: date, name: str) -> dict[str, str]:
        """A date as its ISO transcoding writes it, kept (an edition's events share their
        effective date); orjson writes the same dict again for each."""
        written = self._dates.get(day)
        if written is None or written["_type_"] != name:
            if len(self._dates) >= _DATES_KEPT:
                self._dates.clear()
            written = self._dates[day] = {"_type_": name, "_data_": day.isoformat()}
        return written

    def _flat_handed(self, obj: Any) -> dict[str, Any]:
        """A date or a time as its ISO transcoding writes it (`isoformat()`), anything else
        handed back as its transcoding writes it. A date's text is kept (an edition's events
        share their effective date)."""
        kind = type(obj)
        name = self._iso.get(kind)
        if name is None:
            return self._handed(obj)
        if kind is date:
            return self._date(obj, name)
        if kind is datetime:
            return {"_type_": name, "_data_": _iso_datetime(obj)}
        return {"_type_": name, "_data_": obj.isoformat()}

    def _handed(self, obj: Any) -> dict[str, Any]:
        transcoding = self.types[type(obj)]
        data = transcoding.encode(obj)
        if type(data) is not str and not _plain(data, frozenset()):
            msg = "a transcoding gave what orjson might write differently"
            raise TypeError(msg)
        return {"_type_": transcoding.name, "_data_": data}


class OrjsonMapper(Mapper[UUID]):
    """The library's mapper, for an `OrjsonTranscoder` without compressor or cipher: an
    event's attributes encoded from one copy less its stream and version, its class's topic
    looked up once, and read back with its class resolved once per topic. Anything else (a
    class version past 1, a state orjson must not write) is the library's own path."""

    def __init__(self, transcoder: Any, compressor: Any = None, cipher: Any = None) -> None:
        super().__init__(transcoder, compressor=compressor, cipher=cipher)
        self._fast = isinstance(transcoder, OrjsonTranscoder) and not compressor and not cipher
        self._topics: dict[type, str | None] = {}
        self._classes: dict[tuple[str, type], tuple[type, Any] | None] = {}

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        cls = type(domain_event)
        topic = self._topics.get(cls, "")
        if topic == "":
            topic = self._topics[cls] = (get_topic(cls) if self._fast and getattr(
                cls, "class_version", 1) == 1 else None)
        if topic is not None:
            attributes = vars(domain_event)
            assert isinstance(self.transcoder, OrjsonTranscoder)
            state = self.transcoder.encode_event_state(attributes)
            if state is not None:
                return stored_event(attributes["originator_id"],
                                    attributes["originator_version"], topic, state)
        return super().to_stored_event(domain_event)

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        return self.event_of(stored_event.originator_id, stored_event.originator_version,
                             stored_event.topic, stored_event.state)

    def event_of(self, originator_id: UUID | str, version: int, topic: str, state: bytes,
                 ) -> Any:
        """The library's `to_domain_event` of a stored event with these columns: for a class
        of version 1 and a state with no `class_version`, its class (and id convertor)
        resolved once per topic; anything else, or any failure, is the library's own path
        (its errors included)."""
        key = (topic, type(originator_id))
        if key in self._classes:
            known = self._classes[key]
        else:
            known = self._classes[key] = self._resolved(topic, type(originator_id))
        if known is not None:
            cls, convertor = known
            assert isinstance(self.transcoder, OrjsonTranscoder)
            try:
                event_state = self.transcoder.decode(state)
            except Exception:  # the library's path raises its own error for it
                event_state = None
            if type(event_state) is dict and "class_version" not in event_state:
                event_state["originator_id"] = convertor(originator_id)
                event_state["originator_version"] = version
                return made(cls, event_state)
        return super().to_domain_event(StoredEvent(originator_id, version, topic, state))

    def _resolved(self, topic: str, id_type: type) -> tuple[type, Any] | None:
        if not self._fast:
            return None
        try:
            cls = resolve_topic(topic)
        except Exception:  # an unknown topic: the library's path says so
            return None
        if getattr(cls, "class_version", 1) != 1:
            return None
        try:
            return cls, find_id_convertor(cls, id_type)
        except TypeError:
            return None


def canonical_fast(row: EventRecord) -> bytes:
    """`ledger.domain.chain.canonical`, byte for byte, with orjson for the common case."""
    if type(row.version) is int and _INT_RANGE[0] <= row.version <= _INT_RANGE[1] \
            and type(row.topic) is str:
        try:
            state = row.state.decode("utf-8")
        except UnicodeDecodeError:
            return canonical(row)
        try:  # the keys in sorted order, as json.dumps(sort_keys=True) writes them
            return orjson.dumps({"id": str(row.originator_id), "state": state,
                                 "topic": row.topic, "version": row.version})
        except TypeError:
            pass
    return canonical(row)


def content_hash_fast(row: EventRecord) -> str:
    """`ledger.domain.chain.content_hash`, by `canonical_fast`."""
    return hashlib.sha256(canonical_fast(row)).hexdigest()


def seal_rows(positions: Sequence[int], events: Sequence[StoredEvent], previous: Seal | None,
              witness: Witness) -> list[tuple[int, str, str, int, str, str, str]]:
    """`ledger.domain.chain.seal` of stored events at these positions, byte for byte, as the
    chain table's rows (position, content, link, previous, witnessed_at, witnessed_by,
    stream), without a record or a seal object per event, each stream's names made once."""
    sha256 = hashlib.sha256
    link, at = (previous.link, previous.position) if previous else (GENESIS, 0)
    when, role = witness.at, witness.role
    tail = f":{when}:{role}"
    names: dict[Any, tuple[UUID, str, str]] = {}
    rows = []
    for position, event in zip(positions, events, strict=True):
        stream = event.originator_id
        known = names.get(stream)
        if known is None:
            uuid = stream if type(stream) is UUID else UUID(str(stream))
            h = uuid.hex  # str(uuid) is these slices of it
            known = names[stream] = (uuid, h, f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
        uuid, hexed, text = known
        version, topic, state = event.originator_version, event.topic, event.state
        body = None
        if type(version) is int and _INT_RANGE[0] <= version <= _INT_RANGE[1] \
                and type(topic) is str:
            try:  # the keys in sorted order, as json.dumps(sort_keys=True) writes them
                body = orjson.dumps({"id": text, "state": state.decode("utf-8"),
                                     "topic": topic, "version": version})
            except (UnicodeDecodeError, TypeError):
                body = None
        if body is None:
            body = canonical(EventRecord(position, uuid, version, topic, state))
        content = sha256(body).hexdigest()
        link = sha256(f"{link}:{position}:{hexed}:{content}{tail}".encode()).hexdigest()
        rows.append((position, content, link, at, when, role, hexed))
        at = position
    return rows
