"""Outcomes and their target months, as a monthly edition writes them.

Targets come bracketed or not: `(September 2018)`, `[July 2018]`, `(July 2018
onwards)`, `(April 2019, 2020 and 2021 trajectory)`, `by October 2018`,
`for April 2019`, or not at all (`Timescales TBA`). Where an outcome names
several months the latest is its target. Its text without dates is its
identity. Pure.
"""

from __future__ import annotations

import re

from ledger.importers.model import OutcomeDoc
from ledger.importers.text import MONTH_SHORT_YEAR, MONTH_YEAR, Segment, month_number

_DATED_GROUP = re.compile(r"\s*[(\[][^()\[\]]*?(?:19|20)\d\d[^()\[\]]*[)\]]")
_DATE_PHRASE = re.compile(
    rf"\s*\b(?:(?:by|in|for|from|during|commencing in|until|to)\s+)?(?:the\s+end\s+of\s+)?"
    rf"(?:{MONTH_YEAR.pattern})(?:\s+onwards)?",
    re.IGNORECASE,
)


def target_of(text: str) -> tuple[str, str]:
    """The target month `YYYY-MM` an outcome's text names (the latest), and how it was written."""
    found: list[tuple[str, str]] = []
    for match in MONTH_YEAR.finditer(text):
        found.append((f"{int(match['year']):04d}-{month_number(match['month']):02d}",
                      match.group(0)))
    for match in MONTH_SHORT_YEAR.finditer(text):
        found.append((f"{2000 + int(match['year']):04d}-{month_number(match['month']):02d}",
                      match.group(0)))
    if not found:
        return "", ""
    due, label = max(found)
    return due, " ".join(label.split())


def without_dates(text: str) -> str:
    """The outcome's words without its target dates."""
    text = _DATED_GROUP.sub("", text)
    text = _DATE_PHRASE.sub("", text)
    text = re.sub(r"\s+([.,;:])", r"\1", text)
    text = re.sub(r"[\s.,;:–-]+$", "", text)
    return " ".join(text.split())


def outcomes_of(units: list[Segment]) -> list[OutcomeDoc]:
    """An outcome for each line of the outcomes cell that has words.

    A line that is only a date (`(July 2018 onwards)` under its outcome) dates
    the outcome above it.
    """
    outcomes: list[OutcomeDoc] = []
    for unit in units:
        due, label = target_of(unit.text)
        text = without_dates(unit.text)
        if not re.search(r"[A-Za-z]{3}", text):
            if due and outcomes and due > outcomes[-1].due:
                last = outcomes[-1]
                outcomes[-1] = OutcomeDoc(last.text, due, label, last.line)
            continue
        outcomes.append(OutcomeDoc(text, due, label, unit.line))
    return outcomes
