"""Connecting to a ledger's database with SQLAlchemy Core alone: the queries' way in.

A query reads plain tables (the read models and the events table's head), so it
needs neither the library's recorder nor the ORM; this module imports neither,
and `ledger.store.app` builds the event store on the same URL rules.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from ledger.domain.errors import InvalidInputError, LedgerError
from ledger.store.replica import make_read_only

APP_NAME = "ledger"  # fixed: the events table is named after it
EVENTS_TABLE = f"{APP_NAME}_events"
SQLITE_BUSY_MS = 30_000


def normalise_url(url: str) -> str:
    """The SQLAlchemy URL for a ledger URL (plain `postgresql://` gets psycopg 3)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        msg = f"{url!r} is not a database URL: use sqlite:///FILE or postgresql://..."
        raise InvalidInputError(msg) from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        msg = f"{url!r}: the ledger runs on SQLite or PostgreSQL"
        raise InvalidInputError(msg)
    return parsed.render_as_string(hide_password=False)


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite ledger URL (None for PostgreSQL or an in-memory database)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def on_connect_sqlite(dbapi_connection: Any, _record: Any) -> None:
    """Every SQLite connection waits for a writer instead of failing at once when locked."""
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_MS}")
    cursor.close()


def refuse_missing_file(url: str) -> Path | None:
    """The SQLite file of `url`, refused when it does not exist (never create one by accident)."""
    path = sqlite_file(url)
    if path is not None and not path.exists():
        msg = f"no ledger at {path}: run `ledger init` first (or pass --db)"
        raise LedgerError(msg)
    return path


def reading_engine(url: str, *, read_only: bool = False) -> Engine:
    """A Core engine on an existing ledger, for reading its tables; with `read_only`, every
    connection read-only (see `ledger.store.replica`)."""
    url = normalise_url(url)
    path = refuse_missing_file(url)
    engine = create_engine(url)
    if path is not None:
        event.listen(engine, "connect", on_connect_sqlite)
    if read_only:
        make_read_only(engine)
    return engine


def head(engine: Engine) -> int:
    """The position of the newest stored event (0 for an empty ledger); refuses a database
    that holds no ledger."""
    try:
        with engine.connect() as conn:
            found = conn.execute(text(f"SELECT max(id) FROM {EVENTS_TABLE}")).scalar()
    except SQLAlchemyError as exc:
        if not _holds_ledger(engine):
            msg = (f"the database at {engine.url.render_as_string(hide_password=True)!r} "
                   f"holds no ledger: run `ledger init` first")
            raise LedgerError(msg) from None
        raise exc from None
    return int(found or 0)


def _holds_ledger(engine: Engine) -> bool:
    return bool(inspect(engine).has_table(EVENTS_TABLE))
