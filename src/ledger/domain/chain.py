"""The hash chain over stored events: canonical encoding, links, and the check of a chain.

Each stored event, in the ledger's global order, is encoded canonically (its
identity, version, topic and full state, which holds the claimed recorded time)
and hashed; each link hashes the previous link, the position, the event's stream,
that content hash and the witness (the time and database role the store saw). The
stream is in the link so that a list of seals alone proves which stream each
position belongs to: an evidence pack can show that none of a plan's events was
left out without carrying every other plan's events. Verification walks
the events table and the seals side by side, in constant memory, and names the
first row where they disagree. Pure: hashlib and json.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

GENESIS = "0" * 64
# The encoding in words, as digests and evidence packs state it (README has it precisely).
ENCODING = (
    "content = sha256 of the compact sorted-key JSON {id, state, topic, version} of the stored "
    "event (state: the stored text exactly); link = sha256 of the text "
    "'previous link:position:stream:content:witnessed_at:witnessed_by' (stream as 32 hex "
    "digits; the first previous link is 64 zeros)")
# A store's witnessed time, exactly: fixed width, so that in a link's text
# `...:CONTENT:AT:ROLE` nothing can move between the time and the role.
WITNESS_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}\+00:00\Z")


@dataclass(frozen=True)
class EventRecord:
    """One stored event exactly as the store holds it: position, stream, version, topic, bytes."""

    position: int
    originator_id: UUID
    version: int
    topic: str
    state: bytes


@dataclass(frozen=True)
class Witness:
    """What the store saw when it sealed an event: its clock (UTC ISO 8601, microseconds) and,
    on PostgreSQL, the database role of the session (empty on SQLite: one user, one file)."""

    at: str
    role: str = ""


@dataclass(frozen=True)
class Seal:
    """A sealed link: the event's content hash, the chained hash at its position, the position
    of the seal before it, the witness, and the event's stream (hex)."""

    position: int
    content: str
    link: str
    previous: int = 0
    witness: Witness = Witness("")
    stream: str = ""


def canonical(row: EventRecord) -> bytes:
    """The canonical bytes of an event: sorted-key compact JSON of its identity and its stored
    state exactly as stored (the text, or its bytes in hex where they are not UTF-8), so that
    any change to the stored bytes, even one that means the same JSON, changes the hash."""
    try:
        state: Any = row.state.decode("utf-8")
    except UnicodeDecodeError:
        state = {"bytes": row.state.hex()}
    body = {"id": str(row.originator_id), "version": row.version, "topic": row.topic,
            "state": state}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def content_hash(row: EventRecord) -> str:
    """SHA-256 of the event's canonical bytes."""
    return hashlib.sha256(canonical(row)).hexdigest()


def link_hash(previous: str, position: int, stream: str, content: str, witness: Witness) -> str:
    """The chained hash at a position: `sha256(previous:position:stream:content:at:role)`, the
    stream as 32 lowercase hex digits, the time and role as witnessed."""
    text = f"{previous}:{position}:{stream}:{content}:{witness.at}:{witness.role}"
    return hashlib.sha256(text.encode()).hexdigest()


def seal(rows: Iterable[EventRecord], previous: Seal | None, witness: Witness,
         content_of: Callable[[EventRecord], str] = content_hash) -> list[Seal]:
    """Seals for new events, chained after the seal `previous` (None: the first event).
    `content_of` is `content_hash` or an equal function (the store's, byte for byte)."""
    seals = []
    link, at = (previous.link, previous.position) if previous else (GENESIS, 0)
    for row in rows:
        content = content_of(row)
        stream = row.originator_id.hex
        link = link_hash(link, row.position, stream, content, witness)
        seals.append(Seal(row.position, content, link, at, witness, stream))
        at = row.position
    return seals


@dataclass(frozen=True)
class Problem:
    """The first place where the store disagrees with the chain."""

    position: int
    what: str  # inserted, missing, altered, reordered, chain-broken, position-gap, ...
    detail: str
    stream: str = ""
    version: int | None = None

    def __str__(self) -> str:
        where = f"position {self.position}"
        if self.stream:
            where += f" (stream {self.stream}, version {self.version})"
        return f"{where}: {self.what}: {self.detail}"


@dataclass(frozen=True)
class Head:
    """The head of a chain: its last position, link and witnessed time."""

    position: int
    link: str
    at: str = ""


class ChainCheck:
    """Walks events and seals in position order, one pair at a time (constant memory but for
    one version number per stream), and keeps the first problem."""

    def __init__(self) -> None:
        self.head = Head(0, GENESIS)
        self.problem: Problem | None = None
        self.events = 0
        self.links: dict[int, str] = {}  # only positions asked for with `remember`
        self._wanted: set[int] = set()
        self._versions: dict[UUID, int] = {}

    def remember(self, *positions: int) -> None:
        """Keep the recomputed link at these positions (to compare with a digest)."""
        self._wanted.update(positions)

    def run(self, pairs: Iterable[tuple[EventRecord | None, Seal | None]]) -> Problem | None:
        """Check every (event, seal) pair in position order; the first problem, or None."""
        ahead = iter(pairs)
        current = next(ahead, None)
        while current is not None:
            following = next(ahead, None)
            row, stamp = current
            if row is not None and stamp is None and row.position > 0 and \
                    following is not None and following[1] is not None and \
                    following[1].previous == row.position:
                # The chain went through this event (the next seal follows it): its seal,
                # not the event, is what was removed.
                self.problem = Problem(row.position, "chain-broken", "the event is there but "
                                       "its seal is gone", row.originator_id.hex, row.version)
            else:
                self.problem = self._check(row, stamp)
            if self.problem is not None:
                return self.problem
            current = following
        return None

    def _check(self, row: EventRecord | None, stamp: Seal | None) -> Problem | None:
        if row is None:
            assert stamp is not None
            follows = (stamp.previous == self.head.position and stamp.link == link_hash(
                self.head.link, stamp.position, stamp.stream, stamp.content, stamp.witness))
            if follows:  # a true link of the chain whose event is gone
                return Problem(stamp.position, "missing", "a sealed event is gone")
            return Problem(stamp.position, "inserted", "a seal for which no event was ever "
                           "stored (a seal added around the ledger)")
        self.events += 1
        fault, link = self._fault(row, stamp)
        if fault is not None and fault[0] == "missing":
            assert stamp is not None  # a gap: name the first position that is gone
            gone = self.head.position + 1
            return Problem(gone, "missing", f"the sealed event at {gone} and its seal are gone "
                           f"(the seal at {row.position} follows {stamp.previous})")
        if fault is not None:
            return Problem(row.position, *fault, stream=row.originator_id.hex,
                           version=row.version)
        assert stamp is not None
        self._versions[row.originator_id] = row.version
        self.head = Head(row.position, link, stamp.witness.at)
        if row.position in self._wanted:
            self.links[row.position] = link
        return None

    def _fault(self, row: EventRecord, stamp: Seal | None) -> tuple[tuple[str, str] | None, str]:
        """What is wrong with an event and its seal (kind, detail), and its recomputed link."""
        if stamp is None:
            return ("inserted", "an event that was never sealed when recorded (a row added "
                    "around the ledger)"), ""
        expected = self._versions.get(row.originator_id, 0) + 1
        content = content_hash(row)
        link = link_hash(self.head.link, row.position, row.originator_id.hex, content,
                         stamp.witness)
        follows = link == stamp.link and stamp.stream == row.originator_id.hex
        faults = (
            (content != stamp.content and follows, "chain-broken", "the event is as sealed "
             "but its seal's content hash was changed"),
            (content != stamp.content, "altered", "the event differs from what was sealed"),
            (stamp.previous != self.head.position and follows, "chain-broken",
             f"nothing is missing, but its seal says it follows position {stamp.previous}"),
            (stamp.previous != self.head.position, "missing",
             f"its seal follows position {stamp.previous}, but the chain's last event before "
             f"it is at {self.head.position}: the events between are gone"),
            (row.position != self.head.position + 1, "position-gap",
             f"its seal follows position {stamp.previous}, but nothing was ever stored at "
             f"{self.head.position + 1}: the database numbers events without gaps, so this "
             f"position was chosen around the ledger"),
            (row.version < expected, "duplicate-version",
             f"its stream already holds version {row.version}"),
            (row.version > expected, "version-gap",
             f"its stream's next version is {expected}, not {row.version}"),
            (not WITNESS_TIME.match(stamp.witness.at), "chain-broken",
             f"its witnessed time {stamp.witness.at[:40]!r} is not a time the store writes"),
            (stamp.witness.at < self.head.at, "time-backwards",
             f"witnessed at {stamp.witness.at}, before the event before it ({self.head.at})"),
            (not follows, "chain-broken", "the seal's link does not follow from the links "
             "before it (or its witness was changed)"),
        )
        found = next(((what, detail) for bad, what, detail in faults if bad), None)
        return found, link


def pair_up(rows: Iterator[EventRecord], seals: Iterator[Seal],
            ) -> Iterator[tuple[EventRecord | None, Seal | None]]:
    """Merge two position-ordered streams into pairs at each position (None where absent)."""
    row, stamp = next(rows, None), next(seals, None)
    while row is not None or stamp is not None:
        if stamp is None or (row is not None and row.position < stamp.position):
            yield row, None
            row = next(rows, None)
        elif row is None or stamp.position < row.position:
            yield None, stamp
            stamp = next(seals, None)
        else:
            yield row, stamp
            row, stamp = next(rows, None), next(seals, None)
