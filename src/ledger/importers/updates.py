"""The Lead / RAG cell of a monthly edition: lead blocks, their month-tagged updates, completion.

A lead is a line wholly in bold that reads as an office ("City Solicitor",
"Chief Executive and CMT"). Two lead lines with no update between them are one
joint block, named "A / B" as the document writes its own joint leads ("City
Solicitor / Deputy Leader"); its updates are the pair's.

Updates end at a month tag, written many ways (`(July Update)`, `(August /
September 2018 updates)`, `(Sept Update)`, a `September Update:` heading, or a
`September Update` line after the text). A month is known only where the
document states it: a tag or heading, or bold ("Latest Update in Bold": an
untagged bold update is the edition's own month). Plain untagged text is older
and its month is unknown: month "", basis REPORTED.

One update is one paragraph, except: a `September Update` line after several
paragraphs tags them as one update (the bold ones, where the line is bold: plain
text is older); a paragraph ending in ":" takes the list after it; and a row
(after a page break) that starts in lower case, or follows an update whose last
sentence is unfinished, continues that update. A paragraph that only states RAG
(`RAG: Amber`) sets the item's RAG and is no update. Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ledger.domain.words import COMPLETION
from ledger.importers.model import REPORTED, STATED, LeadBlockDoc, UpdateDoc
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
# "RAG: Amber", or a move "RAG: Red to Green" (the colour it moved to is the status).
_RAG = re.compile(r"\bRAG(?:\s+status)?\s*[:\-–]?\s*(?P<rag>red|amber|green)\b"
                  r"(?:\s*(?:to|->|→)\s*(?P<to>red|amber|green)\b)?", re.IGNORECASE)
_RAG_ONLY = re.compile(r"^\W*RAG(?:\s+status)?\s*[:\-–]?\s*(?:red|amber|green)\W*$", re.IGNORECASE)
_FINISHED = re.compile(r"[.!?)\]:;\"”’]\s*$|COMPLETE\W*$")
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
    return (match["to"] or match["rag"]).lower() if match else ""


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
    pending_bold: bool = False  # every line of the pending text is bold
    heading_month: str = ""
    untagged_from: int = 0  # index of the first untagged update since the last tag
    listing: bool = False  # the pending paragraph ends in ":" and takes the list after it


def _bold_untagged(update: UpdateDoc) -> bool:
    return not update.tagged and update.basis == STATED


@dataclass
class LeadCellReader:
    """Reads the Lead / RAG cell of one item, across the rows the item spans."""

    edition: str
    blocks: list[_Block] = field(default_factory=list)
    rag: str = ""
    rag_line: int = 0
    rag_bold: bool = False

    def read_row(self, row: list[Segment]) -> None:
        """Read one row's cell; a row that starts in lower case, or after an unfinished
        sentence, continues the last update (a page break split it)."""
        for index, segment in enumerate(row):
            if index == 0 and self.blocks and not lead_name(segment) and (
                    segment.text[:1].islower() or self._unfinished(self.blocks[-1])):
                self._reopen_last(self.blocks[-1])
            self._read(segment)

    @staticmethod
    def _unfinished(block: _Block) -> bool:
        if block.pending or not block.updates or block.updates[-1].tagged:
            return False
        return not _FINISHED.search(block.updates[-1].text)

    def _reopen_last(self, block: _Block) -> None:
        if block.pending or not block.updates or block.updates[-1].tagged:
            return
        last = block.updates.pop()
        block.pending, block.pending_line = last.text, last.line
        block.pending_bold = _bold_untagged(last)

    def _read(self, segment: Segment) -> None:
        # The cell's RAG: a bold statement (the edition's latest) over a plain one, else the
        # last written (older updates come first, each with the RAG it had then).
        if (rag := rag_stated(segment.text)) and (segment.bold or not self.rag_bold):
            self.rag, self.rag_line, self.rag_bold = rag, segment.line, segment.bold
        if self.blocks and _RAG_ONLY.match(segment.text):
            # RAG is a status, not progress; what came before it is an update of its own.
            self._flush(self.blocks[-1], tagged_month="")
            return
        lead = lead_name(segment)
        if lead and self.blocks and self._joins(self.blocks[-1]):
            self.blocks[-1].lead = f"{self.blocks[-1].lead} / {lead}"
            return
        if lead or not self.blocks:
            self._close_block()
            self.blocks.append(_Block(lead, segment.line))
            if lead:
                return
        block = self.blocks[-1]
        if self._standalone(block, segment):
            return
        text = segment.text
        heading = _HEADING.match(text)
        if heading:
            self._flush(block, tagged_month="")
            block.heading_month = resolve_year(
                month_number(heading["month"]), heading["year"] or heading["year2"], self.edition)
            text = heading["rest"]
        if block.listing and not text.lstrip().startswith(("•", "-", "–", "·")):
            block.listing = False
            self._flush(block, tagged_month="")
        self._read_text(block, text, segment.line, segment.bold)
        if segment.paragraph_end:
            if block.pending.rstrip().endswith(":"):
                block.listing = True
            elif not block.listing:
                self._flush(block, tagged_month="")

    def _standalone(self, block: _Block, segment: Segment) -> bool:
        """A line that is only a month tag: a heading (with ":") or the tag of what came before."""
        standalone = _STANDALONE.match(segment.text)
        if not standalone:
            return False
        month = resolve_year(month_number(standalone["month"]),
                             standalone["year"] or standalone["year2"], self.edition)
        self._flush(block, tagged_month="")
        if standalone["colon"]:
            block.heading_month = month
        else:
            self._retag(block, month, bold=segment.bold)
        return True

    @staticmethod
    def _joins(block: _Block) -> bool:
        """A lead line right after another, with nothing between: one joint block."""
        return bool(block.lead) and not block.updates and not block.pending

    def _read_text(self, block: _Block, text: str, line: int, bold: bool) -> None:
        position = 0
        for match in _TAG.finditer(text):
            if not _is_tag(match):
                continue
            end = match.end()
            after = _AFTER_TAG_COMPLETE.match(text[end:])
            if after:
                end += after.end()
            self._add_pending(block, text[position:end], line, bold)
            block.listing = False
            self._flush(block, tagged_month=_tag_month(match, self.edition))
            position = end
        rest = text[position:].strip()
        if not rest:
            return
        if COMPLETION.fullmatch(rest.strip(" .")) and not block.pending and block.updates:
            last = block.updates[-1]
            block.updates[-1] = UpdateDoc(last.lead, last.month, f"{last.text} {rest}", True,
                                          last.line, last.tagged, last.basis)
            return
        self._add_pending(block, rest, line, bold)
        if COMPLETION.search(rest) and re.search(r"COMPLETE\W*$|Complete\.\W*$", rest):
            block.listing = False
            self._flush(block, tagged_month="")

    @staticmethod
    def _add_pending(block: _Block, text: str, line: int, bold: bool) -> None:
        text = text.strip()
        if not block.pending:
            text = text.lstrip(" .,;:)]")
        if not text:
            return
        if not block.pending:
            block.pending_line = line
            block.pending_bold = bold
        else:
            block.pending_bold = block.pending_bold and bold
        block.pending = f"{block.pending} {text}".strip()

    def _flush(self, block: _Block, *, tagged_month: str) -> None:
        text = block.pending.strip()
        block.pending = ""
        block.listing = False
        if not re.search(r"[A-Za-z]", text):
            return
        month = tagged_month or block.heading_month
        tagged = bool(month)
        basis = STATED
        if not month:
            # "Latest Update in Bold": bold is the edition's month; plain text is older.
            month, basis = (self.edition, STATED) if block.pending_bold else ("", REPORTED)
        complete = bool(COMPLETION.search(text))
        block.updates.append(UpdateDoc(block.lead, month, text, complete, block.pending_line,
                                       tagged, basis))
        if tagged_month:
            block.untagged_from = len(block.updates)

    def _retag(self, block: _Block, month: str, *, bold: bool) -> None:
        """A `September Update` line after untagged paragraphs: they are one September
        update (only the bold ones, where the line is bold: plain text is older)."""
        start = block.untagged_from
        covered = [i for i in range(start, len(block.updates))
                   if not block.updates[i].tagged
                   and (not bold or _bold_untagged(block.updates[i]))]
        if covered:
            first = block.updates[covered[0]]
            text = " ".join(block.updates[i].text for i in covered)
            merged = UpdateDoc(first.lead, month, text,
                               any(block.updates[i].complete for i in covered), first.line,
                               True, STATED)
            kept = [u for i, u in enumerate(block.updates[start:], start) if i not in covered]
            block.updates[start:] = [*kept, merged]
        block.untagged_from = len(block.updates)

    def _close_block(self) -> None:
        if self.blocks:
            self._flush(self.blocks[-1], tagged_month="")

    def result(self) -> list[LeadBlockDoc]:
        """The lead blocks read, with their updates (a block with neither is dropped)."""
        self._close_block()
        blocks = [LeadBlockDoc(b.lead, b.line, b.updates) for b in self.blocks
                  if b.lead or b.updates]
        for block in blocks:  # a joint block's updates are the pair's
            block.updates = [u if u.lead == block.lead else UpdateDoc(
                block.lead, u.month, u.text, u.complete, u.line, u.tagged, u.basis)
                for u in block.updates]
        return blocks
