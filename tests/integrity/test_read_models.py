"""Attacks on the read models (proj_*): every edit is a row the events do not give."""

from __future__ import annotations

import pytest

from tests.integrity.attack import execute, intact, ledger, tampered
from tests.integrity.conftest import HEAD

ITEM = "(plan=cgip-2018, item=1.3)"
EDITS = {
    "items-theme": ("UPDATE proj_items SET theme = '7' WHERE item = '1.3'",
                    f"proj_items {ITEM}: column theme says '7', the events give '1'"),
    "items-row": ("UPDATE proj_items SET row = replace(row, 'review', 'REVIEW') "
                  "WHERE item = '1.3'", f"proj_items {ITEM}: column row says"),
    "changes-by": ("UPDATE proj_changes SET by = 'mallory' WHERE seq = 300",
                   "proj_changes (seq=300): column by says 'mallory'"),
    "changes-deleted": ("DELETE FROM proj_changes WHERE seq = 300",
                        "proj_changes (seq=300): missing from the read model"),
    "changes-inserted": ("INSERT INTO proj_changes SELECT 1000000000, stream, version, "
                         "recorded_at, effective, basis, edition, plan, item, kind, by, db_role, "
                         "attributed_to, "
                         "before, after, source, note, corrects FROM proj_changes "
                         "WHERE seq = 300",
                         "proj_changes (seq=1000000000): a row the events do not give"),
    "item-history": ("UPDATE proj_item_history SET valid_to = '2018-10-02' WHERE item = '1.3' "
                     "AND valid_from = '2018-09-30'",
                     "proj_item_history (plan=cgip-2018, item=1.3, valid_from=2018-09-30): "
                     "column valid_to says '2018-10-02'"),
    "outcomes": ("UPDATE proj_outcomes SET slip_count = 5 WHERE item = '1.3' AND outcome = 2",
                 "proj_outcomes (plan=cgip-2018, item=1.3, outcome=2): column slip_count "
                 "says 5, the events give 0"),
    # month-end snapshots are answered from the item history: its counts of updates per month
    "snapshots": ("UPDATE proj_item_history SET month_updates = '{\"2018-09\": 9}' "
                  "WHERE item = '1.3' AND valid_from = '2018-09-30'",
                  "proj_item_history (plan=cgip-2018, item=1.3, valid_from=2018-09-30): column "
                  "month_updates says"),
    "slips": ("UPDATE proj_item_history SET slips = NULL WHERE item = '1.3'",
              "proj_item_history (plan=cgip-2018, item=1.3, valid_from="),
    "plans": ("UPDATE proj_plans SET title = 'x'", "proj_plans (plan=cgip-2018): column title"),
    "editions": ("UPDATE proj_editions SET row = '{}'", "proj_editions (seq="),
    "streams": ("UPDATE proj_streams SET item = '9.9' WHERE item = '1.3'",
                "column item says '9.9', the events give '1.3'"),
    "tracking-forward": ("UPDATE proj_tracking SET position = 600 WHERE model = 'change_log'",
                         "proj_tracking (model=change_log): column position says 600, the "
                         f"events give {HEAD}"),
    "tracking-all-forward": ("UPDATE proj_tracking SET position = 600",
                             "proj_tracking (model=change_log): column position says 600"),
    "tracking-deleted": ("DELETE FROM proj_tracking WHERE model = 'current_plan'",
                         "proj_tracking (model=current_plan): missing from the read model"),
}


@pytest.mark.parametrize("attack", list(EDITS))
def test_a_read_model_row_edited_by_the_owner_is_named(url: str, attack: str) -> None:
    """The owner edits one read-model row: verify names the table, the row's key and what
    differs (the events themselves are intact)."""
    statement, report = EDITS[attack]
    execute(url, statement)
    assert intact(url, "--events-only")
    found = tampered(url)
    assert found.startswith(report) or (attack == "streams" and report in found), found


TRACKING_BACK = {
    "change-log-back": ("UPDATE proj_tracking SET position = 400 WHERE model = 'change_log'",
                        "proj_tracking (model=change_log): column position says 400"),
    "editions-deleted": ("DELETE FROM proj_tracking WHERE model = 'editions'",
                         "proj_tracking (model=editions): column position says 0"),
}


@pytest.mark.parametrize("attack", list(TRACKING_BACK))
def test_a_log_models_tracking_moved_back_is_found(url: str, attack: str) -> None:
    """The change log's position moved back to 400, or the editions' row deleted: found."""
    execute(url, TRACKING_BACK[attack][0])
    assert tampered(url).startswith("proj_")


@pytest.mark.parametrize("attack", list(TRACKING_BACK))
def test_a_log_models_tracking_moved_back_is_named(url: str, attack: str) -> None:
    """Named on proj_tracking itself (a deleted row reads as position 0), not on the rows
    the model holds beyond it."""
    statement, report = TRACKING_BACK[attack]
    execute(url, statement)
    found = tampered(url)
    assert found.startswith(report), found


def test_a_rebuild_after_an_edit_heals_the_read_models(url: str) -> None:
    """Read models are derived: `projections rebuild` puts an edited row right."""
    execute(url, EDITS["items-theme"][0])
    tampered(url)
    ledger(url, "projections", "rebuild")
    intact(url)
