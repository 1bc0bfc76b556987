"""The README's first set-up command, run as a user runs it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.editions import SEPTEMBER_EVENTS, SEPTEMBER_HEAD

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_the_demo_imports_the_real_seeds_and_verifies() -> None:
    """`bash scripts/demo.sh` exits 0, imports both seeds, summarises and verifies the chain."""
    done = subprocess.run(["bash", "scripts/demo.sh"], cwd=ROOT, capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert f"plan cgip-2018: recorded {SEPTEMBER_EVENTS} events" in out
    found = re.search(r"plan kerslake-2015: recorded (\d+) events", out)
    assert found, out[-2000:]
    # 3.2 and 4.9 complete, not also 1.10 and 2.6 (the table's padding is the renderer's)
    assert re.search(r"^bei +2/17 ", out, re.MULTILINE), out[-2000:]
    assert f"intact: {SEPTEMBER_HEAD + int(found[1])} events" in out
    assert (ROOT / "demo" / "ledger.db").exists()
