"""Crash harness: start real `ledger` commands, SIGKILL them at random moments, check the store.

Each run takes a fresh ledger (SQLite file, or a new PostgreSQL database; a copy
of a new ledger, or of one holding the September edition, made once with the CLI),
starts one action in a subprocess (an import of a real seed, a burst of write
commands, or a projection rebuild), kills it with SIGKILL after a random delay,
and then checks that:

- the store opens cleanly (and SQLite's integrity_check says ok);
- `verify` finds the hash chain intact;
- every import is in the store entirely (all the events its edition record counts) or not at all;
- the read models caught up after the crash equal a rebuild from zero.

    python scripts/crash_harness.py --runs 100 --db sqlite            # SQLite files
    python scripts/crash_harness.py --runs 100 --db postgresql://ledger@127.0.0.1:54329/x
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import closing
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select, text

from ledger.application.evidence import verify
from ledger.application.services import Ledger
from ledger.bootstrap import bootstrap
from ledger.domain.events import EditionImported
from projections import schema

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a file
from scripts.throwaway_databases import ThrowawayDatabases

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
LEDGER = str(Path(sys.executable).with_name("ledger"))
ACTIONS = ("import-september", "import-kerslake", "write-burst", "rebuild")


class Databases:
    """Fresh ledgers for each run: SQLite files, or new databases on a PostgreSQL server. A
    run's ledger is a copy of one its set-up made once (a new ledger, or one holding the
    September edition): the set-up is never killed, only the command after it."""

    def __init__(self, spec: str, workdir: Path) -> None:
        self.spec, self.workdir = spec, workdir
        self.server = None if spec == "sqlite" else ThrowawayDatabases(spec, "crash")
        self.prepared: dict[str, str] = {}  # set-up -> SQLite file or PostgreSQL database

    def _new(self, name: str) -> str:
        if self.server is None:
            return f"sqlite:///{self.workdir / f'{name}.db'}"
        return self.server.fresh()

    def fresh(self, run: int, action: str) -> str:
        """A ledger set up for `action`: a copy of the one `setup` made for it."""
        ready = SETUPS[action]
        if ready not in self.prepared:
            url = self._new(f"prepared-{ready}")
            setup(url, ready)
            self.prepared[ready] = (url.removeprefix("sqlite:///") if self.server is None
                                    else url.rsplit("/", 1)[1])
        if self.server is not None:
            return self.server.fresh(template=self.prepared[ready])
        target = self.workdir / f"run-{run}.db"
        with closing(sqlite3.connect(self.prepared[ready])) as source, \
                closing(sqlite3.connect(target)) as copy:
            source.backup(copy)
        return f"sqlite:///{target}"

    def drop_all(self) -> None:
        if self.server is not None:
            self.server.drop_all()


def ledger_cli(url: str, *args: str) -> list[str]:
    return [LEDGER, "--db", url, *args]


# What each action needs before it starts: a new ledger, or one holding the September edition.
SETUPS = {"import-september": "initialised", "import-kerslake": "initialised",
          "write-burst": "september", "rebuild": "september"}


def setup(url: str, ready: str) -> None:
    """Make the ledger at `url` with the real CLI: `init`, and the September import."""
    env = {**os.environ, "LEDGER_ACTOR": "crash-harness"}
    subprocess.run(ledger_cli(url, "init"), check=True, capture_output=True, env=env)
    if ready == "september":
        subprocess.run(ledger_cli(url, "import", str(SEEDS / "cgip-2018-09-september-update.md")),
                       check=True, capture_output=True, env=env)


BURST = 7  # the write burst: `ledger update` on items 1.1 to 1.7, one after another


def command(url: str, action: str, burst: int = BURST) -> list[str]:
    """The shell command a run starts (and kills); a write burst of `burst` commands."""
    if action == "import-september":
        return ledger_cli(url, "import", str(SEEDS / "cgip-2018-09-september-update.md"))
    if action == "import-kerslake":
        return ledger_cli(url, "import", str(SEEDS / "kerslake-action-plan-2015.txt"))
    if action == "rebuild":
        return ledger_cli(url, "projections", "rebuild", "--batch", "50")
    commands = " && ".join(
        " ".join(ledger_cli(url, "update", f"1.{n}", f"'burst update {n}'", "--month",
                            "2018-09"))
        for n in range(1, burst + 1))
    return ["bash", "-c", commands]


def timed(url: str, action: str) -> float:
    """How long the command takes when nothing kills it (kill times are drawn within it). The
    burst's commands are alike (a new process, one update, exit), so its first is timed and
    counted BURST times: timing all seven started seven processes only to time them."""
    parts = BURST if action == "write-burst" else 1
    started = time.perf_counter()
    subprocess.run(command(url, action, burst=1), check=True, capture_output=True)
    return (time.perf_counter() - started) * parts


def import_atomic(ledger: Ledger) -> list[str]:
    """Problems: imports present only in part."""
    problems = []
    per_sha: Counter[str] = Counter()
    editions: dict[str, int] = {}
    for record in ledger.app.iter_stored():
        event = ledger.app.decode(record)
        if "sha256:" in event.source:
            per_sha[event.source.rsplit("sha256:", 1)[1]] += 1
        if isinstance(event, EditionImported):
            editions[event.sha256] = event.events
    for sha, count in per_sha.items():
        if editions.get(sha) != count:
            problems.append(f"import {sha[:12]} is partial: {count} events, its record says "
                            f"{editions.get(sha)}")
    return problems


def read_models(ledger: Ledger) -> dict[str, list[tuple[Any, ...]]]:
    with ledger.app.engine.connect() as conn:
        return {t.name: sorted(tuple(r) for r in conn.execute(select(t)).all())
                for t in (*schema.ALL_READ_TABLES, schema.tracking)}


def check(url: str) -> list[str]:
    """Everything that must hold after a crash."""
    problems: list[str] = []
    if url.startswith("sqlite"):
        with create_engine(url).connect() as conn:
            verdict = conn.execute(text("PRAGMA integrity_check")).scalar()
            if verdict != "ok":
                problems.append(f"sqlite integrity_check: {verdict}")
    services = bootstrap(url)
    ledger = services.ledger
    try:
        chain = verify(ledger.app)
        if not chain.intact:
            problems.append(f"chain: {chain.problem}")
        problems += import_atomic(ledger)
        projector = services.projector
        projector.catch_up()
        caught_up = read_models(ledger)
        projector.rebuild()
        if read_models(ledger) != caught_up:
            problems.append("read models after catch-up differ from a rebuild")
    finally:
        ledger.close()
    return problems


def run(spec: str, runs: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)  # noqa: S311 - reproducible kill times, not secrets
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="ledger-crash-") as workdir:
        databases = Databases(spec, Path(workdir))
        durations: dict[str, float] = {}
        try:
            for number in range(runs):
                action = ACTIONS[number % len(ACTIONS)]
                url = databases.fresh(number, action)
                if action not in durations:  # time one uninterrupted run of the command first
                    durations[action] = timed(databases.fresh(10_000 + number, action), action)
                delay = rng.uniform(0.05, durations[action] * 0.7)
                process = subprocess.Popen(command(url, action), stdout=subprocess.DEVNULL,
                                           stderr=subprocess.DEVNULL, start_new_session=True)
                time.sleep(delay)
                finished = process.poll() is not None
                if not finished:
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                problems = check(url)
                results.append({"run": number, "action": action, "delay": round(delay, 3),
                                "killed": not finished, "problems": problems})
                if url.startswith("sqlite"):
                    Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        finally:
            databases.drop_all()
    killed = sum(1 for r in results if r["killed"])
    failed = [r for r in results if r["problems"]]
    return {"runs": runs, "killed": killed, "finished_before_kill": runs - killed,
            "failed": len(failed), "failures": failed[:10],
            "per_action": dict(Counter(r["action"] for r in results if r["killed"])),
            "seed": seed, "digest": hashlib.sha256(json.dumps(results).encode()).hexdigest()[:12]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite", help="'sqlite', or a PostgreSQL admin URL")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    result = run(args.db, args.runs, args.seed)
    print(json.dumps(result, indent=2))
    return 0 if result["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
