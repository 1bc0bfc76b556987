"""Generate a realistic, deterministic history of many plans and their monthly editions.

Plans of 5 themes × 8 items, two outcomes each, a lead each; every month each
open item gets a progress update, some change RAG, some change lead, some
outcomes slip (a few again and again), items complete once due, and now and
then an update is corrected. Written through the ledger's own write path: the
domain aggregates' commands, saved many aggregates per transaction (the bulk
path: one plan-month per save, as an import of that month's edition would).

    python scripts/generate_history.py --events 100000 --db sqlite:///big.db --seed 1
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ParamSpec, TypeVar

from ledger.application.services import Ledger
from ledger.bootstrap import bootstrap
from ledger.domain.errors import ConflictError
from ledger.domain.item import Item
from ledger.domain.plan import Plan
from ledger.domain.state import ItemState
from ledger.domain.values import Provenance, Rag, month_end

P = ParamSpec("P")
T = TypeVar("T")
THEMES, ITEMS_PER_THEME, MONTHS = 5, 8, 24
LEADS = ("Chief Executive", "City Solicitor", "Chief Finance Officer", "HR Director",
         "Assistant Chief Executive", "Director of Place", "Chief Operating Officer")


# The RAG an item may move to from each RAG (never to green, never to the same), in Rag's order.
RAG_AFTER = {before: [r for r in Rag if r.value != before and r is not Rag.GREEN]
             for before in ["", *(r.value for r in Rag)]}


def state_of(item: Item) -> ItemState:
    """The item's state (a read of the ledger's aggregate, timed as the ledger's)."""
    return item.state


def add_months(month: str, count: int) -> str:
    """`YYYY-MM` plus `count` months."""
    index = int(month[:4]) * 12 + int(month[5:7]) - 1 + count
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@dataclass
class Stats:
    """What was generated."""

    events: int = 0
    plans: int = 0
    saves: int = 0
    seconds: float = 0.0
    # Wall and CPU seconds inside the ledger's own calls (commands, reads, saves): the
    # generator's choosing (random draws, texts) is not in them. Kept when clocked.
    ledger_seconds: float = 0.0
    ledger_cpu: float = 0.0
    # Of those, the saves' (the library's save, encoding, sealing and the database's work).
    save_seconds: float = 0.0
    save_cpu: float = 0.0
    kinds: Counter[str] = field(default_factory=Counter)


class Generator:
    """Writes plans month by month until the ledger holds the events asked for."""

    def __init__(self, ledger: Ledger, seed: int, *, clocked: bool = False,
                 first_plan: int = 0) -> None:
        self.ledger, self.rng = ledger, random.Random(seed)  # noqa: S311 - test data
        self.stats, self.clocked = Stats(), clocked
        self.next_plan = first_plan  # plans are numbered on from here
        # Provenances are values: one made per (day, attributed to, note), as an importer
        # makes one per line of a document, so the benchmark times the ledger, not this.
        self.provenances: dict[tuple[date, str, str], Provenance] = {}

    def prov(self, day: date, attributed_to: str = "", note: str = "") -> Provenance:
        key = (day, attributed_to, note)
        made = self.provenances.get(key)
        if made is None:
            if len(self.provenances) > 1_000:
                self.provenances.clear()
            made = self.provenances[key] = Provenance("generator", day, "generator",
                                                      attributed_to, note)
        return made

    def call(self, action: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`action(*args)`: a call into the ledger, timed into the stats when clocked. The
        wall clock is read inside the CPU clock, so the wall time charged to the ledger holds
        the call and one wall-clock read, not the CPU clock's reads (a system call each, about
        0.3 µs here, which the CPU time holds instead)."""
        if not self.clocked:
            return action(*args, **kwargs)
        cpu = time.process_time()
        wall = time.perf_counter()
        try:
            return action(*args, **kwargs)
        finally:
            ended = time.perf_counter()
            self.stats.ledger_cpu += time.process_time() - cpu
            self.stats.ledger_seconds += ended - wall

    def save(self, *aggregates: Any) -> None:
        touched = [a for a in aggregates if a.pending_events]
        kinds = [type(e).__name__ for a in touched for e in a.pending_events]
        stats = self.stats
        wall, cpu = stats.ledger_seconds, stats.ledger_cpu
        self.call(self.ledger.save, *touched)
        stats.save_seconds += stats.ledger_seconds - wall
        stats.save_cpu += stats.ledger_cpu - cpu
        self.stats.kinds.update(kinds)
        self.stats.events += len(kinds)
        self.stats.saves += 1

    def write(self, events: int) -> int:
        """Plans, numbered on from the last, until `events` events are written in all (the
        last plan stops there); how many were."""
        while self.stats.events < events:
            self.plan(self.next_plan, events)
            self.next_plan += 1
        return self.stats.events

    def plan(self, number: int, budget: int) -> None:
        """One plan, from registration through up to MONTHS monthly editions."""
        first = f"{2016 + number % 6}-{1 + number % 12:02d}"
        while True:
            try:
                items = self.register(number, first)
                break
            except ConflictError:  # another writer listed a plan in the catalogue meanwhile
                continue
        rng = self.rng
        chronic = {id(i) for i in items if rng.random() < 0.1}
        for month_number in range(1, MONTHS + 1):
            if self.stats.events >= budget:
                break
            month = add_months(first, month_number)
            self.month(items, month, chronic)
            self.save(*items)
        self.stats.plans += 1

    def register(self, number: int, first: str) -> list[Item]:
        """A new plan with its themes and items, saved with the catalogue in one transaction."""
        rng, slug, day = self.rng, f"council-{number:05d}", month_end(first)
        call = self.call
        plan = call(Plan.register, slug, f"Improvement plan of council {number}", self.prov(day))
        catalogue = call(self.ledger.catalogue)  # fresh: other writers may have listed plans
        call(catalogue.list_plan, slug, self.prov(day))
        items: list[Item] = []
        for theme in range(1, THEMES + 1):
            call(plan.add_theme, str(theme), f"Theme {theme}", "", self.prov(day))
            for index in range(1, ITEMS_PER_THEME + 1):
                code = f"{theme}.{index}"
                call(plan.file_item, code, str(theme), self.prov(day))
                item = call(Item.add, slug, code, str(theme), f"Aim {code} of plan {slug}",
                            "Required actions", self.prov(day))
                for outcome in range(2):
                    due = add_months(first, rng.randint(3, 18))
                    call(item.add_outcome, f"Outcome {outcome + 1} of {code}", due, "",
                         self.prov(day))
                call(item.assign_lead, rng.choice(LEADS), self.prov(day))
                items.append(item)
        self.save(catalogue, plan, *items)
        return items

    def month(self, items: list[Item], month: str, chronic: set[int]) -> None:
        """One monthly edition's changes to a plan's items."""
        rng, day, call = self.rng, month_end(month), self.call
        for item in items:
            state = call(state_of, item)
            if state.complete:
                continue
            lead = state.leads[0]
            call(item.record_update, month, f"Progress on {state.number} in {month}: "
                 + rng.choice(("on track", "delayed by consultation", "report drafted",
                               "awaiting Cabinet")), self.prov(day, lead))
            update = item.version
            if rng.random() < 0.1:
                rag = rng.choice(RAG_AFTER[state.rag])
                call(item.set_rag, rag, self.prov(day, lead))
            if rng.random() < 0.03:
                new = rng.choice([name for name in LEADS if name != lead])
                call(item.assign_lead, new, self.prov(day, note="portfolio change"))
            for outcome in list(state.outcomes.values()):
                due = outcome.due
                if due and due >= month and rng.random() < (0.3 if id(item) in chronic
                                                            else 0.04):
                    call(item.move_target, outcome.number, add_months(due, rng.randint(1, 3)),
                         "", self.prov(day, lead, "dependency late"))
            dues = [o.due for o in state.outcomes.values() if o.due]
            if dues and max(dues) <= month and rng.random() < 0.4:
                call(item.report_completion, month, self.prov(day, lead))
            elif rng.random() < 0.01:
                call(item.correct, update, {"text": f"Corrected progress on {state.number}"},
                     self.prov(day, note="wrong figures"))


def generate(url: str, events: int, seed: int = 1, first_plan: int = 0) -> Stats:
    """At least `events` more events in the ledger at `url` (created if new); plans are
    numbered from `first_plan`, so writers given different numbers never collide."""
    ledger = opened(url)
    generator = Generator(ledger, seed, first_plan=first_plan)
    started = time.perf_counter()
    generator.write(events)
    generator.stats.seconds = time.perf_counter() - started
    ledger.close()
    return generator.stats


def opened(url: str) -> Ledger:
    """The ledger at `url`, created if new and initialised as the generator's writers find
    it (`ledger init` by "generator")."""
    ledger = bootstrap(url, create=True).ledger
    ledger.init(Provenance("generator", date(2016, 1, 1), "generator"))
    return ledger


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, required=True)
    parser.add_argument("--db", required=True, help="a new database URL")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--first-plan", type=int, default=0, help="number plans from here")
    args = parser.parse_args(argv)
    stats = generate(args.db, args.events, args.seed, args.first_plan)
    print(json.dumps({**vars(stats), "events_per_second": round(stats.events / stats.seconds)},
                     indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
