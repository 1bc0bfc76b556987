"""`ledger import`: read a plan document and record what it changes, in one transaction."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ledger.cli.context import echo, fail, ledger_at, parsed, plan_option, refusing
from ledger.cli.output import Format, render
from ledger.domain.errors import InvalidInputError
from ledger.domain.values import parse_day, parse_month
from ledger.importers.model import DocumentFormat

if TYPE_CHECKING:
    from typer._click._termui_impl import ProgressBar

    from ledger.application.reconcile import ImportReport



def _document_format(text: str) -> DocumentFormat:
    try:
        return DocumentFormat(text)
    except ValueError:
        msg = f"unknown format {text!r}: use one of {', '.join(DocumentFormat)}"
        raise InvalidInputError(msg) from None


SUMMARY_KINDS = ("theme_added", "item_added", "outcome_added", "lead_changed", "update_recorded",
                 "target_moved", "text_revised", "rag_changed", "completed", "outcome_withdrawn",
                 "item_withdrawn")


def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The document: a monthly update edition (.md), "
                                               "the 2015 action plan (.txt) or a CSV plan; "
                                               "- for standard input (with --edition and "
                                               "--name).")],
    edition: Annotated[str, typer.Option("--edition", help="The edition's month, YYYY-MM "
                                         "(default: from the document's heading).")] = "",
    fmt: Annotated[DocumentFormat | None, typer.Option(
        "--format", parser=parsed(_document_format),
        help="The document's format (default: told from the content).")] = None,
    by: Annotated[str | None, typer.Option("--by", help="Who records the import.")] = None,
    since: Annotated[str | None, typer.Option("--since", help="On a first import, when the "
                                              "plan's structure takes effect, YYYY-MM-DD.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the changes; write nothing.")]
    = False,
    withdraw_missing: Annotated[bool, typer.Option("--withdraw-missing", help="Record items and "
                                "outcomes missing from the edition as withdrawn.")] = False,
    name: Annotated[str, typer.Option("--name", help="With -: the document's file name, as "
                                      "its events' source will cite it.")] = "",
) -> None:
    """Import a plan document: all of it the first time, then what each edition changes.

    A later edition records targets moved, leads reassigned, new updates and completions;
    the same edition again records nothing. All of it is written in one transaction, or
    none of it.

    Example: ledger import ../shared/seeds/cgip-2018-09-september-update.md
    """
    from ledger.application.reconcile import import_document

    with refusing():
        since_day = parse_day(since) if since is not None else None
        if edition:
            parse_month(edition)  # named in the refusal, before the document is read
    data = None
    if str(file) == "-":
        file, data = _standard_input(edition, name)
    with ledger_at(ctx) as ledger, _Progress() as progress:
        report = import_document(
            ledger, file, plan=plan_option(ctx), edition=edition, fmt=fmt or "", by=by,
            since=since_day, dry_run=dry_run, withdraw_missing=withdraw_missing,
            progress=progress, data=data)
    _print_report(report, dry_run)


def _standard_input(edition: str, name: str) -> tuple[Path, bytes]:
    """The document on standard input, named by --name; its month must be given (--edition):
    nothing on a pipe says which edition it is, and a source must cite a file name."""
    if not edition or not name:
        fail("import - reads standard input: name the document with --edition YYYY-MM and "
             "--name FILE")
    if Path(name).name != name or name in {".", ".."}:
        fail(f"--name {name!r}: give a file name, without a directory")
    return Path(name), sys.stdin.buffer.read()


class _Progress:
    """A progress bar on stderr, sized once the document's item count is known."""

    def __init__(self) -> None:
        self.bar: ProgressBar[int] | None = None

    def __enter__(self) -> _Progress:
        return self

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = typer.progressbar(length=total, label="importing items", file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(1)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def _print_report(report: ImportReport, dry_run: bool) -> None:
    if report.already:
        echo(report.already)
        return
    if dry_run:
        rows = [vars(change) for change in report.changes]
        echo(render(rows, Format.TABLE, ("item", "kind", "detail", "line", "effective")))
    verb = "would record" if dry_run else "recorded"
    echo(f"{report.file} (sha256 {report.sha256[:12]}…, edition {report.edition}, "
         f"{report.format}) -> plan {report.plan}: {verb} {report.events} events")
    counts = ", ".join(f"{report.count(k)} {k}" for k in SUMMARY_KINDS if report.count(k))
    if counts:
        echo(f"  {counts}")
    if report.format is DocumentFormat.KERSLAKE_2015:
        items = report.count("item_added") or 0
        timed = sum(1 for c in report.changes if c.kind == "outcome_added")
        led = sum(1 for c in report.changes if c.kind == "lead_changed")
        echo(f"  of {items} actions, {timed} got a timescale and {led} a responsible officer")
    for missing in report.missing:
        echo(f"  not in this edition: {missing}")
    if report.unknowns:
        echo(f"  {len(report.unknowns)} fields could not be read with confidence (recorded as "
             "unknown):")
        for unknown in report.unknowns:
            echo(f"    {unknown}")


def register(app: typer.Typer) -> None:
    """Add `import` to the app."""
    app.command("import")(import_)
