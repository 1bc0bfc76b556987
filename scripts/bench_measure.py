"""What scripts/bench.py measures with: wall and CPU samples, medians, the floors, bytes on disk.

A `Sample` is one timed action: wall seconds (`time.perf_counter`) and CPU seconds of this
process (`time.process_time`, user + system) plus those of the child processes it waited for
(`resource.getrusage(RUSAGE_CHILDREN)`). The floors are the physical ceilings a figure is
compared with, run in the same process on the same rows: the driver's own `executemany` of the
stored rows into a table of the same shape (append), and the driver's SELECT of every stored
state with `json.loads` (rebuild). Nothing here asserts a speed.
"""

from __future__ import annotations

import json
import os
import resource
import sqlite3
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from ledger.store.engine import EVENTS_TABLE

COLUMNS = "originator_id, originator_version, topic, state"


@dataclass(frozen=True)
class Sample:
    """One timed action: wall and CPU seconds, and how many events it handled."""

    wall: float
    cpu: float
    events: int = 0


def _cpu() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def timed(action: Callable[[], Any], events: int = 0) -> Sample:
    """Run `action` once; its wall and CPU time (this process and the children it waited for).
    If `action` returns an int and `events` is 0, that is the number of events handled."""
    cpu, started = _cpu(), time.perf_counter()
    result = action()
    wall, used = time.perf_counter() - started, _cpu() - cpu
    count = events or (result if isinstance(result, int) else 0)
    return Sample(wall, used, count)


def median_ms(samples: Iterable[Sample]) -> tuple[float, float]:
    """Median wall and median CPU, in milliseconds."""
    kept = list(samples)
    return (statistics.median(s.wall for s in kept) * 1000,
            statistics.median(s.cpu for s in kept) * 1000)


def rates(samples: Iterable[Sample]) -> dict[str, float]:
    """Median events per second (wall) and median CPU microseconds per event, over samples
    (segments or whole runs) each of which handled `events` events."""
    kept = [s for s in samples if s.events]
    return {"eps": statistics.median(s.events / s.wall for s in kept),
            "cpu_us": statistics.median(s.cpu / s.events * 1e6 for s in kept),
            "n": len(kept)}


def load_average() -> float:
    """The machine's one-minute load average."""
    return os.getloadavg()[0]


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def sqlite_path(url: str) -> str:
    return url.removeprefix("sqlite:///")


def pg_dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def stored_rows(url: str, after: int, upto: int) -> list[tuple[Any, ...]]:
    """The stored rows with positions in (after, upto], as the driver returns them."""
    query = f"SELECT {COLUMNS} FROM {EVENTS_TABLE} WHERE id > {after} AND id <= {upto} ORDER BY id"
    if is_sqlite(url):
        with sqlite3.connect(sqlite_path(url)) as conn:
            return conn.execute(query).fetchall()
    with psycopg.connect(pg_dsn(url)) as conn:
        return conn.execute(query).fetchall()


class AppendFloor:
    """A table of the events' shape (key, unique aggregate index) that each segment's rows
    are inserted into with one `executemany` in one transaction: a SQLite file next to the
    ledger's (WAL, as the ledger), or a table in the ledger's PostgreSQL database."""

    def __init__(self, url: str, workdir: Path) -> None:
        self.url = url
        if is_sqlite(url):
            self.sqlite = sqlite3.connect(workdir / f"floor-{os.getpid()}-{time.time_ns()}.db")
            self.sqlite.execute("PRAGMA journal_mode=WAL")
            self.sqlite.execute("CREATE TABLE floor_events (id INTEGER PRIMARY KEY, "
                                "originator_id BLOB NOT NULL, originator_version INTEGER NOT "
                                "NULL, topic TEXT NOT NULL, state BLOB NOT NULL)")
            self.sqlite.execute("CREATE UNIQUE INDEX floor_events_aggregate ON floor_events "
                                "(originator_id, originator_version)")
            self.sqlite.commit()
            self.insert = "INSERT INTO floor_events (" + COLUMNS + ") VALUES (?, ?, ?, ?)"
        else:
            self.pg = psycopg.connect(pg_dsn(url))
            self.pg.execute("CREATE TABLE floor_events (id BIGSERIAL PRIMARY KEY, originator_id "
                            "UUID NOT NULL, originator_version INTEGER NOT NULL, topic TEXT NOT "
                            "NULL, state BYTEA NOT NULL)")
            self.pg.execute("CREATE UNIQUE INDEX floor_events_aggregate ON floor_events "
                            "(originator_id, originator_version)")
            self.pg.commit()
            self.insert = "INSERT INTO floor_events (" + COLUMNS + ") VALUES (%s, %s, %s, %s)"

    def segment(self, rows: list[tuple[Any, ...]]) -> Sample:
        """Insert `rows` in one transaction, timed (the rows were read before)."""
        if is_sqlite(self.url):
            def run() -> None:
                with self.sqlite:
                    self.sqlite.executemany(self.insert, rows)
        else:
            def run() -> None:
                with self.pg.cursor() as cursor:
                    cursor.executemany(self.insert, rows)
                self.pg.commit()
        return timed(run, len(rows))

    def close(self) -> None:
        if is_sqlite(self.url):
            self.sqlite.close()
        else:
            self.pg.execute("DROP TABLE floor_events")
            self.pg.commit()
            self.pg.close()


def select_decode(url: str, after: int = 0, upto: int | None = None) -> Sample:
    """The rebuild floor: the driver's SELECT of every stored state in (after, upto] and
    `json.loads` of each (stored states are JSON), timed."""
    where = f"WHERE id > {after}" + ("" if upto is None else f" AND id <= {upto}")
    query = f"SELECT state FROM {EVENTS_TABLE} {where} ORDER BY id"

    def run() -> int:
        count = 0
        if is_sqlite(url):
            with sqlite3.connect(sqlite_path(url)) as conn:
                for (state,) in conn.execute(query):
                    json.loads(state)
                    count += 1
            return count
        with psycopg.connect(pg_dsn(url)) as pg, pg.cursor(name="floor") as server_side:
            server_side.itersize = 10_000
            server_side.execute(query)
            for (state,) in server_side:
                json.loads(state)
                count += 1
        return count
    return timed(run)


def table_bytes(url: str) -> dict[str, int]:
    """Bytes on disk of each table with its indexes: SQLite's `dbstat` (pages of each table
    and index), else the whole file's pages under one name; PostgreSQL's
    `pg_total_relation_size` (table, indexes and TOAST)."""
    if is_sqlite(url):
        with sqlite3.connect(sqlite_path(url)) as conn:
            owner = dict(conn.execute("SELECT name, tbl_name FROM sqlite_master "
                                      "WHERE type IN ('table', 'index')").fetchall())
            try:
                pages = conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"
                                     ).fetchall()
            except sqlite3.OperationalError:  # dbstat not compiled in
                (count,), (size,) = (conn.execute("PRAGMA page_count").fetchone(),
                                     conn.execute("PRAGMA page_size").fetchone())
                return {"(whole file: no dbstat)": int(count) * int(size)}
        sizes: dict[str, int] = {}
        for name, size in pages:
            table = owner.get(name, name)
            sizes[table] = sizes.get(table, 0) + int(size)
        return sizes
    with psycopg.connect(pg_dsn(url)) as conn:
        rows = conn.execute("SELECT tablename, pg_total_relation_size(quote_ident(tablename)) "
                            "FROM pg_tables WHERE schemaname = current_schema()").fetchall()
    return {str(name): int(size) for name, size in rows}


def vacuum_full(url: str, tables: Iterable[str]) -> None:
    """PostgreSQL: rewrite `tables` without their dead rows (a rebuild deletes and inserts
    every row; `pg_total_relation_size` would count the dead versions until VACUUM FULL).
    SQLite needs nothing: `dbstat` counts the pages of each table's b-tree, not free pages."""
    if is_sqlite(url):
        return
    with psycopg.connect(pg_dsn(url), autocommit=True) as conn:
        for table in tables:
            conn.execute(f'VACUUM FULL "{table}"')


def table_rows(url: str, tables: Iterable[str]) -> dict[str, int]:
    """Rows in each table."""
    found: dict[str, int] = {}
    if is_sqlite(url):
        with sqlite3.connect(sqlite_path(url)) as conn:
            for table in tables:
                found[table] = int(conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])
        return found
    with psycopg.connect(pg_dsn(url)) as conn:
        for table in tables:
            row = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()
            found[table] = int(row[0]) if row else 0
    return found
