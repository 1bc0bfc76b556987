"""Value objects of a plan: months, days, RAG words and the provenance every event carries.

Parsing here is strict: an impossible date or an unknown RAG word raises
`InvalidInputError` naming the value. Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import lru_cache

from ledger.domain.errors import InvalidInputError

_MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")  # ASCII digits: "２０１８-０９" is no month
_DAY = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")
MIN_YEAR, MAX_YEAR = 1900, 2200


class Rag(StrEnum):
    """A RAG status: Red off track, Amber on track, Green complete/evaluated."""

    RED = "red"
    AMBER = "amber"
    GREEN = "green"


def parse_rag(word: str) -> Rag:
    """The RAG status a word names (any case); else an error naming the word."""
    try:
        return Rag(word.strip().lower())
    except ValueError:
        msg = f"{word!r} is not a RAG status: use red, amber or green"
        raise InvalidInputError(msg) from None


def _check_year(year: int, text: str) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        msg = f"{text!r}: year {year} is outside {MIN_YEAR}-{MAX_YEAR}"
        raise InvalidInputError(msg)


@lru_cache(maxsize=4096)  # a few hundred months recur in every edition and every save
def parse_month(text: str) -> str:
    """A month `YYYY-MM`, checked; returned in the same canonical form (a refusal is raised
    again each time: the cache keeps only answers)."""
    match = _MONTH.match(text.strip())
    if not match:
        msg = f"{text!r} is not a month: use YYYY-MM"
        raise InvalidInputError(msg)
    year, month = int(match[1]), int(match[2])
    _check_year(year, text)
    if not 1 <= month <= 12:
        msg = f"{text!r}: there is no month {month}"
        raise InvalidInputError(msg)
    return f"{year:04d}-{month:02d}"


def parse_day(text: str) -> date:
    """A calendar day `YYYY-MM-DD`, checked (2018-02-30 is refused)."""
    match = _DAY.match(text.strip())
    if not match:
        msg = f"{text!r} is not a date: use YYYY-MM-DD"
        raise InvalidInputError(msg)
    year = int(match[1])
    _check_year(year, text)
    try:
        return date(year, int(match[2]), int(match[3]))
    except ValueError as exc:
        msg = f"{text!r} is not a real date: {exc}"
        raise InvalidInputError(msg) from None


def month_of(day: date) -> str:
    """The `YYYY-MM` month a day falls in."""
    return f"{day.year:04d}-{day.month:02d}"


def month_end(month: str) -> date:
    """The last day of a `YYYY-MM` month."""
    year, mon = int(month[:4]), int(month[5:7])
    nxt = date(year + (mon == 12), mon % 12 + 1, 1)
    return date.fromordinal(nxt.toordinal() - 1)


def month_start(month: str) -> date:
    """The first day of a `YYYY-MM` month."""
    return date(int(month[:4]), int(month[5:7]), 1)


def months_between(earlier: str, later: str) -> int:
    """How many months `later` is after `earlier` (negative when before)."""
    return (int(later[:4]) - int(earlier[:4])) * 12 + int(later[5:7]) - int(earlier[5:7])


class Basis(StrEnum):
    """How an effective date is known."""

    STATED = "stated"  # the document gives the month (a tag, a heading, the bold of its month)
    REPORTED = "reported"  # first reported in an edition; the document does not say when
    ENTERED = "entered"  # typed at the command line


@dataclass(frozen=True)
class Provenance:
    """Who, when, why and from where: carried by every event.

    `recorded_by` entered it; `attributed_to` is whose change it is (may be
    empty); `effective` is when it took effect in the world and `basis` how that
    date is known; `source` is the command line or the document (SHA-256 and
    line); `note` is the reason.
    """

    recorded_by: str
    effective: date
    source: str
    attributed_to: str = ""
    note: str = ""
    basis: Basis = Basis.ENTERED
    edition: str = ""  # the month of the edition that reported it ("" for a hand entry)

    def __post_init__(self) -> None:
        if not self.recorded_by.strip():
            msg = "every change needs someone who recorded it (--by)"
            raise InvalidInputError(msg)

    def fields(self) -> dict[str, object]:
        """The provenance as event keyword arguments."""
        return {
            "recorded_by": self.recorded_by,
            "attributed_to": self.attributed_to,
            "effective": self.effective,
            "source": self.source,
            "note": self.note,
            "basis": self.basis.value,
            "edition": self.edition,
        }


@dataclass(frozen=True)
class When:
    """A point in both times: effective `as_of` (a day: what was true in the world) and
    recorded `known_at` (a UTC ISO timestamp: what the ledger knew; None for now)."""

    as_of: date
    known_at: str | None = None
