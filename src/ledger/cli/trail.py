"""`ledger log` and `ledger blame`: the ledger's changes as `git log --oneline` shows commits,
and which change set each current fact of an item, as `git blame` shows lines."""

from __future__ import annotations

import re
from typing import Annotated, Any

import typer

from ledger.cli.context import echo, fail, refusing
from ledger.cli.output import (
    Format,
    FormatOption,
    WideOption,
    cells,
    cut,
    render,
    terminal_width,
)
from ledger.cli.queries import (
    AsOf,
    ByFilter,
    ItemOption,
    KindFilter,
    KnownAt,
    LateDays,
    LateFilter,
    SinceFilter,
    SourceFilter,
    UntilFilter,
    change_rows,
    reading,
)
from ledger.domain.words import shown

LOG_COLUMNS = ("ref", "recorded_at", "effective", "reported", "days_late", "basis",
               "source_kind", "kind", "before", "after", "by", "attributed_to", "source", "note")
MIN_WHAT, MIN_WHO = 16, 8  # what a line keeps of each, however narrow the terminal


def log(ctx: typer.Context, item: ItemOption = None, by: ByFilter = None,
        kind: KindFilter = None, since: SinceFilter = None, until: UntilFilter = None,
        late: LateFilter = False, late_days: LateDays = None, source: SourceFilter = None,
        as_of: AsOf = None, known_at: KnownAt = None,
        fmt: FormatOption = Format.TABLE) -> None:
    """Every change, newest first, one line each: ref, effective date, kind, what, who.

    The filters are those of `ledger changes`. The ref ITEM@N is the one `history` and
    `correct` use; the plan's own events are plan@N. JSON and CSV give every field.

    Example: ledger log --item 1.3 --kind target_moved
    """
    rows, refs = change_rows(ctx, item=item, by=by, kind=kind, since=since, until=until,
                             late=late, late_days=late_days, as_of=as_of, known_at=known_at,
                             source=source, with_refs=True)
    rows = [_log_row(row, refs) for row in reversed(rows)]
    if fmt is not Format.TABLE:
        echo(render(rows, fmt, LOG_COLUMNS))
        return
    if rows:
        width = terminal_width()
        echo("\n".join(log_line(row, width) for row in rows))


def _log_row(row: dict[str, Any], refs: dict[int, str]) -> dict[str, Any]:
    """A `changes` row as `log` gives it: its ref first; a correction names the event it
    corrects by ref, as `history` does (`1.3@28 target_moved`)."""
    out = {"ref": refs.get(row["seq"], ""), **{k: row[k] for k in LOG_COLUMNS[1:]}}
    corrected = re.fullmatch(r"event (\d+) \((\w+)\)", row["before"])
    if row["kind"] == "correction" and corrected and row["item"]:
        out["before"] = f"{row['item']}@{corrected[1]} {corrected[2]}"
    return out


def log_line(row: dict[str, Any], width: int) -> str:
    """One change as one line no wider than `width`: `1.3@28 2018-10-31 target_moved outcome
    #5 due 2018-09→November 2018 by improvement.team [reported]`. Its ref, date, kind and basis
    stay whole; who gets at most a third of the rest; what changed gets the remainder, and
    where it must be cut, the words both sides share give way before the change itself."""
    who = row["by"]
    if row["attributed_to"] and row["attributed_to"] != who:
        who += f" for {row['attributed_to']}"
    head = shown(f"{row['ref']} {row['effective']} {row['kind']} ")
    basis = shown(f" [{row['basis']}]")
    shared, change = _what(row["before"], row["after"])
    what = f"{shared} {change}".strip()
    room = max(width - cells(head) - len(" by ") - cells(basis), MIN_WHAT + MIN_WHO)
    who = cut(_one_line(who), max(room // 3, room - cells(what), MIN_WHO))
    room -= cells(who)
    if cells(what) > room:
        if shared and cells(change) + 2 <= room:
            what = f"{cut(shared, room - cells(change) - 1)} {change}"
        else:
            what = cut(what, room)
    return cut(f"{head}{what} by {who}{basis}", width)  # a very narrow terminal


def _what(before: str, after: str) -> tuple[str, str]:
    """before→after as (the words both share, said once; the change): (`outcome #5 due`,
    `2018-09→November 2018`)."""
    old, new = _one_line(before).split(" "), _one_line(after).split(" ")
    if not before:
        return "", " ".join(new)
    same = 0
    while same < min(len(old), len(new)) - 1 and old[same] == new[same]:
        same += 1
    return " ".join(new[:same]), " ".join(old[same:]) + "→" + " ".join(new[same:])


def _one_line(text: str) -> str:
    """Text on one line, every control character escaped (so that what is measured is
    what is printed)."""
    return shown(re.sub(r"\s+", " ", text).strip())


def blame(ctx: typer.Context,
          item: Annotated[str, typer.Argument(help="Item number, such as 1.3.")],
          as_of: AsOf = None, known_at: KnownAt = None,
          fmt: FormatOption = Format.TABLE, wide: WideOption = False) -> None:
    """Each current fact of an item and the change that set it: who, when, basis, source.

    One row per fact (theme, aim, actions, each outcome's due month, each lead, RAG,
    completion, latest update, derived status) with the event that set it: its ref
    (ITEM@N, as `history` shows), when it took effect and on what basis (stated, reported,
    entered), when the ledger recorded it (witnessed), who recorded it and whose it is,
    and its source.

    Example: ledger blame 1.3 --as-of 2018-10-31 --format json
    """
    from ledger.domain.ids import check_item_number
    from projections.blame import COLUMNS, TABLE_COLUMNS

    with refusing():
        check_item_number(item)
    with reading(ctx, as_of, known_at) as (reader, slug, when):
        rows = reader.blame(slug, when, item)
    if rows is None:
        known = f" known at {when.known_at}" if when.known_at else ""
        fail(f"no item {item} in plan {slug} as of {when.as_of.isoformat()}{known}")
    echo(render(rows, fmt, TABLE_COLUMNS if fmt is Format.TABLE else COLUMNS, wide=wide))


def register(app: typer.Typer) -> None:
    """Add `log` and `blame` to the app."""
    app.command("log")(log)
    app.command("blame")(blame)
