"""The composition root: for a database URL, the ledger's commands, the catching up of its read
models, and its queries, wired in this one place.

Dependencies point inwards: the CLI, scripts and tests ask here; the
application, projections and store never construct one another. `reading(url)`
wires queries on SQLAlchemy Core alone (the read models are plain tables), and
opens the event store only when the read models must catch up: a query starts
without the library's recorder, the ORM or the write path.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Self
from uuid import UUID

from ledger.domain.errors import NotFoundError
from ledger.domain.words import did_you_mean
from ledger.store.engine import head, reading_engine
from ledger.store.replica import Standing, standing
from ledger.store.sealed import stream_sealed
from projections import tracking
from projections.queries import Reader
from projections.schema import out_of_date

if TYPE_CHECKING:
    from ledger.application.history import HistoryRow
    from ledger.application.services import Ledger
    from ledger.domain.chain import EventRecord
    from ledger.domain.events import PlanEvent
    from projections.runner import Projector


class _Closing:
    def close(self) -> None:
        """Release the database connections."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


@dataclass(frozen=True)
class Services(_Closing):
    """One ledger database, wired: `ledger` writes, `projector` catches the read models up,
    `reader` answers queries from them (and never writes). `read_only`: every connection is
    read-only (a replica, or `--read-only`), so nothing here may write."""

    ledger: Ledger
    projector: Projector
    reader: Reader
    read_only: bool = False
    upgraded: str | None = None  # what an older version's read models lacked, made good now

    def close(self) -> None:
        """Release the database connections."""
        self.ledger.close()


@dataclass(frozen=True)
class Reading(_Closing):
    """One ledger's read models, for queries: `reader` answers from them; `lag` says how far
    they stand behind the events; `catch_up` brings them up to date (the one write a query
    may make, and only where the caller asks). `read_only`: every connection is read-only (a
    streaming replica, or `--read-only`): they are never caught up, only their lag said."""

    url: str
    reader: Reader
    read_only: bool = False

    def lag(self) -> int:
        """How many stored events the read models have yet to apply."""
        engine = self.reader.engine
        return head(engine) - min(tracking.positions(engine).values())

    def held(self) -> tuple[int, int]:
        """The last event the read models have applied, and the head of the stored events."""
        engine = self.reader.engine
        return min(tracking.positions(engine).values()), head(engine)

    def can_write(self) -> bool:
        """Whether this connection's role may write the read models."""
        return tracking.can_write(self.reader.engine)

    def standing(self) -> Standing:
        """Whether the database is a standby, and how long ago it replayed a transaction."""
        return standing(self.reader.engine)

    def catch_up(self) -> int:
        """Apply every stored event the read models lack (opens the event store to do so)."""
        with bootstrap(self.url) as services:
            return services.projector.catch_up()

    def item_history(self, plan: str, number: str) -> tuple[list[HistoryRow], list[str]]:
        """An item's every sealed event, read from the events table (see
        `ledger.application.history.item_history`); refuses an item the plan does not hold."""
        from ledger.application.history import item_history  # events: loaded here only
        from ledger.store.decoding import decode

        streams = {item: stream for stream, item in self.reader.streams(plan).items() if item}
        if number not in streams:
            msg = f"plan {plan} has no item {number}{did_you_mean(number, sorted(streams))}"
            raise NotFoundError(msg)
        stored = stream_sealed(self.reader.engine, UUID(hex=streams[number]))
        return item_history(number, stored, decode)

    def out_of_date(self) -> str | None:
        """Why the read models cannot answer, where an older version of ledger made them (a
        table or column missing, or one no longer kept): asked only after a query failed, so
        no query pays for it."""
        missing = out_of_date(self.reader.engine)
        if missing is None:
            return None
        return (f"the read models were made by an older version of ledger ({missing}): run "
                f"`ledger init`, which brings them up to date (it touches no event; the next "
                f"query derives them again)")

    def close(self) -> None:
        """Release the database connections."""
        self.reader.engine.dispose()


def bootstrap(url: str, *, create: bool = False, read_only: bool = False) -> Services:
    """The ledger at `url`; with `create`, make its tables, immutability guards and the read
    models' tables first (so a role without CREATE can run every command afterwards); with
    `read_only`, open it for reading only (a streaming replica: see docs/SCALING.md)."""
    from ledger.application.services import Ledger
    from ledger.store.app import open_ledger
    from projections.runner import Projector
    from projections.schema import tables_noting

    upgraded: list[str] = []
    app = open_ledger(url, create=create, schema=tables_noting(upgraded), read_only=read_only)
    return Services(Ledger(app), Projector(app), Reader(app.engine, app.decode_all),
                    read_only=read_only, upgraded=upgraded[0] if upgraded else None)


def reading(url: str, *, read_only: bool = False) -> Reading:
    """The read models of the ledger at `url`, on SQLAlchemy Core alone; refuses a URL that
    holds no ledger. With `read_only`, every connection is read-only."""
    engine = reading_engine(url, read_only=read_only)
    head(engine)  # refuses a database `ledger init` never prepared
    return Reading(url, Reader(engine, _decode_all), read_only=read_only)


def _decode_all(records: Iterable[EventRecord]) -> list[PlanEvent]:
    """Stored rows decoded (the library's mapper is imported on the first query that re-folds
    events, such as one as known at an earlier moment)."""
    from ledger.store.decoding import decode_all

    return decode_all(records)
