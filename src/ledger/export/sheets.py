"""The pack's workbook.xlsx: which sheets it holds, what each cell says, every part of the file
written here as SpreadsheetML by the standard library, and the check that a workbook is exactly
that, part by part.

A data sheet holds exactly the cells of the pack's CSV of the same read model (numbers as
numbers, every text cell inert as in the CSV), cut to Excel's limits; the Cover sheet holds the
manifest's parameters and digest; the header row is frozen, filters are on, status and RAG
cells take the legend's colours (`ledger.export.report`'s, the one definition). Because this
module writes every part, a verifier rebuilds them from the events and the manifest and
compares each part's bytes, and the list of parts: anything else a workbook could carry (a
number format, a hidden row, a drawing, a comment, a formula, a macro, another part) is a
difference, not something to recognise and forbid one by one. (openpyxl, an independent
reader, opens it in the tests.)

Pure and standard library only: verify_pack.py carries this module.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from ledger.export.files import Cell, inert
from ledger.export.report import RAG_COLOURS, STATUS_COLOURS

WORKBOOK = "workbook.xlsx"
COVER = "Cover"
SHEETS = (("plan", "plan.csv"), ("snapshots", "snapshots.csv"), ("slippage", "slippage.csv"),
          ("changes", "changes.csv"), ("events", "events.csv"))
MAX_ROWS = 1_048_575  # Excel's rows, less the header
MAX_TEXT = 32_767  # Excel's characters in a cell
NOTE = ("workbook.xlsx: a Cover sheet (the manifest's parameters and digest), then a sheet per "
        "read model holding its CSV's cells (numbers as numbers, text inert as in the CSV, "
        "characters XML cannot hold escaped, cut at Excel's limits); every part of it is "
        "rebuilt from the events and the manifest by verify_pack.py and must be the same bytes, "
        "and it must hold no other part")
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\ufffe\uffff\ud800-\udfff]")
COLOURED = ("status", "rag")  # the columns whose cells the legend colours
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # every part's date: the same pack gives the same bytes
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def text(value: str) -> str:
    """A text cell as the workbook holds it: characters XML cannot carry (controls, a carriage
    return, which XML reads as a new line) written as escapes; cut with … at Excel's limit."""
    value = _UNSAFE.sub(lambda m: repr(m.group())[1:-1], value)
    return value if len(value) <= MAX_TEXT else value[:MAX_TEXT - 1] + "…"


def cell(value: Cell) -> Cell:
    """What the workbook holds for a grid cell: numbers as they are, text made XML-safe."""
    return value if isinstance(value, int | float) else text(value)


def cover(manifest: dict[str, Any]) -> list[list[Cell]]:
    """The Cover sheet's rows, from the manifest (its parameters, who ran it and when, the
    ledger's digest), so that the signed manifest settles them."""
    params = manifest.get("parameters") or {}
    digest = manifest.get("ledger_digest") or {}
    pairs: list[tuple[str, Any]] = [
        ("pack format", manifest.get("format")),
        ("written by", f"{manifest.get('tool')} {manifest.get('version')}"),
        *((f"parameter: {key}", value) for key, value in params.items()),
        ("run by", manifest.get("run_by")), ("run at", manifest.get("run_at")),
        ("ledger", digest.get("ledger")), ("digest position", digest.get("position")),
        ("digest hash (head link)", digest.get("hash")),
        ("digest recorded at", digest.get("recorded_at")),
        ("sheets", ", ".join(name for name, _csv in SHEETS) + ": the rows of the pack's CSV "
                   "of the same name"),
    ]
    rows: list[list[Cell]] = [["field", "value"]]
    rows += [[label, value if type(value) is int else inert(value)] for label, value in pairs]
    return rows


def expected(manifest: dict[str, Any], grids: dict[str, list[list[Cell]]]
             ) -> list[tuple[str, list[list[Cell]]]]:
    """Each sheet's name and cells, in order, as the workbook must hold them."""
    sheets = [(COVER, cover(manifest))]
    sheets += [(name, grids[csv][:MAX_ROWS + 1]) for name, csv in SHEETS]
    return [(name, [[cell(c) for c in row] for row in rows]) for name, rows in sheets]


# --- the file, part by part ----------------------------------------------------------------


def parts(sheets: list[tuple[str, list[list[Cell]]]]) -> list[tuple[str, bytes]]:
    """Every part of the workbook holding `sheets` (name, rows; the first row the header), in
    the order the zip holds them."""
    styles, style_of = _styles()
    count = len(sheets)
    types = "".join(f'<Override PartName="/xl/worksheets/sheet{n}.xml" '
                    f'ContentType="{_TYPE}.worksheet+xml"/>' for n in range(1, count + 1))
    out = [
        ("[Content_Types].xml", f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/'
         f'2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
         f'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
         f'"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="{_TYPE}.sheet.'
         f'main+xml"/><Override PartName="/xl/styles.xml" ContentType="{_TYPE}.styles+xml"/>'
         f"{types}</Types>"),
        ("_rels/.rels", f'{_XML}<Relationships xmlns="{_PKG}"><Relationship Id="rId1" Type="'
         f'{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
        ("xl/workbook.xml", _workbook(sheets)),
        ("xl/_rels/workbook.xml.rels", f'{_XML}<Relationships xmlns="{_PKG}">' + "".join(
            f'<Relationship Id="rId{n}" Type="{_REL}/worksheet" Target="worksheets/sheet{n}.xml"'
            f"/>" for n in range(1, count + 1)) + f'<Relationship Id="rId{count + 1}" Type="'
         f'{_REL}/styles" Target="styles.xml"/></Relationships>'),
        ("xl/styles.xml", styles),
    ]
    out += [(f"xl/worksheets/sheet{n}.xml", _worksheet(rows, style_of))
            for n, (_name, rows) in enumerate(sheets, 1)]
    return [(name, xml.encode("utf-8")) for name, xml in out]


def write(path: Path, sheets: list[tuple[str, list[list[Cell]]]]) -> None:
    """The workbook holding `sheets` at `path` (deflated, every part dated 1980-01-01)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts(sheets):
            entry = zipfile.ZipInfo(name, ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            archive.writestr(entry, data)


def _workbook(sheets: list[tuple[str, list[list[Cell]]]]) -> str:
    listed = "".join(f'<sheet name="{escape(name)}" sheetId="{n}" r:id="rId{n}"/>'
                     for n, (name, _rows) in enumerate(sheets, 1))
    filters = "".join(
        f'<definedName name="_xlnm._FilterDatabase" localSheetId="{n}" hidden="1">'
        f"'{escape(name)}'!$A$1:${_letters(len(rows[0]) - 1)}${len(rows)}</definedName>"
        for n, (name, rows) in enumerate(sheets))
    return (f'{_XML}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>{listed}</sheets>'
            f"<definedNames>{filters}</definedNames></workbook>")


def _argb(colour: str) -> str:
    """"#c00" or "#cc0000" as ARGB, "FFCC0000"."""
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    return "FF" + digits.upper()


def _styles() -> tuple[str, dict[str, int]]:
    """styles.xml, and the style index of each coloured word (each legend status, each RAG);
    style 1 is the header's bold."""
    colours = {**{status: (_argb(fill), _argb(ink)) for status, (fill, ink)
                  in STATUS_COLOURS.items()},
               **{rag: (_argb(fill), "FF000000" if rag == "amber" else "FFFFFFFF")
                  for rag, fill in RAG_COLOURS.items()}}
    inks = sorted({ink for _fill, ink in colours.values()})
    fills = sorted({fill for fill, _ink in colours.values()})
    font = '<font><sz val="11"/>{}<name val="Calibri"/></font>'
    fonts = [font.format(""), font.format("<b/>"),
             *(font.format(f'<color rgb="{ink}"/>') for ink in inks)]
    fill_xml = ['<fill><patternFill patternType="none"/></fill>',
                '<fill><patternFill patternType="gray125"/></fill>',
                *(f'<fill><patternFill patternType="solid"><fgColor rgb="{fill}"/><bgColor '
                  f'indexed="64"/></patternFill></fill>' for fill in fills)]
    xfs = ['<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>',
           '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>']
    style_of = {}
    for word, (fill, ink) in colours.items():
        style_of[word] = len(xfs)
        xfs.append(f'<xf numFmtId="0" fontId="{2 + inks.index(ink)}" fillId='
                   f'"{2 + fills.index(fill)}" borderId="0" xfId="0" applyFont="1" '
                   f'applyFill="1"/>')
    return (f'{_XML}<styleSheet xmlns="{_MAIN}"><fonts count="{len(fonts)}">{"".join(fonts)}'
            f'</fonts><fills count="{len(fill_xml)}">{"".join(fill_xml)}</fills><borders '
            f'count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
            f'<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
            f'</cellStyleXfs><cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs><cellStyles '
            f'count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            f"</styleSheet>"), style_of


def _worksheet(rows: list[list[Cell]], style_of: dict[str, int]) -> str:
    coloured = {i for i, header in enumerate(rows[0]) if header in COLOURED}
    lines = []
    for r, row in enumerate(rows, 1):
        cells = []
        for i, value in enumerate(row):
            ref = f"{_letters(i)}{r}"
            style = 1 if r == 1 else style_of.get(str(value), 0) if i in coloured else 0
            s = f' s="{style}"' if style else ""
            if isinstance(value, bool) or not isinstance(value, int | float):
                if value == "":
                    continue
                cells.append(f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">'
                             f"{escape(str(value))}</t></is></c>")
            else:
                cells.append(f'<c r="{ref}"{s}><v>{value!r}</v></c>')
        lines.append(f'<row r="{r}">{"".join(cells)}</row>')
    last = f"{_letters(len(rows[0]) - 1)}{len(rows)}"
    return (f'{_XML}<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}"><sheetViews><sheetView '
            f'workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
            f'state="frozen"/></sheetView></sheetViews><sheetData>{"".join(lines)}</sheetData>'
            f'<autoFilter ref="A1:{last}"/></worksheet>')


def _letters(index: int) -> str:
    """The column letters of a 0-based column index (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# --- checking a workbook ---------------------------------------------------------------------


def problem(path: Path, sheets: list[tuple[str, list[list[Cell]]]]) -> str:
    """The first way the workbook at `path` differs from the one holding `sheets`, or ""."""
    want = parts(sheets)
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            names = [i.filename for i in infos]
            if names != [name for name, _data in want]:
                extra = [n for n in names if n not in dict(want)] or [
                    n for n in names if names.count(n) > 1]
                return (f"its parts are not a pack's workbook's (it holds "
                        f"{(extra or names)[:3]!r}; a pack's holds exactly "
                        f"{len(want)} parts, each once)")
            for info, (name, data) in zip(infos, want, strict=True):
                if info.file_size != len(data) or archive.read(info) != data:
                    return _where(name, data, info, archive, sheets)
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError) as exc:
        return f"not a workbook that can be read ({exc.__class__.__name__}: {str(exc)[:80]})"
    return ""


def _where(name: str, want: bytes, info: zipfile.ZipInfo, archive: zipfile.ZipFile,
           sheets: list[tuple[str, list[list[Cell]]]]) -> str:
    """Where a part differs: the sheet and cell, for a worksheet (its first differing cell)."""
    got = archive.read(info) if info.file_size <= 4 * len(want) + (1 << 20) else b""
    pairs = enumerate(zip(got, want, strict=False))
    at = next((i for i, (a, b) in pairs if a != b), min(len(got), len(want)))
    found = re.fullmatch(r"xl/worksheets/sheet(\d+)\.xml", name)
    if found:
        sheet = sheets[int(found[1]) - 1][0]
        cell_at = re.findall(rb'<c r="([A-Z]+[0-9]+)"', want[:at])
        where = f"cell {cell_at[-1].decode()}" if cell_at else "its layout"
        return f"sheet {sheet}, {where}: not what the events give ({name} differs at byte {at})"
    return f"{name} is not the pack's (it differs at byte {at})"
