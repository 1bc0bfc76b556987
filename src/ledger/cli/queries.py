"""The auditors' queries: the plan as of any date, snapshots, slippage, changes, summary, diff.

Every query takes `--as-of` (effective time, default today) and `--known-at`
(recorded time, default now), and prints a table, or the same rows as JSON or CSV.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ledger.cli.context import catch_up, echo, fail, plan_option, reading_at, refusing
from ledger.cli.filters import check_filters, check_range
from ledger.cli.output import Format, FormatOption, WideOption, render
from ledger.domain.values import parse_day, parse_month

if TYPE_CHECKING:
    from ledger.domain.values import When
    from projections.queries import Reader

AsOf = Annotated[str | None, typer.Option("--as-of", help="Effective date, YYYY-MM-DD: what was "
                                          "true in the world then (default today).")]
KnownAt = Annotated[str | None, typer.Option("--known-at", help="Recorded moment, YYYY-MM-DD or "
                                             "an ISO timestamp: what the ledger knew then.")]
ItemOption = Annotated[str | None, typer.Option("--item", help="Only this item.")]
StatedOnly = Annotated[bool, typer.Option(
    "--stated-only", help="Leave out what is assumed: items shown before the first edition "
                          "that reports them (their structure taken from that edition).")]


def moment(as_of: str | None, known_at: str | None) -> When:
    """The moment asked about: `--as-of` (default today) and `--known-at` (default now); an
    empty one is refused as any other that is not a date (a script's unset variable)."""
    from ledger.application.times import parse_known_at
    from ledger.domain.errors import LedgerError
    from ledger.domain.values import When

    try:
        return When(_day(as_of) if as_of is not None else date.today(),
                    parse_known_at(known_at) if known_at is not None else None)
    except LedgerError as exc:
        fail(str(exc))


@contextmanager
def reading(ctx: typer.Context, as_of: str | None, known_at: str | None,
            ) -> Iterator[tuple[Reader, str, When]]:
    """The read models (caught up first: the one write a query makes, and an explicit one;
    read-only, never: how far they lag is said instead), the plan meant, and the moment
    asked about."""
    from ledger.domain.ids import choose_plan

    when = moment(as_of, known_at)
    with reading_at(ctx) as models:
        catch_up(models)
        with refusing():
            slug = choose_plan(plan_option(ctx), models.reader.plan_slugs())
        yield models.reader, slug, when


def _day(text: str) -> date:
    with refusing():
        return parse_day(text)


def plan(ctx: typer.Context, theme: Annotated[str | None, typer.Option("--theme")] = None,
         item: ItemOption = None, as_of: AsOf = None, known_at: KnownAt = None,
         stated_only: StatedOnly = False, fmt: FormatOption = Format.TABLE,
         wide: WideOption = False) -> None:
    """The plan as of a date: each item's leads, RAG, status, outcomes and latest update.

    Example: ledger plan --as-of 2018-07-31 --format json
    """
    from projections.current_plan import COLUMNS

    with reading(ctx, as_of, known_at) as (reader, slug, when):
        check_filters(reader, slug, item=item, theme=theme)
        rows = reader.plan(slug, when, theme, item)
    rows = [r for r in rows if not (stated_only and r["basis"] == "assumed")]
    table = ("item", "basis", "leads", "rag", "status", "outcomes", "updates", "latest_update")
    echo(render(rows, fmt, table if fmt is Format.TABLE else COLUMNS, wide=wide))


def snapshots(ctx: typer.Context,
              first: Annotated[str | None, typer.Option("--from", help="First month.")] = None,
              last: Annotated[str | None, typer.Option("--to", help="Last month.")] = None,
              as_of: AsOf = None, known_at: KnownAt = None, stated_only: StatedOnly = False,
              fmt: FormatOption = Format.TABLE, wide: WideOption = False) -> None:
    """The plan at the end of each month: item × month of status and RAG (* assumed).

    Example: ledger snapshots --from 2018-07 --to 2018-09
    """
    from projections.monthly_snapshots import COLUMNS

    with refusing():
        first = parse_month(first) if first is not None else None
        last = parse_month(last) if last is not None else None
    check_range(first, last, "--from and --to")
    with reading(ctx, as_of, known_at) as (reader, slug, when):
        rows = reader.snapshots(slug, when, first, last)
    rows = [r for r in rows if not (stated_only and r["basis"] == "assumed")]
    if fmt is not Format.TABLE:
        echo(render(rows, fmt, COLUMNS))
        return
    months = sorted({r["month"] for r in rows})
    grid: dict[str, dict[str, Any]] = {}
    for row in rows:
        cell = row["status"] + (f" ({row['rag']})" if row["rag"] else "") + (
            " *" if row["basis"] == "assumed" else "")
        grid.setdefault(row["item"], {"item": row["item"]})[row["month"]] = cell
    echo(render(list(grid.values()), fmt, ("item", *months), wide=wide))


def slippage(ctx: typer.Context, item: ItemOption = None,
             min_slips: Annotated[int, typer.Option("--min-slips", min=0)] = 0,
             as_of: AsOf = None, known_at: KnownAt = None,
             fmt: FormatOption = Format.TABLE, wide: WideOption = False) -> None:
    """Every outcome's baseline and current target, its moves (who, when, why), slips.

    Example: ledger slippage --min-slips 1 --format json
    """
    from projections.slippage_history import COLUMNS

    with reading(ctx, as_of, known_at) as (reader, slug, when):
        check_filters(reader, slug, item=item)
        rows = reader.slippage(slug, when, item, min_slips)
    echo(render(rows, fmt, COLUMNS, wide=wide))


# The filters of `changes`, shared with `log` (the same rows, newest first, one line each).
ByFilter = Annotated[str | None, typer.Option("--by", help="Recorded by or attributed "
                                              "to someone whose name holds this text, in "
                                              "any case.")]
KindFilter = Annotated[str | None, typer.Option("--kind", help="item_added, target_moved, "
                                                "lead_changed, update_recorded, ...")]
SinceFilter = Annotated[str | None, typer.Option("--since", help="Effective from.")]
UntilFilter = Annotated[str | None, typer.Option("--until", help="Effective until.")]
LateFilter = Annotated[bool, typer.Option("--late", help="Only changes first reported more "
                                          "than --late-days after they took effect (an "
                                          "import: at its edition's month end; a hand entry: "
                                          "when recorded).")]
LateDays = Annotated[int | None, typer.Option("--late-days", min=0, help="With --late: what "
                                              "counts as late, in days (default 31).")]
LATE_DAYS = 31
SourceFilter = Annotated[str | None, typer.Option("--source", help="Only changes an import "
                                                  "reported (import) or entered by hand (cli).")]


def change_rows(ctx: typer.Context, *, item: str | None, by: str | None, kind: str | None,
                since: str | None, until: str | None, late: bool, late_days: int | None,
                as_of: str | None, known_at: str | None, source: str | None = None,
                with_refs: bool = False) -> tuple[list[dict[str, Any]], dict[int, str]]:
    """The rows `changes` and `log` show, oldest first; with `with_refs`, also each change's
    `ITEM@N` (`plan@N` for the plan's own) by seq."""
    if late_days is not None and not late:
        fail("--late-days says what counts as late for --late: give --late too")
    since_day = _day(since) if since is not None else None
    until_day = _day(until) if until is not None else None
    check_range(since_day.isoformat() if since_day else None,
                until_day.isoformat() if until_day else None, "--since and --until")
    with reading(ctx, as_of, known_at) as (reader, slug, when):
        check_filters(reader, slug, item=item, kind=kind, source=source)
        rows = reader.changes(slug, when, item=item, by=by, kind=kind, since=since_day,
                              until=until_day,
                              late_days=(LATE_DAYS if late_days is None else late_days)
                              if late else None,
                              source=source)
        return rows, (reader.change_refs(slug) if with_refs else {})


def changes(ctx: typer.Context, item: ItemOption = None, by: ByFilter = None,
            kind: KindFilter = None, since: SinceFilter = None, until: UntilFilter = None,
            late: LateFilter = False, late_days: LateDays = None, source: SourceFilter = None,
            as_of: AsOf = None, known_at: KnownAt = None,
            fmt: FormatOption = Format.TABLE, wide: WideOption = False) -> None:
    """Who changed what, when and why: one row per change, oldest first.

    Each change says when it was first reported (an import: its edition's month end; a hand
    entry: the day it was recorded), how many days after it took effect (days_late, never
    below 0) and whether an import or a hand entry (source_kind: import or cli) reported it.

    Example: ledger changes --late --late-days 365 --source cli
    """
    from projections.change_log import COLUMNS, LATENESS

    rows, _refs = change_rows(ctx, item=item, by=by, kind=kind, since=since, until=until,
                              late=late, late_days=late_days, as_of=as_of, known_at=known_at,
                              source=source)
    # as the pack's changes.csv (`ledger.export.proof.CHANGES_COLUMNS`): ref after seq
    columns: tuple[str, ...] = (COLUMNS[0], "ref", *COLUMNS[1:], *LATENESS, "corrected_by")
    if fmt is Format.TABLE:
        columns = ("seq", "ref", "effective", "days_late", "kind", "by", "before", "after",
                   "note")
    echo(render(rows, fmt, columns, wide=wide))


def summary(ctx: typer.Context, as_of: AsOf = None, known_at: KnownAt = None,
            stated_only: StatedOnly = False, fmt: FormatOption = Format.TABLE,
            wide: WideOption = False) -> None:
    """Items per status and per RAG as at a date, and the baseline execution index.

    The status is the 2015 legend's, derived from due dates, progress and the date.

    Example: ledger --plan kerslake-2015 summary --as-of 2015-12-31
    """
    with reading(ctx, as_of, known_at) as (reader, slug, when):
        result = reader.summary(slug, when, stated_only=stated_only)
    rows = [{"measure": "status", "value": k, "items": v} for k, v in result.statuses.items()]
    rows += [{"measure": "rag", "value": k, "items": v} for k, v in result.rags.items()]
    bei = f"{result.bei:.2f}" if result.bei is not None else ""
    rows.append({"measure": "bei", "value": f"{result.completed}/{result.due_by_baseline}",
                 "items": bei})
    rows.append({"measure": "evidence", "value": "no timescale", "items": result.without_timescale})
    rows.append({"measure": "evidence", "value": "no progress reported",
                 "items": result.without_progress})
    echo(render(rows, fmt, ("measure", "value", "items"), wide=wide))


def diff(ctx: typer.Context,
         first: Annotated[str, typer.Argument(help="The earlier date, YYYY-MM-DD.")],
         second: Annotated[str, typer.Argument(help="The later date, YYYY-MM-DD.")],
         known_at: KnownAt = None, fmt: FormatOption = Format.TABLE,
         wide: WideOption = False) -> None:
    """What changed in the plan between two dates, as an auditor compares two reports.

    Example: ledger diff 2018-07-31 2018-08-31
    """
    from projections.plan_diff import COLUMNS

    start, end = _day(first), _day(second)
    if end < start:
        fail(f"{second} is before {first}")
    with reading(ctx, second, known_at) as (reader, slug, _when):
        rows = reader.diff(slug, start, end, _when.known_at)
    # a table's first column is its key, never empty (a wrapped cell's lines continue under it)
    table = ("item", "kind", "effective", "basis", "by", "before", "after")
    echo(render(rows, fmt, table if fmt is Format.TABLE else COLUMNS, wide=wide))


def editions(ctx: typer.Context, fmt: FormatOption = Format.TABLE,
             wide: WideOption = False) -> None:
    """Each imported document: edition, plan, format read as, file, SHA-256, when, by, events.

    Example: ledger editions --format json
    """
    with reading(ctx, None, None) as (reader, slug, _when):
        rows = reader.editions(slug)
    echo(render(rows, fmt, ("edition", "plan", "format", "file", "sha256", "imported_at", "by",
                            "events", "seq"), wide=wide))


def register(app: typer.Typer) -> None:
    """Add the query commands to the app."""
    for command in (plan, snapshots, slippage, changes, summary, diff, editions):
        app.command(command.__name__)(command)
