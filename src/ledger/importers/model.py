"""What a plan document says, as plain facts: an `Edition` of themes and items.

Every fact keeps the line it came from, so each recorded event can cite its
source. Importers produce editions; the application compares an edition
with the ledger and records what changed. Pure.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from ledger.domain.errors import InvalidInputError
from ledger.domain.words import identity, update_identity


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


@dataclass(frozen=True)
class UpdateDoc:
    """A progress update in a lead block: its month, text, and whether it reports completion."""

    lead: str
    month: str
    text: str
    complete: bool
    line: int
    tagged: bool = True

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
    """A lead's name (possibly empty, where the document gives none) and its updates."""

    lead: str
    line: int
    updates: list[UpdateDoc] = field(default_factory=list)

    def latest(self) -> UpdateDoc | None:
        """The update for the latest month (the last written, within a month)."""
        best: UpdateDoc | None = None
        for update in self.updates:
            if best is None or update.month >= best.month:
                best = update
        return best


@dataclass(frozen=True)
class OutcomeDoc:
    """An outcome: text without its dates (its identity), target month and how it was written."""

    text: str
    due: str
    due_label: str
    line: int

    @property
    def key(self) -> str:
        """Identity: the outcome's words without its dates."""
        return identity(self.text)


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

    def completion_month(self) -> str:
        """The month the item became complete: when every lead block's latest update says so."""
        latest = [b.latest() for b in self.blocks if b.updates]
        if not latest or not all(u is not None and u.complete for u in latest):
            return ""
        return max(u.month for u in latest if u is not None)


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
        """The earliest month the document gives evidence of (its earliest update tag)."""
        months = [u.month for i in self.items for b in i.blocks for u in b.updates if u.tagged]
        return min(months, default=self.month)
