"""An attacker's tools: plain SQL on the ledger's tables, seals forged with the public
algorithm, and `ledger verify` through the real CLI."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, create_engine, text
from typer.testing import CliRunner

from ledger.cli.app import app as cli_app
from ledger.domain.chain import EventRecord, Witness, seal
from ledger.store.engine import EVENTS_TABLE, normalise_url
from ledger.store.guards import PG_CLOCK
from ledger.store.sealed import CHAIN_TABLE, seal_of

EVENTS, CHAIN = EVENTS_TABLE, CHAIN_TABLE
SEAL_COLUMNS = "position, content, link, previous, witnessed_at, witnessed_by, stream"


def postgres(url: str) -> bool:
    return url.startswith("postgresql")


@contextmanager
def connect(url: str) -> Iterator[Connection]:
    """One transaction on the database at `url`, committed at the end."""
    engine = create_engine(normalise_url(url))
    try:
        with engine.begin() as conn:
            yield conn
    finally:
        engine.dispose()


def execute(url: str, statement: str, params: dict[str, Any] | None = None) -> None:
    with connect(url) as conn:
        conn.execute(text(statement), params or {})


def scalar(url: str, statement: str, params: dict[str, Any] | None = None) -> Any:
    with connect(url) as conn:
        return conn.execute(text(statement), params or {}).scalar()


def drop_guards(url: str, *tables: str) -> None:
    """As the owner: drop every trigger on the tables (immutability, ids, seal rules)."""
    tables = tables or (EVENTS, CHAIN)
    with connect(url) as conn:
        for table in tables:
            if postgres(url):
                names = conn.execute(text(
                    "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal "
                    "AND tgrelid = CAST(:t AS regclass)"), {"t": table}).scalars().all()
                for name in names:
                    conn.execute(text(f'DROP TRIGGER "{name}" ON {table}'))
            else:
                names = conn.execute(text(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"),
                    {"t": table}).scalars().all()
                for name in names:
                    conn.execute(text(f'DROP TRIGGER "{name}"'))


def event(url: str, position: int) -> dict[str, Any]:
    """A stored event's columns (as the driver gives them, ready to insert again)."""
    with connect(url) as conn:
        found = conn.execute(text(f"SELECT originator_id, originator_version, topic, state "
                                  f"FROM {EVENTS} WHERE id = :p"), {"p": position}).one()
    return dict(found._mapping)


def stream_hex(value: Any) -> str:
    if isinstance(value, UUID):
        return value.hex
    return UUID(bytes=bytes(value)).hex


def last_version(url: str, stream: Any) -> int:
    return int(scalar(url, f"SELECT MAX(originator_version) FROM {EVENTS} "
                           "WHERE originator_id = :s", {"s": stream}))


def insert_event(conn: Connection, values: dict[str, Any], position: int | None = None) -> int:
    """INSERT an event row (at `position`, else where the database puts it); its id."""
    columns = "originator_id, originator_version, topic, state"
    params = dict(values)
    if position is not None:
        columns, params["id"] = "id, " + columns, position
    names = ", ".join(f":{c.strip()}" for c in columns.split(","))
    return int(conn.execute(text(f"INSERT INTO {EVENTS} ({columns}) VALUES ({names}) "
                                 "RETURNING id"), params).scalar_one())


def head_seal(conn: Connection) -> Any:
    return seal_of(conn.execute(text(f"SELECT {SEAL_COLUMNS} FROM {CHAIN} "
                                     "ORDER BY position DESC LIMIT 1")).one())


def insert_seal(conn: Connection, position: int, content: str, link: str, previous: int,
                witness: Witness, stream: str) -> None:
    conn.execute(text(f"INSERT INTO {CHAIN} ({SEAL_COLUMNS}) VALUES "
                      "(:p, :c, :l, :prev, :at, :by, :s)"),
                 {"p": position, "c": content, "l": link, "prev": previous, "at": witness.at,
                  "by": witness.role, "s": stream})


def session_witness(conn: Connection) -> Witness:
    """What the guards accept as a witness: the server's clock and the session's role on
    PostgreSQL, this machine's clock on SQLite."""
    if conn.dialect.name == "postgresql":
        at, role = conn.execute(text(
            f"SELECT {PG_CLOCK.format(clock='clock_timestamp()')}, session_user::text")).one()
        return Witness(str(at), str(role))
    return Witness(datetime.now(UTC).isoformat(timespec="microseconds"))


def forge_append(url: str, values: dict[str, Any], witness: Witness | None = None,
                 position: int | None = None) -> int:
    """Append an event (at the next id the database gives, or at `position`) with a
    well-formed seal made by the public algorithm, chained after the head seal; its
    position. The witness is the one the guards accept unless given."""
    with connect(url) as conn:
        position = insert_event(conn, values, position)
        previous = head_seal(conn)
        stored = conn.execute(text(f"SELECT originator_id FROM {EVENTS} WHERE id = :p"),
                              {"p": position}).scalar_one()
        record = EventRecord(position, UUID(stream_hex(stored)), int(values["originator_version"]),
                             str(values["topic"]), bytes(values["state"]))
        [forged] = seal([record], previous, witness or session_witness(conn))
        insert_seal(conn, forged.position, forged.content, forged.link, forged.previous,
                    forged.witness, forged.stream)
    return position


def ledger(url: str, *args: str, code: int | None = 0,
           env: dict[str, str] | None = None) -> tuple[int, str]:
    """The real CLI on `url`: (exit code, stdout + stderr); checks the code unless None."""
    result = CliRunner().invoke(cli_app, ["--db", url, *args],
                                env={"LEDGER_ACTOR": "tester", **(env or {})})
    out = result.stdout + result.stderr
    if code is not None and result.exit_code != code:
        raise AssertionError(f"ledger {' '.join(a[:80] for a in args)} exited "
                             f"{result.exit_code}, expected {code}\n{out[:2000]}\n"
                             f"{result.exception!r}")
    return result.exit_code, out


def tampered(url: str, *args: str) -> str:
    """`ledger verify` must exit 1; its report (the line after `tampered: `)."""
    _, out = ledger(url, "verify", *args, code=1)
    found = re.search(r"tampered: (.*)", out)
    assert found, out
    return found.group(1)


def names(report: str, position: int, what: str, stream: str = "",
          version: int | None = None) -> None:
    """The report names this position (with its stream and version, where it has one)."""
    where = f"position {position}"
    if stream:
        where += f" (stream {stream}, version {version})"
    assert report.startswith(f"{where}: {what}:"), report


def intact(url: str, *args: str) -> str:
    """`ledger verify` must exit 0 and say intact."""
    _, out = ledger(url, "verify", *args)
    assert out.startswith("intact:"), out
    return out


def count(url: str, table: str = EVENTS) -> int:
    return int(scalar(url, f"SELECT COUNT(*) FROM {table}"))


def now_on_server(url: str) -> str:
    """The time a witness would carry now (the server's clock on PostgreSQL)."""
    if postgres(url):
        return str(scalar(url, f"SELECT {PG_CLOCK.format(clock='clock_timestamp()')}"))
    return datetime.now(UTC).isoformat(timespec="microseconds")
