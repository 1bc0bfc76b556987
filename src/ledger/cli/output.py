"""Rows out: a tabulate table for people, JSON or CSV for scripts; the same rows in each."""

from __future__ import annotations

import csv
import io
import json
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


def render(rows: Sequence[Mapping[str, Any]], fmt: Format, columns: Sequence[str]) -> str:
    """The rows in the chosen format, columns in the given order."""
    if fmt is Format.JSON:
        return json.dumps([dict(r) for r in rows], indent=2, ensure_ascii=False, default=str)
    from ledger.export.files import flat, inert  # hashlib: ~5 ms that --help need not pay

    if fmt is Format.CSV:  # every cell inert: text never starts a spreadsheet formula
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: inert(row.get(k)) for k in columns})
        return buffer.getvalue().rstrip("\n")
    from tabulate import tabulate  # only tables need it, and it costs ~30 ms

    from ledger.domain.words import shown

    table = [[shown(flat(row.get(c))) for c in columns] for row in rows]
    return tabulate(table, headers=list(columns), tablefmt="simple", maxcolwidths=48,
                    disable_numparse=True)  # item 1.10 is not the number 1.1

