"""Attack round 8: the seals' key as SQLite's rowid (e763b2e), the event's timestamp and
effective date written before orjson runs (31ebdca), and the aggregates making their events
without the library's `trigger_event` (6622ed1). SQLite only: the changed paths of e763b2e
run on a SQLite file alone, the others need no database.

Held (no defect found): the fast event state is the library mapper's bytes (or its error) for
timestamps and effective dates of every kind: `fold=1`, a `timezone(timedelta(0))` (CPython
gives the UTC singleton), a zero-offset zone that is not the singleton (named, zoneinfo's UTC),
a zone with an ambiguous hour, a zone whose offset is out of range or raises, a naive time, a
datetime subclass, microsecond 0 and 1, years 1, 999 and 9999; an effective date that is a
datetime, None, text, a number, a date subclass, a transcoded-looking dict; the two keys in
either order among other attributes, or a date where the timestamp belongs. The direct
trigger equals the library's for a ledger event subclass defined later (with a field of its
own), and gives the library's path (and its errors) for a default field, its own
`__post_init__`, an extra or missing keyword, an explicit `timestamp=None` or a timestamp
given, an aggregate id that is text or a UUID subclass; threads triggering at once make the
library's events. On SQLite a seal's position given as text ("482", "482.0", " 482"), as a
float, as `rowid`/`_rowid_` beside or instead of `position` (in either order: the trigger
checks the value that is stored), NULL or a blob lands as the integer position of its event
or is refused, and a wrong seal so placed is named by `ledger verify`; VACUUM keeps every
position; REPLACE of a middle seal or of a middle event (through the (stream, version) index)
was named by `ledger verify` (and is now refused: see 3). The new INTEGER key and an old
ledger's BIGINT key judge every one of these alike (the rowid alias refuses a blob or
non-numeric text with "datatype mismatch" where the BIGINT key left it to the seal's trigger;
an old ledger accepts a hidden rowid apart from the position, which nothing reads).

Found in 6622ed1 (fixed: `shape_of` takes only a class whose `__init__` is the one
`ledger.domain.events` wrote for it, made by `type.__call__` and `object.__new__`, and every
call checks the name and the topic as the library does):
1. The direct trigger makes the event without calling its class, so an event class whose
   making the library would run differently is made as a bare dataclass: a subclass with its
   own `__init__` (dataclass keeps an `__init__` written in the class body: it upper-cased
   `after`, the direct path stored "b", the library "B"), its own `__new__` (refusing: the
   library raises RuntimeError, the direct path makes the event), a metaclass `__call__`,
   and an `InitVar` field (not among `dataclasses.fields`: the library raises "Can't
   construct event ... missing 1 required positional argument", the direct path makes it).
   `shape_of` checks `__post_init__` only; it should also require the dataclass's own
   `__init__`, `object.__new__`, the library's metaclass `__call__` and no InitVar.
2. `Item`, `Plan` and `Catalogue` have an explicit TOPIC ("ledger.aggregates:Item"), so the
   library's `trigger_event` refuses an event class named `Event` ("Triggering base 'Event'
   class is prohibited") and checks the class's topic on every call. The direct path checks
   neither the name nor the topic after the first call: a `PlanEvent` subclass named
   `Event` (every PlanEvent has 7 fields, so it qualifies) is made and stored; a class
   whose TOPIC is later pointed at another registered class (`Moved.TOPIC =
   TextRevised.TOPIC`) is still made where the library raises ProgrammingError ("already
   registered for ..."). Minor (a programming error, not input), but "its errors included"
   does not hold.

Found (older than these commits; both the INTEGER and the old BIGINT key; fixed: the
`*_never_replaced` triggers, and `ledger verify` sends a ledger without them to `ledger
init`, which adds them):
3. SQLite's REPLACE conflict resolution (`INSERT OR REPLACE`, `REPLACE INTO`) deletes the
   conflicting row without firing DELETE triggers (unless the writer's connection turned
   `recursive_triggers` on), so the "UPDATE/DELETE refused" guards do not refuse it. An
   insider with the `sqlite3` module replaced the head event (its `source` rewritten), then
   its seal (recomputed by the public algorithm, the same witness), and brought the change
   log's row in line (an UPDATE: the read models carry no guards): `ledger verify` says
   intact. The head seal alone can be re-witnessed the same way (another time and role).
   A middle row cannot be replaced unseen (the chain after it breaks). A fix: BEFORE INSERT triggers
   that refuse a row whose key is taken (`EXISTS (SELECT 1 FROM ledger_chain WHERE position
   = NEW.position)`; for events the id or the (originator_id, originator_version) pair), as
   BEFORE INSERT runs before the conflict's deletion.
"""

from __future__ import annotations

import dataclasses
import shutil
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import InitVar
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from eventsourcing.domain import Aggregate, MetaDomainEvent
from eventsourcing.persistence import Mapper
from sqlalchemy import create_engine

from ledger.domain import events as events_module
from ledger.domain.chain import EventRecord, Witness, seal
from ledger.domain.events import TextRevised
from ledger.domain.item import Item
from ledger.domain.values import Provenance
from ledger.store.fastjson import OrjsonMapper
from ledger.store.guards import install_guards
from ledger.store.sealed import seal_of
from tests.conftest import Prepared
from tests.e2e.test_attacks_3 import run, september
from tests.e2e.test_attacks_7 import outcome, transcoders

MOMENT = datetime(2018, 9, 30, 12, 0, 0, 0, tzinfo=UTC)
HAND = Provenance("clerk", date(2018, 9, 30), "ledger set-rag", "Chief Executive", "why")
FIELDS: dict[str, Any] = {"field": "aim", "before": "a", "after": "b", **HAND.fields()}


# --- 1. the aggregates' direct trigger (6622ed1) ----------------------------------------------


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events_module.PlanEvent, "create_timestamp",
                        staticmethod(lambda: MOMENT))


Outcome = tuple[Any, ...]


def made(fast: bool, event_class: type[Any], kwargs: dict[str, Any],
         ident: Any = None) -> Outcome:
    """The event `event_class` with `kwargs` makes on a new item (by the ledger's trigger or
    the library's), as (version, modified, [(class, attributes in order)]), or its error."""
    item = Item.add("bcc", "1.1", "1", "An aim", "Actions", HAND)
    if ident is not None:
        item._id = ident  # an aggregate whose id is no UUID
    try:
        if fast:
            item.trigger_event(event_class, **kwargs)
        else:
            Aggregate.trigger_event(item, event_class, **kwargs)
    except Exception as exc:  # the same failure is the point
        return "error", type(exc).__name__, str(exc)
    return ("made", item.version, item.modified_on,
            [(type(e), list(vars(e).items())) for e in item.pending_events])


def same(event_class: type[Any], kwargs: dict[str, Any], ident: Any = None) -> None:
    assert made(True, event_class, kwargs, ident) == made(False, event_class, kwargs, ident)


class Attack8Shouting(TextRevised):
    """A subclass with its own `__init__` (the dataclass decorator keeps it)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["after"] = str(kwargs["after"]).upper()
        for field in dataclasses.fields(self):
            object.__setattr__(self, field.name, kwargs[field.name])


class Attack8Refusing(TextRevised):
    """A subclass whose `__new__` refuses to make it."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Attack8Refusing:
        msg = "refused by __new__"
        raise RuntimeError(msg)


class Attack8Meta(MetaDomainEvent):
    """A metaclass that refuses to call its classes."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 - a metaclass
        msg = "refused by the metaclass"
        raise RuntimeError(msg)


class Attack8Metaclassed(TextRevised, metaclass=Attack8Meta):
    pass


class Attack8InitVar(TextRevised):
    """An `InitVar` is a parameter of `__init__` but not among `dataclasses.fields`."""

    extra: InitVar[str]


@pytest.mark.usefixtures("fixed_clock")
@pytest.mark.parametrize("event_class", [Attack8Shouting, Attack8Refusing, Attack8Metaclassed,
                                         Attack8InitVar],
                         ids=["own-init", "own-new", "metaclass-call", "initvar"])
def test_an_event_class_made_its_own_way_is_made_as_the_library_makes_it(
        event_class: type[Any]) -> None:
    same(event_class, FIELDS)


Event = type("Event", (TextRevised,), {"__module__": __name__, "__doc__": "Named `Event`."})


@pytest.mark.usefixtures("fixed_clock")
def test_an_event_class_named_event_is_refused_as_the_library_refuses_it() -> None:
    assert Item.TOPIC  # type: ignore[attr-defined]
    assert made(False, Event, FIELDS)[:2] == ("error", "ProgrammingError")
    same(Event, FIELDS)


class Attack8Moved(TextRevised):
    """A class whose topic is pointed at another class after its first event."""


@pytest.mark.usefixtures("fixed_clock")
def test_a_topic_pointed_elsewhere_after_the_first_event_is_refused(
        monkeypatch: pytest.MonkeyPatch) -> None:
    same(Attack8Moved, FIELDS)  # the class's shape is known now
    monkeypatch.setattr(Attack8Moved, "TOPIC", TextRevised.TOPIC)  # type: ignore[attr-defined]
    assert made(False, Attack8Moved, FIELDS)[:2] == ("error", "ProgrammingError")
    same(Attack8Moved, FIELDS)


class Attack8Later(TextRevised):
    """A ledger event subclass defined later, with a field of its own."""

    reason: str


class Attack8Defaulted(TextRevised):
    reason: str = "none given"


class Attack8Checked(TextRevised):
    def __post_init__(self) -> None:
        super().__post_init__()
        if self.after == "":
            msg = "no text"
            raise ValueError(msg)


class Attack8Uuid(UUID):
    pass


@pytest.mark.usefixtures("fixed_clock")
@pytest.mark.parametrize(("event_class", "kwargs", "ident"), [
    (Attack8Later, {**FIELDS, "reason": "why"}, None),
    (Attack8Later, FIELDS, None),  # a field missing
    (Attack8Defaulted, FIELDS, None),
    (Attack8Defaulted, {**FIELDS, "reason": "given"}, None),
    (Attack8Checked, FIELDS, None),
    (Attack8Checked, {**FIELDS, "after": ""}, None),
    (TextRevised, {**FIELDS, "extra": 1}, None),
    (TextRevised, {k: v for k, v in FIELDS.items() if k != "note"}, None),
    (TextRevised, {**FIELDS, "timestamp": None}, None),
    (TextRevised, {**FIELDS, "timestamp": datetime(2001, 2, 3, tzinfo=UTC)}, None),
    (TextRevised, {**FIELDS, "originator_version": 99}, None),
    (TextRevised, FIELDS, "not-a-uuid"),
    (TextRevised, FIELDS, Attack8Uuid(int=5)),
    (TextRevised, {**FIELDS, "effective": "not a date", "after": 3}, None),
], ids=["later-subclass", "later-missing", "default-field", "default-given", "own-post-init",
        "own-post-init-refusing", "extra-keyword", "missing-keyword", "timestamp-none",
        "timestamp-given", "version-given", "id-text", "id-uuid-subclass", "odd-values"])
def test_the_direct_trigger_makes_the_librarys_event_or_error(
        event_class: type[Any], kwargs: dict[str, Any], ident: Any) -> None:
    same(event_class, kwargs, ident)


class Attack8Threaded(TextRevised):
    """First triggered by several threads at once."""


@pytest.mark.usefixtures("fixed_clock")
def test_threads_triggering_at_once_make_the_librarys_events() -> None:
    expected = made(False, Attack8Threaded, FIELDS)
    found: list[Outcome] = []
    start = threading.Barrier(6)

    def trigger() -> None:
        start.wait()
        found.extend(made(True, Attack8Threaded, FIELDS) for _ in range(50))

    threads = [threading.Thread(target=trigger) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 300
    assert all(got == expected for got in found)


# --- 2. the timestamp and effective date before orjson (31ebdca) ------------------------------


class Attack8Stamped(Aggregate.Event):
    """Any event: its attributes are set by the test."""


class OutOfRange(tzinfo):
    def utcoffset(self, dt: datetime | None) -> timedelta:
        return timedelta(hours=25)

    def dst(self, dt: datetime | None) -> timedelta:
        return timedelta(0)

    def tzname(self, dt: datetime | None) -> str:
        return "out of range"


class Raising(OutOfRange):
    def utcoffset(self, dt: datetime | None) -> timedelta:
        raise KeyError(dt)


class Moment(datetime):
    pass


class Day(date):
    pass


LONDON = ZoneInfo("Europe/London")
MOMENTS: list[Any] = [
    datetime(2020, 1, 2, 3, 4, 5, 6, tzinfo=UTC), datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC),
    datetime(2020, 1, 2, 3, 4, 5, 0, tzinfo=UTC, fold=1),
    datetime(2020, 1, 2, 3, 4, 5, 1, tzinfo=UTC), datetime(1, 1, 1, tzinfo=UTC),
    datetime(999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2020, 1, 2, tzinfo=timezone(timedelta(0))),
    datetime(2020, 1, 2, tzinfo=timezone(timedelta(0), "UTC")),
    datetime(2020, 1, 2, tzinfo=timezone(timedelta(0), "Z")),
    datetime(2020, 1, 2, tzinfo=ZoneInfo("UTC")),
    datetime(2020, 10, 25, 1, 30, tzinfo=LONDON, fold=0),
    datetime(2020, 10, 25, 1, 30, tzinfo=LONDON, fold=1),
    datetime(2020, 1, 2, tzinfo=timezone(timedelta(hours=-23, minutes=-59, seconds=-59,
                                                   microseconds=-1))),
    datetime(2020, 1, 2, tzinfo=OutOfRange()), datetime(2020, 1, 2, tzinfo=Raising()),
    datetime(2020, 1, 2, 3, 4, 5, 6), Moment(2020, 1, 2, tzinfo=UTC),
    date(2020, 1, 2), None, "2020-01-02T00:00:00+00:00", 1,
]
EFFECTIVES: list[Any] = [
    date(2018, 9, 30), date(1, 1, 1), date(9999, 12, 31), Day(2018, 9, 30),
    datetime(2018, 9, 30, tzinfo=UTC), datetime(2018, 9, 30), None, "2018-09-30", 20180930,
    {"_type_": "date_iso", "_data_": "2018-09-30"},
]


def event_of(state: dict[str, Any]) -> Any:
    event = object.__new__(Attack8Stamped)
    event.__dict__.update(state)
    return event


def test_any_timestamp_and_effective_date_store_the_librarys_bytes() -> None:
    """Every timestamp with every effective date, in either order among other attributes
    (the timestamp first as the library puts it, or last): the ledger's mapper stores what
    the library's `Mapper` and `JSONTranscoder` store, or fails as it fails; a UTC timestamp
    of exact type takes the fast path."""
    ours, theirs = transcoders()
    fast, library = OrjsonMapper(ours), Mapper[UUID](theirs)
    differences = []
    for n, (moment, effective) in enumerate(
            (m, e) for m in MOMENTS for e in EFFECTIVES):
        head = {"originator_id": UUID(int=n), "originator_version": n + 1}
        orders = [
            {**head, "timestamp": moment, "recorded_by": "x", "effective": effective,
             "note": "é\u2028"},
            {**head, "effective": effective, "note": "", "timestamp": moment},
            {"timestamp": moment, **head, "effective": effective},
        ]
        for state in orders:
            event = event_of(state)
            if outcome(fast, event) != outcome(library, event):
                differences.append((state, outcome(fast, event), outcome(library, event)))
    assert differences == []
    plain = {"originator_id": UUID(int=1), "originator_version": 1,
             "timestamp": MOMENTS[0], "effective": EFFECTIVES[0]}
    assert ours.encode_event_state(plain) is not None


# --- 3. the seals' table as an insider on SQLite (e763b2e) ------------------------------------


@pytest.fixture
def db(prepared: Prepared, tmp_path: Path) -> Iterator[str]:
    """A copy of the `september` ledger (test_attacks_3) on a SQLite file: its seal key is
    the rowid."""
    with prepared.copy(september, "sqlite", tmp_path) as cli:
        yield cli.db.removeprefix("sqlite:///")


def bigint_key(path: str) -> str:
    """A copy of the ledger at `path` with the seals' table as a ledger made before e763b2e
    has it (position BIGINT, its own unique index), the same rows and guards."""
    old = str(Path(path).with_name("old.db"))
    shutil.copy(path, old)
    conn = sqlite3.connect(old, isolation_level=None)
    rows = conn.execute("SELECT * FROM ledger_chain ORDER BY position").fetchall()
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"):
        conn.execute(f'DROP TRIGGER "{name}"')
    conn.execute("DROP TABLE ledger_chain")
    conn.execute("""CREATE TABLE ledger_chain (position BIGINT NOT NULL,
        content VARCHAR(64) NOT NULL, link VARCHAR(64) NOT NULL, previous BIGINT NOT NULL,
        witnessed_at VARCHAR(32) NOT NULL, witnessed_by TEXT NOT NULL,
        stream VARCHAR(32) NOT NULL, PRIMARY KEY (position))""")
    conn.executemany("INSERT INTO ledger_chain VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    conn.close()
    engine = create_engine(f"sqlite:///{old}")
    install_guards(engine, "ledger_events", "ledger_chain")
    engine.dispose()
    return old


@pytest.fixture(params=["rowid", "bigint"])
def ledger_file(request: pytest.FixtureRequest, db: str) -> str:
    """The ledger with each seal key: the new INTEGER (rowid) key and an old BIGINT key."""
    if request.param == "bigint":
        old = bigint_key(db)
        key = sqlite3.connect(old).execute(
            "SELECT type FROM pragma_table_info('ledger_chain') WHERE pk = 1").fetchall()
        assert key == [("BIGINT",)]
        return old
    return db


def verdict(path: str) -> str:
    """`ledger verify` through the real CLI: "intact" or what it names."""
    said = run(f"sqlite:///{path}", "verify")
    if said.returncode == 0:
        assert said.stdout.startswith("intact"), said.stdout
        return "intact"
    assert said.returncode == 1, said.stderr
    return "tampered" if "tampered" in said.stderr + said.stdout else said.stderr


def insider(path: str) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def head(conn: sqlite3.Connection) -> tuple[int, bytes, int, str, bytes]:
    found = conn.execute("SELECT id, originator_id, originator_version, topic, state "
                         "FROM ledger_events ORDER BY id DESC LIMIT 1").fetchone()
    return int(found[0]), bytes(found[1]), int(found[2]), str(found[3]), bytes(found[4])


def unsealed_event(conn: sqlite3.Connection) -> tuple[int, str, str, str]:
    """Append an event as an insider (the next id, as the guard allows); its position, a
    well-formed seal's content and link for it, and its stream."""
    position, stream, version, topic, state = head(conn)
    conn.execute("INSERT INTO ledger_events (originator_id, originator_version, topic, state) "
                 "VALUES (?, ?, ?, ?)", (stream, version + 1, topic, state))
    previous = seal_of(conn.execute("SELECT * FROM ledger_chain WHERE position = ?",
                                    (position,)).fetchone())
    [made_seal] = seal([EventRecord(position + 1, UUID(bytes=stream), version + 1, topic,
                                    state)], previous, Witness(LATER))
    return position + 1, made_seal.content, made_seal.link, made_seal.stream


LATER = "2099-01-01T00:00:00.000000+00:00"
COLUMNS = "content, link, previous, witnessed_at, witnessed_by, stream"
SPELLINGS: dict[str, tuple[str, Callable[[int], tuple[Any, ...]]]] = {
    "integer": (f"(position, {COLUMNS})", lambda p: (p,)),
    "text": (f"(position, {COLUMNS})", lambda p: (str(p),)),
    "text-decimal": (f"(position, {COLUMNS})", lambda p: (f"{p}.0",)),
    "text-spaced": (f"(position, {COLUMNS})", lambda p: (f" {p}",)),
    "text-word": (f"(position, {COLUMNS})", lambda p: ("abc",)),
    "float": (f"(position, {COLUMNS})", lambda p: (float(p),)),
    "float-half": (f"(position, {COLUMNS})", lambda p: (p + 0.5,)),
    "blob": (f"(position, {COLUMNS})", lambda p: (str(p).encode(),)),
    "null": (f"(position, {COLUMNS})", lambda p: (None,)),
    "rowid-only": (f"(rowid, {COLUMNS})", lambda p: (p,)),
    "rowid-then-position": (f"(rowid, position, {COLUMNS})", lambda p: (p - 1, p)),
    "position-then-rowid": (f"(position, rowid, {COLUMNS})", lambda p: (p, p - 1)),
    "oid-then-position": (f"(_rowid_, position, {COLUMNS})", lambda p: (1, p)),
    "position-then-oid": (f"(position, oid, {COLUMNS})", lambda p: (p, 1)),
    "later-position": (f"(position, {COLUMNS})", lambda p: (p + 1,)),
}


@pytest.mark.parametrize("spelling", list(SPELLINGS))
@pytest.mark.parametrize("right", [True, False], ids=["well-formed", "wrong-content"])
def test_a_seal_however_its_position_is_spelled_lands_on_its_event_or_is_refused(
        ledger_file: str, spelling: str, right: bool) -> None:
    """A seal for an event an insider appended, its position spelled every way SQLite takes:
    refused, or stored as the integer position of its event (the one the seal's trigger
    checked); a wrong seal so placed is named by `ledger verify` (a well-formed one is the
    insider's own append, which SQLite's lack of a witness allows)."""
    conn = insider(ledger_file)
    position, content, link, stream = unsealed_event(conn)
    columns, key = SPELLINGS[spelling]
    values = (*key(position), content if right else "0" * 64, link, position - 1, LATER, "",
              stream)
    marks = ", ".join("?" * len(values))
    try:
        conn.execute(f"INSERT INTO ledger_chain {columns} VALUES ({marks})", values)
    except sqlite3.DatabaseError:
        landed = None
    else:
        landed = conn.execute("SELECT position, typeof(position) FROM ledger_chain "
                              "ORDER BY rowid DESC LIMIT 1").fetchall()
        assert conn.execute("SELECT count(*) FROM ledger_chain WHERE typeof(position) <> "
                            "'integer' OR position NOT IN (SELECT id FROM ledger_events)"
                            ).fetchone() == (0,)
    conn.close()
    found = verdict(ledger_file)
    if landed is None or not right:
        assert found == "tampered"
    else:
        assert landed == [(position, "integer")]
        assert found == "intact"


def test_vacuum_keeps_every_position(ledger_file: str) -> None:
    conn = insider(ledger_file)
    before = conn.execute("SELECT * FROM ledger_chain ORDER BY position").fetchall()
    conn.execute("VACUUM")
    after = conn.execute("SELECT * FROM ledger_chain ORDER BY position").fetchall()
    conn.close()
    assert after == before
    assert verdict(ledger_file) == "intact"


def test_replacing_a_middle_seal_is_refused(ledger_file: str) -> None:
    conn = insider(ledger_file)
    row = conn.execute("SELECT * FROM ledger_chain WHERE position = 100").fetchone()
    with pytest.raises(sqlite3.IntegrityError, match="a stored seal is never replaced"):
        conn.execute("INSERT OR REPLACE INTO ledger_chain VALUES (?, ?, ?, ?, ?, ?, ?)",
                     (row[0], "0" * 64, *row[2:]))
    conn.close()
    assert verdict(ledger_file) == "intact"


def test_replacing_a_middle_event_through_its_stream_and_version_is_refused(
        ledger_file: str) -> None:
    """REPLACE with a new id and the (stream, version) of event 100 would delete event 100 and
    put the new row at the end (the next id, as the guard wants): refused before that."""
    conn = insider(ledger_file)
    stream, version, topic, state = conn.execute(
        "SELECT originator_id, originator_version, topic, state FROM ledger_events "
        "WHERE id = 100").fetchone()
    forged = bytes(state).replace(b'"source":"', b'"source":"forged ', 1)
    assert forged != bytes(state)
    for verb in ("INSERT OR REPLACE", "REPLACE"):
        with pytest.raises(sqlite3.IntegrityError, match="a stored event is never replaced"):
            conn.execute(f"{verb} INTO ledger_events (originator_id, originator_version, "
                         "topic, state) VALUES (?, ?, ?, ?)", (stream, version, topic, forged))
    assert conn.execute("SELECT state FROM ledger_events WHERE id = 100").fetchone() == (state,)
    conn.close()
    assert verdict(ledger_file) == "intact"


def test_replacing_the_head_event_and_its_seal_is_refused_or_named(ledger_file: str) -> None:
    """An insider rewrites the head event's `source` and reseals it by the public algorithm
    with the same witness, then brings the change log's row (a read model, no guard: it is
    derived) in line: the database must refuse it, or `ledger verify` name it."""
    conn = insider(ledger_file)
    position, stream, version, topic, state = head(conn)
    forged = state.replace(b'"source":"', b'"source":"forged ', 1)
    assert forged != state
    refused = False
    try:
        conn.execute("INSERT OR REPLACE INTO ledger_events (id, originator_id, "
                     "originator_version, topic, state) VALUES (?, ?, ?, ?, ?)",
                     (position, stream, version, topic, forged))
        old = seal_of(conn.execute("SELECT * FROM ledger_chain WHERE position = ?",
                                   (position,)).fetchone())
        previous = seal_of(conn.execute("SELECT * FROM ledger_chain WHERE position = ?",
                                        (old.previous,)).fetchone())
        [resealed] = seal([EventRecord(position, UUID(bytes=stream), version, topic, forged)],
                          previous, old.witness)
        conn.execute("REPLACE INTO ledger_chain VALUES (?, ?, ?, ?, ?, ?, ?)",
                     (position, resealed.content, resealed.link, resealed.previous,
                      resealed.witness.at, resealed.witness.role, resealed.stream))
        conn.execute("UPDATE proj_changes SET source = 'forged ' || source WHERE seq = ?",
                     (position,))
    except sqlite3.DatabaseError:
        refused = True
    conn.close()
    assert refused or verdict(ledger_file) == "tampered"


def test_replacing_the_head_seal_is_refused(ledger_file: str) -> None:
    """The head seal re-witnessed (a later time, another role) by REPLACE: an edit of a
    stored seal, which the guards say is refused."""
    conn = insider(ledger_file)
    position = head(conn)[0]
    old = seal_of(conn.execute("SELECT * FROM ledger_chain WHERE position = ?",
                               (position,)).fetchone())
    previous = seal_of(conn.execute("SELECT * FROM ledger_chain WHERE position = ?",
                                    (old.previous,)).fetchone())
    _, stream, version, topic, state = head(conn)
    [resealed] = seal([EventRecord(position, UUID(bytes=stream), version, topic, state)],
                      previous, Witness(LATER, "mallory"))
    with pytest.raises(sqlite3.DatabaseError):
        conn.execute("REPLACE INTO ledger_chain VALUES (?, ?, ?, ?, ?, ?, ?)",
                      (position, resealed.content, resealed.link, resealed.previous,
                       resealed.witness.at, resealed.witness.role, resealed.stream))
    conn.close()


def test_a_ledger_without_the_replace_guards_is_sent_to_init_which_adds_them(
        ledger_file: str) -> None:
    """A ledger made before the REPLACE guards (dropped here as its owner could): `ledger
    verify` names them and says to run `ledger init` (exit 2, no verdict); `ledger init` says
    it added them, a REPLACE is then refused and the ledger verifies intact."""
    conn = insider(ledger_file)
    for table in ("ledger_events", "ledger_chain"):
        conn.execute(f"DROP TRIGGER {table}_never_replaced")
    conn.close()
    said = run(f"sqlite:///{ledger_file}", "verify")
    assert said.returncode == 2, said.stdout + said.stderr
    assert "ledger_events_never_replaced, ledger_chain_never_replaced" in said.stderr
    assert "run `ledger init`" in said.stderr
    done = run(f"sqlite:///{ledger_file}", "init")
    assert done.returncode == 0, done.stderr
    assert ("added the guards this version installs that the database lacked "
            "(ledger_events_never_replaced, ledger_chain_never_replaced)") in done.stdout
    conn = insider(ledger_file)
    row = conn.execute("SELECT * FROM ledger_chain WHERE position = 100").fetchone()
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("REPLACE INTO ledger_chain VALUES (?, ?, ?, ?, ?, ?, ?)", row)
    conn.close()
    assert verdict(ledger_file) == "intact"
