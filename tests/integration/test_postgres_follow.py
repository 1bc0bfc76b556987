"""On PostgreSQL, `ledger projections run` is woken by the writers' NOTIFY, not by its poll."""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Cli

LEDGER = str(Path(sys.executable).parent / "ledger")
GUARD = 120  # seconds: only so that a broken runner fails instead of hanging the suite


def _next_line(runner: subprocess.Popen[str]) -> str:
    """The runner's next line on stderr."""
    assert runner.stderr is not None
    with selectors.DefaultSelector() as selector:
        selector.register(runner.stderr, selectors.EVENT_READ)
        assert selector.select(GUARD), "the runner said nothing"
    return runner.stderr.readline()


@pytest.mark.postgres
def test_postgres_runner_is_woken_by_notify_not_by_its_poll(pg_url: str) -> None:
    """With a 10-minute poll, an update recorded while the runner waits is applied at once,
    and the runner says a NOTIFY woke it; a read-only query then shows the update."""
    cli = Cli(pg_url)
    cli("init")
    cli("new-plan", "housing-2024", "--title", "Housing improvement plan")
    cli("add-theme", "1", "Repairs")
    cli("add-item", "1.1", "--theme", "1", "--aim", "Repairs done right first time")
    runner = subprocess.Popen(
        [LEDGER, "--db", pg_url, "projections", "run", "--poll", "600", "--verbose"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "LEDGER_ACTOR": "tester"})
    try:
        assert _next_line(runner).endswith("(woken by start)\n")
        cli("update", "1.1", "Backlog at 900 jobs", "--month", "2024-03",
            "--effective", "2024-03-31")
        said = _next_line(runner)
        assert said.startswith("applied 1 events to position ")
        assert said.endswith("(woken by notify)\n")
    finally:
        runner.terminate()
        runner.wait()
    shown = json.loads(cli("--read-only", "plan", "--item", "1.1", "--as-of", "2024-03-31",
                           "--format", "json"))
    assert shown[0]["latest_update"]["text"] == "Backlog at 900 jobs"
