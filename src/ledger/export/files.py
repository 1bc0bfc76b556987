"""Writing the pack's files: CSV in UTF-8 with a byte-order mark (Excel reads it right) whose
cells never start a formula, bytes, SHA256SUMS. `flat` is also how the CLI prints a cell and
`inert` how it writes one to CSV, so a pack's CSV and `--format csv` agree. Pure but for the
writes; imports no typer (verify_pack.py carries this module)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any


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


def csv_bytes(rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> bytes:
    """UTF-8 with a byte-order mark: one header row, then the rows, every cell inert."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([inert(row.get(c)) for c in columns])
    return buffer.getvalue().encode("utf-8-sig")


def write_bytes(path: Path, data: bytes) -> None:
    """A file of exactly these bytes (the manifest, its signature, the signer's key)."""
    path.write_bytes(data)


def write_sums(directory: Path, names: Sequence[str]) -> None:
    """SHA256SUMS in the format `sha256sum -c` accepts."""
    lines = [f"{sha256_of(directory / name)}  {name}\n" for name in sorted(names)]
    (directory / "SHA256SUMS").write_text("".join(lines), encoding="utf-8")
