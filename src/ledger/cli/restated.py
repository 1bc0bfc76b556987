"""`ledger restatements`: what was reported for a month beside what is known now for its last
day, and every fact restated since: who restated it, when, and why."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from ledger.cli.context import echo, fail, refusing
from ledger.cli.output import Format, FormatOption, WideOption, render
from ledger.cli.queries import KnownAt, reading
from ledger.domain.values import month_end, month_start, parse_month


def restatements(
    ctx: typer.Context,
    month: Annotated[str, typer.Option("--month", help="The month reported, YYYY-MM.")],
    known_at: KnownAt = None, fmt: FormatOption = Format.TABLE, wide: WideOption = False,
) -> None:
    """What was reported for a month, beside what is known now: each fact restated since.

    As reported: the plan on the month's last day as the ledger knew it when the edition of
    that month was first imported (with no such edition, as it knew it at the month's end).
    As now: the plan on the same day as known now (or at --known-at). One row per fact that
    differs (an item, its theme, aim, actions, each outcome's target and text, its leads,
    RAG, completion, each progress update, derived status), with the events recorded since
    that restated it (refs, in the order recorded) and, for the last of them, when it took
    effect, when it was recorded, by whom, and why (note and source).

    Example: ledger restatements --month 2018-09 --format json
    """
    from ledger.application.times import parse_known_at
    from projections.restatements import COLUMNS, TABLE_COLUMNS

    with refusing():
        month = parse_month(month)
    if month_start(month) > date.today():
        fail(f"{month} is in the future: nothing can have been reported for it yet")
    day = month_end(month)
    with reading(ctx, day.isoformat(), known_at) as (reader, slug, when):
        imported = reader.first_import(slug, month)
        reported_at = imported or parse_known_at(day.isoformat())
        if when.known_at is not None and when.known_at < reported_at:
            fail(f"--known-at {known_at} is before the report for {month} ({reported_at})")
        reported, rows = reader.restatements(slug, day, reported_at, when.known_at)
    if not reported:
        fail(f"nothing was reported for {month}: plan {slug} had no item on {day} as known "
             f"at {reported_at}")
    rows = [{**row, "reported_at": reported_at} for row in rows]
    columns = TABLE_COLUMNS if fmt is Format.TABLE else (*COLUMNS, "reported_at")
    echo(render(rows, fmt, columns, wide=wide))


def register(app: typer.Typer) -> None:
    """Add `restatements` to the app."""
    app.command("restatements")(restatements)
