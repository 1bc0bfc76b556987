"""Reader of the monthly update edition of an improvement plan (markdown tables with HTML).

Themes head each table; items are numbered rows of four cells (aim, actions,
outcomes, lead/RAG). A row with no number continues the item above: tables
break across pages and repeat their headers. Everything after the tables
(other plans' updates, interviews) is narrative, not plan rows. Pure.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field, replace

from ledger.domain.words import identity
from ledger.importers.model import (
    DocumentError,
    DocumentFormat,
    Edition,
    ItemDoc,
    OutcomeDoc,
    ThemeDoc,
)
from ledger.importers.outcomes import ImpossibleDateError, outcomes_of
from ledger.importers.text import MONTH, Segment, month_number, plain, segments
from ledger.importers.updates import LeadCellReader

FORMAT = DocumentFormat.CGIP_MONTHLY
CELLS = 5
_EDITION = re.compile(
    rf"\b(?P<month>{MONTH})\s+(?:update\s+)?(?P<year>(?:19|20)\d\d)(?:\s+update)?\b", re.IGNORECASE,
)
_ITEM_NUMBER = re.compile(r"^\d{1,2}\.\d{1,2}$")
_THEME = re.compile(r"^(?P<number>\d{1,2})\.?\s+(?P<title>[A-Za-z].*)$")
_SEPARATOR = re.compile(r"^\s*:?-+:?\s*$")


def looks_like(text: str) -> bool:
    """Whether a text is a monthly edition: tables whose header names the plan's columns."""
    return "Improvement Aim" in text and "Lead / RAG" in text and "|" in text


def edition_month(lines: list[str]) -> str:
    """The month in the heading ("September Update 2018") as `YYYY-MM`."""
    for line in lines[:30]:
        if "update" in line.lower() and (match := _EDITION.search(plain(line))):
            return f"{int(match['year']):04d}-{month_number(match['month']):02d}"
        if line.startswith("|"):
            return ""
    return ""


def split_row(line: str) -> list[str]:
    """The cells of a markdown table row."""
    inner = line.strip()
    inner = inner.removeprefix("|")
    inner = inner.removesuffix("|")
    return inner.split("|")


@dataclass
class _ItemParts:
    doc: ItemDoc
    aim: list[Segment] = field(default_factory=list)
    actions: list[Segment] = field(default_factory=list)
    outcomes: list[Segment] = field(default_factory=list)
    reader: LeadCellReader | None = None


def _join(parts: list[Segment], row: list[Segment], sub_aim: bool = False) -> None:
    """Append a row's lines; a first line in lower case continues the last line (page break)."""
    if row and parts and row[0].text[:1].islower():
        last = parts.pop()
        row = [replace(last, text=f"{last.text} {row[0].text}",
                       paragraph_end=row[0].paragraph_end), *row[1:]]
    if sub_aim and row:
        row = [replace(row[0], text=f"Sub-aim: {row[0].text}"), *row[1:]]
    parts.extend(row)


@dataclass
class CgipReader:
    """Reads one monthly edition, row by row."""

    name: str
    month: str
    themes: list[ThemeDoc] = field(default_factory=list)
    items: list[_ItemParts] = field(default_factory=list)
    prefaces: set[str] = field(default_factory=set)
    row_in_table: int = 0

    @property
    def theme(self) -> ThemeDoc | None:
        return self.themes[-1] if self.themes else None

    def read_row(self, cells: list[str], line: int) -> None:
        texts = [plain(c) for c in cells]
        if all(_SEPARATOR.match(c) for c in cells if c.strip()) and any(c.strip() for c in cells):
            self.row_in_table = 0
            return
        if not any(texts) or any("Improvement Aim" in t for t in texts):
            return
        if len(cells) != CELLS:
            problem = f"a plan row has {len(cells)} cells, expected {CELLS}"
            raise DocumentError(self.name, line, problem)
        first, rest = texts[0], texts[1:]
        if not any(rest):
            self._read_heading(cells[0], first, line)
            return
        self.row_in_table += 1
        if _ITEM_NUMBER.match(first):
            self._start_item(first, line)
        elif first:
            problem = f"row has no item number (first cell {first[:40]!r})"
            raise DocumentError(self.name, line, problem)
        elif not self._continues(texts, line):
            return
        self._add_cells(cells, line)

    def _read_heading(self, cell: str, text: str, line: int) -> None:
        match = _THEME.match(text)
        if match and "<i>" not in cell.split("<br", maxsplit=1)[0]:
            number = match["number"]
            title = match["title"]
            description = ""
            if "<br" in cell:
                # "<b>1. Title</b><br><i>description</i>": the title, then the description
                head, _, tail = cell.partition("<br")
                if head_match := _THEME.match(plain(head)):
                    title = head_match["title"]
                description = plain(tail.split(">", 1)[1]) if ">" in tail else ""
            if self.theme is None or self.theme.number != number:
                self.themes.append(ThemeDoc(number, title.strip(), description, line))
            elif description and not self.theme.description:
                self.theme.description = description
            return
        theme = self.theme
        if theme is not None and text and identity(text) not in identity(theme.description):
            theme.description = f"{theme.description}\n{text}".strip()

    def _start_item(self, number: str, line: int) -> None:
        if self.theme is None:
            raise DocumentError(self.name, line, f"item {number} comes before any theme heading")
        if number.split(".", maxsplit=1)[0] != self.theme.number:
            raise DocumentError(self.name, line,
                                f"item {number} stands under theme {self.theme.number}")
        if any(p.doc.number == number for p in self.items):
            raise DocumentError(self.name, line, f"item {number} appears twice")
        self.items.append(_ItemParts(ItemDoc(number, self.theme.number, line),
                                     reader=LeadCellReader(self.month)))

    def _continues(self, texts: list[str], line: int) -> bool:
        """Whether an unnumbered row continues the item above (else it is a theme preface)."""
        key = identity(" ".join(texts))
        current = self.items[-1] if self.items else None
        if current is None or self.theme is None or current.doc.theme != self.theme.number:
            if self.theme is None:
                raise DocumentError(self.name, line, "a plan row comes before any theme heading")
            self.prefaces.add(key)
            if identity(texts[3]) not in identity(self.theme.description):
                self.theme.description = f"{self.theme.description}\n{' '.join(texts[1:]).strip()}"
            return False
        return key not in self.prefaces

    def _add_cells(self, cells: list[str], line: int) -> None:
        parts = self.items[-1]
        sub_aim = self.row_in_table > 1 and not _ITEM_NUMBER.match(plain(cells[0])) and bool(
            plain(cells[1]))
        _join(parts.aim, segments(cells[1], line), sub_aim)
        _join(parts.actions, segments(cells[2], line))
        _join(parts.outcomes, segments(cells[3], line))
        assert parts.reader is not None
        parts.reader.read_row(segments(cells[4], line))

    def edition(self, title: str) -> Edition:
        items = []
        for parts in self.items:
            doc = parts.doc
            doc.aim = "\n".join(s.text for s in parts.aim)
            doc.actions = "\n".join(s.text for s in parts.actions)
            try:
                doc.outcomes = _unique(outcomes_of(parts.outcomes))
            except ImpossibleDateError as exc:
                raise DocumentError(self.name, exc.line, f"item {doc.number}: {exc}") from None
            assert parts.reader is not None
            doc.blocks = parts.reader.result()
            for block in doc.blocks:
                for update in block.updates:
                    if update.month > self.month:
                        raise DocumentError(self.name, update.line, (
                            f"item {doc.number}: an update tagged {update.month}, after this "
                            f"{self.month} edition (a month it cannot have reported)"))
            doc.rag, doc.rag_line = parts.reader.rag, parts.reader.rag_line
            items.append(doc)
        _carry_trailing_leads(items)
        return Edition(FORMAT, self.name, title, self.month, self.themes, items)


def _carry_trailing_leads(items: list[ItemDoc]) -> None:
    """A lead heading left at the end of an item's cell, with no update after it, heads the
    next item's first lead block where that block names no lead (the PDF conversion put the
    heading at the foot of the previous row)."""
    for doc, following in itertools.pairwise(items):
        if not doc.blocks or not following.blocks or doc.theme != following.theme:
            continue
        trailing, first = doc.blocks[-1], following.blocks[0]
        if trailing.lead and not trailing.updates and not first.lead:
            doc.blocks.pop()
            first.lead = trailing.lead
            first.updates = [replace(u, lead=trailing.lead) for u in first.updates]


def _unique(outcomes: list[OutcomeDoc]) -> list[OutcomeDoc]:
    """Each outcome once (by its words without dates), the first kept."""
    seen: set[str] = set()
    kept = []
    for outcome in outcomes:
        if outcome.key not in seen:
            seen.add(outcome.key)
            kept.append(outcome)
    return kept


def parse(text: str, name: str, month: str = "") -> Edition:
    """The edition a monthly update document states; `month` overrides its heading."""
    lines = text.split("\n")
    month = month or edition_month(lines)
    if not month:
        raise DocumentError(name, 0, "no edition month in the heading (such as 'September "
                            "Update 2018'): pass --edition YYYY-MM")
    head = [plain(line) for line in lines[:next((i for i, ln in enumerate(lines)
                                                   if ln.lstrip().startswith("|")), 0)]]
    title = " ".join(t for t in head if t and "update" not in t.lower()).title() or name
    reader = CgipReader(name, month)
    seen_table = False
    for number, line in enumerate(lines, 1):
        if line.lstrip().startswith("|"):
            seen_table = True
            if not line.rstrip().endswith("|"):
                raise DocumentError(name, number, "a table row is cut short (no closing |): "
                                    "the document is truncated")
            reader.read_row(split_row(line), number)
        elif seen_table and re.match(r"^#{1,6}\s", line):
            break  # the narrative after the tables
    if not reader.items:
        raise DocumentError(name, 0, "no numbered plan items found")
    return reader.edition(title)
