"""Writing the pack's files: CSV in UTF-8 with a byte-order mark (Excel reads it right), JSON
lines, text and bytes, SHA256SUMS. Every file of the pack is written here except report.pdf,
which Chromium prints (`pdf.py`); `flat` is also how the CLI prints a cell, so a pack's CSV and
`--format csv` agree. Imports no typer."""

from __future__ import annotations

import csv
import hashlib
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


def write_csv(path: Path, rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> int:
    """One header row, then the rows; nested values as JSON. Returns the row count."""
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([flat(row.get(c)) for c in columns])
            count += 1
    return count


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    """One JSON object per line. Returns the row count."""
    count = 0
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
            count += 1
    return count


def write_text(path: Path, text: str) -> None:
    """A text file in UTF-8."""
    path.write_text(text, encoding="utf-8")


def write_bytes(path: Path, data: bytes) -> None:
    """A file of exactly these bytes (the manifest, its signature, the signer's key)."""
    path.write_bytes(data)


def write_sums(directory: Path, names: Sequence[str]) -> None:
    """SHA256SUMS in the format `sha256sum -c` accepts."""
    lines = [f"{sha256_of(directory / name)}  {name}\n" for name in sorted(names)]
    (directory / "SHA256SUMS").write_text("".join(lines), encoding="utf-8")
