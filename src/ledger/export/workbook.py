"""Writing the pack's workbook.xlsx with openpyxl: the cells `ledger.export.sheets` says, a
frozen header row and filters on every sheet, status and RAG cells filled with the 2015
legend's colours (`ledger.export.report`'s, the one definition).

No text cell is a formula: the CSV rule gives none that starts with "=", and one that did
would be written as a string (`data_type = "s"`). The bytes are the same for the same pack: the
document's created and modified times are the export's `run_at`, and every zip entry is dated
1980-01-01. Only this module imports openpyxl; verify_pack.py reads the workbook without it.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from ledger.export import sheets
from ledger.export.files import Cell
from ledger.export.report import RAG_COLOURS, STATUS_COLOURS

COLOURED = ("status", "rag")  # the columns whose cells the legend colours
HEADER_FONT = Font(bold=True)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def _argb(colour: str) -> str:
    """"#c00" or "#cc0000" as openpyxl's ARGB, "FFCC0000"."""
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    return "FF" + digits.upper()


def _styles() -> dict[str, tuple[PatternFill, Font | None]]:
    """Fill and font of a cell by its text: each legend status, each RAG word."""
    out: dict[str, tuple[PatternFill, Font | None]] = {}
    for status, (fill, ink) in STATUS_COLOURS.items():
        out[status] = (PatternFill("solid", fgColor=_argb(fill)),
                       Font(color=_argb(ink)) if ink else None)
    for rag, colour in RAG_COLOURS.items():
        out[rag] = (PatternFill("solid", fgColor=_argb(colour)),
                    Font(color="FFFFFFFF") if rag != "amber" else None)
    return out


def write_workbook(path: Path, manifest: dict[str, Any],
                   grids: dict[str, list[list[Cell]]]) -> None:
    """workbook.xlsx at `path`: the Cover sheet from the manifest, a sheet per read model."""
    book = Workbook(write_only=True)
    styles = _styles()
    for name, rows in sheets.expected(manifest, grids):
        sheet: Any = book.create_sheet(name)
        sheet.freeze_panes = "A2"
        width = len(rows[0])
        sheet.auto_filter.ref = f"A1:{get_column_letter(width)}{len(rows)}"
        coloured = {i for i, header in enumerate(rows[0]) if header in COLOURED}
        for number, row in enumerate(rows):
            sheet.append([_cell(sheet, value, number == 0,
                                styles.get(str(value)) if i in coloured and number else None)
                          for i, value in enumerate(row)])
    when = datetime.fromisoformat(str(manifest["run_at"])).replace(tzinfo=None)
    book.properties.created = book.properties.modified = when
    buffer = io.BytesIO()
    book.save(buffer)
    path.write_bytes(_dated(buffer.getvalue(), when.strftime("%Y-%m-%dT%H:%M:%SZ")))


def _cell(sheet: Any, value: Cell, header: bool,
          style: tuple[PatternFill, Font | None] | None) -> Any:
    if not header and style is None and not (isinstance(value, str) and value[:1] == "="):
        return value  # plain text, which openpyxl writes as a string (and quickly)
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # text, even were it to start with "=": never a formula
    if header:
        cell.font = HEADER_FONT
    elif style is not None:
        cell.fill = style[0]
        if style[1] is not None:
            cell.font = style[1]
    return cell


def _dated(data: bytes, stamp: str) -> bytes:
    """The same zip with every entry dated 1980-01-01, in the same order, and the document
    modified at `stamp` (openpyxl writes the time it saves): the same workbook gives the same
    bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            part = source.read(info)
            if info.filename == "docProps/core.xml":
                part = MODIFIED.sub(rb"\g<1>" + stamp.encode() + rb"\g<2>", part)
            target.writestr(entry, part)
    return out.getvalue()
