"""Write commands: each records one change as an event, or refuses and writes nothing."""

from __future__ import annotations

from typing import Annotated

import typer

from ledger.cli.context import echo, ledger_at, parsed, plan_option, provenance, services_at
from ledger.domain.values import Rag, parse_rag

ItemArg = Annotated[str, typer.Argument(help="Item number, such as 1.3.")]
By = Annotated[str | None, typer.Option(
    "--by", help="Who records this (default $LEDGER_ACTOR, else the OS user).",
)]
Effective = Annotated[str | None, typer.Option(
    "--effective", help="When it took effect in the world, YYYY-MM-DD (default today).",
)]
Note = Annotated[str, typer.Option("--note", help="Why: the reason for the change.")]
AttributedTo = Annotated[str, typer.Option(
    "--attributed-to", help="Whose change it is (the lead whose update it is).",
)]
Month = Annotated[str | None, typer.Option("--month", help="The month it speaks for, YYYY-MM.")]
# parse_rag, not typer's own choice check: any case, and a refusal in the ledger's one line
RAG_PARSER = parsed(parse_rag)


def init(ctx: typer.Context, by: By = None) -> None:
    """Create the ledger's tables and immutability triggers (safe to run again).

    Example: ledger --db sqlite:///council.db init
    """
    prov = provenance(ctx, by, None, "")
    with services_at(ctx, create=True) as services:
        created = services.ledger.init(prov)
    echo("initialised the ledger" if created else "the ledger was already initialised")
    if services.ledger.app.guards_added:
        echo(f"added the guards this version installs that the database lacked "
             f"({', '.join(services.ledger.app.guards_added)}); no event was touched")
    if services.upgraded:
        echo(f"its read models were made by an older version of ledger ({services.upgraded}): "
             f"brought to this version's shape; the next query derives them again from the "
             f"events, which are untouched")


def new_plan(
    ctx: typer.Context,
    slug: Annotated[str, typer.Argument(help="Short name, such as cgip-2018.")],
    title: Annotated[str, typer.Option("--title", help="The plan's title.")],
    by: By = None, effective: Effective = None, note: Note = "",
) -> None:
    """Register a new plan.

    Example: ledger new-plan cgip-2018 --title "Corporate Governance Improvement Plan"
    """
    prov = provenance(ctx, by, effective, note)
    with ledger_at(ctx) as ledger:
        ledger.new_plan(slug, title, prov)
    echo(f"registered plan {slug}")


def add_theme(
    ctx: typer.Context,
    number: Annotated[str, typer.Argument(help="Theme number, such as 1.")],
    title: Annotated[str, typer.Argument(help="Theme title.")],
    description: Annotated[str, typer.Option("--description", help="What the theme is for.")] = "",
    by: By = None, effective: Effective = None, note: Note = "",
) -> None:
    """Add a theme to the plan.

    Example: ledger add-theme 1 "Political Leadership"
    """
    prov = provenance(ctx, by, effective, note)
    with ledger_at(ctx) as ledger:
        ledger.add_theme(plan_option(ctx), number, title, description, prov)
    echo(f"added theme {number}")


def add_item(
    ctx: typer.Context,
    item: ItemArg,
    theme: Annotated[str, typer.Option("--theme", help="The theme it belongs to.")],
    aim: Annotated[str, typer.Option("--aim", help="The improvement aim.")],
    actions: Annotated[str, typer.Option("--actions", help="The required actions.")] = "",
    by: By = None, effective: Effective = None, note: Note = "",
) -> None:
    """Add a numbered item under a theme.

    Example: ledger add-item 1.1 --theme 1 --aim "Stable political groups"
    """
    prov = provenance(ctx, by, effective, note)
    with ledger_at(ctx) as ledger:
        ledger.add_item(plan_option(ctx), item, theme, aim, actions, prov)
    echo(f"added item {item}")


def add_outcome(
    ctx: typer.Context,
    item: ItemArg,
    text: Annotated[str, typer.Argument(help="The outcome or deliverable.")],
    due: Annotated[str, typer.Option("--due", help="Target month, YYYY-MM (none: TBC).")] = "",
    by: By = None, effective: Effective = None, note: Note = "",
) -> None:
    """Add an outcome to an item; its first target is its baseline, never overwritten.

    Example: ledger add-outcome 1.1 "INLOGOV stock-take report" --due 2018-09
    """
    prov = provenance(ctx, by, effective, note)
    with ledger_at(ctx) as ledger:
        number = ledger.add_outcome(plan_option(ctx), item, text, due, prov)
    echo(f"added outcome {number} to item {item}")


def status(
    ctx: typer.Context,
    item: ItemArg,
    rag: Annotated[Rag, typer.Argument(
        parser=RAG_PARSER, help="red: off track; amber: on track; green: complete.")],
    by: By = None, effective: Effective = None, note: Note = "",
    attributed_to: AttributedTo = "",
) -> None:
    """Set an item's RAG status (red: off track; amber: on track; green: complete).

    Example: ledger status 1.3 red --note "constitution review late"
    """
    prov = provenance(ctx, by, effective, note, attributed_to)
    with ledger_at(ctx) as ledger:
        ledger.set_rag(plan_option(ctx), item, rag, prov)
    echo(f"item {item} is {rag.value}")


def update(
    ctx: typer.Context,
    item: ItemArg,
    text: Annotated[str, typer.Argument(help="The progress update.")],
    month: Month = None,
    by: By = None, effective: Effective = None, note: Note = "",
    attributed_to: AttributedTo = "",
) -> None:
    """Record a progress update for a month (default: the effective date's month).

    Example: ledger update 1.2 "Survey being planned" --month 2018-08 --attributed-to "ACE"
    """
    prov = provenance(ctx, by, effective, note, attributed_to)
    with ledger_at(ctx) as ledger:
        ledger.record_update(plan_option(ctx), item, text, month, prov)
    echo(f"recorded an update on item {item}")


def lead(
    ctx: typer.Context,
    item: ItemArg,
    name: Annotated[str, typer.Argument(help="The lead officer.")],
    replace: Annotated[str | None, typer.Option(
        "--replace", help="The lead this one replaces, where the item has several.",
    )] = None,
    add: Annotated[bool, typer.Option("--add", help="Add as a further lead.")] = False,
    by: By = None, effective: Effective = None, note: Note = "",
) -> None:
    """Assign an item's lead, or reassign it from the current lead.

    Example: ledger lead 1.4 "City Solicitor" --note "portfolio change"
    """
    prov = provenance(ctx, by, effective, note)
    with ledger_at(ctx) as ledger:
        ledger.assign_lead(plan_option(ctx), item, name, prov, replace, add)
    echo(f"{name} leads item {item}")


def target(
    ctx: typer.Context,
    item: ItemArg,
    outcome: Annotated[int, typer.Argument(help="Outcome number within the item.")],
    due: Annotated[str, typer.Argument(help="New target month, YYYY-MM.")],
    by: By = None, effective: Effective = None, note: Note = "",
) -> None:
    """Move an outcome's target month: later is a slip; earlier needs --note.

    Example: ledger target 1.3 4 2018-11 --note "LEAN review extended"
    """
    prov = provenance(ctx, by, effective, note)
    with ledger_at(ctx) as ledger:
        ledger.move_target(plan_option(ctx), item, outcome, due, prov)
    echo(f"outcome {outcome} of item {item} now due {due}")


def complete(
    ctx: typer.Context, item: ItemArg, month: Month = None,
    by: By = None, effective: Effective = None, note: Note = "",
    attributed_to: AttributedTo = "",
) -> None:
    """Report an item complete.

    Example: ledger complete 1.2 --month 2018-07
    """
    prov = provenance(ctx, by, effective, note, attributed_to)
    with ledger_at(ctx) as ledger:
        ledger.complete(plan_option(ctx), item, month, prov)
    echo(f"item {item} reported complete")


def reopen(
    ctx: typer.Context, item: ItemArg,
    by: By = None, effective: Effective = None, note: Note = "",
) -> None:
    """Reopen a complete item.

    Example: ledger reopen 1.2 --note "survey not yet run"
    """
    prov = provenance(ctx, by, effective, note)
    with ledger_at(ctx) as ledger:
        ledger.reopen(plan_option(ctx), item, prov)
    echo(f"item {item} reopened")


def correct(
    ctx: typer.Context,
    event: Annotated[str, typer.Argument(help="The event to correct, ITEM@N (see history).")],
    note: Annotated[str, typer.Option("--note", help="Why the event was wrong (required).")],
    text: Annotated[str | None, typer.Option("--text", help="Corrected text.")] = None,
    month: Annotated[str | None, typer.Option("--month", help="Corrected month.")] = None,
    due: Annotated[str | None, typer.Option("--due", help="Corrected target month.")] = None,
    rag: Annotated[Rag | None, typer.Option("--rag", parser=RAG_PARSER,
                                            help="Corrected RAG status.")] = None,
    lead_name: Annotated[str | None, typer.Option("--lead", help="Corrected lead.")] = None,
    aim: Annotated[str | None, typer.Option("--aim", help="Corrected aim.")] = None,
    actions: Annotated[str | None, typer.Option("--actions", help="Corrected actions.")] = None,
    by: By = None, effective: Effective = None,
) -> None:
    """Correct an earlier event with a new event that names it; with no value, retract it.

    The original stays in the history, marked as corrected.

    Example: ledger correct 1.2@5 --text "Survey being planned" --note "typo in update"
    """
    values = {"text": text, "month": month, "due": due, "rag": rag and rag.value, "lead": lead_name,
              "aim": aim, "actions": actions}
    replacement = {k: v for k, v in values.items() if v is not None}
    prov = provenance(ctx, by, effective, note)
    with ledger_at(ctx) as ledger:
        ref = ledger.correct(plan_option(ctx), event, replacement, prov)
    echo(f"recorded correction {ref} of {event}")


def register(app: typer.Typer) -> None:
    """Add the write commands to the app."""
    for command in (init, new_plan, add_theme, add_item, add_outcome, status, update, lead,
                    target, complete, reopen, correct):
        app.command(command.__name__.replace("_", "-"))(command)
