"""Long output through a pager on a terminal, as `git log` does; never into a pipe."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

from tests.conftest import Cli
from tests.editions import SEPTEMBER

LEDGER = str(Path(sys.executable).parent / "ledger")


def on_a_terminal(args: list[str], env: dict[str, str]) -> str:
    """Run `args` with stdin and stdout on a pseudo-terminal; what reached the terminal."""
    main, side = pty.openpty()
    done = subprocess.Popen(args, stdin=side, stdout=side, stderr=side, env=env)
    os.close(side)
    seen = b""
    while True:
        ready, _, _ = select.select([main], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the terminal closed: every writer has gone
            break
        if not chunk:
            break
        seen += chunk
    done.wait(timeout=60)
    os.close(main)
    return seen.decode("utf-8", "replace")


def test_long_output_on_a_terminal_goes_through_the_pager(cli: Cli, tmp_path: Path) -> None:
    """`ledger changes` (the September edition's 433 changes) on a 24-line terminal runs
    $PAGER with LESS=FRX; the same command into a pipe never does."""
    cli("import", str(SEPTEMBER), "--by", "improvement.team")
    paged = tmp_path / "paged.txt"
    pager = tmp_path / "pager.sh"
    pager.write_text(f'#!/bin/sh\necho "LESS=$LESS" > {paged}\ncat >> {paged}\n')
    pager.chmod(0o755)
    env = {"PATH": "/usr/bin:/bin", "PAGER": str(pager), "LINES": "24", "COLUMNS": "100",
           "LEDGER_DB": cli.db}
    on_a_terminal([LEDGER, "--plan", "cgip-2018", "changes"], env)
    lines = paged.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "LESS=FRX"
    assert lines[1].split() == ["seq", "ref", "effective", "days_late", "kind", "by", "before",
                                "after", "note"]
    assert len(lines) > 433
    paged.unlink()
    piped = subprocess.run([LEDGER, "--plan", "cgip-2018", "changes"], env=env,
                           capture_output=True, text=True, check=True, timeout=60)
    assert not paged.exists()
    assert piped.stdout.splitlines()[0].split()[:2] == ["seq", "ref"]
    short = on_a_terminal([LEDGER, "--plan", "cgip-2018", "editions"], env)
    assert not paged.exists()  # three lines: written directly
    assert "2018-09" in short
