"""Reader of the 2015 action plan answering the Kerslake Review (text extracted from a PDF).

Its five action plans become themes and its numbered actions items `1.1` ..
`5.26`, each with its timescale (as its outcome's target) and responsible
officer (as its lead). The PDF's columns are interleaved, so a field is
taken only where it can be placed with confidence: a timescale on the
action's own line or on the line right after it. The extraction does not keep
the column order within a page (a page's last timescale can belong to an
earlier action), so matching the k-th timescale or officer to the k-th action
would guess; a responsible officer is taken only where it stands on the line
right after the action's timescale, alone. Anything else is recorded as
unknown and listed, never guessed. Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ledger.importers.model import (
    DocumentError,
    Edition,
    ItemDoc,
    LeadBlockDoc,
    OutcomeDoc,
    ThemeDoc,
)
from ledger.importers.text import month_number

KIND = "kerslake-2015"
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
_OFFICE = re.compile(r"\b(?:CEx|CE|Leaders?|Directors?|Officer|officer|Chief|Head|EMT|CMBC|"
                     r"DCLG|SDs|Team|Cabinet|Member)\b")
_OFFICER_WORDS = re.compile(r"^(?:[A-Z(][\w()&'’/-]*|and|&|of|lead|officer|cross-party)$")
_DANGLING = ("of", "and", "&", "Corporate", "Strategic", "lead", "Management", "Group",
             "cross-party", "Service Director")


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
    officer: str = ""


@dataclass
class _Page:
    actions: list[_Action] = field(default_factory=list)
    timescales: list[str] = field(default_factory=list)
    officers: list[str] = field(default_factory=list)


def _is_officer_line(text: str) -> bool:
    words = text.split()
    return (0 < len(words) <= 6 and bool(_OFFICE.search(text))
            and all(_OFFICER_WORDS.match(w) for w in words))


def _officers(lines: list[str]) -> list[str]:
    """Officer entries in page order, joining names broken across lines."""
    entries: list[str] = []
    joinable = False
    for text in lines:
        words = text.split()
        continues = joinable and 0 < len(words) <= 3 and all(_OFFICER_WORDS.match(w) for w in words)
        if continues and entries:
            entries[-1] = f"{entries[-1]} {text}"
        elif _is_officer_line(text):
            entries.append(text)
        else:
            joinable = False
            continue
        joinable = entries[-1].endswith(_DANGLING)
    return entries


@dataclass
class KerslakeReader:
    """Reads the plan page by page."""

    name: str
    themes: list[ThemeDoc] = field(default_factory=list)
    plans: list[list[_Page]] = field(default_factory=list)

    def read(self, lines: list[str]) -> None:
        page: _Page | None = None
        previous_action: _Action | None = None
        body: list[str] = []
        for number, raw in enumerate(lines, 1):
            text = raw.strip()
            if (match := _PLAN.match(raw)) is not None:
                self._close(page, body)
                self._theme(match["n"], lines, number)
                self.plans.append([])
                page, previous_action, body = None, None, []
                continue
            if _PAGE.match(raw) and self.plans:
                self._close(page, body)
                page, previous_action, body = _Page(), None, []
                self.plans[-1].append(page)
                continue
            if page is None:
                continue
            action = _ACTION.match(text)
            expected = len([a for p in self.plans[-1] for a in p.actions]) + 1
            if action and int(action["n"]) == expected:
                previous_action = _Action(expected, action["text"], number)
                if trailing := _TRAILING_TIMESCALE.search(previous_action.text):
                    previous_action.timescale = trailing["t"]
                    previous_action.text = previous_action.text[: trailing.start()].strip()
                    page.timescales.append(trailing["t"])
                page.actions.append(previous_action)
                continue
            if lone := _LONE_TIMESCALE.match(text):
                page.timescales.append(lone["t"])
                if previous_action is not None and previous_action.line == number - 1:
                    previous_action.timescale = lone["t"]
                previous_action = None
                continue
            if previous_action is not None and text and text[0].islower():
                previous_action.text = f"{previous_action.text} {text}"
            elif not text:
                previous_action = None
            body.append(text)
        self._close(page, body)

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

    @staticmethod
    def _close(page: _Page | None, body: list[str]) -> None:
        if page is not None:
            page.officers = _officers(body)

    def edition(self) -> Edition:
        items: list[ItemDoc] = []
        unknowns: list[str] = []
        for theme, pages in zip(self.themes, self.plans, strict=True):
            for page in pages:
                for action in page.actions:
                    items.append(self._item(theme.number, action, unknowns))
        return Edition(KIND, self.name, "Kerslake Review action plan 2015", EDITION_MONTH,
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
        if action.officer:
            item.blocks.append(LeadBlockDoc(action.officer, action.line))
        else:
            unknowns.append(f"action {number} (line {action.line}): responsible officer unknown")
        return item


def parse(text: str, name: str) -> Edition:
    """The action plan a 2015 Kerslake plan text states."""
    reader = KerslakeReader(name)
    reader.read(text.split("\n"))
    counts = tuple(sum(len(p.actions) for p in pages) for pages in reader.plans)
    if not counts:
        raise DocumentError(name, 0, "no ACTION PLAN sections found")
    if counts != EXPECTED_ACTIONS[: len(counts)] or len(counts) != len(EXPECTED_ACTIONS):
        found = ", ".join(str(c) for c in counts)
        raise DocumentError(name, 0, f"found actions per plan ({found}), expected "
                            f"{', '.join(map(str, EXPECTED_ACTIONS))}: the document is truncated "
                            "or not the 2015 action plan")
    return reader.edition()
