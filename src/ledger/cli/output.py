"""Rows out: a table for people, JSON or CSV for scripts; the same rows in each.

JSON keeps a row's structure; CSV is the flat form a spreadsheet reads
(`ledger.export.flat`: one row per outcome, leads joined with "; ", true/false, targets as
YYYY-MM), UTF-8 with a byte-order mark, exactly as the evidence pack writes the same read
model (`ledger.export.files.csv_bytes`).

The table is laid out here, not by a library: each cell is the JSON value made one line of
text (`ledger.export.files.flat`, control characters escaped), never re-typed; the table
is as wide as the terminal (`COLUMNS`, else the terminal's width, else 100): long text is
wrapped at spaces, and what does not fit is cut with "…", never broken inside a word (a
SHA-256 is cut, not wrapped); widths are terminal cells, not characters (a CJK character or
an emoji takes two, a combining accent none); `--wide` shows every cell whole on one line.
Where even the narrowest columns do not fit, the columns are shown in bands, each repeating
the first (key) column. Imports nothing heavy: `ledger --help` does not pay for tables.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Annotated, Any

import typer


class Format(StrEnum):
    """How a query prints its rows."""

    TABLE = "table"
    JSON = "json"
    CSV = "csv"


FormatOption = Annotated[Format, typer.Option(
    "--format", "-f", help="table for people; json or csv for scripts.",
)]
WideOption = Annotated[bool, typer.Option(
    "--wide", help="Table: every cell whole on one line, however wide (default: fit the "
                   "terminal, wrapping or cutting long text with …).")]

DEFAULT_WIDTH = 100
GAP = "  "
MIN_WIDTH = 8  # a column narrower than its header or this is not worth reading
COMFORTABLE = 24  # a column this wide reads easily, when columns must go in bands
MAX_LINES = 4  # lines a cell may wrap to before it is cut with …
ELLIPSIS = "…"


def terminal_width() -> int:
    """`COLUMNS` where set to a number, else the terminal's width, else 100."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    return shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns


def cells(text: str) -> int:
    """How many terminal cells `text` takes: two for a wide or full-width character (CJK, most
    emoji), none for a combining mark or a zero-width format character, one for the rest."""
    if text.isascii():
        return len(text)
    return sum(_cells_of(c) for c in text)


def _cells_of(char: str) -> int:
    import unicodedata

    if unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def cut(text: str, width: int) -> str:
    """`text` in at most `width` cells: whole where it fits, else its head and "…"."""
    return text if cells(text) <= width else _head(text, width - 1) + ELLIPSIS


def _head(text: str, room: int) -> str:
    """The longest start of `text` that fits in `room` cells."""
    if text.isascii():
        return text[:max(room, 0)]
    used = 0
    for end, char in enumerate(text):
        used += _cells_of(char)
        if used > room:
            return text[:end]
    return text


def padded(text: str, width: int) -> str:
    """`text` followed by spaces to fill `width` cells (str.ljust counts characters)."""
    return text + " " * max(width - cells(text), 0)


def render(rows: Sequence[Mapping[str, Any]], fmt: Format, columns: Sequence[str],
           *, wide: bool = False) -> str:
    """The rows in the chosen format, columns in the given order."""
    if fmt is Format.JSON:
        return json.dumps([dict(r) for r in rows], indent=2, ensure_ascii=False, default=str)
    from ledger.export.files import csv_bytes, flat  # hashlib: ~5 ms that --help need not pay

    if fmt is Format.CSV:  # the pack's CSV form: flat rows, every cell inert, with a BOM
        return csv_bytes(rows, columns).decode("utf-8").removesuffix("\n")
    from ledger.domain.words import shown

    cells = [[" ".join(shown(flat(row.get(c))).split()) for c in columns] for row in rows]
    return table(list(columns), cells, None if wide else terminal_width())


def table(headers: list[str], rows: list[list[str]], width: int | None) -> str:
    """Rows of one-line cells under their headers, no line wider than `width` (None: as wide
    as the widest cell)."""
    natural = [max([cells(h)] + [cells(r[i]) for r in rows]) for i, h in enumerate(headers)]
    if width is None:
        return _lay_out(headers, rows, natural, None)
    least = [natural[0]] + [min(n, max(len(h), MIN_WIDTH)) for n, h in
                            zip(natural[1:], headers[1:], strict=True)]
    # Where the narrowest columns do not fit, bands of columns that fit at a comfortable
    # width (a month of `snapshots` whole), each after the key column.
    need = least if sum(least) + len(GAP) * (len(least) - 1) <= width else [
        min(n, max(m, COMFORTABLE)) for n, m in zip(natural, least, strict=True)]
    bands: list[list[int]] = [[]]
    used = least[0]
    for i in range(1, len(headers)):
        if bands[-1] and used + len(GAP) + need[i] > width:
            bands.append([])
            used = least[0]
        bands[-1].append(i)
        used += len(GAP) + need[i]
    parts = []
    for band in bands:
        keep = [0, *band] if len(headers) > 1 else [0]
        widths = _fit([natural[i] for i in keep], [least[i] for i in keep],
                      width - len(GAP) * (len(keep) - 1))
        parts.append(_lay_out([headers[i] for i in keep], [[r[i] for i in keep] for r in rows],
                              widths, width))
    return "\n\n".join(parts)


def _fit(natural: list[int], least: list[int], room: int) -> list[int]:
    """Column widths from their least to their natural width, the room shared out a
    character at a time so that narrow columns are whole before wide ones grow."""
    widths = list(least)
    spare = room - sum(widths)
    while spare > 0 and any(w < n for w, n in zip(widths, natural, strict=True)):
        for i, (w, n) in enumerate(zip(widths, natural, strict=True)):
            if spare > 0 and w < n:
                widths[i] += 1
                spare -= 1
    return widths


def _lay_out(headers: list[str], rows: list[list[str]], widths: list[int],
             width: int | None) -> str:
    lines = [GAP.join(padded(h, w) for h, w in zip(headers, widths, strict=True)).rstrip(),
             GAP.join("-" * w for w in widths)]
    for row in rows:
        wrapped = [_wrap(cell, w) for cell, w in zip(row, widths, strict=True)]
        for n in range(max(len(c) for c in wrapped)):
            lines.append(GAP.join(padded(c[n] if n < len(c) else "", w)
                                  for c, w in zip(wrapped, widths, strict=True)).rstrip())
    if width is not None:  # only where even the key column does not fit
        lines = [cut(line, width) for line in lines]
    return "\n".join(lines)


def _wrap(cell: str, width: int) -> list[str]:
    """A cell as lines of at most `width` cells: wrapped at spaces, never inside a word; a word
    longer than the line, or text beyond `MAX_LINES`, is cut with …."""
    if cells(cell) <= width:
        return [cell]
    lines: list[str] = []
    for word in cell.split():
        if lines and cells(lines[-1]) + 1 + cells(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    for n, line in enumerate(lines[:MAX_LINES]):
        if cells(line) > width:  # one word longer than the column: a hash, a path
            return [*lines[:n], _cut(line, width)]
    if len(lines) > MAX_LINES:
        return [*lines[:MAX_LINES - 1], _cut(lines[MAX_LINES - 1] + " " + lines[MAX_LINES],
                                             width)]
    return lines


def _cut(text: str, width: int) -> str:
    """`text` cut to `width` cells with "…" (at least one of its characters kept)."""
    return (_head(text, width - 1).rstrip() or text[:1]) + ELLIPSIS
