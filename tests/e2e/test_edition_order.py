"""Editions imported in any order tell one history: the plan at every month end, the slippage
and the diff between month ends are the same for all six orders of three editions.

Each edition is a statement of the plan at the end of its month, compared on import with the
plan as of that month as known from the others. The orders run on SQLite files (the rule is
the domain's, not the backend's; the reverse order also runs on PostgreSQL below).
"""

from __future__ import annotations

import json
from itertools import pairwise, permutations
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli
from tests.editions import SEPTEMBER, write_november, write_october

pytestmark = pytest.mark.slow

MONTH_ENDS = ("2018-06-30", "2018-07-31", "2018-08-31", "2018-09-30", "2018-10-31",
              "2018-11-30", "2018-12-31")


def editions(directory: Path) -> dict[str, Path]:
    """The real September edition and the October and November ones built from it."""
    return {"09": SEPTEMBER, "10": write_october(directory), "11": write_november(directory)}


def answers(cli: Cli) -> dict[str, Any]:
    """Everything that must not depend on the order: plan at each month end, slippage, diffs."""
    plan = "cgip-2018"
    found: dict[str, Any] = {}
    for day in MONTH_ENDS:
        found[f"plan {day}"] = json.loads(cli("--plan", plan, "plan", "--as-of", day,
                                              "-f", "json"))
    slips = json.loads(cli("--plan", plan, "slippage", "-f", "json"))
    for row in slips:
        for move in row["moves"]:
            del move["recorded_at"]  # when each import ran: the one thing order may change
    found["slippage"] = slips
    for first, second in pairwise(MONTH_ENDS):
        found[f"diff {first} {second}"] = json.loads(cli("--plan", plan, "diff", first, second,
                                                         "-f", "json"))
    return found


def imported(db: str, files: list[Path]) -> Cli:
    """A fresh ledger with the files imported in this order; each again records nothing."""
    cli = Cli(db)
    cli("init")
    for path in files:
        cli("import", str(path))
    for path in files:
        assert "was imported already" in cli("import", str(path)), path
    return cli


def test_six_orders_of_three_editions_give_one_history(tmp_path: Path) -> None:
    """Sep, Oct, Nov in every order: identical plans at every month end, slippage and diffs."""
    files = editions(tmp_path)
    results = {}
    for order in permutations(files):
        db = f"sqlite:///{tmp_path / ('-'.join(order) + '.db')}"
        results[order] = answers(imported(db, [files[m] for m in order]))
    reference = results[("09", "10", "11")]
    for order, found in results.items():
        for key, value in reference.items():
            assert found[key] == value, f"order {order} differs in {key}"


def test_the_order_independent_history_says_what_the_editions_say(tmp_path: Path) -> None:
    """The facts the three editions state, read back: 1.3's review slips Sep -> Nov -> Jan;
    1.2's removed outcome is reported missing; 1.6's lead is the November one."""
    files = editions(tmp_path)
    cli = imported(f"sqlite:///{tmp_path / 'l.db'}", [files["11"], files["09"], files["10"]])
    slips = json.loads(cli("--plan", "cgip-2018", "slippage", "--item", "1.3", "-f", "json"))
    review = next(r for r in slips if r["outcome"].startswith("Complete the constitutional"))
    assert (review["baseline_due"], review["current_due"]) == ("2018-09", "2019-01")
    assert [(m["from"], m["to"], m["effective"]) for m in review["moves"]] == [
        ("2018-09", "2018-11", "2018-10-31"), ("2018-11", "2019-01", "2018-11-30")]
    leads = {day: json.loads(cli("--plan", "cgip-2018", "plan", "--item", "1.6", "--as-of", day,
                                 "-f", "json"))[0]["leads"]
             for day in ("2018-09-30", "2018-10-31", "2018-11-30")}
    assert leads == {"2018-09-30": ["City Solicitor / Deputy Leader"],
                     "2018-10-31": ["Monitoring Officer"], "2018-11-30": ["City Solicitor"]}


@pytest.mark.postgres
def test_editions_backfilled_newest_first_on_postgres(pg_url: str, tmp_path: Path) -> None:
    """Nov, Oct, Sep on PostgreSQL give the answers Sep, Oct, Nov give on SQLite."""
    files = editions(tmp_path)
    backfilled = answers(imported(pg_url, [files["11"], files["10"], files["09"]]))
    in_order = answers(imported(f"sqlite:///{tmp_path / 'l.db'}",
                                [files["09"], files["10"], files["11"]]))
    assert backfilled == in_order
