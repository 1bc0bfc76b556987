"""Text helpers for documents: markup to lines and words, and the many ways months are written.

Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import html
import re
from dataclasses import dataclass

MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8,
    "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}
MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
         r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
MONTH_YEAR = re.compile(rf"\b(?P<month>{MONTH})\s*(?P<year>(?:19|20)\d\d)\b", re.IGNORECASE)
MONTH_SHORT_YEAR = re.compile(rf"\b(?P<month>{MONTH})\s+(?P<year>\d\d)(?=\s*[)\]])", re.IGNORECASE)
_BREAK = re.compile(r"<br\s*/?>|</?p\b[^>]*>|</?li\b[^>]*>|</?ul\b[^>]*>|</?ol\b[^>]*>",
                    re.IGNORECASE)
_PARAGRAPH_END = re.compile(r"</p>|</li>", re.IGNORECASE)
_FOOTNOTE = re.compile(r"<sup>\s*\d+\s*</sup>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")


def month_number(word: str) -> int:
    """The number of a month named in any of its spellings (`Sept`, `September`)."""
    return MONTHS[word.strip(".").lower()[:3]]


def plain(fragment: str) -> str:
    """Markup stripped, entities decoded, footnote markers dropped, white space folded."""
    text = _FOOTNOTE.sub("", fragment)
    text = _TAG.sub("", text).replace("**", "")
    return " ".join(html.unescape(text).split())


@dataclass(frozen=True)
class Segment:
    """One line of a table cell (between paragraph or line breaks), markup stripped."""

    text: str
    line: int
    paragraph_end: bool
    bold: bool = False  # all its text is bold (bold may open on an earlier line)


_BOLD_TAG = re.compile(r"<(/?)(?:b|strong)\b[^>]*>", re.IGNORECASE)


def _bold_depth(fragment: str, depth: int) -> tuple[bool, int]:
    """Whether all text of `fragment` is bold, given the bold depth it opens at; the new depth."""
    all_bold, position = True, 0
    for match in _BOLD_TAG.finditer(fragment):
        if depth <= 0 and plain(fragment[position:match.start()]):
            all_bold = False
        depth = max(0, depth - 1) if match.group(1) else depth + 1
        position = match.end()
    if depth <= 0 and plain(fragment[position:]):
        all_bold = False
    return all_bold, depth


def segments(cell: str, line: int) -> list[Segment]:
    """The lines of a cell in order; `paragraph_end` marks the last line of a paragraph."""
    out: list[Segment] = []
    position, depth = 0, 0
    for match in _BREAK.finditer(cell + "</p>"):
        raw = cell[position:match.start()]
        position = match.end()
        bold, depth = _bold_depth(raw, depth)
        text = plain(raw)
        is_end = bool(_PARAGRAPH_END.fullmatch(match.group(0)))
        if text:
            out.append(Segment(text, line, is_end, bold))
        elif is_end and out and not out[-1].paragraph_end:
            out[-1] = dataclasses.replace(out[-1], paragraph_end=True)
    if out:
        out[-1] = dataclasses.replace(out[-1], paragraph_end=True)
    return out


def resolve_year(month: int, year: str | None, edition: str) -> str:
    """`YYYY-MM` for a month whose year may be missing: the latest not after the edition."""
    if year:
        full = int(year) if len(year) == 4 else 2000 + int(year)
        return f"{full:04d}-{month:02d}"
    edition_year, edition_month = int(edition[:4]), int(edition[5:7])
    full = edition_year if month <= edition_month else edition_year - 1
    return f"{full:04d}-{month:02d}"
