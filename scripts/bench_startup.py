"""Start-up of every command, beside `python -c "import sqlalchemy"` measured in the same run.

A command's wall time on the real seed ledger (the September 2018 edition and the 2015 plan,
imported into SQLite and caught up), median of --runs, its CPU time beside it, interleaved
round by round with the baseline so that the machine's load falls on both alike. Targets
(issue 16): `plan --as-of D --format json` within 1.5× of the baseline, every other query
within 2×, writes within 2.5×. Writes its section of docs/BENCHMARKS.md.

    python -m scripts.bench_startup               # 10 rounds
    python -m scripts.bench_startup --runs 3 --no-report
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scripts.report_section import write_section

ROOT = Path(__file__).resolve().parents[1]
LEDGER = str(Path(sys.executable).with_name("ledger"))
SEEDS = ROOT.parent / "shared" / "seeds"
BASELINE = (sys.executable, "-c", "import sqlalchemy")
AS_OF = ("plan", "--as-of", "2018-09-30", "--format", "json")
QUERIES: tuple[tuple[str, ...], ...] = (
    AS_OF,
    ("plan", "--format", "json"),
    ("plan", "--known-at", "2099-01-01", "--format", "json"),
    ("snapshots", "--format", "json"),
    ("slippage", "--format", "json"),
    ("changes", "--item", "1.3", "--format", "json"),
    ("summary", "--as-of", "2018-09-30", "--format", "json"),
    ("diff", "2018-08-31", "2018-09-30", "--format", "json"),
    ("editions", "--format", "json"),
    ("log", "--item", "1.3"),
    ("blame", "1.3", "--format", "json"),
    ("history", "1.3", "--format", "json"),
)
WRITES: tuple[tuple[str, ...], ...] = (
    ("update", "1.3", "A progress update for the benchmark.", "--month", "2018-09"),
)
OTHERS: tuple[tuple[str, ...], ...] = (("--help",), ("--version",), ("digest",))


def timed(argv: tuple[str, ...], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one process, which must exit 0."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    assert process.stderr is not None
    error = process.stderr.read().decode()
    process.stderr.close()
    if status != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {error}")
    return wall, usage.ru_utime + usage.ru_stime


def seed_ledger(directory: Path) -> dict[str, str]:
    """The environment of a SQLite ledger holding the seeds, read models caught up."""
    env = {**os.environ, "LEDGER_DB": f"sqlite:///{directory / 'seeds.db'}",
           "LEDGER_PLAN": "cgip-2018", "LEDGER_ACTOR": "bench", "COLUMNS": "100"}
    for args in (("init",),
                 ("import", str(SEEDS / "cgip-2018-09-september-update.md")),
                 ("--plan", "kerslake-2015", "import",
                  str(SEEDS / "kerslake-action-plan-2015.txt")),
                 ("projections", "run", "--until-caught-up")):
        subprocess.run([LEDGER, *args], env=env, check=True, capture_output=True)
    return env


def measure(runs: int) -> dict[str, object]:
    """Medians per command and for the baseline, the rounds interleaved."""
    load = os.getloadavg()[0]
    commands = (*QUERIES, *OTHERS, *WRITES)  # writes last: each round's queries see no lag
    walls: dict[tuple[str, ...], list[float]] = {c: [] for c in (BASELINE, *commands)}
    cpus: dict[tuple[str, ...], list[float]] = {c: [] for c in walls}
    with tempfile.TemporaryDirectory(prefix="ledger-startup-") as tmp:
        env = seed_ledger(Path(tmp))
        for _ in range(runs):
            for command in (BASELINE, *commands):
                argv = command if command is BASELINE else (LEDGER, *command)
                wall, cpu = timed(argv, env)
                walls[command].append(wall)
                cpus[command].append(cpu)
            timed((LEDGER, "projections", "run", "--until-caught-up"), env)
    base = statistics.median(walls[BASELINE])
    rows = []
    for command in commands:
        kind = ("as-of query" if command == AS_OF else "query" if command in QUERIES
                else "write" if command in WRITES else "other")
        target = {"as-of query": 1.5, "query": 2.0, "write": 2.5}.get(kind)
        wall = statistics.median(walls[command])
        rows.append({"command": "ledger " + " ".join(command), "kind": kind,
                     "wall_ms": wall * 1000, "cpu_ms": statistics.median(cpus[command]) * 1000,
                     "ratio": wall / base, "target": target})
    return {"load": load, "runs": runs, "baseline_ms": base * 1000,
            "baseline_cpu_ms": statistics.median(cpus[BASELINE]) * 1000, "rows": rows}


def write_report(result: dict[str, object], command: str) -> None:
    rows = result["rows"]
    assert isinstance(rows, list)
    lines = ["## CLI start-up of every command", "",
             f"`{command}`: each command's wall time (median of {result['runs']} rounds; CPU "
             "time, user + system, beside it) on the seed ledger (SQLite), each round "
             "interleaved with the baseline `python -c \"import sqlalchemy\"` "
             f"({result['baseline_ms']:.0f} ms wall, {result['baseline_cpu_ms']:.0f} ms CPU). "
             f"Load average at the start: {result['load']:.1f} (2 cores).", "",
             "| command | wall ms | CPU ms | ÷ baseline | target |", "|---|---|---|---|---|"]
    for r in rows:
        met = "" if r["target"] is None else (
            f"≤ {r['target']}× {'met' if r['ratio'] <= r['target'] else '**not met**'}")
        lines.append(f"| `{r['command']}` | {r['wall_ms']:.0f} | {r['cpu_ms']:.0f} | "
                     f"{r['ratio']:.2f}× | {met} |")
    write_section("bench_startup", lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--no-report", action="store_true", help="print, do not write docs")
    args = parser.parse_args(argv)
    result = measure(args.runs)
    print(json.dumps(result, indent=1))
    if not args.no_report:
        write_report(result, "python -m scripts.bench_startup"
                     + (f" --runs {args.runs}" if args.runs != 10 else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
