"""Writing the pack's files: CSV in UTF-8 with a byte-order mark (Excel reads it right) whose
cells never start a formula, bytes, SHA256SUMS. `flat` is how the CLI prints a table cell;
`csv_bytes` is how both `--format csv` and the pack write a read model (its rows made flat
by `ledger.export.flat`, every cell `inert`), so a query's CSV and the pack's agree byte for
byte, and `grid` is what the pack's workbook sheet of it holds. Pure but for the writes;
imports no typer (verify_pack.py carries this module)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeAlias

from ledger.export import flat as flat_form


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def flat(value: Any) -> str:
    """One cell of text: empty for None, JSON (keys sorted) for lists and dicts, true/false."""
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")


def inert(value: Any) -> str:
    """A CSV cell that a spreadsheet shows as text, never runs: text starting with a formula
    character (=, +, -, @, tab, carriage return) gets a leading ' (the OWASP rule), as does
    text already starting with ' (so the rule can be undone); numbers stay numbers."""
    cell = flat(value)
    if isinstance(value, bool | int | float) or not cell.startswith(FORMULA_STARTS):
        return cell
    return "'" + cell


Cell: TypeAlias = str | int | float  # a cell of a grid: text, or a number


def grid(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> list[list[Cell]]:
    """The flat header row, then the rows made flat (`ledger.export.flat`): every cell inert
    text, but numbers, which stay numbers (a spreadsheet sums them)."""
    names = flat_form.columns(columns)
    out: list[list[Cell]] = [list(names)]
    for row in flat_form.rows(rows, columns):
        out.append([v if isinstance(v, int | float) and not isinstance(v, bool) else inert(v)
                    for v in (row.get(c) for c in names)])
    return out


def csv_bytes(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> bytes:
    """UTF-8 with a byte-order mark: one header row, then the rows made flat, every cell
    inert."""
    return csv_of(grid(rows, columns))


def csv_of(cells: Sequence[Sequence[Cell]]) -> bytes:
    """A grid as CSV: UTF-8 with a byte-order mark, lines ended CRLF (RFC 4180)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerows([[str(c) for c in row] for row in cells])
    return buffer.getvalue().encode("utf-8-sig")


def write_bytes(path: Path, data: bytes) -> None:
    """A file of exactly these bytes (the manifest, its signature, the signer's key)."""
    path.write_bytes(data)


def write_sums(directory: Path, names: Sequence[str]) -> None:
    """SHA256SUMS in the format `sha256sum -c` accepts."""
    lines = [f"{sha256_of(directory / name)}  {name}\n" for name in sorted(names)]
    (directory / "SHA256SUMS").write_text("".join(lines), encoding="utf-8")
