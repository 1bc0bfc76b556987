"""Tamper evidence: the ledger's digest, and verification of its chain against the events.

Verification reads every stored event, recomputes every link, and compares
them with the seals; with an auditor's digest it also proves that the ledger
today still extends what the digest saw.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ledger.application.times import utc_text
from ledger.domain.chain import (
    ENCODING,
    ChainCheck,
    EventRecord,
    Head,
    Problem,
    content_hash,
    pair_up,
)
from ledger.domain.errors import InvalidInputError
from ledger.store.app import LedgerApp
from ledger.store.chain import iter_seals, sealed_at
from ledger.store.engine import EVENTS_TABLE
from ledger.store.guards import missing_guards
from ledger.store.sealed import CHAIN_TABLE
from projections.audit import check_read_models


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


Progress = Callable[[int], None]


@dataclass(frozen=True)
class Verdict:
    """What verification found: events checked, the recomputed head, the first problem in the
    store, a digest the ledger does not extend, the first read-model row that the events do
    not give, and the guards this version installs that the database lacks."""

    events: int
    head: Head
    problem: Problem | None
    digest_problem: str = ""
    models_problem: str = ""
    unguarded: tuple[str, ...] = ()  # the guards' triggers the database lacks

    @property
    def intact(self) -> bool:
        """True when the chain holds, extends the digest (if given) and the models agree."""
        return self.problem is None and not self.digest_problem and not self.models_problem


def verify(app: LedgerApp, digest: Digest | None = None, progress: Progress | None = None,
           *, read_models: bool = False) -> Verdict:
    """Walk every stored row and every seal side by side (constant memory), recompute the
    chain, and compare it with the seals and the digest; with `read_models`, also derive the
    read models afresh from the verified events and compare them with the live ones; and name
    the guards this version installs that the database lacks."""
    check = ChainCheck()
    if digest is not None:
        check.remember(digest.position)
    problem = check.run(pair_up(_counted(app.iter_stored(), progress), iter_seals(app.engine)))
    if problem is not None and problem.what == "altered":
        problem = _reordered(app, problem)
    digest_problem = ""
    if digest is not None and problem is None:
        position, link = digest.position, digest.hash
        if position > check.head.position:
            digest_problem = (f"the ledger ends at position {check.head.position}, before the "
                              f"digest's position {position}: events were removed")
        elif check.links.get(position) != link:
            found = check.links.get(position, "absent")
            digest_problem = (f"position {position}: the ledger no longer extends the digest "
                              f"(its link is {found[:16]}…, the digest says {link[:16]}…): "
                              f"history before it was rewritten")
    models_problem = ""
    if read_models and problem is None:
        models_problem = check_read_models(app, app.engine)
    unguarded = tuple(missing_guards(app.engine, EVENTS_TABLE, CHAIN_TABLE))
    return Verdict(check.events, check.head, problem, digest_problem, models_problem, unguarded)


def _counted(rows: Iterator[EventRecord], progress: Progress | None) -> Iterator[EventRecord]:
    for row in rows:
        if progress is not None:
            progress(row.position)
        yield row


def _reordered(app: LedgerApp, problem: Problem) -> Problem:
    """An altered event whose content was sealed at another position was moved there."""
    row = next(app.iter_stored(after=problem.position - 1, stop=problem.position))
    elsewhere = [p for p in sealed_at(app.engine, content_hash(row)) if p != problem.position]
    if not elsewhere:
        return problem
    return replace(problem, what="reordered",
                   detail=f"holds the event sealed at position {elsewhere[0]}")


def take_digest(app: LedgerApp, actor: str) -> dict[str, Any]:
    """The head of the chain, for an auditor to keep outside the council's systems."""
    verdict = verify(app)
    if verdict.problem is not None:
        msg = f"the chain is broken, no digest taken: {verdict.problem}"
        raise InvalidInputError(msg)
    if not verdict.head.position:
        msg = "the ledger holds no events yet: there is nothing to take a digest of"
        raise InvalidInputError(msg)
    return {
        "ledger": app.name,
        "position": verdict.head.position,
        "hash": verdict.head.link,
        "recorded_at": verdict.head.at,
        "taken_at": utc_text(datetime.now(UTC)),
        "taken_by": actor,
        "algorithm": ENCODING,
    }


def read_digest(path: Path) -> Digest:
    """A digest file, checked for the fields verification needs."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        msg = f"{path}: not a readable digest: {exc}"
        raise InvalidInputError(msg) from None
    return parse_digest(data, str(path))
