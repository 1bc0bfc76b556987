"""Reader of the 2015 action plan answering the Kerslake Review (text extracted from a PDF).

Its five action plans become themes and its numbered actions items `1.1` ..
`5.26`; an action's timescale becomes its one outcome's target. The PDF's
columns are interleaved and the extraction does not keep their order within a
page (a page's last timescale can belong to an earlier action), so matching
the k-th timescale to the k-th action would guess. A timescale is taken only
where it stands on the action's own line or alone on the line right after it.
The responsible officer column cannot be placed at all: no lead is recorded,
and every action's officer, like every unplaced timescale, is listed as
unknown, never guessed. Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ledger.importers.model import (
    DocumentError,
    DocumentFormat,
    Edition,
    ItemDoc,
    OutcomeDoc,
    ThemeDoc,
)
from ledger.importers.text import month_number

FORMAT = DocumentFormat.KERSLAKE_2015
EDITION_MONTH = "2015-01"  # the plan was agreed in January 2015 (its first timescales)
EXPECTED_ACTIONS = (27, 29, 16, 14, 26)
_PLAN = re.compile(r"^\s*ACTION PLAN (?P<n>\d)\.\s*$")
_PAGE = re.compile(r"^\s*ACTION PLAN 2015\s*$")
_ACTION = re.compile(r"^(?P<n>\d{1,2}) (?P<text>[A-Z].*)$")
_MONTHLY = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-\d\d"
_SEASONAL = r"(?:Spring|Summer|Autumn|Winter) \d\d"
_TIMESCALE = rf"(?:{_MONTHLY}|{_SEASONAL}|TBC|Ongoing)"
_LONE_TIMESCALE = re.compile(rf"^\s*(?P<t>{_TIMESCALE})\s*$")
_TRAILING_TIMESCALE = re.compile(rf"\s(?P<t>{_TIMESCALE})\s*$")
# A season ends in its last month: Spring Mar-May, Summer Jun-Aug, Autumn Sep-Nov, Winter Dec-Feb.
_SEASON_END = {"Spring": (5, 0), "Summer": (8, 0), "Autumn": (11, 0), "Winter": (2, 1)}


def looks_like(text: str) -> bool:
    """Whether a text is the 2015 action plan: numbered ACTION PLAN sections with timescales."""
    return "ACTION PLAN 1." in text and "Timescale" in text and "Kerslake" in text


def due_of(timescale: str) -> str:
    """The month a timescale is due: `Feb-15` that month; a season its last month; else ""."""
    if match := re.fullmatch(r"(\w{3})-(\d\d)", timescale):
        return f"20{match[2]}-{month_number(match[1]):02d}"
    if match := re.fullmatch(r"(Spring|Summer|Autumn|Winter) (\d\d)", timescale):
        month, carry = _SEASON_END[match[1]]
        return f"{2000 + int(match[2]) + carry:04d}-{month:02d}"
    return ""


@dataclass
class _Action:
    number: int
    text: str
    line: int
    timescale: str = ""


@dataclass
class KerslakeReader:
    """Reads the plan line by line; its actions are read only on the plan's pages."""

    name: str
    themes: list[ThemeDoc] = field(default_factory=list)
    plans: list[list[_Action]] = field(default_factory=list)

    def read(self, lines: list[str]) -> None:
        on_page = False
        previous_action: _Action | None = None
        for number, raw in enumerate(lines, 1):
            text = raw.strip()
            if (match := _PLAN.match(raw)) is not None:
                self._theme(match["n"], lines, number)
                self.plans.append([])
                on_page, previous_action = False, None
                continue
            if _PAGE.match(raw) and self.plans:
                on_page, previous_action = True, None
                continue
            if not on_page:
                continue
            actions = self.plans[-1]
            action = _ACTION.match(text)
            if action and int(action["n"]) == len(actions) + 1:
                previous_action = _Action(len(actions) + 1, action["text"], number)
                if trailing := _TRAILING_TIMESCALE.search(previous_action.text):
                    previous_action.timescale = trailing["t"]
                    previous_action.text = previous_action.text[: trailing.start()].strip()
                actions.append(previous_action)
                continue
            if lone := _LONE_TIMESCALE.match(text):
                if previous_action is not None and previous_action.line == number - 1:
                    previous_action.timescale = lone["t"]
                previous_action = None
                continue
            if previous_action is not None and text and text[0].islower():
                previous_action.text = f"{previous_action.text} {text}"
            elif not text:
                previous_action = None

    def _theme(self, number: str, lines: list[str], at: int) -> None:
        window = [line.strip() for line in lines[at:at + 40]]
        start = window.index("Sub theme") + 1 if "Sub theme" in window else 0
        heads = [w for w in window[start:] if w][:2]
        title = heads[0] if heads else f"Action plan {number}"
        sub_theme = heads[1] if len(heads) > 1 else ""
        refs = ""
        if "Kerslake reference" in window:
            index = window.index("Kerslake reference")
            refs = next((w for w in window[index + 1:] if w), "")
        description = f"Sub-theme: {sub_theme}. Kerslake references: {refs}"
        self.themes.append(ThemeDoc(number, title, description, at))

    def edition(self) -> Edition:
        items: list[ItemDoc] = []
        unknowns: list[str] = []
        for theme, actions in zip(self.themes, self.plans, strict=True):
            for action in actions:
                items.append(self._item(theme.number, action, unknowns))
        return Edition(FORMAT, self.name, "Kerslake Review action plan 2015", EDITION_MONTH,
                       self.themes, items, unknowns)

    @staticmethod
    def _item(theme: str, action: _Action, unknowns: list[str]) -> ItemDoc:
        number = f"{theme}.{action.number}"
        item = ItemDoc(number, theme, action.line, aim=action.text, actions=action.text)
        if action.timescale:
            item.outcomes.append(OutcomeDoc(f"Action {number} delivered",
                                            due_of(action.timescale), action.timescale,
                                            action.line))
        else:
            unknowns.append(f"action {number} (line {action.line}): timescale unknown")
        unknowns.append(f"action {number} (line {action.line}): responsible officer unknown")
        return item


def parse(text: str, name: str) -> Edition:
    """The action plan a 2015 Kerslake plan text states."""
    reader = KerslakeReader(name)
    reader.read(text.split("\n"))
    counts = tuple(len(actions) for actions in reader.plans)
    if not counts:
        raise DocumentError(name, 0, "no ACTION PLAN sections found")
    if counts != EXPECTED_ACTIONS[: len(counts)] or len(counts) != len(EXPECTED_ACTIONS):
        found = ", ".join(str(c) for c in counts)
        raise DocumentError(name, 0, f"found actions per plan ({found}), expected "
                            f"{', '.join(map(str, EXPECTED_ACTIONS))}: the document is truncated "
                            "or not the 2015 action plan")
    return reader.edition()
