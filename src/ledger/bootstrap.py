"""The composition root: for a database URL, the ledger's commands, the catching up of its read
models, and its queries, wired in this one place.

Dependencies point inwards: the CLI, scripts and tests ask here; the
application, projections and store never construct one another.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType

from ledger.application.services import Ledger
from ledger.store import open_ledger
from projections.queries import Reader
from projections.runner import Projector
from projections.schema import create_tables


@dataclass(frozen=True)
class Services:
    """One ledger database, wired: `ledger` writes, `projector` catches the read models up,
    `reader` answers queries from them (and never writes)."""

    ledger: Ledger
    projector: Projector
    reader: Reader

    def close(self) -> None:
        """Release the database connections."""
        self.ledger.close()

    def __enter__(self) -> Services:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


def bootstrap(url: str, *, create: bool = False) -> Services:
    """The ledger at `url`; with `create`, make its tables, immutability guards and the read
    models' tables first (so a role without CREATE can run every command afterwards)."""
    app = open_ledger(url, create=create, schema=create_tables)
    return Services(Ledger(app), Projector(app), Reader(app.engine, app.decode_all))

