"""Reader of a plain structured plan: CSV, one row per item or outcome, for teams and tests.

Columns (header row, any order): `plan, theme, item, aim, outcome, due, lead,
rag`; optional `theme_title`, `actions`, `update`, `update_month`, `complete`
and `edition`. Rows of the same item add outcomes, leads (several separated
by `;`) and updates. Pure.
"""

from __future__ import annotations

import csv
import io

from ledger.domain.errors import InvalidInputError
from ledger.domain.ids import check_item_number, check_slug, check_theme_number
from ledger.domain.values import parse_month, parse_rag
from ledger.importers.model import (
    DocumentError,
    DocumentFormat,
    Edition,
    ItemDoc,
    LeadBlockDoc,
    OutcomeDoc,
    ThemeDoc,
    UpdateDoc,
)

FORMAT = DocumentFormat.STRUCTURED
REQUIRED = ("plan", "theme", "item", "aim")
KNOWN = (*REQUIRED, "outcome", "due", "lead", "rag", "theme_title", "actions", "update",
         "update_month", "complete", "edition")
TRUE_WORDS = {"yes", "y", "true", "1", "complete"}


def looks_like(text: str) -> bool:
    """Whether the first line is a CSV header naming the required columns."""
    header = text.lstrip("\ufeff").split("\n", 1)[0].lower()
    return all(column in header for column in REQUIRED) and "," in header


def _checked(name: str, line: int, check: object, value: str) -> str:
    try:
        result = check(value)  # type: ignore[operator]
    except InvalidInputError as exc:
        raise DocumentError(name, line, str(exc)) from None
    return str(result.value if hasattr(result, "value") else result)


class _Plan:
    def __init__(self, name: str, month: str) -> None:
        self.name, self.month = name, month
        self.slug = ""
        self.themes: dict[str, ThemeDoc] = {}
        self.items: dict[str, ItemDoc] = {}

    def row(self, row: dict[str, str], line: int) -> None:
        cell = {k: (row.get(k) or "").strip() for k in KNOWN}
        if not any(cell.values()):
            return
        for column in REQUIRED:
            if not cell[column]:
                raise DocumentError(self.name, line, f"the {column} column is empty")
        slug = _checked(self.name, line, check_slug, cell["plan"])
        if self.slug and slug != self.slug:
            raise DocumentError(self.name, line, f"plan {slug} in a file of plan {self.slug}: "
                                "one plan per file")
        self.slug = slug
        if cell["edition"]:
            self.month = _checked(self.name, line, parse_month, cell["edition"])
        theme = _checked(self.name, line, check_theme_number, cell["theme"])
        number = _checked(self.name, line, check_item_number, cell["item"])
        self.themes.setdefault(theme, ThemeDoc(theme, cell["theme_title"] or f"Theme {theme}",
                                               "", line))
        item = self.items.get(number)
        if item is None:
            item = self.items[number] = ItemDoc(number, theme, line, cell["aim"], cell["actions"])
        elif item.theme != theme:
            raise DocumentError(self.name, line, f"item {number} is under theme {item.theme} "
                                f"on line {item.line}, theme {theme} here")
        self._details(item, cell, line)

    def _details(self, item: ItemDoc, cell: dict[str, str], line: int) -> None:
        due = _checked(self.name, line, parse_month, cell["due"]) if cell["due"] else ""
        if cell["outcome"] and all(o.text != cell["outcome"] for o in item.outcomes):
            item.outcomes.append(OutcomeDoc(cell["outcome"], due, due, line))
        elif due and not cell["outcome"]:
            raise DocumentError(self.name, line, f"item {item.number}: a due month with no outcome")
        if cell["rag"]:
            item.rag, item.rag_line = _checked(self.name, line, parse_rag, cell["rag"]), line
        for lead in filter(None, (p.strip() for p in cell["lead"].split(";"))):
            if lead not in item.leads:
                item.blocks.append(LeadBlockDoc(lead, line))
        if cell["update"]:
            month = cell["update_month"] or self.month
            if not month:
                raise DocumentError(self.name, line, "an update needs update_month or --edition")
            month = _checked(self.name, line, parse_month, month)
            if not item.blocks:
                item.blocks.append(LeadBlockDoc("", line))
            complete = cell["complete"].lower() in TRUE_WORDS
            block = item.blocks[-1]
            block.updates.append(UpdateDoc(block.lead, month, cell["update"], complete, line))


def parse(text: str, name: str, month: str = "") -> Edition:
    """The plan a structured CSV states."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise DocumentError(name, 1, f"the header lacks {', '.join(missing)} "
                            f"(columns: {', '.join(KNOWN)})")
    reader.fieldnames = header
    plan = _Plan(name, parse_month(month) if month else "")
    try:
        for row in reader:
            if None in row:
                raise DocumentError(name, reader.line_num, "the row has more cells than the header")
            plan.row(row, reader.line_num)
    except csv.Error as exc:
        raise DocumentError(name, reader.line_num, f"not valid CSV: {exc}") from None
    if not plan.items:
        raise DocumentError(name, 0, "no plan rows under the header")
    if not plan.month:
        raise DocumentError(name, 0, "a structured plan needs its month: an edition column "
                            "or --edition YYYY-MM")
    return Edition(FORMAT, name, "", plan.month, list(plan.themes.values()),
                   list(plan.items.values()), plan=plan.slug)
