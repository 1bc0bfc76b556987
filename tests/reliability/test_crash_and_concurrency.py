"""Quick runs of the reliability harnesses on each backend (full runs: docs/RELIABILITY.md)."""

from __future__ import annotations

import os

import pytest

from scripts import concurrency_harness, crash_harness
from tests.conftest import Cli

pytestmark = pytest.mark.slow

QUICK_CRASH_RUNS = 4


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def crash_target(request: pytest.FixtureRequest) -> str:
    """'sqlite', or the PostgreSQL server's admin URL (each run makes its own database)."""
    if request.param == "sqlite":
        return "sqlite"
    url = os.environ.get("LEDGER_TEST_PG_URL", "")
    if not url:
        pytest.fail("LEDGER_TEST_PG_URL is not set: run the tests with scripts/test.sh")
    return url


def test_killed_commands_leave_a_sound_store(crash_target: str) -> None:
    """SIGKILL at random moments: store opens, chain intact, imports all-or-nothing,
    read models caught up equal a rebuild."""
    result = crash_harness.run(crash_target, QUICK_CRASH_RUNS, seed=11)
    assert result["failed"] == 0, result["failures"]
    assert result["killed"] >= 1


@pytest.mark.parametrize("mode", ["same", "different"])
def test_concurrent_writers_lose_nothing(db_url: str, mode: str) -> None:
    """4 writer processes × 40 commands: every committed command is stored; every
    append-only update lands despite conflicts; lead conflicts are reported."""
    result = concurrency_harness.run(db_url, writers=4, commands=40, mode=mode)
    assert result["lost"] == {}
    assert result["stored"] == result["committed"]
    assert result["updates_committed"] == result["updates_attempted"] == 4 * 36
    assert set(result["exit_codes"]) == {0}
    # Every writer chained after the seal before its own: on SQLite the last seal was once read
    # before the write lock was taken, and two writers both chained after it.
    assert Cli(db_url)("verify").startswith("intact: "), "concurrent writers forked the chain"
