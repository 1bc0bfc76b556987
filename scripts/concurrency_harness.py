"""Concurrency harness: N writer processes × M commands on one ledger; no event may be lost.

Each writer records progress updates (append-only: a version conflict is
retried, so every one must land) and, every tenth command, a lead change that
depends on the lead it read (a conflict there is reported, not retried). The
harness then counts, per writer, what the writer was told was committed against
what the store holds. Modes: `same` (every writer on the same 8 items) and
`different` (each writer on its own item).

    python scripts/concurrency_harness.py --db sqlite:///tmp/c.db --writers 8 --commands 500

With `--follow`, `ledger projections run` follows the writers as its own process and the
harness samples, every SAMPLE seconds, how long the read models took to reach the head it
saw: the lag over time (max and p95 while the writers ran), and how long after the last
writer finished they were caught up.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

from ledger.bootstrap import Services, bootstrap
from ledger.domain.errors import ConflictError
from ledger.domain.values import Provenance

PLAN = "load-test"
SHARED_ITEMS = 8
DAY = date(2024, 1, 31)
SAMPLE = 0.1  # seconds between lag samples


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


class LagSampler:
    """Samples the runner's lag behind the writers: at each sample, the head of the events on
    the primary; the lag of that sample is the time until the read models held it, on the
    primary and (with `replica`) on a streaming replica, where queries read them."""

    def __init__(self, url: str, replica: str | None = None) -> None:
        self.primary = bootstrap(url)
        self.replica = bootstrap(replica, read_only=True) if replica else None
        self.pending: dict[str, list[tuple[float, int]]] = {"": [], "replica_": []}
        self.lags: dict[str, list[float]] = {"": [], "replica_": []}
        self.behind: list[int] = []  # events behind on the primary, at each sample
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def caught_up(self) -> bool:
        """Whether the read models hold every stored event (on the replica too)."""
        head = self.primary.projector.head()
        return all(min(s.projector.positions().values()) >= head for s in self._targets().values())

    def _targets(self) -> dict[str, Services]:
        return {"": self.primary, **({"replica_": self.replica} if self.replica else {})}

    def _sample(self) -> None:
        while not self.stopped.wait(SAMPLE):
            now, head = time.perf_counter(), self.primary.projector.head()
            for name, services in self._targets().items():
                held = min(services.projector.positions().values())
                if not name:
                    self.behind.append(head - held)
                pending = [*self.pending[name], (now, head)]
                self.lags[name] += [now - seen for seen, wanted in pending if wanted <= held]
                self.pending[name] = [(seen, wanted) for seen, wanted in pending if wanted > held]

    def start(self) -> None:
        """Start sampling in a thread."""
        self.thread.start()

    def stop(self) -> dict[str, float]:
        """Stop sampling; the lag's max and p95 (seconds), on the primary and the replica,
        and the most events the primary's read models were behind."""
        self.stopped.set()
        self.thread.join()
        found: dict[str, float] = {"behind_max_events": max(self.behind or [0])}
        for name, services in self._targets().items():
            services.close()
            lags = sorted(self.lags[name]) or [0.0]
            found |= {f"{name}lag_max_s": round(lags[-1], 2),
                      f"{name}lag_p95_s": round(lags[min(len(lags) - 1, int(0.95 * len(lags)))], 2),
                      f"{name}lag_samples": len(lags)}
        return found


def run(url: str, writers: int, commands: int, mode: str, *,
        follow: bool = False, replica: str | None = None) -> dict[str, Any]:
    """Run one trial; the result says whether every committed command is stored (and, with
    `follow`, how far `ledger projections run` fell behind the writers)."""
    prepare(url, writers)
    runner = sampler = None
    if follow:
        runner = subprocess.Popen([str(Path(sys.executable).parent / "ledger"), "--db", url,
                                   "projections", "run", "--poll", "1"],
                                  stdout=subprocess.DEVNULL)
        sampler = LagSampler(url, replica)
        while not sampler.caught_up():  # the prepared plan first
            time.sleep(SAMPLE)
        sampler.start()
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
    for process in processes:
        process.join()
    # a writer that died (an append-only update out of retries) reports nothing: its exit code
    # says so, and waiting for its report would hang the harness
    reports = [results.get(timeout=60) for process in processes if process.exitcode == 0]
    elapsed = time.perf_counter() - started
    following: dict[str, Any] = {}
    if runner is not None and sampler is not None:
        while not sampler.caught_up():
            time.sleep(SAMPLE / 10)
        after = time.perf_counter() - started - elapsed
        following = {**sampler.stop(), "caught_up_after_writers_s": round(after, 2)}
        runner.terminate()
        runner.wait()
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
        **following,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="a fresh database URL")
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--commands", type=int, default=500)
    parser.add_argument("--mode", choices=("same", "different"), default="same")
    parser.add_argument("--follow", action="store_true",
                        help="run `ledger projections run` and measure its lag")
    parser.add_argument("--replica", help="with --follow: a streaming replica of --db, where "
                        "the lag of the read models is measured too")
    args = parser.parse_args(argv)
    result = run(args.db, args.writers, args.commands, args.mode, follow=args.follow,
                 replica=args.replica)
    print(json.dumps(result, indent=2))
    ok = (not result["lost"] and result["stored"] == result["committed"]
          and result["updates_committed"] == result["updates_attempted"]
          and set(result["exit_codes"]) == {0})
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
