"""Outcomes and their target months, as a monthly edition writes them.

Targets come bracketed or not: `(September 2018)`, `[July 2018]`, `(July 2018
onwards)`, `(April 2019, 2020 and 2021 trajectory)`, `by October 2018`,
`for April 2019`, or not at all (`Timescales TBA`). An outcome's text keeps its
dates ("partners March-June 2018"); its identity leaves them out (`OutcomeDoc.key`),
so a moved date is a target move, not a new outcome.

An outcome that names several months is several milestones, one `OutcomeDoc`
each, in the order written: a range names its first and last month ("March-June
2018" is March and June 2018), a trajectory each year ("April 2019, 2020 and 2021
trajectory" is April 2019, 2020 and 2021), and two dated phrases two milestones
("Draft strategy for May 2018 with final strategy in place for September 2018").
A cell line that only says no update is required is an editorial note, not an
outcome. Pure.
"""

from __future__ import annotations

import calendar
import re

from ledger.importers.model import OutcomeDoc, without_dates
from ledger.importers.text import MONTH, Segment, month_number

_YEAR = r"(?:19|20)\d\d"
# A month (or a range of months) with its year, and any further years of a trajectory.
_MILESTONES = re.compile(
    rf"\b(?:(?P<first>{MONTH})(?:\s*(?P<first_year>{_YEAR}))?\s*(?:-|–|—|to)\s*)?"
    rf"(?P<month>{MONTH})\s*(?P<year>{_YEAR})\b"
    rf"(?P<more>(?:(?:\s*,\s*|\s+and\s+|\s*&\s*){_YEAR}\b)*)",
    re.IGNORECASE,
)
_SHORT = re.compile(rf"\b(?P<month>{MONTH})\s+(?P<year>\d\d)(?=\s*[)\]])", re.IGNORECASE)
# A day before a month and year ("31 September 2018"). (A numeric "2018-19" is how the
# editions write a financial year, not a month: it is left as text.)
_DAY_MONTH = re.compile(rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<month>{MONTH})\s*"
                        rf"(?P<year>{_YEAR})\b", re.IGNORECASE)
_NOT_AN_OUTCOME = re.compile(
    r"^\W*no\s+(?:further\s+)?updates?\s+(?:is\s+)?(?:required|needed)\W*$", re.IGNORECASE)


def milestones_of(text: str) -> list[tuple[str, str]]:
    """Every target month `YYYY-MM` a text names, in the order written, each with how it was
    written; each month once."""
    found: list[tuple[int, str, str]] = []
    for match in _MILESTONES.finditer(text):
        label = " ".join(match.group(0).split())
        month, year = month_number(match["month"]), int(match["year"])
        if match["first"]:
            first_year = int(match["first_year"] or year)
            found.append((match.start(), f"{first_year:04d}-{month_number(match['first']):02d}",
                          label))
        found.append((match.start() + 1, f"{year:04d}-{month:02d}", label))
        for extra in re.findall(_YEAR, match["more"] or ""):
            found.append((match.start() + 2, f"{int(extra):04d}-{month:02d}", label))
    for match in _SHORT.finditer(text):
        due = f"{2000 + int(match['year']):04d}-{month_number(match['month']):02d}"
        found.append((match.start(), due, " ".join(match.group(0).split())))
    result: list[tuple[str, str]] = []
    for _, due, label in sorted(found):
        if due not in (d for d, _ in result):
            result.append((due, label))
    return result


def target_of(text: str) -> tuple[str, str]:
    """The latest target month `YYYY-MM` a text names, and how it was written."""
    found = milestones_of(text)
    return max(found) if found else ("", "")


class ImpossibleDateError(ValueError):
    """A target date no calendar has, at a line of the document (its reader names the file)."""

    def __init__(self, line: int, written: str, problem: str) -> None:
        super().__init__(f"the target {written!r} is {problem}")
        self.line = line


def impossible_date(unit: Segment) -> None:
    """Refuse a target a line writes that is no date, a day its month lacks ("31 September
    2018"), rather than read it as that month."""
    for match in _DAY_MONTH.finditer(unit.text):
        day, month, year = int(match["day"]), month_number(match["month"]), int(match["year"])
        if not 1 <= day <= calendar.monthrange(year, month)[1]:
            raise ImpossibleDateError(unit.line, match.group(0), "a day that month does not have")


def outcomes_of(units: list[Segment]) -> list[OutcomeDoc]:
    """An outcome (one per milestone) for each line of the outcomes cell that has words.

    A line that is only a date (`(July 2018 onwards)` under its outcome) dates
    the outcome above it; a line saying no update is required is no outcome.
    """
    outcomes: list[OutcomeDoc] = []
    for unit in units:
        impossible_date(unit)
        found = milestones_of(unit.text)
        words = without_dates(unit.text)
        if _NOT_AN_OUTCOME.match(unit.text):
            continue
        if not re.search(r"[A-Za-z]{3}", words):
            if found and outcomes and not outcomes[-1].due:
                last = outcomes.pop()
                text = f"{last.text} {unit.text}"
                outcomes.extend(OutcomeDoc(text, due, label, last.line, number)
                                for number, (due, label) in enumerate(found, 1))
            elif found and outcomes and max(found)[0] > outcomes[-1].due:
                last = outcomes[-1]
                due, label = max(found)
                outcomes[-1] = OutcomeDoc(f"{last.text} {unit.text}", due, label, last.line,
                                          last.milestone)
            continue
        if not found:
            outcomes.append(OutcomeDoc(unit.text, "", "", unit.line))
            continue
        outcomes.extend(OutcomeDoc(unit.text, due, label, unit.line, number)
                        for number, (due, label) in enumerate(found, 1))
    return outcomes
