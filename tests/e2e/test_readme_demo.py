"""The README's first set-up command, run as a user runs it."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.editions import SEPTEMBER_EVENTS

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_imports_the_real_seeds_and_verifies() -> None:
    """`bash scripts/demo.sh` exits 0, imports both seeds, summarises and verifies the chain."""
    done = subprocess.run(["bash", "scripts/demo.sh"], cwd=ROOT, capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert f"plan cgip-2018: recorded {SEPTEMBER_EVENTS} events" in out
    assert "plan kerslake-2015: recorded 246 events" in out
    assert "bei        2/17" in out  # 3.2 and 4.9 complete, not also 1.10 and 2.6
    assert "intact: 735 events" in out
    assert (ROOT / "demo" / "ledger.db").exists()
