"""Concurrency harness: N writer processes × M commands on one ledger; no event may be lost.

Each writer records progress updates (append-only: a version conflict is
retried, so every one must land) and, every tenth command, a lead change that
depends on the lead it read (a conflict there is reported, not retried). The
harness then counts, per writer, what the writer was told was committed against
what the store holds. Modes: `same` (every writer on the same 8 items) and
`different` (each writer on its own item).

    python scripts/concurrency_harness.py --db sqlite:///tmp/c.db --writers 8 --commands 500
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time
from collections import Counter
from datetime import date
from typing import Any

from ledger.bootstrap import bootstrap
from ledger.domain.errors import ConflictError
from ledger.domain.values import Provenance

PLAN = "load-test"
SHARED_ITEMS = 8
DAY = date(2024, 1, 31)


def prepare(url: str, writers: int) -> None:
    """A fresh ledger with one plan and enough items for both modes."""
    ledger = bootstrap(url, create=True).ledger
    prov = Provenance("harness", DAY, "harness")
    ledger.init(prov)
    ledger.new_plan(PLAN, "Concurrency harness plan", prov)
    ledger.add_theme(PLAN, "1", "Load", "", prov)
    for number in range(1, max(writers, SHARED_ITEMS) + 1):
        ledger.add_item(PLAN, f"1.{number}", "1", f"Item {number}", "", prov)
        ledger.assign_lead(PLAN, f"1.{number}", "Lead 0", prov)
    ledger.close()


def writer(url: str, index: int, commands: int, mode: str, results: Any) -> None:
    """One writer process: returns what it was told was committed."""
    ledger = bootstrap(url).ledger
    who = f"writer-{index}"
    committed: Counter[str] = Counter()
    conflicts = 0
    for n in range(commands):
        number = (f"1.{1 + (n + index) % SHARED_ITEMS}" if mode == "same"
                  else f"1.{index + 1}")
        prov = Provenance(who, DAY, f"harness:{who}:{n}", note=f"command {n}")
        if n % 10 == 9:
            try:
                ledger.assign_lead(PLAN, number, f"Lead {who} {n}", prov)
                committed["lead_changed"] += 1
            except ConflictError:
                conflicts += 1
        else:
            ledger.record_update(PLAN, number, f"update {n} by {who}", "2024-01", prov)
            committed["update_recorded"] += 1
    ledger.close()
    results.put({"writer": who, "committed": dict(committed), "conflicts": conflicts})


def stored_by_writer(url: str) -> dict[str, Counter[str]]:
    """What the store holds, per writer and kind."""
    ledger = bootstrap(url).ledger
    counts: dict[str, Counter[str]] = {}
    for record in ledger.app.iter_stored():
        event = ledger.app.decode(record)
        if event.recorded_by.startswith("writer-"):
            kind = "lead_changed" if "Lead" in type(event).__name__ else "update_recorded"
            counts.setdefault(event.recorded_by, Counter())[kind] += 1
    ledger.close()
    return counts


def run(url: str, writers: int, commands: int, mode: str) -> dict[str, Any]:
    """Run one trial; the result says whether every committed command is stored."""
    prepare(url, writers)
    # Each writer is its own process with its own connections, forked from a server that has
    # imported this harness (and so the ledger) once: spawning made every writer import
    # Python, SQLAlchemy and eventsourcing anew, a second of CPU each that tested nothing.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    results: Any = context.Queue()
    processes = [context.Process(target=writer, args=(url, i, commands, mode, results))
                 for i in range(writers)]
    started = time.perf_counter()
    for process in processes:
        process.start()
    reports = [results.get(timeout=1800) for _ in processes]
    for process in processes:
        process.join()
    elapsed = time.perf_counter() - started
    stored = stored_by_writer(url)
    lost = {r["writer"]: {k: v - stored.get(r["writer"], Counter())[k]
                          for k, v in r["committed"].items()
                          if stored.get(r["writer"], Counter())[k] != v}
            for r in reports}
    lost = {k: v for k, v in lost.items() if v}
    committed = sum(sum(r["committed"].values()) for r in reports)
    return {
        "mode": mode, "writers": writers, "commands_each": commands,
        "committed": committed, "stored": sum(sum(c.values()) for c in stored.values()),
        "updates_committed": sum(r["committed"].get("update_recorded", 0) for r in reports),
        "updates_attempted": writers * (commands - commands // 10),
        "lead_conflicts_reported": sum(r["conflicts"] for r in reports),
        "lost": lost, "exit_codes": [p.exitcode for p in processes],
        "seconds": round(elapsed, 1), "commands_per_second": round(committed / elapsed, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="a fresh database URL")
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--commands", type=int, default=500)
    parser.add_argument("--mode", choices=("same", "different"), default="same")
    args = parser.parse_args(argv)
    result = run(args.db, args.writers, args.commands, args.mode)
    print(json.dumps(result, indent=2))
    ok = (not result["lost"] and result["stored"] == result["committed"]
          and result["updates_committed"] == result["updates_attempted"]
          and set(result["exit_codes"]) == {0})
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
