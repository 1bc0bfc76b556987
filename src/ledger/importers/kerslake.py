"""Reader of the 2015 action plan answering the Kerslake Review (text extracted from a PDF).

Its five action plans become themes and its numbered actions items `1.1` ..
`5.26`; the three unnumbered "In line with 6 above" sub-actions under 4.6 are
items `4.6a`, `4.6b`, `4.6c`. An action's timescale becomes its one outcome's
target, its responsible officer its lead (one lead block, no updates). Pure.

The PDF's columns are interleaved, one page at a time: the extraction prints a
page's actions, timescales, measures and responsible officers in blocks, but
keeps each column's values in the actions' order on most pages. So a page is
read as a whole:

- A timescale standing on an action's own line is that action's ("on its line").
- Where a page has as many timescales (officers) as actions, the rest are placed
  by page order ("page order"): each value attaches to the run of actions it
  follows (the actions since the previous value); a run given more values than
  it has actions passes its last ones to the nearest earlier run still short
  (the page-end surplus fills an earlier short run), or, if none is, to the next
  short run. Page 2 of plan 1 shows why runs and not pure order: its last two
  timescales (`Mar-15`, `Mar-16`) follow action 20, and `Mar-16` belongs to the
  short run 12-16 ("Full implementation ..."), not to 20.
- Where the counts differ, only values on an action's own line are placed; the
  others are listed as unknown, never guessed. Officers never stand on an
  action's line, so on those pages (plan 2 pages 2-3, plan 5) no officer is placed.

Officer names run over two lines ("Director of Corporate" / "Finance"): they
are joined before counting. A lone `TBC` closing a page whose timescales
outnumber its actions by exactly those lines stands in the Responsible column
(printed last), so it is the officer, not a timescale (plan 4, actions 13-14).

Seasons are due in their last month: Spring `Mar-May`, Summer `Jun-Aug`,
Autumn `Sep-Nov`. "Winter 15" is the winter of 2015/16 (December 2015 to
February 2016) and is due in February 2016, its last month: a target set for a
season is met if done by its end, so a slip is not reported before then.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ledger.importers.model import (
    ON_ITS_LINE,
    PAGE_ORDER,
    DocumentError,
    DocumentFormat,
    Edition,
    ItemDoc,
    LeadBlockDoc,
    OutcomeDoc,
    ThemeDoc,
)
from ledger.importers.text import month_number

FORMAT = DocumentFormat.KERSLAKE_2015
EDITION_MONTH = "2015-01"  # the plan was agreed in January 2015 (its first timescales)
EXPECTED_ACTIONS = (27, 29, 16, 14, 26)  # numbered actions; 4.6a-c come on top
_PLAN = re.compile(r"^\s*ACTION PLAN (?P<n>\d)\.\s*$")
_PAGE = re.compile(r"^\s*ACTION PLAN 2015\s*$")
_ACTION = re.compile(r"^(?P<n>\d{1,2}) (?P<text>[A-Z].*)$")
_SUB_ACTION = re.compile(r"^In line with (?P<n>\d{1,2}) above, ")
_MONTHLY = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-\d\d"
_SEASONAL = r"(?:Spring|Summer|Autumn|Winter) \d\d"
_TIMESCALE = rf"(?:{_MONTHLY}|{_SEASONAL}|TBC|Ongoing)"
_LONE_TIMESCALE = re.compile(rf"^(?P<t>{_TIMESCALE})$")
_TRAILING_TIMESCALE = re.compile(rf"\s(?P<t>{_TIMESCALE})$")
# A season ends in its last month: Spring Mar-May, Summer Jun-Aug, Autumn Sep-Nov, Winter Dec-Feb.
_SEASON_END = {"Spring": (5, 0), "Summer": (8, 0), "Autumn": (11, 0), "Winter": (2, 1)}
# The Responsible column's names, as the plan spells them (after joining their lines).
_OFFICERS = (
    "Director Legal Services", "Director Delivery", "Director of Corporate Finance",
    "Director of Corporate Finance and SDs", "CEx", "CEx & Leader", "CEx and Leader",
    "CEx & Strategic Directors", "CEx and Strategic Directors", "CEx and Director Delivery",
    "CEx, Strategic Directors and Director Delivery", "CEx and DCLG lead officer",
    "Leader", "Leader and CEx", "Leader and Group Leaders", "Group Leaders",
    "Group Leaders and CEx", "Chief Executive", "Chief Executive pro tem", "Head of Strategy",
    "Executive Management Team (EMT)", "Strategic Directors", "Strategic Director People",
    "Service Director Devolution", "CMBC and cross-party Governance Review Group",
    "City Partnership", "City Partnership Group",
)
# Lines continuing an action that the lower-case rule cannot find: where the action and
# measure columns alternate line by line (plan 4), read by hand. Offsets from the action's line.
_CONTINUED = {
    "4.1": (2,), "4.3": (3, 5), "4.6": (2, 4), "4.6a": (2,), "4.6b": (2,), "4.6c": (2,),
    "4.7": (3, 4), "4.8": (3,), "4.9": (3,), "4.10": (2,),
}
# Words an action's line cannot end on: the next line continues it, whatever its first letter.
_DANGLING = {"a", "and", "existing", "for", "in", "Leader's", "of", "the", "to", "with"}


def _continues(action: str, line: str) -> bool:
    """Whether `line`, right after an action's last line, continues its text."""
    return line[0].islower() or action.rsplit(maxsplit=1)[-1] in _DANGLING


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
    number: str
    text: str
    line: int
    timescale: str = ""
    timescale_placed: str = ""
    officer: str = ""
    officer_line: int = 0
    officer_placed: str = ""


@dataclass(frozen=True)
class _Value:
    """A timescale or an officer: its text and the (first) line it stands on."""

    text: str
    line: int


@dataclass
class _Page:
    plan: int
    lines: list[tuple[int, str]] = field(default_factory=list)
    actions: list[_Action] = field(default_factory=list)


@dataclass
class _Run:
    actions: list[_Action]
    values: list[_Value] = field(default_factory=list)

    @property
    def short(self) -> int:
        return len(self.actions) - len(self.values)


def officer_at(lines: list[str], index: int) -> tuple[str, int]:
    """The officer named at `lines[index]` (joined with the next line where the name runs
    over), and how many lines it takes; ("", 0) when the line names none."""
    text = lines[index]
    if text in _OFFICERS and not (index + 1 < len(lines)
                                  and f"{text} {lines[index + 1]}" in _OFFICERS):
        return text, 1
    if index + 2 < len(lines):  # "CMBC and cross-party" / "Governance Review" / "Group"
        joined = " ".join(lines[index:index + 3])
        if joined in _OFFICERS:
            return joined, 3
    if index + 1 < len(lines):
        joined = f"{text} {lines[index + 1]}"
        if joined in _OFFICERS:
            return joined, 2
        for name in _OFFICERS:  # "CEx and Director" / "... Kerslake Review Delivery"
            rest = name[len(text) + 1:]
            if name.startswith(f"{text} ") and lines[index + 1].endswith(f" {rest}"):
                return name, 1
    for name in _OFFICERS:  # a measure line ending in a name: "... savings Director Delivery"
        if " " in name and text.endswith(f" {name}") and text[0].isupper():
            return name, 1
    return "", 0


def _runs(actions: list[_Action], values: list[_Value]) -> tuple[list[_Value], list[_Run]]:
    """The values standing before the page's first action, and each run of actions with
    the values that follow it."""
    leading: list[_Value] = []
    runs: list[_Run] = []
    events = sorted([(a.line, 0, a) for a in actions] + [(v.line, 1, v) for v in values],
                    key=lambda e: (e[0], e[1]))
    for _, kind, thing in events:
        if isinstance(thing, _Action):
            if not runs or runs[-1].values:
                runs.append(_Run([]))
            runs[-1].actions.append(thing)
        elif kind and runs:
            runs[-1].values.append(thing)
        else:
            leading.append(thing)
    return leading, runs


def by_page_order(actions: list[_Action], values: list[_Value]) -> list[_Value]:
    """The value of each action (as many as actions): each run of actions takes the
    values that follow it; a run's surplus (its last values) fills the nearest earlier
    short run, else the next short run."""
    pending, runs = _runs(actions, values)
    for index, run in enumerate(runs):
        if run.short > 0 and pending:
            take, pending = pending[:run.short], pending[run.short:]
            run.values = take + run.values
        if run.short >= 0:
            continue
        extra = -run.short
        surplus, run.values = run.values[-extra:], run.values[:-extra]
        for earlier in reversed(runs[:index]):
            if earlier.short > 0 and surplus:
                need = min(earlier.short, len(surplus))
                earlier.values += surplus[-need:]
                surplus = surplus[:-need]
        pending += surplus
    return [value for run in runs for value in run.values]


@dataclass
class KerslakeReader:
    """Reads the plan page by page; its actions are read only on the plan's pages."""

    name: str
    themes: list[ThemeDoc] = field(default_factory=list)
    pages: list[_Page] = field(default_factory=list)
    unknowns: list[str] = field(default_factory=list)

    def read(self, lines: list[str]) -> None:
        plan = 0
        for number, raw in enumerate(lines, 1):
            text = raw.strip()
            if (match := _PLAN.match(raw)) is not None:
                plan = int(match["n"])
                self._theme(match["n"], lines, number)
                continue
            if not plan:
                continue
            new_page = _PAGE.match(raw) or (  # plan 5's second page has only its heading
                raw.startswith(" ") and text.isupper() and self.pages
                and self.pages[-1].plan == plan)
            if new_page:
                self.pages.append(_Page(plan))
            elif self.pages and self.pages[-1].plan == plan:
                self.pages[-1].lines.append((number, text))
        for page in self.pages:
            self._actions(page)
            self._place(page)

    def _actions(self, page: _Page) -> None:
        done = sum(len(p.actions) for p in self.pages if p.plan == page.plan and p is not page)
        numbered = done - sum(1 for p in self.pages if p.plan == page.plan and p is not page
                              for a in p.actions if not a.number.split(".")[1].isdigit())
        texts = dict(page.lines)
        current: _Action | None = None
        last = 0
        for number, text in page.lines:
            action = _ACTION.match(text)
            sub = _SUB_ACTION.match(text)
            if action and int(action["n"]) == numbered + 1:
                numbered += 1
                current = _Action(f"{page.plan}.{numbered}", action["text"], number)
                last = number
            elif sub and int(sub["n"]) == numbered:
                suffix = "abcdefghij"[sum(1 for a in page.actions
                                          if a.number.startswith(f"{page.plan}.{numbered}")
                                          and a.number[-1].isalpha())]
                current = _Action(f"{page.plan}.{numbered}{suffix}", text, number)
                last = number
            elif current is not None and current.number not in _CONTINUED:
                if text and _continues(current.text, text) and number == last + 1:
                    current.text += f"\n{text}"
                    last = number
                elif _LONE_TIMESCALE.match(text):
                    last = number  # a timescale between an action's lines: "member" / May-15
                else:
                    current = None
                continue
            else:
                continue
            if trailing := _TRAILING_TIMESCALE.search(current.text):
                current.timescale, current.timescale_placed = trailing["t"], ON_ITS_LINE
                current.text = current.text[: trailing.start()].strip()
            for offset in _CONTINUED.get(current.number, ()):
                # a damaged copy may lack the line: the aim is then only what is there
                current.text += f"\n{texts.get(number + offset, '')}"
            page.actions.append(current)
        for read in page.actions:
            read.text = " ".join(read.text.split())

    def _place(self, page: _Page) -> None:
        action_lines = {a.line for a in page.actions}
        texts = [t for _, t in page.lines]
        numbers = [n for n, _ in page.lines]
        timescales: list[_Value] = []
        officers: list[_Value] = []
        index = 0
        while index < len(texts):
            number, text = numbers[index], texts[index]
            if number in action_lines or not text:
                index += 1
                continue
            if lone := _LONE_TIMESCALE.match(text):
                timescales.append(_Value(lone["t"], number))
                index += 1
                continue
            name, taken = officer_at(texts, index)
            if name:
                officers.append(_Value(name, number))
            index += max(taken, 1)
        free = [a for a in page.actions if not a.timescale]
        closing = [v for v in timescales if v.text == "TBC"
                   and all(not t for n, t in page.lines if n > v.line and t != "TBC")]
        if closing and len(timescales) - len(closing) == len(free):
            timescales = [v for v in timescales if v not in closing]
            officers += closing
        if len(timescales) == len(free):
            for action, value in zip(free, by_page_order(free, timescales), strict=True):
                action.timescale, action.timescale_placed = value.text, PAGE_ORDER
        if len(officers) == len(page.actions):
            for action, value in zip(page.actions, by_page_order(page.actions, officers),
                                     strict=True):
                action.officer, action.officer_line = value.text, value.line
                action.officer_placed = PAGE_ORDER

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

    def counts(self) -> tuple[int, ...]:
        """Numbered actions per plan (sub-actions aside)."""
        return tuple(sum(1 for p in self.pages if p.plan == int(theme.number)
                         for a in p.actions if a.number.split(".")[1].isdigit())
                     for theme in self.themes)

    def edition(self) -> Edition:
        items: list[ItemDoc] = []
        unknowns: list[str] = []
        for page in self.pages:
            for action in page.actions:
                items.append(self._item(str(page.plan), action, unknowns))
        return Edition(FORMAT, self.name, "Kerslake Review action plan 2015", EDITION_MONTH,
                       self.themes, items, unknowns)

    @staticmethod
    def _item(theme: str, action: _Action, unknowns: list[str]) -> ItemDoc:
        number = action.number
        item = ItemDoc(number, theme, action.line, aim=action.text, actions=action.text)
        if action.timescale:
            item.outcomes.append(OutcomeDoc(f"Action {number} delivered",
                                            due_of(action.timescale), action.timescale,
                                            action.line, placed=action.timescale_placed))
        else:
            unknowns.append(f"action {number} (line {action.line}): timescale unknown")
        if action.officer == "TBC":
            unknowns.append(f"action {number} (line {action.line}): responsible officer TBC "
                            f"(line {action.officer_line})")
        elif action.officer:
            item.blocks.append(LeadBlockDoc(action.officer, action.officer_line,
                                            placed=action.officer_placed))
        else:
            unknowns.append(f"action {number} (line {action.line}): responsible officer unknown")
        return item


def parse(text: str, name: str) -> Edition:
    """The action plan a 2015 Kerslake plan text states."""
    reader = KerslakeReader(name)
    reader.read(text.split("\n"))
    counts = reader.counts()
    if not counts or not any(counts):
        raise DocumentError(name, 0, "no ACTION PLAN sections found")
    if counts != EXPECTED_ACTIONS:
        found = ", ".join(str(c) for c in counts)
        raise DocumentError(name, 0, f"found actions per plan ({found}), expected "
                            f"{', '.join(map(str, EXPECTED_ACTIONS))}: the document is truncated "
                            "or not the 2015 action plan")
    return reader.edition()
