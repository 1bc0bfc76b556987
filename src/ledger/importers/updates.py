"""The Lead / RAG cell of a monthly edition: lead blocks, their month-tagged updates, completion.

A lead is a line wholly in bold that reads as an office ("City Solicitor",
"Chief Executive and CMT"). Updates end at a month tag, written many ways
(`(July Update)`, `(August / September 2018 updates)`, `(Sept Update)`,
a `September Update:` heading, or a `September Update` line after the text);
an update with no tag speaks for the edition's month. Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ledger.domain.words import COMPLETION
from ledger.importers.model import LeadBlockDoc, UpdateDoc
from ledger.importers.text import MONTH, Segment, month_number, resolve_year

_YEAR = r"(?:19|20)\d\d"
_TAG = re.compile(
    rf"[(\[]\s*(?:(?P<first>{MONTH})\s*(?:{_YEAR})?\s*(?:/|&|and|-|–|to)\s*)?"
    rf"(?P<month>{MONTH})\s*(?P<year>{_YEAR})?\s*(?P<upd>updates?)?\s*(?P<year2>{_YEAR})?\s*"
    r"\.?\s*[)\]]",
    re.IGNORECASE,
)
_STANDALONE = re.compile(
    rf"^\W*(?P<month>{MONTH})\s*(?P<year>{_YEAR})?\s+updates?\s*(?P<year2>{_YEAR})?"
    r"\s*(?P<colon>:)?\W*$",
    re.IGNORECASE,
)
_HEADING = re.compile(
    rf"^(?P<month>{MONTH})\s*(?P<year>{_YEAR})?\s+updates?\s*(?P<year2>{_YEAR})?\s*:\s*(?P<rest>.+)$",
    re.IGNORECASE,
)
_AFTER_TAG_COMPLETE = re.compile(rf"^[\s.,;:]*(?:{COMPLETION.pattern})")
_RAG = re.compile(r"\bRAG(?:\s+status)?\s*[:\-–]?\s*(?P<rag>red|amber|green)\b", re.IGNORECASE)
_OFFICE = re.compile(
    r"\b(?:Chief|Director|Solicitor|Leaders?|ACE|CMT|EMT|Officer|Executive|Exec|Member|Whip|"
    r"Advisor|Adviser|Secretary|Head|Manager|CEO|CEx|Cabinet|Deputy|Assistant|Commissioner)\b",
)
_CONNECTORS = {"and", "of", "with", "in", "concert", "the", "for", "&", "/", "-", "–"}
MAX_LEAD_WORDS = 14


def lead_name(segment: Segment) -> str:
    """The lead a line names, or "" where the line is not a lead."""
    if not segment.bold:
        return ""
    text = segment.text.strip()
    if _STANDALONE.match(text) or COMPLETION.search(text) or _TAG.search(text):
        return ""
    words = re.findall(r"[^\s,()/]+", text)
    if not words or len(words) > MAX_LEAD_WORDS or any(c.isdigit() for c in text):
        return ""
    for word in words:
        if word.lower() in _CONNECTORS:
            continue
        if not (word[0].isupper() or word[0] in "'’"):
            return ""
    if not _OFFICE.search(text):
        return ""
    return text.rstrip(" .:,;")


def rag_stated(text: str) -> str:
    """The RAG colour a text states in words (`RAG: Amber`), else ""."""
    match = _RAG.search(text)
    return match["rag"].lower() if match else ""


def _tag_month(match: re.Match[str], edition: str) -> str:
    return resolve_year(month_number(match["month"]), match["year"] or match["year2"], edition)


def _is_tag(match: re.Match[str]) -> bool:
    # "(September 2018)" and "(July Update)" are tags; "(March)" alone is not.
    return bool(match["upd"] or match["year"] or match["year2"])


@dataclass
class _Block:
    lead: str
    line: int
    updates: list[UpdateDoc] = field(default_factory=list)
    pending: str = ""
    pending_line: int = 0
    heading_month: str = ""
    untagged_from: int = 0  # index of the first untagged update since the last tag


@dataclass
class LeadCellReader:
    """Reads the Lead / RAG cell of one item, across the rows the item spans."""

    edition: str
    blocks: list[_Block] = field(default_factory=list)
    rag: str = ""
    rag_line: int = 0

    def read_row(self, row: list[Segment]) -> None:
        """Read one row's cell; a row that starts in lower case continues the last update."""
        for index, segment in enumerate(row):
            if index == 0 and segment.text[:1].islower() and self.blocks:
                self._reopen_last(self.blocks[-1])
            self._read(segment)

    def _reopen_last(self, block: _Block) -> None:
        if block.pending or not block.updates or block.updates[-1].tagged:
            return
        last = block.updates.pop()
        block.pending, block.pending_line = last.text, last.line

    def _read(self, segment: Segment) -> None:
        if (rag := rag_stated(segment.text)) and not self.rag:
            self.rag, self.rag_line = rag, segment.line
        lead = lead_name(segment)
        if lead or not self.blocks:
            self._close_block()
            self.blocks.append(_Block(lead, segment.line))
            if lead:
                return
        block = self.blocks[-1]
        standalone = _STANDALONE.match(segment.text)
        if standalone:
            month = resolve_year(month_number(standalone["month"]),
                                 standalone["year"] or standalone["year2"], self.edition)
            self._flush(block, tagged_month="")
            if standalone["colon"]:
                block.heading_month = month
            else:
                self._retag(block, month)
            return
        text = segment.text
        heading = _HEADING.match(text)
        if heading:
            self._flush(block, tagged_month="")
            block.heading_month = resolve_year(
                month_number(heading["month"]), heading["year"] or heading["year2"], self.edition)
            text = heading["rest"]
        self._read_text(block, text, segment.line)
        if segment.paragraph_end:
            self._flush(block, tagged_month="")

    def _read_text(self, block: _Block, text: str, line: int) -> None:
        position = 0
        for match in _TAG.finditer(text):
            if not _is_tag(match):
                continue
            end = match.end()
            after = _AFTER_TAG_COMPLETE.match(text[end:])
            if after:
                end += after.end()
            self._add_pending(block, text[position:end], line)
            self._flush(block, tagged_month=_tag_month(match, self.edition))
            position = end
        rest = text[position:].strip()
        if not rest:
            return
        if COMPLETION.fullmatch(rest.strip(" .")) and not block.pending and block.updates:
            last = block.updates[-1]
            block.updates[-1] = UpdateDoc(last.lead, last.month, f"{last.text} {rest}", True,
                                          last.line, last.tagged)
            return
        self._add_pending(block, rest, line)
        if COMPLETION.search(rest) and re.search(r"COMPLETE\W*$|Complete\.\W*$", rest):
            self._flush(block, tagged_month="")

    @staticmethod
    def _add_pending(block: _Block, text: str, line: int) -> None:
        text = text.strip()
        if not block.pending:
            text = text.lstrip(" .,;:)]")
        if not text:
            return
        if not block.pending:
            block.pending_line = line
        block.pending = f"{block.pending} {text}".strip()

    def _flush(self, block: _Block, *, tagged_month: str) -> None:
        text = block.pending.strip()
        block.pending = ""
        if not re.search(r"[A-Za-z]", text):
            return
        month = tagged_month or block.heading_month or self.edition
        tagged = bool(tagged_month or block.heading_month)
        complete = bool(COMPLETION.search(text))
        block.updates.append(UpdateDoc(block.lead, month, text, complete, block.pending_line,
                                       tagged))
        if tagged_month:
            block.untagged_from = len(block.updates)

    def _retag(self, block: _Block, month: str) -> None:
        """A `September Update` line after untagged text: that text speaks for September."""
        for index in range(block.untagged_from, len(block.updates)):
            update = block.updates[index]
            if not update.tagged:
                block.updates[index] = UpdateDoc(update.lead, month, update.text,
                                                 update.complete, update.line, True)
        block.untagged_from = len(block.updates)

    def _close_block(self) -> None:
        if self.blocks:
            self._flush(self.blocks[-1], tagged_month="")

    def result(self) -> list[LeadBlockDoc]:
        """The lead blocks read, with their updates (a block with neither is dropped)."""
        self._close_block()
        return [LeadBlockDoc(b.lead, b.line, b.updates) for b in self.blocks
                if b.lead or b.updates]
