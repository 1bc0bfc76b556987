"""The plan aggregate (themes and which items exist) and the catalogue of plans.

Small streams by design: item changes live in each item's own stream, so
edits to different items never conflict. Guards are `check_*` methods and
raise before any event is triggered. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass

from eventsourcing.domain import Aggregate

from ledger.domain.errors import InvalidInputError, NotFoundError
from ledger.domain.events import (
    CatalogueOpened,
    EditionImported,
    ItemFiled,
    PlanEvent,
    PlanListed,
    PlanRegistered,
    ThemeAdded,
    stable_topic,
)
from ledger.domain.ids import CATALOGUE_ID, check_slug, check_theme_number, choose_plan, plan_id
from ledger.domain.triggers import Triggers
from ledger.domain.values import Provenance
from ledger.domain.words import did_you_mean


@dataclass
class Theme:
    """A theme of a plan (`1. Political Leadership`)."""

    number: str
    title: str
    description: str


class Plan(Triggers, Aggregate):
    """One improvement plan: its title, its themes, and the numbers of its items."""

    def __init__(self) -> None:
        self.slug = ""
        self.title = ""
        self.themes: dict[str, Theme] = {}
        self.items: dict[str, str] = {}  # item number -> theme number
        self.editions: list[EditionImported] = []

    @classmethod
    def register(cls, slug: str, title: str, provenance: Provenance) -> Plan:
        """A new plan."""
        check_slug(slug)
        if not title.strip():
            msg = "a plan needs a title (--title)"
            raise InvalidInputError(msg)
        return cls._create(
            PlanRegistered, id=plan_id(slug), slug=slug, title=title.strip(),
            **provenance.fields(),
        )

    def absorb(self, event: PlanEvent) -> None:
        """Evolve by one event of this stream."""
        match event:
            case PlanRegistered():
                self.slug, self.title = event.slug, event.title
            case ThemeAdded():
                self.themes[event.number] = Theme(event.number, event.title, event.description)
            case ItemFiled():
                self.items[event.number] = event.theme
            case EditionImported():
                self.editions.append(event)

    def check_theme(self, number: str) -> Theme:
        """The theme with this number; else an error naming the plan's themes."""
        try:
            return self.themes[number]
        except KeyError:
            known = ", ".join(self.themes) or "none yet"
            msg = (f"plan {self.slug} has no theme {number} (themes: {known})"
                   f"{did_you_mean(number, self.themes)}")
            raise NotFoundError(msg) from None

    def check_item(self, number: str) -> None:
        """Raise unless the plan holds this item."""
        if number not in self.items:
            msg = f"plan {self.slug} has no item {number}{did_you_mean(number, self.items)}"
            raise NotFoundError(msg)

    def add_theme(self, number: str, title: str, description: str, prov: Provenance) -> None:
        """Add a theme; its number must be new."""
        check_theme_number(number)
        if number in self.themes:
            msg = f"plan {self.slug} already has theme {number}: {self.themes[number].title}"
            raise InvalidInputError(msg)
        if not title.strip():
            msg = f"theme {number} needs a title"
            raise InvalidInputError(msg)
        self.trigger_event(
            ThemeAdded, number=number, title=title.strip(), description=description.strip(),
            **prov.fields(),
        )

    def record_edition(
        self, file: str, sha256: str, month: str, fmt: str, events: int, prov: Provenance,
    ) -> None:
        """Record that a document was imported and how many events it produced."""
        self.trigger_event(EditionImported, file=file, sha256=sha256, month=month, format=fmt,
                           events=events, **prov.fields())

    def file_item(self, number: str, theme: str, prov: Provenance) -> None:
        """Record that the plan has this item, under an existing theme."""
        self.check_theme(theme)
        if number in self.items:
            msg = f"plan {self.slug} already has item {number}"
            raise InvalidInputError(msg)
        self.trigger_event(ItemFiled, number=number, theme=theme, **prov.fields())


stable_topic(Plan, "ledger.aggregates:Plan")


class Catalogue(Triggers, Aggregate):
    """The plans one ledger holds, so a command can find the plan it means."""

    def __init__(self) -> None:
        self.plans: list[str] = []

    @classmethod
    def open(cls, provenance: Provenance) -> Catalogue:
        """The catalogue of a new ledger."""
        return cls._create(CatalogueOpened, id=CATALOGUE_ID, **provenance.fields())

    def absorb(self, event: PlanEvent) -> None:
        """Evolve by one event of this stream."""
        if isinstance(event, PlanListed):
            self.plans.append(event.slug)

    def list_plan(self, slug: str, prov: Provenance) -> None:
        """Add a plan; its slug must be new."""
        if slug in self.plans:
            msg = f"the ledger already holds plan {slug}"
            raise InvalidInputError(msg)
        self.trigger_event(PlanListed, slug=slug, **prov.fields())

    def check_plan(self, slug: str | None) -> str:
        """The plan a command means: the one named, or the only one."""
        return choose_plan(slug, self.plans)


stable_topic(Catalogue, "ledger.aggregates:Catalogue")
