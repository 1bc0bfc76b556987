"""Peak memory and time of `ledger verify` at several ledger sizes, measured with /usr/bin/time -v.

Generates a realistic history at each size (scripts/generate_history.py), brings the read
models up to date, then runs `ledger verify --events-only` (the chain) and `ledger verify`
(the chain and the read models derived afresh and compared) as their own processes.

    python scripts/verify_memory.py --sizes 10000,100000,1000000
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a file, import its sibling
from ledger.bootstrap import bootstrap
from scripts.generate_history import generate

LEDGER = str(Path(sys.executable).with_name("ledger"))
RSS = re.compile(r"Maximum resident set size \(kbytes\): (\d+)")


def measured(url: str, *args: str) -> dict[str, Any]:
    """Wall time and peak resident memory of one `ledger` command."""
    started = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-v", LEDGER, "--db", url, *args],
                          capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        msg = f"ledger {' '.join(args)} failed: {done.stderr[-500:]}"
        raise RuntimeError(msg)
    match = RSS.search(done.stderr)
    assert match, done.stderr[-500:]
    return {"seconds": round(seconds, 1), "peak_mb": round(int(match[1]) / 1024, 1),
            "said": done.stdout.strip()[:120]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ledger-verify-mem-") as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            url = f"sqlite:///{Path(tmp) / f'v{size}.db'}"
            stats = generate(url, size, seed=1)
            with bootstrap(url) as services:
                services.projector.catch_up()
            row = {"events": stats.events,
                   "verify_events_only": measured(url, "verify", "--events-only"),
                   "verify_with_read_models": measured(url, "verify")}
            print(json.dumps(row), flush=True)
            Path(url.removeprefix("sqlite:///")).unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
