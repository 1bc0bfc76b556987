"""Tamper evidence: the ledger's digest, and verification of its chain against the events.

Verification reads every stored event, recomputes every link, and compares
them with the seals; with an auditor's digest it also proves that the ledger
today still extends what the digest saw.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ledger.domain.chain import Head, Problem, check
from ledger.domain.errors import InvalidInputError
from ledger.store import LedgerApp
from ledger.store.chain import read_seals


class Digest(BaseModel):
    """What a digest must say to be checked against: a position the ledger had reached and
    the link there. Everything else in the file (times, who) is kept but not relied on."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)

    ledger: str
    position: int = Field(ge=1)
    hash: str = Field(pattern=r"^[0-9a-f]{64}$")


def parse_digest(data: object, where: str) -> Digest:
    """A digest from untrusted JSON; a malformed one is one clear line naming the field."""
    try:
        return Digest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "the digest"
        msg = f"{where}: not a usable digest: {field}: {first['msg']}"
        raise InvalidInputError(msg) from None


@dataclass(frozen=True)
class Verdict:
    """What verification found."""

    events: int
    head: Head
    problem: Problem | None
    digest_problem: str = ""

    @property
    def intact(self) -> bool:
        """True when the chain holds and extends the digest, if one was given."""
        return self.problem is None and not self.digest_problem


def verify(app: LedgerApp, digest: Digest | None = None) -> Verdict:
    """Recompute the chain from the stored events and compare it with the seals (and digest)."""
    rows = list(app.iter_stored())
    problem, head, links = check(rows, read_seals(app.engine))
    digest_problem = ""
    if digest is not None and problem is None:
        position, link = digest.position, digest.hash
        if position > head.position:
            digest_problem = (f"the ledger ends at position {head.position}, before the "
                              f"digest's position {position}: events were removed")
        elif links.get(position) != link:
            digest_problem = (f"position {position}: the ledger no longer extends the digest "
                              f"(its link is {links.get(position, 'absent')[:16]}…, the digest "
                              f"says {link[:16]}…): history before it was rewritten")
    return Verdict(len(rows), head, problem, digest_problem)


def take_digest(app: LedgerApp, actor: str) -> dict[str, Any]:
    """The head of the chain, for an auditor to keep outside the council's systems."""
    verdict = verify(app)
    if verdict.problem is not None:
        msg = f"the chain is broken, no digest taken: {verdict.problem}"
        raise InvalidInputError(msg)
    head_time = ""
    if verdict.head.position:
        record = next(app.iter_stored(after=verdict.head.position - 1,
                                      stop=verdict.head.position))
        head_time = app.decode(record).timestamp.isoformat()
    return {
        "ledger": app.name,
        "position": verdict.head.position,
        "hash": verdict.head.link,
        "recorded_at": head_time,
        "taken_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "taken_by": actor,
        "algorithm": "sha256(previous:position:sha256(canonical event))",
    }


def read_digest(path: Path) -> Digest:
    """A digest file, checked for the fields verification needs."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        msg = f"{path}: not a readable digest: {exc}"
        raise InvalidInputError(msg) from None
    return parse_digest(data, str(path))
