"""A later edition built from the real September 2018 edition, with known changes and noise.

The October edition below changes exactly: outcome "Complete the constitutional
review" of item 1.3 slips from September to November 2018; item 1.6's lead
passes from "City Solicitor / Deputy Leader" to "Monitoring Officer"; item
2.1's latest update reports completion; item 7.4 is new (one outcome, one lead,
one update); item 2.2 has a new October update. Everything else differs only
in markup: bold removed, `(September Update)` re-spelled `(Sept Update)`, extra
white space.
"""

from __future__ import annotations

from pathlib import Path

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
SEPTEMBER = SEEDS / "cgip-2018-09-september-update.md"
KERSLAKE = SEEDS / "kerslake-action-plan-2015.txt"

NEW_ITEM_ROW = (
    "| 7.4 | Open data on the plan's progress | Publish the monthly plan as open data "
    "| Plan published as open data <b>(December 2018)</b> "
    "| <b><u>Assistant Chief Executive</u></b><br/>Open data format agreed with the Leader's "
    "office (October Update) |"
)


def _replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) >= 1, f"the September edition no longer has {old!r}"
    return text.replace(old, new, 1)


def october_edition() -> str:
    """The October 2018 edition: the September one with the changes above."""
    lines = SEPTEMBER.read_text(encoding="utf-8").split("\n")
    text = "\n".join(lines)
    text = _replace_once(text, "**September Update 2018**", "**October Update 2018**")
    text = _replace_once(text,
                         "Complete the constitutional review <b>(September 2018)</b>",
                         "Complete the constitutional review <b>(November 2018)</b>")
    row_16 = next(i for i, line in enumerate(lines) if line.startswith("| 1.6 "))
    lines = text.split("\n")
    lines[row_16] = lines[row_16].replace("City Solicitor / Deputy Leader", "Monitoring Officer")
    row_21 = next(i for i, line in enumerate(lines) if line.startswith("| 2.1 "))
    lines[row_21] = lines[row_21].replace("more open and transparent. (September update)</b>",
                                          "more open and transparent. (September update) "
                                          "COMPLETE</b>")
    row_22 = next(i for i, line in enumerate(lines) if line.startswith("| 2.2 "))
    cells = lines[row_22].rstrip().rstrip("|").split("|")
    cells[-1] += "<br><b>Workforce strategy consultation opened with staff (October Update)</b> "
    lines[row_22] = "|".join(cells) + "|"
    row_73 = next(i for i, line in enumerate(lines) if line.startswith("| 7.3 "))
    lines.insert(row_73 + 1, NEW_ITEM_ROW)
    text = "\n".join(lines)
    # Markup-only noise: none of this is a change.
    text = text.replace(
        "<b>Group secretaries have been engaged in the review processes with support from legal "
        "services colleagues (September 2018).</b>",
        "Group secretaries have been engaged  in the review processes with support from legal "
        "services colleagues (September 2018).")
    text = text.replace("(Sept Update)", "(September Update)")
    text = text.replace("On-going programme of member development underway with engagement of LGA "
                        "(September Update).",
                        "On-going programme of member development underway with engagement of "
                        "LGA (Sept Update).")
    return text.replace("<b><u>City Solicitor</u></b>", "<b>City Solicitor</b>")


def write_october(directory: Path) -> Path:
    """The October edition as a file in `directory`."""
    path = directory / "cgip-2018-10-october-update.md"
    path.write_text(october_edition(), encoding="utf-8")
    return path


def november_edition() -> str:
    """The November 2018 edition, built from the October one: outcome "Complete the
    constitutional review" of 1.3 slips again, to January 2019; 1.2's outcome "Actions and
    changes to group leaders meetings effective" is no longer listed; 2.2's October update is
    no longer bold (last month's latest update) and a November update reports it complete;
    item 1.6's lead passes to "City Solicitor"; extra white space throughout."""
    text = october_edition()
    text = _replace_once(text, "**October Update 2018**", "**November Update 2018**")
    text = _replace_once(text, "Complete the constitutional review <b>(November 2018)</b>",
                         "Complete the constitutional review <b>(January 2019)</b>")
    text = _replace_once(text, "<p>Actions and changes to group leaders meetings effective from "
                               "<b>July 2018</b>.</p>", "")
    text = _replace_once(text, "<b>Workforce strategy consultation opened with staff (October "
                               "Update)</b> ",
                         "Workforce strategy consultation opened with staff (October Update)"
                         "<br><b>Workforce strategy agreed by Cabinet (November Update) "
                         "COMPLETE</b> ")
    lines = text.split("\n")
    row_16 = next(i for i, line in enumerate(lines) if line.startswith("| 1.6 "))
    lines[row_16] = lines[row_16].replace("Monitoring Officer", "City Solicitor")
    return "\n".join(line.replace(" | ", "  |  ") if line.startswith("| ") else line
                     for line in lines)


def write_november(directory: Path) -> Path:
    """The November edition as a file in `directory`."""
    path = directory / "cgip-2018-11-november-update.md"
    path.write_text(november_edition(), encoding="utf-8")
    return path

# What importing the September edition into a new ledger records (the import says: "7
# theme_added, 46 item_added, 152 outcome_added, 46 lead_changed, 178 update_recorded, 2
# completed"), with each item also filed in the plan, the plan itself and the edition's record;
# the catalogue's own event makes the head one more.
SEPTEMBER_EVENTS = 480
SEPTEMBER_HEAD = SEPTEMBER_EVENTS + 1
