"""Read commands: an item's history."""

from __future__ import annotations

from typing import Annotated

import typer

from ledger.cli.context import catch_up, echo, plan_option, reading_at, refusing, warn
from ledger.cli.output import Format, FormatOption, WideOption, render

HISTORY_COLUMNS = (
    "event", "recorded_at", "effective", "basis", "kind", "by", "db_role", "attributed_to",
    "before", "after", "source", "note", "corrected_by",
)


def history(
    ctx: typer.Context,
    item: Annotated[str, typer.Argument(help="Item number, such as 1.3.")],
    fmt: FormatOption = Format.TABLE,
    wide: WideOption = False,
) -> None:
    """Every event of an item in order, and which later event corrected it.

    Each row says when it was recorded, when it took effect, who, what changed
    (before -> after), from where and why.

    Example: ledger history 1.3 --format json
    """
    from ledger.domain.ids import choose_plan

    with reading_at(ctx) as models:
        catch_up(models)
        with refusing():
            found, outside = models.item_history(
                choose_plan(plan_option(ctx), models.reader.plan_slugs()), item)
    for where in outside:
        warn(f"a stored row of item {item} at {where} is outside the hash chain and is not "
             f"shown: run `ledger verify`")
    echo(render([row.as_dict() for row in found], fmt, HISTORY_COLUMNS, wide=wide))


def register(app: typer.Typer) -> None:
    """Add the read commands to the app."""
    app.command("history")(history)
