"""Where append's time goes on SQLite: the database's share, apart from Python's.

Generates a ledger (`scripts/generate_history.py`'s writer, timed as `scripts/bench.py` times
append: the whole loop, and the ledger's own calls within it), then replays its own stored
rows, with their seals, into fresh SQLite files beside it, each in WAL mode with the ledger's
durability (`synchronous=FULL`, SQLite's default):

- the floor as `scripts/bench.py` measures it: the events table with its unique (stream,
  version) index, every row in one `executemany` and one commit;
- the same table, one transaction per save of the ledger (its rows sealed together, grouped
  by their witnessed time: about 43 events, a month of one plan's items);
- the ledger's events and chain tables as `sqlite_master` has them, without their triggers,
  one transaction per save;
- the same with the guards' triggers: the database work the ledger's append asks for.

Each variant runs `--rounds` times, interleaved; the figures are medians, in microseconds per
event, wall and CPU. What is left of the ledger's own time is Python's: the domain's commands
and events, the library's save, encoding, sealing. Prints a table; writes nothing else.

    python -m scripts.bench_append_parts --events 30000
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
from collections.abc import Callable
from functools import partial
from itertools import groupby
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a file: import siblings

from scripts.bench_measure import Sample, load_average, timed
from scripts.generate_history import Generator, opened

EVENTS = "INSERT INTO ledger_events (originator_id, originator_version, topic, state) " \
         "VALUES (?, ?, ?, ?)"
SEALS = "INSERT INTO ledger_chain (position, content, link, previous, witnessed_at, " \
        "witnessed_by, stream) VALUES (?, ?, ?, ?, ?, ?, ?)"
Rows = list[tuple[Any, ...]]


def generated(path: Path, events: int) -> tuple[Sample, Sample, Sample]:
    """A ledger of `events` generated events at `path`: the whole writing loop timed, the
    time inside the ledger's own calls (as `scripts/bench.py` times append), and of that the
    saves' time."""
    ledger = opened(f"sqlite:///{path}")
    generator = Generator(ledger, seed=1, clocked=True)
    try:
        loop = timed(partial(generator.write, events))
    finally:
        ledger.close()
    stats = generator.stats
    return (loop, Sample(stats.ledger_seconds, stats.ledger_cpu, stats.events),
            Sample(stats.save_seconds, stats.save_cpu, stats.events))


def saves(path: Path) -> list[Rows]:
    """The ledger's stored rows with their seals' columns, grouped as they were saved."""
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT e.id, e.originator_id, e.originator_version, e.topic, e.state, c.content, "
            "c.link, c.previous, c.witnessed_at, c.witnessed_by, c.stream FROM ledger_events e "
            "JOIN ledger_chain c ON c.position = e.id ORDER BY e.id").fetchall()
    return [list(group) for _at, group in groupby(rows, key=lambda row: row[8])]


def schema(path: Path, *, triggers: bool) -> list[str]:
    """The ledger's own statements for its events and chain tables (and their triggers)."""
    with sqlite3.connect(path) as conn:
        found = conn.execute("SELECT type, sql FROM sqlite_master WHERE sql IS NOT NULL AND "
                             "tbl_name IN ('ledger_events', 'ledger_chain') ORDER BY rowid")
        return [sql for kind, sql in found if triggers or kind != "trigger"]


def fresh(directory: Path, name: str, statements: list[str]) -> sqlite3.Connection:
    path = directory / f"{name}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    for statement in statements:
        conn.execute(statement)
    return conn


def floor(conn: sqlite3.Connection, batches: list[Rows]) -> None:
    conn.execute("BEGIN")
    conn.executemany(EVENTS, [row[1:5] for batch in batches for row in batch])
    conn.execute("COMMIT")


def per_save(seals: bool) -> Callable[[sqlite3.Connection, list[Rows]], None]:
    def run(conn: sqlite3.Connection, batches: list[Rows]) -> None:
        for batch in batches:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(EVENTS, [row[1:5] for row in batch])
            if seals:
                conn.executemany(SEALS, [(row[0], *row[5:]) for row in batch])
            conn.execute("COMMIT")
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    load = load_average()
    with tempfile.TemporaryDirectory(prefix="ledger-append-parts-") as tmp:
        directory = Path(tmp)
        ledger = directory / "ledger.db"
        own, calls, saved = generated(ledger, args.events)
        batches = saves(ledger)
        events = sum(len(batch) for batch in batches)
        events_only = [s for s in schema(ledger, triggers=False) if "ledger_chain" not in s]
        variants: dict[str, tuple[list[str], Callable[[sqlite3.Connection, list[Rows]], None]]]
        variants = {
            "floor (events table, one commit)": (events_only, floor),
            "events table, a commit per save": (events_only, per_save(seals=False)),
            "+ chain table, a commit per save": (schema(ledger, triggers=False),
                                                 per_save(seals=True)),
            "+ the guards' triggers (the ledger's SQLite work)": (
                schema(ledger, triggers=True), per_save(seals=True)),
        }
        samples: dict[str, list[Sample]] = {name: [] for name in variants}
        for _ in range(args.rounds):
            for name, (statements, run) in variants.items():
                conn = fresh(directory, "replay", statements)
                samples[name].append(timed(partial(run, conn, batches), events))
                conn.close()
    own_wall = own.wall / own.events * 1e6
    print(f"{events:,} events in {len(batches):,} saves ({events / len(batches):.1f} a save); "
          f"load average {load:.1f} at the start; medians of {args.rounds} rounds, µs an event")
    print(f"{'':52} {'wall':>7} {'CPU':>7} {'÷ ledger wall':>14}")
    print(f"{'the generator loop (its choosing, the ledger)':52} {own_wall:7.1f} "
          f"{own.cpu / own.events * 1e6:7.1f} {1:14.2f}")
    calls_wall = calls.wall / calls.events * 1e6
    print(f"{'the ledger (its calls: domain, library, SQLite)':52} {calls_wall:7.1f} "
          f"{calls.cpu / calls.events * 1e6:7.1f} {calls_wall / own_wall:14.2f}")
    saves_wall = saved.wall / saved.events * 1e6
    print(f"{'  of which its commands and reads of state':52} {calls_wall - saves_wall:7.1f} "
          f"{(calls.cpu - saved.cpu) / calls.events * 1e6:7.1f} "
          f"{(calls_wall - saves_wall) / own_wall:14.2f}")
    print(f"{'  of which its saves (library, seals, SQLite)':52} {saves_wall:7.1f} "
          f"{saved.cpu / saved.events * 1e6:7.1f} {saves_wall / own_wall:14.2f}")
    walls = {}
    for name, taken in samples.items():
        wall = walls[name] = statistics.median(s.wall / s.events * 1e6 for s in taken)
        cpu = statistics.median(s.cpu / s.events * 1e6 for s in taken)
        print(f"{name:52} {wall:7.1f} {cpu:7.1f} {wall / own_wall:14.2f}")
    print(budget(calls_wall, saves_wall, *walls.values()))
    return 0


def budget(ledger: float, saves: float, floor_: float, *database: float) -> str:
    """What append at 10 % of the floor leaves for Python, beside what the ledger's Python
    takes now (wall µs an event; the database's share is the last variant's replay)."""
    allowed, work = floor_ * 10, database[-1]
    return (f"\nappend at 10 % of this floor: {allowed:.1f} µs an event in all; the database's "
            f"work for the ledger's rows takes {work:.1f} of it, leaving {allowed - work:.1f} "
            f"for Python.\nThe ledger's Python now: {ledger - work:.1f} (its commands and "
            f"reads {ledger - saves:.1f}, its saves less the database {saves - work:.1f}); "
            f"ratio now {floor_ / ledger:.1%}.")


if __name__ == "__main__":
    sys.exit(main())
