"""What every command shares: the ledger it opens, the plan it means, errors as exit codes."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TypeVar

import typer

from ledger.application.provenance import make_provenance
from ledger.domain.errors import ConflictError, LedgerError, TamperedError
from ledger.domain.words import shown

if TYPE_CHECKING:
    from ledger.application.services import Ledger
    from ledger.bootstrap import Reading, Services
    from ledger.domain.values import Provenance
    from ledger.store.replica import Standing

EXIT_INVALID = 2
EXIT_CONFLICT = 3
EXIT_STORE = 1

T = TypeVar("T")


@dataclass
class Options:
    """The global options: where the ledger is, which plan, and where reads go: with
    `read_only`, the ledger at `db` is opened for reading only; with `read_db`, commands that
    only read open that database (a streaming replica) read-only, and writes go to `db`."""

    db: str
    plan: str | None
    read_only: bool = False
    read_db: str | None = None

    def reads(self) -> tuple[str, bool]:
        """Where a command that only reads goes, and whether read-only."""
        return (self.read_db, True) if self.read_db else (self.db, self.read_only)


def fail(message: str, code: int = EXIT_INVALID) -> NoReturn:
    """Print one clear line to stderr and exit with `code`; nothing was written."""
    typer.echo(shown(f"error: {message}"), err=True)
    raise typer.Exit(code)


@contextmanager
def refusing() -> Iterator[None]:
    """Turn a `LedgerError` raised inside into one line on stderr and exit code 2."""
    try:
        yield
    except LedgerError as exc:
        fail(str(exc))


def parsed(parse: Callable[[str], T]) -> Callable[[str], T]:
    """A typer `parser=` that reads a value with `parse`, refusing bad input in one line."""

    def parse_or_fail(text: str) -> T:
        with refusing():
            return parse(text)

    return parse_or_fail


@contextmanager
def services_at(ctx: typer.Context, *, create: bool = False,
                reads_only: bool = False) -> Iterator[Services]:
    """The ledger of `--db`, wired (see `ledger.bootstrap`), with every refusal turned into
    one line and an exit code. A command that `reads_only` opens `--read-db` where one is
    given; a command that writes is refused in read-only mode, and so is any write the
    database itself refuses as read-only (a standby): one line, exit 1, nothing written."""
    from eventsourcing.persistence import PersistenceError

    from ledger.bootstrap import bootstrap

    options: Options = ctx.find_root().obj
    url, read_only = options.reads() if reads_only else (options.db, options.read_only)
    if read_only and not reads_only:
        fail(f"read-only: `{ctx.command_path}` writes, and the ledger is opened read-only "
             f"(--read-only): send writes to the primary, without --read-only", EXIT_STORE)
    services = _opened(url, lambda: bootstrap(url, create=create, read_only=read_only))
    try:
        with _refusals(url, PersistenceError):
            yield services
    finally:
        services.close()


@contextmanager
def ledger_at(ctx: typer.Context, *, create: bool = False,
              reads_only: bool = False) -> Iterator[Ledger]:
    """The ledger's commands on `--db` (see `services_at`)."""
    with services_at(ctx, create=create, reads_only=reads_only) as services:
        yield services.ledger


@contextmanager
def reading_at(ctx: typer.Context) -> Iterator[Reading]:
    """The read models of `--db` (or `--read-db`, read-only), for a query (see
    `ledger.bootstrap.reading`: SQLAlchemy Core alone), with every refusal turned into one
    line and an exit code; a database error from read models an older version made names
    `ledger init`."""
    from ledger.bootstrap import reading

    options: Options = ctx.find_root().obj
    url, read_only = options.reads()
    models = _opened(url, lambda: reading(url, read_only=read_only))
    try:
        with _refusals(url, (), models.out_of_date):
            yield models
    finally:
        models.close()


def _opened(url: str, make: Callable[[], T]) -> T:
    """What `make` opens on `url`, or one line and an exit code."""
    from ledger.store.replica import read_only_refusal

    try:
        return make()
    except LedgerError as exc:
        fail(str(exc))
    except Exception as exc:
        if refusal := read_only_refusal(exc):
            fail(_read_only(url, refusal), EXIT_STORE)
        fail(f"cannot open the ledger at {url}: {_first_line(exc)}", EXIT_STORE)


@contextmanager
def _refusals(url: str, store_errors: type[Exception] | tuple[type[Exception], ...],
              stale: Callable[[], str | None] = lambda: None) -> Iterator[None]:
    """Every refusal inside as one line and its exit code: a conflict 3, tampering 1, bad
    input 2, a write a read-only database refused 1, one of `store_errors` 1; a database error
    where `stale` names what an older version left, 2."""
    from ledger.store.replica import read_only_refusal

    try:
        yield
    except ConflictError as exc:
        fail(str(exc), EXIT_CONFLICT)
    except TamperedError as exc:
        fail(str(exc), EXIT_STORE)
    except LedgerError as exc:
        fail(str(exc))
    except Exception as exc:
        if refusal := read_only_refusal(exc):
            fail(_read_only(url, refusal), EXIT_STORE)
        if isinstance(exc, store_errors):
            fail(f"the database refused the change: {_first_line(exc)}", EXIT_STORE)
        if missing := stale():
            fail(missing)
        raise


def _read_only(url: str, refusal: str) -> str:
    return (f"read-only: the database at {url} refused to write ({refusal}): it is a "
            f"standby or a read-only session; nothing was written: send writes to the primary")


def catch_up(models: Reading) -> None:
    """Bring the read models up to date before a query, where they lag and this role may write
    them (else say how far behind they are; read-only, always say it, in one line). Where the
    store holds a row outside the chain, they stop before it: say so loudly and answer from
    what they hold."""
    if models.read_only:
        report_lag(*models.held(), models.standing())
        return
    lag = models.lag()
    if not lag:
        return
    if not models.can_write():
        who = ("this database is a standby, where they are brought up to date by the "
               "primary's `ledger projections run`" if models.standing().standby else
               "this database role cannot bring them up to date (the projector role runs "
               "`ledger projections run`)")
        warn(f"the read models are {lag} events behind the ledger and {who}: the answer "
             f"below is as of the last event they hold")
        return
    try:
        models.catch_up()
    except TamperedError as exc:
        warn(f"{exc}; the answer below is as of the last event before it")


def report_lag(held: int, head: int, standing: Standing) -> None:
    """One line on stderr: how far the read models (holding the ledger to event `held`) lag
    the head of the events in the database read (on a standby both are replicated), and on a
    standby how long ago the last transaction it replayed was committed on the primary."""
    line = (f"read-only: the read models hold the ledger to event {held} of {head} "
            f"({head - held} behind)")
    if standing.standby:
        line += ("; a standby: " + ("it has replayed no transaction yet"
                                    if standing.replayed_seconds_ago is None else
                                    f"the last transaction it replayed was committed on the "
                                    f"primary {standing.replayed_seconds_ago:.1f} s ago"))
    typer.echo(shown(line), err=True)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def plan_option(ctx: typer.Context) -> str | None:
    """The `--plan` given to `ledger`, if any."""
    options: Options = ctx.find_root().obj
    return options.plan


def command_source(ctx: typer.Context) -> str:
    """The command line that made a change, for the event's `source`."""
    words = ctx.command_path.split()
    for param in ctx.command.params:
        value = ctx.params.get(param.name or "")
        if value is None or value is False or value == "":
            continue
        if param.param_type_name == "argument":
            words.append(str(value))
        elif value is True:
            words.append(param.opts[0])
        else:
            words.extend([param.opts[0], str(value)])
    return "cli:" + shlex.join(words)


def provenance(
    ctx: typer.Context, by: str | None, effective: str | None, note: str, attributed_to: str = "",
) -> Provenance:
    """The provenance of this command's change (see `ledger.application.provenance`)."""
    with refusing():
        return make_provenance(
            source=command_source(ctx), by=by, effective=effective, note=note,
            attributed_to=attributed_to,
        )


def read_file(path: Path) -> bytes:
    """A file's bytes, or one line naming it and exit 2."""
    try:
        return path.read_bytes()
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror or exc}")


def warn(text: str) -> None:
    """One warning line on stderr (the command goes on)."""
    typer.echo(shown(f"warning: {text}"), err=True)


def echo(text: str) -> None:
    """Print to stdout (kept here so commands never print by other means): on a terminal,
    control characters typed into the data are shown as escapes, never sent, and long text
    goes through the pager (`ledger.cli.pager`)."""
    if sys.stdout.isatty():
        from ledger.cli.pager import paged

        # CSV's byte-order mark and CRLF are for the file a redirect makes, not the screen
        text = shown(text.removeprefix("\ufeff").replace("\r\n", "\n"))
        if paged(text):
            return
    sys.stdout.write(text + "\n")
