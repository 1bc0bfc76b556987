"""A ledger database opened for reading only, and where a PostgreSQL standby stands.

A read-only ledger's every connection is put in read-only mode as it opens
(PostgreSQL's `default_transaction_read_only`, SQLite's `query_only`), so a read
that would write fails instead of writing. A standby refuses every write the same
way (SQLSTATE 25006); `read_only_refusal` tells that refusal from other errors.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine

READ_ONLY_SQLSTATE = "25006"  # read_only_sql_transaction


@dataclass(frozen=True)
class Standing:
    """Whether the database is a standby replaying a primary's WAL, and how long ago the last
    transaction it replayed was committed on the primary (None: not a standby, or nothing
    replayed yet)."""

    standby: bool
    replayed_seconds_ago: float | None


def make_read_only(engine: Engine) -> None:
    """Open every later connection of `engine` read-only (call before its first use, or
    dispose of its pool after)."""
    postgres = engine.dialect.name == "postgresql"

    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        if postgres:
            cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            dbapi_connection.commit()
        else:
            cursor.execute("PRAGMA query_only = ON")
        cursor.close()

    event.listen(engine, "connect", _on_connect)


def standing(engine: Engine) -> Standing:
    """Where this database stands in replication (SQLite is never a standby)."""
    if engine.dialect.name != "postgresql":
        return Standing(standby=False, replayed_seconds_ago=None)
    with engine.connect() as conn:
        standby, age = conn.execute(text(
            "SELECT pg_is_in_recovery(), "
            "extract(epoch FROM now() - pg_last_xact_replay_timestamp())")).one()
    return Standing(standby=bool(standby),
                    replayed_seconds_ago=float(age) if standby and age is not None else None)


def read_only_refusal(exc: BaseException) -> str | None:
    """The database's own words, where `exc` (or what caused it) is the database refusing a
    write because it is read-only: a standby, or a read-only session. None otherwise."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if getattr(current, "sqlstate", None) == READ_ONLY_SQLSTATE:
            return str(current).strip().splitlines()[0]
        if (isinstance(current, sqlite3.OperationalError)
                and "readonly database" in str(current)):
            return str(current).strip().splitlines()[0]
        current = current.__cause__ or current.__context__
    return None
