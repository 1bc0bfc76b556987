"""Attacks on the read models (proj_*): every edit is a row the events do not give."""

from __future__ import annotations

import json

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


# The item history keeps, after an item's first date, only what changed: 1.3's row of
# 2018-08-31 holds its August update alone (the seed's "Consultation has closed for the review
# of Leader / Cabinet Office with agreement from all parties. ..."), 3.2's row of 2018-09-30
# only that outcomes 1 and 3 are delivered.
AUGUST = "Consultation has closed for the review of Leader / Cabinet Office"
FORGED = "Consultation is still open for the review of Leader / Cabinet Office"
PATCH_ROW = "proj_item_history (plan=cgip-2018, item=1.3, valid_from=2018-08-31)"
PATCHES = {
    "update-text": (f"UPDATE proj_item_history SET row_patch = replace(row_patch, '{AUGUST}', "
                    f"'{FORGED}') WHERE item = '1.3' AND valid_from = '2018-08-31'",
                    f"{PATCH_ROW}: column row_patch says"),
    "slips-delivered": ("UPDATE proj_item_history SET slips = replace(slips, 'true', 'false') "
                        "WHERE item = '3.2' AND valid_from = '2018-09-30'",
                        "proj_item_history (plan=cgip-2018, item=3.2, valid_from=2018-09-30): "
                        "column slips says"),
    "middle-row-deleted": ("DELETE FROM proj_item_history WHERE item = '1.3' AND "
                           "valid_from = '2018-08-31'", f"{PATCH_ROW}: missing from the read "
                           "model, though the events give it"),
}


def august_update(url: str) -> str:
    """1.3's latest update text as of 2018-09-15, as `ledger plan --as-of` answers it."""
    _, out = ledger(url, "--plan", "cgip-2018", "plan", "--as-of", "2018-09-15", "--item", "1.3",
                    "--format", "json")
    return str(json.loads(out)[0]["latest_update"]["text"])


@pytest.mark.parametrize("attack", list(PATCHES))
def test_an_edited_or_deleted_patch_row_of_the_item_history_is_named(
        url: str, attack: str) -> None:
    """The owner edits a later, partial history row (1.3's August update text, 3.2's outcomes
    marked undelivered) or deletes 1.3's middle row: verify exits 1 naming the table, the
    row's key and the column (or the missing row); the events are intact."""
    assert august_update(url).startswith(AUGUST)
    statement, report = PATCHES[attack]
    execute(url, statement)
    if attack == "update-text":  # the patch row is what an as-of query answers from
        assert august_update(url).startswith(FORGED)
    assert intact(url, "--events-only")
    found = tampered(url)
    assert found.startswith(report), found
