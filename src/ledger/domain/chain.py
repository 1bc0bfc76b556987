"""The hash chain over stored events: canonical encoding, links, and the check of a chain.

Each stored event, in the ledger's global order, is encoded canonically (its
identity, version, topic and full state, which holds the recorded time) and
hashed; each link hashes the previous link, the position and that content
hash. Verification recomputes every link from the events alone and names the
first position where they disagree with what was sealed. Pure: hashlib and json.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

GENESIS = "0" * 64


@dataclass(frozen=True)
class EventRecord:
    """One stored event exactly as the store holds it: position, stream, version, topic, bytes."""

    position: int
    originator_id: UUID
    version: int
    topic: str
    state: bytes


@dataclass(frozen=True)
class Seal:
    """A sealed link: the event's content hash and the chained hash at its position."""

    position: int
    content: str
    link: str


def canonical(row: EventRecord) -> bytes:
    """The canonical bytes of an event: sorted-key compact JSON of its identity and state."""
    try:
        state: Any = json.loads(row.state)
    except (ValueError, UnicodeDecodeError):
        state = {"bytes": row.state.hex()}
    body = {"id": str(row.originator_id), "version": row.version, "topic": row.topic,
            "state": state}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def content_hash(row: EventRecord) -> str:
    """SHA-256 of the event's canonical bytes."""
    return hashlib.sha256(canonical(row)).hexdigest()


def link_hash(previous: str, position: int, content: str) -> str:
    """The chained hash at a position."""
    return hashlib.sha256(f"{previous}:{position}:{content}".encode()).hexdigest()


def seal(rows: Iterable[EventRecord], previous: str) -> list[Seal]:
    """Seals for new events, chained after `previous`."""
    seals = []
    for row in rows:
        content = content_hash(row)
        previous = link_hash(previous, row.position, content)
        seals.append(Seal(row.position, content, previous))
    return seals


@dataclass(frozen=True)
class Problem:
    """The first place where the events disagree with the seals."""

    position: int
    what: str  # altered, missing, inserted, reordered, chain-broken
    detail: str

    def __str__(self) -> str:
        return f"position {self.position}: {self.what}: {self.detail}"


@dataclass(frozen=True)
class Head:
    """The head of a chain: its last position and link."""

    position: int
    link: str


def check(rows: Iterable[EventRecord], seals: Iterable[Seal]) -> tuple[Problem | None, Head,
                                                                      dict[int, str]]:
    """The first problem (or None), the recomputed head, and every recomputed link."""
    events = {r.position: r for r in rows}
    sealed = {s.position: s for s in seals}
    sealed_at = {s.content: s.position for s in sealed.values()}
    previous, head = GENESIS, Head(0, GENESIS)
    links: dict[int, str] = {}
    for position in sorted(set(events) | set(sealed)):
        row, stamp = events.get(position), sealed.get(position)
        if stamp is None:
            return (Problem(position, "inserted", "an event that was never sealed when recorded"),
                    head, links)
        if row is None:
            return Problem(position, "missing", "a sealed event is gone"), head, links
        content = content_hash(row)
        if content != stamp.content:
            other = sealed_at.get(content)
            if other is not None and other != position:
                return (Problem(position, "reordered", f"holds the event sealed at position "
                                f"{other}"), head, links)
            return (Problem(position, "altered", "the event differs from what was sealed"),
                    head, links)
        link = link_hash(previous, position, content)
        if link != stamp.link:
            return Problem(position, "chain-broken", "the seal's link does not follow from the "
                           "links before it"), head, links
        previous, head = link, Head(position, link)
        links[position] = link
    return None, head, links
