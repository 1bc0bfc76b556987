"""Reader of a plain structured plan: CSV, one row per item or outcome, for teams and tests.

Columns (header row, any order): `plan, theme, item, aim, outcome, due, lead,
rag`; optional `theme_title`, `actions`, `update`, `update_month`, `complete`
and `edition`; any other is refused. Rows of the same item add outcomes, leads
(several separated by `;`) and updates; a row that contradicts another (another
aim, another due for the same outcome, another edition) is refused, and so is a
`complete` that is no yes or no word or that comes without its update. An update
without `update_month` is only reported in this edition (its month not stated).
Pure.
"""

from __future__ import annotations

import csv
import io

from ledger.domain.errors import InvalidInputError
from ledger.domain.ids import check_item_number, check_slug, check_theme_number
from ledger.domain.values import parse_month, parse_rag
from ledger.importers.model import (
    REPORTED,
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
FALSE_WORDS = {"", "no", "n", "false", "0"}


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
        self.month_line = 0  # the row whose edition column gave the month
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
            month = _checked(self.name, line, parse_month, cell["edition"])
            if self.month_line and month != self.month:
                raise DocumentError(self.name, line, f"edition {month} here, {self.month} on "
                                    f"line {self.month_line}: one edition per file")
            self.month, self.month_line = month, self.month_line or line
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
        else:
            for column, before in (("aim", item.aim), ("actions", item.actions)):
                if cell[column] and cell[column] != before:
                    raise DocumentError(self.name, line, f"item {number}: another {column} "
                                        f"than on line {item.line}")
        self._details(item, cell, line)

    def _details(self, item: ItemDoc, cell: dict[str, str], line: int) -> None:
        due = _checked(self.name, line, parse_month, cell["due"]) if cell["due"] else ""
        same = next((o for o in item.outcomes if o.text == cell["outcome"]), None)
        if cell["outcome"] and same is None:
            item.outcomes.append(OutcomeDoc(cell["outcome"], due, due, line))
        elif same is not None and due and due != same.due:
            raise DocumentError(self.name, line, f"item {item.number}: outcome "
                                f"{cell['outcome']!r} is due {same.due or 'with no month'} on "
                                f"line {same.line}, {due} here")
        elif due and not cell["outcome"]:
            raise DocumentError(self.name, line, f"item {item.number}: a due month with no outcome")
        if cell["rag"]:
            item.rag, item.rag_line = _checked(self.name, line, parse_rag, cell["rag"]), line
        for lead in filter(None, (p.strip() for p in cell["lead"].split(";"))):
            if lead not in item.leads:
                item.blocks.append(LeadBlockDoc(lead, line))
        word = cell["complete"].lower()
        if word not in TRUE_WORDS | FALSE_WORDS:
            raise DocumentError(self.name, line, f"complete {cell['complete']!r}: use one of "
                                f"{', '.join(sorted(TRUE_WORDS))}, or leave it empty")
        if word in TRUE_WORDS and not cell["update"]:
            raise DocumentError(self.name, line, f"item {item.number}: complete with no "
                                "update: a completion is reported with its update")
        if cell["update"]:
            if not item.blocks:
                item.blocks.append(LeadBlockDoc("", line))
            block = item.blocks[-1]
            if cell["update_month"]:  # stated; without it, only reported in this edition
                month = _checked(self.name, line, parse_month, cell["update_month"])
                block.updates.append(UpdateDoc(block.lead, month, cell["update"],
                                               word in TRUE_WORDS, line))
            else:
                block.updates.append(UpdateDoc(block.lead, "", cell["update"],
                                               word in TRUE_WORDS, line, tagged=False,
                                               basis=REPORTED))


def parse(text: str, name: str, month: str = "") -> Edition:
    """The plan a structured CSV states."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise DocumentError(name, 1, f"the header lacks {', '.join(missing)} "
                            f"(columns: {', '.join(KNOWN)})")
    unknown = [c for c in header if c not in KNOWN]
    if unknown:
        raise DocumentError(name, 1, f"the header names {', '.join(map(repr, unknown))}, which "
                            f"is no column of a structured plan (columns: {', '.join(KNOWN)})")
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
