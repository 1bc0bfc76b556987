"""What a plan document says, as plain facts: an `Edition` of themes and items.

Every fact keeps the line it came from, so each recorded event can cite its
source. Importers produce editions; the application compares an edition
with the ledger and records what changed. Pure.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

from ledger.domain.errors import InvalidInputError
from ledger.domain.words import identity, update_identity
from ledger.importers.text import MONTH


class DocumentFormat(enum.StrEnum):
    """The formats of plan document the ledger reads; each value is its name on the command line."""

    CGIP_MONTHLY = "cgip-monthly"  # the monthly update edition (markdown tables with HTML)
    KERSLAKE_2015 = "kerslake-2015"  # the 2015 action plan (text extracted from a PDF)
    STRUCTURED = "structured"  # a CSV plan, one row per item or outcome


class DocumentError(InvalidInputError):
    """A document the ledger cannot read: names the file, the line and the problem."""

    def __init__(self, name: str, line: int, problem: str) -> None:
        self.name, self.line, self.problem = name, line, problem
        where = f"{name}:{line}" if line else name
        super().__init__(f"{where}: {problem}")


STATED = "stated"  # the document gives the month: a tag, a heading, or bold (the edition's month)
REPORTED = "reported"  # the document gives no month: the fact is first reported in this edition
ON_ITS_LINE = "on its line"  # a value read on its row's own line
LINE_AFTER = "line after"  # a value standing alone on the line after its row
PAGE_ORDER = "page order"  # a value placed by its order among the page's values of its column


@dataclass(frozen=True)
class UpdateDoc:
    """A progress update in a lead block: its month, text, and whether it reports completion.

    `month` is "" where the document does not state it; `basis` says how it is known:
    STATED (a month tag or heading, or bold: "Latest Update in Bold" makes an untagged
    bold update the edition's own) or REPORTED (plain untagged text, older than the bold
    update and of unknown month: only first reported in this edition). `tagged` is
    whether a tag or heading gives the month (bold alone does not).
    """

    lead: str
    month: str
    text: str
    complete: bool
    line: int
    tagged: bool = True
    basis: str = STATED

    @property
    def key(self) -> str:
        """Identity: the same month and words (tag and markup aside) is the same update,
        whichever lead block it now stands under."""
        return f"{self.month}|{update_identity(self.text)}"

    @property
    def words_key(self) -> str:
        """Identity without the month: an untagged update repeated in a later edition."""
        return update_identity(self.text)


@dataclass
class LeadBlockDoc:
    """A lead's name (possibly empty, where the document gives none) and its updates.

    A joint block (two lead lines before one set of updates, or "A / B" on one line)
    is one block named "A / B": its updates are the pair's, not the last name's.
    `placed` says how the lead was read where that is not plain (see kerslake).
    """

    lead: str
    line: int
    updates: list[UpdateDoc] = field(default_factory=list)
    placed: str = ON_ITS_LINE

    def latest(self) -> UpdateDoc | None:
        """The update for the latest month (the last written, within a month); an update
        of unknown month is older than any dated one."""
        best: UpdateDoc | None = None
        for update in self.updates:
            if best is None or (update.month or "") >= (best.month or ""):
                best = update
        return best


_MONTH_WORD = MONTH
_YEAR = r"(?:19|20)\d\d"
_DATED_GROUP = re.compile(r"\s*[(\[][^()\[\]]*?(?:19|20)\d\d[^()\[\]]*[)\]]")
_RANGE = rf"{_MONTH_WORD}(?:\s*{_YEAR})?\s*(?:-|–|—|to|and|&)\s*"
_DATE_PHRASE = re.compile(
    rf"\s*\b(?:(?:by|in|for|from|during|commencing in|until|to)\s+)?(?:the\s+end\s+of\s+)?"
    rf"(?:{_RANGE})?{_MONTH_WORD}\s*{_YEAR}(?:(?:\s*,\s*|\s+and\s+){_YEAR})*"
    rf"(?:\s+(?:onwards|trajectory))?",
    re.IGNORECASE,
)
_SHORT_DATE = re.compile(rf"\s*[(\[]\s*{_MONTH_WORD}\s+\d\d\s*[)\]]", re.IGNORECASE)


def without_dates(text: str) -> str:
    """An outcome's words without its target dates: what survives a moved date."""
    text = _DATED_GROUP.sub("", text)
    text = _SHORT_DATE.sub("", text)
    text = _DATE_PHRASE.sub("", text)
    text = re.sub(r"\s+([.,;:])", r"\1", text)
    text = re.sub(r"[\s.,;:–-]+$", "", text)
    return " ".join(text.split())


def outcome_key(text: str, milestone: int = 1) -> str:
    """An outcome's identity: its words without dates, and which of its milestones
    (the first is the outcome's own key; the second adds "#2", and so on)."""
    base = identity(without_dates(text))
    return base if milestone <= 1 else f"{base}#{milestone}"


@dataclass(frozen=True)
class OutcomeDoc:
    """An outcome as written (dates kept), one target month and how it was written.

    An outcome naming several months ("April 2019, 2020 and 2021 trajectory", "for May
    2018 with final strategy in place for September 2018") is one OutcomeDoc per month
    (its milestones, numbered from 1 in the order written), each with the full text.
    `placed` says how the target was read (see kerslake).
    """

    text: str
    due: str
    due_label: str
    line: int
    milestone: int = 1
    placed: str = ON_ITS_LINE

    @property
    def key(self) -> str:
        """Identity: the words without dates (a moved date is a target move, not a new
        outcome), and the milestone's number after the first."""
        return outcome_key(self.text, self.milestone)


@dataclass
class ItemDoc:
    """A numbered item as the document states it."""

    number: str
    theme: str
    line: int
    aim: str = ""
    actions: str = ""
    outcomes: list[OutcomeDoc] = field(default_factory=list)
    blocks: list[LeadBlockDoc] = field(default_factory=list)
    rag: str = ""
    rag_line: int = 0

    @property
    def leads(self) -> list[str]:
        """The named leads, in order, each once."""
        names: list[str] = []
        for block in self.blocks:
            if block.lead and block.lead not in names:
                names.append(block.lead)
        return names

    @property
    def complete(self) -> bool:
        """Complete when each lead block (that has updates) is: its latest update says so, and
        no other update of that month in the block still reports work in progress."""
        blocks = [b for b in self.blocks if b.updates]
        return bool(blocks) and all(_block_complete(b) for b in blocks)

    def completion_month(self) -> str:
        """The month the item became complete (the latest stated month of the completing
        updates); "" when it is not complete or no completing update states its month."""
        if not self.complete:
            return ""
        months = [u.month for b in self.blocks if b.updates
                  if (u := b.latest()) is not None and u.month]
        return max(months, default="")


def _block_complete(block: LeadBlockDoc) -> bool:
    latest = block.latest()
    if latest is None or not latest.complete:
        return False
    return all(u.complete for u in block.updates if u.month == latest.month)


@dataclass
class ThemeDoc:
    """A theme: number, title and description."""

    number: str
    title: str
    description: str
    line: int


@dataclass
class Edition:
    """One document's statement of a plan: what it says, and what could not be read.

    `title` is only ever the plan's title ("" where the document gives none, as a
    CSV does); `plan` is the plan's slug where the document names one (a CSV's
    plan column), else "".
    """

    format: DocumentFormat
    name: str
    title: str
    month: str
    themes: list[ThemeDoc] = field(default_factory=list)
    items: list[ItemDoc] = field(default_factory=list)
    unknowns: list[str] = field(default_factory=list)
    plan: str = ""

    def earliest_month(self) -> str:
        """The earliest month the document gives evidence of (its earliest stated update month)."""
        months = [u.month for i in self.items for b in i.blocks for u in b.updates
                  if u.tagged and u.basis == STATED and u.month]
        return min(months, default=self.month)
