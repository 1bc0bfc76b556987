"""Append, rebuild, read models on disk, as-of queries and projector lag, against their floors.

Every figure is compared with a floor measured in the same process on the same rows, the two
interleaved (floor, ledger, floor, ledger ...), and reported as a median of at least 5 with
its CPU time (user + system) beside its wall time; each run states the load average at its
start. Nothing asserts a speed: targets are stated as met or not met.

- append: the generated history (scripts/generate_history.py, the ledger's own write path)
  written in --segments equal consecutive segments; after each, the floor inserts the same
  segment's stored rows with the driver's `executemany` into a table of the same shape;
  medians of the segments' rates. The ledger's figure is the time inside its own calls
  (commands, reads, saves), the generator's choosing outside it; the whole loop beside it;
- rebuild: `Projector.rebuild()` --runs times, each after a floor run (the driver's SELECT of
  every state with `json.loads`); at --slice-from events and more, catching up from zero in
  --segments slices (`catch_up(until=...)`) instead, each slice after the floor's same slice;
- read models on disk: bytes of each read-model table with its indexes (SQLite `dbstat`,
  PostgreSQL `pg_total_relation_size`) beside the events table's, and rows per event;
- as-of queries: `plan`/`slippage` latency, replaying the plan from the events, and the CLI;
- projector lag (PostgreSQL): 1, 4 and 8 writers with `ledger projections run` following.

Results are kept per backend and size in docs/benchmarks.json, so a run of some sizes
replaces only their rows; the tables are written into docs/BENCHMARKS.md between the
`bench:begin`/`bench:end` markers (other sections of that file are left as they are).

    python -m scripts.bench                      # 10K, 100K and 1M; SQLite (+ PostgreSQL if
                                                 # LEDGER_BENCH_PG_URL is set); long
    python -m scripts.bench --sizes 10000,100000 # some sizes only
    python -m scripts.bench --quick --no-report  # 10K, as in .ci/run: figures only
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from functools import partial
from importlib.metadata import version
from pathlib import Path
from typing import Any

from eventsourcing.domain import Aggregate
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a file: import siblings

from ledger.application.services import Ledger
from ledger.bootstrap import bootstrap
from ledger.domain.ids import item_id
from ledger.domain.item import Item
from ledger.domain.values import When
from ledger.store.engine import EVENTS_TABLE
from projections.current_plan import item_row
from scripts.bench_lag import writers_lag
from scripts.bench_measure import (
    AppendFloor,
    Sample,
    load_average,
    median_ms,
    rates,
    select_decode,
    stored_rows,
    table_bytes,
    table_rows,
    timed,
    vacuum_full,
)
from scripts.generate_history import Generator, opened
from scripts.report_section import REPORT, write_section
from scripts.throwaway_databases import ThrowawayDatabases

ROOT = Path(__file__).resolve().parents[1]
RESULTS = REPORT.with_name("benchmarks.json")
PLAN = "council-00000"
AS_OF = date(2017, 6, 30)  # mid-history for the first plan (it runs 2016-01 .. 2018-01)
LEDGER_CLI = str(Path(sys.executable).with_name("ledger"))
READ_PREFIX = "proj_"  # the read models' tables (projections/schema.py)
APPEND_TARGET, REBUILD_TARGET, BYTES_TARGET, LAG_TARGET_S = 0.10, 0.07, 2.0, 5.0
TARGET_SIZE = 100_000  # the append and rebuild targets are judged here, on SQLite


def log(record: dict[str, Any]) -> None:
    """One result as a JSON line on stdout (.ci/run shows these)."""
    print(json.dumps(record, default=str), flush=True)


# --- append --------------------------------------------------------------------------


def append(url: str, events: int, segments: int, workdir: Path) -> dict[str, Any]:
    """The history written in equal consecutive segments, each followed by the floor's
    insert of the same segment's stored rows."""
    ledger = opened(url)
    generator = Generator(ledger, seed=1, clocked=True)
    stats = generator.stats
    floor = AppendFloor(url, workdir)
    mine: list[Sample] = []
    loops: list[Sample] = []
    floors: list[Sample] = []
    position = stored_head(url)
    try:
        for segment in range(1, segments + 1):
            budget = events * segment // segments
            before = (stats.events, stats.ledger_seconds, stats.ledger_cpu)
            sample = timed(partial(generator.write, budget))
            count = stats.events - before[0]
            mine.append(Sample(stats.ledger_seconds - before[1], stats.ledger_cpu - before[2],
                               count))
            loops.append(Sample(sample.wall, sample.cpu, count))
            upto = stored_head(url)
            floors.append(floor.segment(stored_rows(url, position, upto)))
            position = upto
    finally:
        floor.close()
        ledger.close()
    return {"events": stored_head(url), "segments": segments,
            "ledger": rates(mine), "loop": rates(loops), "floor": rates(floors)}


def stored_head(url: str) -> int:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        found = conn.execute(text(f"SELECT max(id) FROM {EVENTS_TABLE}")).scalar()
    engine.dispose()
    return int(found or 0)


# --- rebuild -------------------------------------------------------------------------


def rebuild(url: str, runs: int) -> dict[str, Any]:
    """`runs` whole rebuilds, each after a whole floor run."""
    mine: list[Sample] = []
    floors: list[Sample] = []
    for _ in range(runs):
        floors.append(select_decode(url))
        services = bootstrap(url)
        mine.append(timed(services.projector.rebuild))
        services.close()
    return {"how": f"rebuild from zero, {runs} runs", "ledger": rates(mine),
            "floor": rates(floors)}


def sliced_catch_up(url: str, slices: int) -> dict[str, Any]:
    """Catching up from zero in `slices` equal slices (`until=`), each after the floor's
    same slice: the read models are empty after the history is generated."""
    services = bootstrap(url)
    projector = services.projector
    head, start = projector.head(), min(projector.positions().values())
    mine: list[Sample] = []
    floors: list[Sample] = []
    for index in range(1, slices + 1):
        after = start + (head - start) * (index - 1) // slices
        upto = start + (head - start) * index // slices
        floors.append(select_decode(url, after, upto))

        def catch_up(upto: int = upto) -> int:
            return projector.catch_up(until=upto)
        mine.append(timed(catch_up))
    services.close()
    return {"how": f"catch-up from position {start} in {slices} slices", "ledger": rates(mine),
            "floor": rates(floors)}


# --- read models on disk ---------------------------------------------------------------


def disk(url: str, events: int) -> dict[str, Any]:
    """Bytes of the events table and of the read models (each with its indexes), and the
    read models' rows per event."""
    vacuum_full(url, [t for t in table_bytes(url) if t.startswith(READ_PREFIX)])
    sizes = table_bytes(url)
    models = {t: b for t, b in sizes.items() if t.startswith(READ_PREFIX)}
    rows = table_rows(url, models)
    largest = max(models, key=lambda t: models[t]) if models else ""
    return {"events_bytes": sizes.get(EVENTS_TABLE, 0), "read_bytes": sum(models.values()),
            "other_bytes": {t: b for t, b in sizes.items()
                            if t not in models and t != EVENTS_TABLE},
            "read_rows_per_event": sum(rows.values()) / max(events, 1),
            "largest": largest, "largest_bytes": models.get(largest, 0),
            "largest_rows_per_event": rows.get(largest, 0) / max(events, 1)}


# --- as-of queries -----------------------------------------------------------------------


def replay_plan(url: str) -> int:
    """The plan rebuilt by replaying each of its items from the event store (no read models)."""
    app = bootstrap(url).ledger.app
    app.repository.cache = None
    plan = Ledger(app).plan(PLAN)
    for number in plan.items:
        item: Aggregate = app.repository.get(item_id(PLAN, number))
        assert isinstance(item, Item)
        item_row(item.state, AS_OF)
    app.close()
    return 0


def queries(url: str, runs: int) -> dict[str, Any]:
    """Median (wall, CPU) ms of each query, the variants interleaved round by round."""
    services = bootstrap(url)
    reader = services.reader
    mid, now = When(AS_OF), When(date.today())
    env = {**os.environ, "LEDGER_DB": url}
    cli = [LEDGER_CLI, "--plan", PLAN, "plan", "--as-of", AS_OF.isoformat(), "--format", "json"]
    variants: dict[str, Callable[[], Any]] = {
        "plan_as_of": lambda: reader.plan(PLAN, mid),
        "plan_now": lambda: reader.plan(PLAN, now),
        "slippage_as_of": lambda: reader.slippage(PLAN, mid),
        "replay_plan": lambda: replay_plan(url),
        "cli_plan_as_of": lambda: subprocess.run(cli, check=True, capture_output=True, env=env),
    }
    reader.plan(PLAN, mid)  # warm
    samples: dict[str, list[Sample]] = {name: [] for name in variants}
    for _ in range(runs):
        for name, action in variants.items():
            samples[name].append(timed(action))
    services.close()
    return {name: median_ms(kept) for name, kept in samples.items()}


# --- one size on one backend -------------------------------------------------------------


def measure(url: str, events: int, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Append, rebuild (or sliced catch-up), bytes and queries for one history size."""
    result: dict[str, Any] = {"load_at_start": load_average(), "run_at": now()}
    result["append"] = append(url, events, args.segments, workdir)
    size = result["append"]["events"]
    result["events"] = size
    result["rebuild"] = (sliced_catch_up(url, args.segments) if events >= args.slice_from
                         else rebuild(url, args.runs))
    result["disk"] = disk(url, size)
    result["queries"] = queries(url, args.runs)
    result["load_at_end"] = load_average()
    return result


def now() -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())


# --- the report -----------------------------------------------------------------------


def fmt(value: float) -> str:
    return f"{value:,.0f}"


def mb(value: float) -> str:
    return f"{value / 1e6:,.1f}"


def judged(ratio: float, target: float, at_least: bool) -> str:
    met = ratio >= target if at_least else ratio <= target
    return f"{'≥' if at_least else '≤'} {target:.0%} {'met' if met else '**not met**'}"


def rate_table(rows: dict[str, dict[str, Any]], key: str, target: float,
               judge: bool) -> list[str]:
    loop = key == "append"
    lines = ["| events | how | ledger ev/s | ledger CPU µs/ev | floor ev/s | floor CPU µs/ev | "
             "ratio (wall) | ratio (CPU) | target |"
             + (" generator loop ev/s | its ratio (wall) |" if loop else ""),
             "|---|---|---|---|---|---|---|---|---|" + ("---|---|" if loop else "")]
    for size, r in sorted(rows.items(), key=lambda kv: int(kv[0])):
        part = r[key]
        mine, floor = part["ledger"], part["floor"]
        how = (f"{part['segments']} segments" if key == "append" else part["how"])
        ratio = mine["eps"] / floor["eps"]
        cpu_ratio = floor["cpu_us"] / mine["cpu_us"]
        verdict = (judged(ratio, target, at_least=True) if judge and int(size) == TARGET_SIZE
                   else "")
        line = (f"| {fmt(r['events'])} | {how} | {fmt(mine['eps'])} | "
                f"{mine['cpu_us']:.1f} | {fmt(floor['eps'])} | {floor['cpu_us']:.1f} | "
                f"{ratio:.1%} | {cpu_ratio:.1%} | {verdict} |")
        if loop:  # rows measured before the ledger's calls were timed apart: the loop
            whole = part.get("loop")
            line += (f" {fmt(whole['eps'])} | {whole['eps'] / floor['eps']:.1%} |" if whole
                     else " (was the ledger column) | |")
        lines.append(line)
    return lines


def disk_table(results: dict[str, Any]) -> list[str]:
    lines = ["| backend | events | events table MB | read models MB | ÷ events (target ≤ 2×) | "
             "read-model rows per event | largest read model | its MB | its rows per event |",
             "|---|---|---|---|---|---|---|---|---|"]
    for backend in ("sqlite", "postgres"):
        for _size, r in sorted(results.get(backend, {}).items(), key=lambda kv: int(kv[0])):
            d = r["disk"]
            ratio = d["read_bytes"] / max(d["events_bytes"], 1)
            met = "met" if ratio <= BYTES_TARGET else "**not met**"
            lines.append(f"| {backend} | {fmt(r['events'])} | {mb(d['events_bytes'])} | "
                         f"{mb(d['read_bytes'])} | {ratio:.2f}× {met} | "
                         f"{d['read_rows_per_event']:.2f} | `{d['largest']}` | "
                         f"{mb(d['largest_bytes'])} | {d['largest_rows_per_event']:.2f} |")
    return lines


def query_table(rows: dict[str, dict[str, Any]]) -> list[str]:
    names = (("plan_as_of", "`plan --as-of`"), ("plan_now", "`plan` (now)"),
             ("slippage_as_of", "`slippage --as-of`"), ("replay_plan", "replay the plan"),
             ("cli_plan_as_of", "CLI `ledger plan --as-of`"))
    lines = ["| events | " + " | ".join(f"{label} ms (CPU)" for _, label in names)
             + " | replay ÷ as-of |", "|---|" + "---|" * (len(names) + 1)]
    for _size, r in sorted(rows.items(), key=lambda kv: int(kv[0])):
        q = r["queries"]
        cells = [f"{q[n][0]:.1f} ({q[n][1]:.1f})" if n != "cli_plan_as_of"
                 else f"{q[n][0]:.0f} ({q[n][1]:.0f})" for n, _ in names]
        lines.append(f"| {fmt(r['events'])} | " + " | ".join(cells)
                     + f" | {q['replay_plan'][0] / q['plan_as_of'][0]:.0f}× |")
    return lines


def lag_table(rows: dict[str, dict[str, Any]]) -> list[str]:
    lines = ["| writers | events | append ev/s (all writers) | samples | lag max s | lag p95 s | "
             "most events behind | caught up after writers finished | target (lag < 5 s) | "
             "measured |", "|---|---|---|---|---|---|---|---|---|---|"]
    for _n, r in sorted(rows.items(), key=lambda kv: int(kv[0])):
        met = "met" if r["max_lag_s"] < LAG_TARGET_S else "**not met**"
        lines.append(f"| {r['writers']} | {fmt(r['events'])} | {fmt(r['append_eps'])} | "
                     f"{r['samples']} | {r['max_lag_s']:.1f} | {r['p95_lag_s']:.1f} | "
                     f"{fmt(r['max_behind_events'])} | {r['caught_up_after_s']:.1f} s | {met} | "
                     f"{r['run_at']} on `{r.get('code', '?')}`, {load_span(r)} |")
    return lines


def load_span(row: dict[str, Any]) -> str:
    """The load average at a row's start, and at its end where it was recorded."""
    end = row.get("load_at_end")
    return (f"load {row['load_at_start']:.1f}" if end is None
            else f"load {row['load_at_start']:.1f} at the start, {end:.1f} at the end")


def runs_line(rows: dict[str, dict[str, Any]]) -> str:
    return "; ".join(f"{fmt(r['events'])} at {r['run_at']} on commit `{r.get('code', '?')}`, "
                     f"{load_span(r)}"
                     for _s, r in sorted(rows.items(), key=lambda kv: int(kv[0])))


def write_report(results: dict[str, Any]) -> None:
    """The `bench` section of docs/BENCHMARKS.md, from every result kept."""
    machine = results["machine"]
    commands = list(dict.fromkeys(
        str(r.get("command", "?")) for part in ("sqlite", "postgres", "lag")
        for _k, r in sorted(results.get(part, {}).items(), key=lambda kv: int(kv[0]))))
    lines = ["## Append, rebuild, read models and lag, against their floors", "",
             "Written by `scripts/bench.py` from `docs/benchmarks.json` (runs: "
             + "; ".join(f"`{c}`" for c in commands) + f"), on {machine['machine']}"
             f"; Python {machine['python']}, " + ", ".join(
                 f"{p} {v}" for p, v in machine["versions"].items())
             + f", SQLite {machine['sqlite']}"
             + (f", PostgreSQL {machine['postgres']}" if machine.get("postgres") else "")
             + ". The machine is shared (2 cores, other work running): each row says when it "
             "was measured and the one-minute load average at its start.", "",
             "How: each floor runs in the same process as the figure it is compared with, on "
             "the same rows, interleaved with it (ledger segment 1, floor segment 1, ledger "
             "segment 2 …; floor run, rebuild run, floor run …). Figures are medians: of the "
             "segments' rates for append (the history written in equal consecutive segments), "
             "of the runs for rebuild (or of the slices, where the row says so), of the rounds "
             "for queries. CPU is user + system time of the benchmark process (and of the child "
             "processes it waited for): on PostgreSQL the server's own CPU is not in it, and the "
             "throwaway server of `scripts/pg.sh` runs with `fsync=off`, while SQLite syncs as "
             "the ledger does. Append floor: the driver's `executemany` of the segment's stored "
             "rows into a table of the events' shape in one transaction (it neither checks, "
             "folds nor seals; its rows are read before the clock starts). Append, the ledger: "
             "the time inside the ledger's own calls as scripts/generate_history.py makes them "
             "(the domain's commands, its reads of an item's state, the saves, one plan-month "
             "each), each call clocked, wall and CPU, and summed; the generator's own choosing "
             "(random draws, texts, counting) is outside, as the floor's reading of its rows "
             "is. The whole generator loop, choosing included, is in the last two columns "
             "(rows measured before the two were told apart show it in the ledger's). "
             "Rebuild floor: the driver's SELECT of the same stored states "
             "and `json.loads` of each. Ratios are ledger ÷ floor (for CPU, floor CPU per event "
             "÷ ledger CPU per event). Targets (issue 16) are judged at 100K on SQLite. "
             "At 1M a whole rebuild five times over is too costly here, so the rebuild row "
             "there is the read models catching up from empty in 5 equal slices "
             "(`Projector.catch_up(until=...)`, the floor reading the same slice before each): "
             "incremental, each batch re-deriving the items it touched, where a rebuild "
             "derives every item once at its end.", "",
             "To reproduce: `LEDGER_PG_PORT=54370 bash scripts/pg.sh start DIR` prints a "
             "server's URL; `LEDGER_BENCH_PG_URL=URL .venv/bin/python -m scripts.bench "
             "[--sizes N,...] [--skip sqlite,postgres,lag]` measures and rewrites this "
             "section (rows not measured again are kept from `docs/benchmarks.json`); "
             "`bash scripts/pg.sh stop DIR` after.", ""]
    for backend, title in (("sqlite", "SQLite (the embedded default)"),
                           ("postgres", "PostgreSQL")):
        rows = results.get(backend, {})
        if not rows:
            lines += [f"### {title}", "", "Not measured yet.", ""]
            continue
        judge = backend == "sqlite"
        lines += [f"### {title}", "", f"Measured: {runs_line(rows)}.", "",
                  "Append (events per second through the ledger's write path):", "",
                  *rate_table(rows, "append", APPEND_TARGET, judge), "",
                  "Rebuild of every read model (events per second):", "",
                  *rate_table(rows, "rebuild", REBUILD_TARGET, judge), "",
                  "As-of queries, one plan of 40 items whatever the size of the ledger "
                  "(median wall ms, CPU ms in brackets):", "", *query_table(rows), ""]
    lines += ["### Read models on disk", "",
              "Each table with its indexes (SQLite: `dbstat` pages; PostgreSQL: "
              "`pg_total_relation_size`, with TOAST), after the rebuild above. The seals' "
              "table (`ledger_chain`) is the event store's, not a read model, and is counted in "
              "neither column.", "", *disk_table(results), ""]
    lag = results.get("lag", {})
    lines += ["### Projector lag on PostgreSQL", ""]
    if lag:
        first = next(iter(lag.values()))
        lines += ["Each writer is a process appending its own plans through "
                  f"scripts/generate_history.py as fast as it can (about "
                  f"{fmt(first['events'] / first['writers'])} events each), "
                  "`ledger projections run` "
                  "following as its own process. While the writers ran the lag was sampled "
                  "every 0.2 s: how long ago the oldest event not yet applied was recorded ("
                  f"from {first['lag_from']}); max and p95 are over those samples.", "",
                  *lag_table(lag), ""]
    else:
        lines += ["Not measured yet (needs `LEDGER_BENCH_PG_URL`).", ""]
    write_section("bench", lines)


# --- running -----------------------------------------------------------------------------


def machine(pg_admin: str) -> dict[str, Any]:
    found: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
        "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
        "versions": {p: version(p) for p in ("eventsourcing", "eventsourcing-sqlalchemy",
                                             "sqlalchemy", "psycopg")}}
    if pg_admin:
        engine = create_engine(pg_admin.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.connect() as conn:
            found["postgres"] = str(conn.execute(text("SHOW server_version")).scalar())
        engine.dispose()
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10K events, fewer lag events")
    parser.add_argument("--sizes", default="", help="comma-separated event counts")
    parser.add_argument("--runs", type=int, default=5, help="rebuild runs and query rounds")
    parser.add_argument("--segments", type=int, default=5, help="append segments (and slices)")
    parser.add_argument("--slice-from", type=int, default=1_000_000,
                        help="from this size, catch up in slices instead of whole rebuilds")
    parser.add_argument("--lag-events", type=int, default=0,
                        help="events per writer for the lag runs (25,000; 2,500 with --quick)")
    parser.add_argument("--skip", default="", help="comma-separated: sqlite, postgres, lag")
    parser.add_argument("--no-report", action="store_true", help="print, do not write docs")
    args = parser.parse_args(argv)
    if args.runs < 5 or args.segments < 5:
        parser.error("medians need at least 5 runs and 5 segments")
    sizes = ([int(s) for s in args.sizes.split(",")] if args.sizes
             else [10_000] if args.quick else [10_000, 100_000, 1_000_000])
    skip = set(filter(None, args.skip.split(",")))
    pg_admin = os.environ.get("LEDGER_BENCH_PG_URL", "")
    lag_events = args.lag_events or (2_500 if args.quick else 25_000)
    command = ("python -m scripts.bench " + " ".join(argv if argv is not None else sys.argv[1:])
               ).strip() + (" (LEDGER_BENCH_PG_URL set)" if pg_admin else "")
    found = machine(pg_admin)

    def keep(part: str, key: str, row: dict[str, Any]) -> None:
        """Log a result and, unless --no-report, keep it and rewrite the section at once (a
        long run stopped part way keeps what it measured)."""
        log({"backend": part, **row})
        if not args.no_report:
            results = merge(part, key, row, found, command)
            RESULTS.write_text(json.dumps(results, indent=1, default=str) + "\n",
                               encoding="utf-8")
            write_report(results)

    log({"load_at_start": load_average(), "run_at": now(), "sizes": sizes})
    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as tmp:
        workdir = Path(tmp)
        for size in sizes if "sqlite" not in skip else []:
            keep("sqlite", str(size), measure(f"sqlite:///{workdir / f'bench-{size}.db'}",
                                              size, args, workdir))
        if pg_admin:
            server = ThrowawayDatabases(pg_admin, "bench")
            try:
                for size in sizes if "postgres" not in skip else []:
                    keep("postgres", str(size), measure(server.fresh(), size, args, workdir))
                    server.drop_all()
                for writers in (1, 4, 8) if "lag" not in skip else ():
                    started = {"load_at_start": load_average(), "run_at": now()}
                    lagged = writers_lag(server.fresh(), writers, lag_events)
                    keep("lag", str(writers), {**started, **lagged,
                                               "load_at_end": load_average()})
                    server.drop_all()
            finally:
                server.drop_all()
    if not args.no_report:
        print(f"wrote {REPORT} and {RESULTS}")
    return 0


def code() -> str:
    """The commit measured, `+changes` when src/ or projections/ differ from it."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              check=False).stdout.strip()
    changed = git("status", "--porcelain", "--", "src", "projections")
    return (git("rev-parse", "--short", "HEAD") or "?") + ("+changes" if changed else "")


def merge(part: str, key: str, row: dict[str, Any], found: dict[str, Any],
          command: str) -> dict[str, Any]:
    """The kept results with this row replacing its predecessor."""
    kept: dict[str, Any] = (json.loads(RESULTS.read_text(encoding="utf-8"))
                            if RESULTS.exists() else {})
    kept[part] = {**kept.get(part, {}), key: {**row, "command": command, "code": code()}}
    kept["machine"] = {**kept.get("machine", {}), **{k: v for k, v in found.items() if v}}
    return kept


if __name__ == "__main__":
    sys.exit(main())
