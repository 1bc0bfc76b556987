"""Projector lag on PostgreSQL while 1, 4 or 8 writer processes append as fast as they can.

`ledger projections run` follows as its own process (the way it is deployed). While the
writers run, this samples every SAMPLE_S: the head, the lowest tracked position, and the lag
in seconds, that is how long ago the oldest unapplied event (the one just after the tracked
position) was recorded: now minus its seal's `witnessed_at`, or, if the seals cannot be read,
minus the first time a sample saw the head pass it (then a lower bound, within SAMPLE_S).
Reports max and p95 over the samples taken while writers ran (from their first stored
event), how long the runner took to catch up once they had finished, and the writers'
combined rate: all their events over the longest writer's own writing time (as
generate_history times it: without process start-up).
"""

from __future__ import annotations

import math
import multiprocessing
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from ledger.bootstrap import bootstrap
from ledger.domain.values import Provenance
from scripts.generate_history import generate

LEDGER = str(Path(sys.executable).with_name("ledger"))
SAMPLE_S = 0.2


def _writer(url: str, events: int, number: int, results: Any) -> None:
    stats = generate(url, events, seed=100 + number, first_plan=1000 * (number + 1))
    results.put((stats.events, stats.seconds))


@dataclass
class _Sampler:
    """Lag samples of one ledger: (seconds since start, head, tracked, lag seconds)."""

    url: str

    def __post_init__(self) -> None:
        self.services = bootstrap(self.url)
        self.seen: list[tuple[float, int]] = []  # (monotonic time, head) as observed
        self.witness = True

    def recorded_at(self, position: int, now: float) -> float:
        """Seconds ago that the event at `position` was recorded."""
        if self.witness:
            try:
                with self.services.projector.app.engine.connect() as conn:
                    at = conn.execute(text("SELECT witnessed_at FROM ledger_chain "
                                           "WHERE position = :p"), {"p": position}).scalar()
                if at is not None:
                    return max(0.0, (datetime.now(UTC)
                                     - datetime.fromisoformat(str(at))).total_seconds())
            except Exception:  # the seals' table changed: observe the head instead
                self.witness = False
        first = next((t for t, head in self.seen if head >= position), now)
        return now - first

    def sample(self) -> tuple[int, int, float]:
        """(head, tracked position, lag seconds) now."""
        projector = self.services.projector
        head, tracked = projector.head(), min(projector.positions().values())
        now = time.monotonic()
        self.seen.append((now, head))
        lag_s = 0.0 if tracked >= head else self.recorded_at(tracked + 1, now)
        return head, tracked, lag_s

    def close(self) -> None:
        self.services.close()


def p95(values: list[float]) -> float:
    """The 95th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)] if ordered else 0.0


def writers_lag(url: str, writers: int, events_each: int) -> dict[str, Any]:
    """`writers` processes appending distinct plans at once with a runner following."""
    ledger = bootstrap(url, create=True).ledger
    ledger.init(Provenance("bench", date(2016, 1, 1), "bench"))
    ledger.close()
    context = multiprocessing.get_context("spawn")
    results: Any = context.Queue()
    runner = subprocess.Popen([LEDGER, "--db", url, "projections", "run"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sampler = _Sampler(url)
    empty = sampler.services.projector.head()
    processes = [context.Process(target=_writer, args=(url, events_each, n, results))
                 for n in range(writers)]
    lags: list[float] = []
    behind: list[int] = []
    started = time.perf_counter()
    try:
        for process in processes:
            process.start()
        while any(process.is_alive() for process in processes):
            head, tracked, lag_s = sampler.sample()
            if head > empty:  # a writer has stored something (they take a while to start)
                lags.append(lag_s)
                behind.append(head - tracked)
            time.sleep(SAMPLE_S)
        elapsed = time.perf_counter() - started
        for process in processes:
            process.join()
        if any(process.exitcode != 0 for process in processes):
            msg = f"a writer failed: exit codes {[p.exitcode for p in processes]}"
            raise RuntimeError(msg)
        written = [results.get(timeout=30) for _ in processes]
        total = sum(events for events, _seconds in written)
        busiest = max(seconds for _events, seconds in written)
        while True:  # until the runner has applied everything
            head, tracked, lag_s = sampler.sample()
            if tracked >= head:
                break
            if runner.poll() is not None:
                msg = f"the projection runner exited ({runner.returncode}) behind the head"
                raise RuntimeError(msg)
            time.sleep(SAMPLE_S)
        caught_up = time.perf_counter() - started - elapsed
    finally:
        runner.terminate()
        runner.wait()
        sampler.close()
    return {"writers": writers, "events": total, "append_eps": total / busiest,
            "seconds": elapsed, "samples": len(lags), "max_lag_s": max(lags, default=0.0),
            "p95_lag_s": p95(lags), "max_behind_events": max(behind, default=0),
            "caught_up_after_s": caught_up,
            "lag_from": "seals' witnessed_at" if sampler.witness else "observed head"}
