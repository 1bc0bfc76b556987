"""The pack's workbook.xlsx as content: which sheets it holds and what each cell says, and a
reader that checks a workbook against that with `zipfile` and `xml.etree` alone.

A data sheet holds exactly the cells of the pack's CSV of the same read model (numbers as
numbers, every text cell inert as in the CSV), cut to Excel's limits; the Cover sheet holds the
manifest's parameters and digest. The reader finds the first cell that differs, and refuses a
workbook with a formula, a macro, an external link or an embedded object. Presentation (the
frozen header row, filters, the legend's colours) is not content and is not checked.

Pure and standard library only: verify_pack.py carries this module; openpyxl, which writes
the workbook, is `ledger.export.workbook`'s alone.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator, Sequence
from typing import IO, Any
from xml.etree import ElementTree as ET

from ledger.export.files import Cell, inert

WORKBOOK = "workbook.xlsx"
COVER = "Cover"
SHEETS = (("plan", "plan.csv"), ("snapshots", "snapshots.csv"), ("slippage", "slippage.csv"),
          ("changes", "changes.csv"), ("events", "events.csv"))
MAX_ROWS = 1_048_575  # Excel's rows, less the header
MAX_TEXT = 32_767  # Excel's characters in a cell
NOTE = ("workbook.xlsx: a Cover sheet (the manifest's parameters and digest), then a sheet per "
        "read model holding its CSV's cells (numbers as numbers, text inert as in the CSV, "
        "characters XML cannot hold escaped, cut at Excel's limits); no formulas, macros or "
        "external links; verify_pack.py compares every cell with the events")
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\ufffe\uffff\ud800-\udfff]")
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_DOC_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_FORBIDDEN = ("vbaproject", "externallink", "activex", "embeddings", "oleobject", "macrosheet",
              "connections", "querytable", "customui")
SIZE_LIMIT = 4 << 30  # uncompressed bytes a workbook of the pack may hold


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


# --- reading a workbook with the standard library ------------------------------------------


def problem(path: Any, sheets: list[tuple[str, list[list[Cell]]]]) -> str:
    """The first way the workbook at `path` differs from `sheets` or holds what a pack's
    workbook must not, or ""."""
    try:
        with zipfile.ZipFile(path) as archive:
            return _problem(archive, sheets)
    except (zipfile.BadZipFile, ET.ParseError, KeyError, ValueError, IndexError, OSError,
            EOFError, RuntimeError) as exc:
        return f"not a workbook that can be read ({exc.__class__.__name__}: {str(exc)[:80]})"


def _problem(archive: zipfile.ZipFile, sheets: list[tuple[str, list[list[Cell]]]]) -> str:
    refused = _refusal(archive)
    if refused:
        return refused
    book = ET.fromstring(archive.read("xl/workbook.xml"))  # noqa: S314
    for defined in book.iter(f"{_MAIN}definedName"):
        if not str(defined.get("name", "")).startswith("_xlnm."):
            return f"defines the name {defined.get('name')!r}: a pack's workbook defines none"
    targets = {rel.get("Id"): str(rel.get("Target")) for rel in ET.fromstring(  # noqa: S314
        archive.read("xl/_rels/workbook.xml.rels")).iter(_PKG_REL)}
    found = [(str(s.get("name")), targets[s.get(_DOC_REL)]) for s in book.iter(f"{_MAIN}sheet")]
    names = [name for name, _rows in sheets]
    if [name for name, _target in found] != names:
        return f"its sheets are {[n for n, _t in found]}, not {names}"
    strings = _shared_strings(archive)
    for (name, want), (_name, target) in zip(sheets, found, strict=True):
        part = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        with archive.open(part) as handle:
            difference = _compare(name, _rows(handle, strings), want)
        if difference:
            return difference
    return ""


def _refusal(archive: zipfile.ZipFile) -> str:
    """Why the workbook is no pack's, whatever its cells: too big to unpack, a macro, an
    embedded object, a link outside it; or ""."""
    infos = archive.infolist()
    if sum(i.file_size for i in infos) > SIZE_LIMIT:
        return "holds more than a pack's workbook can (its parts unpack to over 4 GiB)"
    for info in infos:
        if any(word in info.filename.lower() for word in _FORBIDDEN):
            return (f"holds {info.filename[:80]!r}: a pack's workbook has no macros, external "
                    f"links or embedded objects")
    types = archive.read("[Content_Types].xml")
    if b"macroEnabled" in types or b"vbaProject" in types:
        return "its content types declare macros"
    for info in infos:
        if not info.filename.endswith(".rels"):
            continue
        for rel in ET.fromstring(archive.read(info)).iter(_PKG_REL):  # noqa: S314
            if rel.get("TargetMode") == "External":
                return (f"{info.filename} links outside the workbook "
                        f"({str(rel.get('Target'))[:60]!r})")
    return ""


def _shared_strings(archive: zipfile.ZipFile) -> list[str]:
    if "xl/sharedStrings.xml" not in archive.namelist():
        return []
    root = ET.fromstring(archive.read("xl/sharedStrings.xml"))  # noqa: S314
    return [_inline(item) for item in root.iter(f"{_MAIN}si")]


def _inline(item: ET.Element) -> str:
    """The text of a string item (plain or rich runs; phonetic guides are not its text)."""
    parts = [child.text or "" for child in item if child.tag == f"{_MAIN}t"]
    parts += [t.text or "" for run in item if run.tag == f"{_MAIN}r"
              for t in run if t.tag == f"{_MAIN}t"]
    return "".join(parts)


def _column(ref: str) -> int:
    number = 0
    for letter in ref:
        if not letter.isalpha():
            break
        number = number * 26 + ord(letter.upper()) - 64
    return number - 1


def _letters(index: int) -> str:
    out = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        out = chr(65 + rest) + out
    return out


class FormulaError(ValueError):
    """A cell of the workbook holds a formula."""


def _rows(handle: IO[bytes], strings: list[str]) -> Iterator[tuple[int, dict[int, str]]]:
    """Each row of a sheet part: its number and its cells' text by column, streamed."""
    for _event, element in ET.iterparse(handle):  # noqa: S314
        if element.tag != f"{_MAIN}row":
            continue
        cells: dict[int, str] = {}
        for c in element.iter(f"{_MAIN}c"):
            ref = str(c.get("r", ""))
            if c.find(f"{_MAIN}f") is not None:
                raise FormulaError(ref)
            kind, value = c.get("t", "n"), c.find(f"{_MAIN}v")
            raw = "" if value is None else value.text or ""
            if kind == "s":
                cells[_column(ref)] = strings[int(raw)]
            elif kind == "inlineStr":
                inline = c.find(f"{_MAIN}is")
                cells[_column(ref)] = "" if inline is None else _inline(inline)
            else:
                cells[_column(ref)] = raw
        yield int(element.get("r", "0")), cells
        element.clear()


def _compare(name: str, got: Iterator[tuple[int, dict[int, str]]],
             want: Sequence[Sequence[Cell]]) -> str:
    count = 0
    try:
        for count, (number, cells) in enumerate(got, 1):
            if number != count:
                return f"sheet {name}: row {number} where row {count} should be"
            if count > len(want):
                return f"sheet {name}: {count} rows or more where the events give {len(want)}"
            expected_row = [str(c) for c in want[count - 1]]
            width = max([len(expected_row), *(i + 1 for i in cells)])
            for index in range(width):
                have = cells.get(index, "")
                should = expected_row[index] if index < len(expected_row) else ""
                if have != should:
                    return (f"sheet {name}, cell {_letters(index)}{count}: {have[:60]!r} where "
                            f"the events give {should[:60]!r}")
    except FormulaError as exc:
        return f"sheet {name}, cell {exc}: a formula; a pack's workbook holds only values"
    if count != len(want):
        return f"sheet {name}: {count} rows where the events give {len(want)}"
    return ""
