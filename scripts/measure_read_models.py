"""How fast the read models rebuild against the same-run floor, and what they hold on disk.

On an existing SQLite ledger: `rounds` times, the floor (`scripts/bench.py`'s SELECT of every
stored event and `json.loads` of its state) then a full `Projector.rebuild()`, interleaved;
the medians and their ratio. Then each table's rows and bytes on disk (its pages and its
indexes' pages, from SQLite's `dbstat` virtual table), the read models' total against the
events' (the events table and the hash chain that seals it).

    python scripts/measure_read_models.py --db sqlite:////tmp/big.db --rounds 3
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a file, import its sibling
from ledger.bootstrap import bootstrap
from scripts.bench import floor_select_decode

EVENT_TABLES = ("ledger_events", "ledger_chain")


def rebuild_seconds(url: str) -> tuple[int, float]:
    """One full rebuild of the read models: (events applied, seconds)."""
    services = bootstrap(url)
    try:
        started = time.perf_counter()
        applied = services.projector.rebuild()
        return applied, time.perf_counter() - started
    finally:
        services.close()


def table_sizes(path: str) -> dict[str, dict[str, int]]:
    """Each table's rows and bytes on disk (its own pages and its indexes')."""
    conn = sqlite3.connect(path)
    try:
        owner = dict(conn.execute("SELECT name, tbl_name FROM sqlite_master "
                                  "WHERE type IN ('table', 'index')").fetchall())
        sizes: dict[str, dict[str, int]] = {}
        for name, pages in conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"):
            table = owner.get(name, name)
            sizes.setdefault(table, {"rows": 0, "bytes": 0})["bytes"] += int(pages)
        for table, found in sizes.items():
            if table in owner.values() and not table.startswith("sqlite_"):
                found["rows"] = int(conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])
        return sizes
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="an existing sqlite:/// ledger")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    bootstrap(args.db, create=True).close()  # as `ledger init`: tables of this version
    floors, rebuilds, events = [], [], 0
    for _ in range(args.rounds):
        rows, seconds = floor_select_decode(args.db)
        floors.append(rows / seconds)
        events, seconds = rebuild_seconds(args.db)
        rebuilds.append(events / seconds)
    sizes = table_sizes(args.db.removeprefix("sqlite:///"))
    models = {t: s for t, s in sizes.items() if t.startswith("proj_")}
    event_bytes = sum(sizes.get(t, {"bytes": 0})["bytes"] for t in EVENT_TABLES)
    model_bytes = sum(s["bytes"] for s in models.values())
    model_rows = sum(s["rows"] for s in models.values())
    result: dict[str, Any] = {
        "events": events,
        "rebuild_eps": round(statistics.median(rebuilds)),
        "floor_eps": round(statistics.median(floors)),
        "ratio": round(statistics.median(rebuilds) / statistics.median(floors), 4),
        "rebuild_eps_each": [round(r) for r in rebuilds],
        "floor_eps_each": [round(f) for f in floors],
        "event_bytes": event_bytes,
        "read_model_bytes": model_bytes,
        "read_models_over_events": round(model_bytes / event_bytes, 2),
        "read_model_rows_per_event": round(model_rows / max(events, 1), 2),
        "read_model_bytes_per_event": round(model_bytes / max(events, 1)),
        "tables": dict(sorted(sizes.items())),
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
