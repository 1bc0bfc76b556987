"""Stable identities: plan slugs, item numbers, and the UUIDs of their streams.

An item's stream id is derived from its plan and number, so any writer finds
the same stream without a lookup. Pure.
"""

from __future__ import annotations

import re
from uuid import NAMESPACE_URL, UUID, uuid5

from ledger.domain.errors import InvalidInputError, NotFoundError
from ledger.domain.words import did_you_mean

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_ITEM = re.compile(r"^\d{1,3}(\.\d{1,3}){0,3}[a-z]?$")
_THEME = re.compile(r"^\d{1,3}$")


def check_slug(slug: str) -> str:
    """A plan slug: lower-case letters, digits and dashes (`cgip-2018`)."""
    if not _SLUG.match(slug):
        msg = f"{slug!r} is not a plan slug: use lower-case letters, digits and dashes"
        raise InvalidInputError(msg)
    return slug


def check_item_number(number: str) -> str:
    """An item number such as `1.3`, `4.12` or `6.1a`."""
    if not _ITEM.match(number):
        msg = f"{number!r} is not an item number: use the plan's numbering, such as 1.3"
        raise InvalidInputError(msg)
    return number


def check_theme_number(number: str) -> str:
    """A theme number such as `1` .. `7`."""
    if not _THEME.match(number):
        msg = f"{number!r} is not a theme number: use a whole number such as 3"
        raise InvalidInputError(msg)
    return number


def plan_id(slug: str) -> UUID:
    """The stream of a plan."""
    return uuid5(NAMESPACE_URL, f"ledger:plan/{slug}")


def item_id(slug: str, number: str) -> UUID:
    """The stream of one item of a plan."""
    return uuid5(NAMESPACE_URL, f"ledger:plan/{slug}/item/{number}")


CATALOGUE_ID = uuid5(NAMESPACE_URL, "ledger:catalogue")


def event_ref(number: str, version: int) -> str:
    """How a user names one event of an item: `1.3@4` (item 1.3, its 4th event)."""
    return f"{number}@{version}"


def parse_event_ref(ref: str) -> tuple[str, int]:
    """The item number and version an event reference `1.3@4` names."""
    number, sep, version = ref.partition("@")
    if not sep or not version.isdigit() or int(version) < 1:
        msg = f"{ref!r} is not an event reference: use ITEM@N as `ledger history` shows"
        raise InvalidInputError(msg)
    return check_item_number(number), int(version)


def choose_plan(slug: str | None, plans: list[str]) -> str:
    """The plan a command means among the ledger's `plans`: the one named, or the only one."""
    if slug is not None:
        if slug not in plans:
            known = ", ".join(plans) or "none yet"
            msg = f"the ledger holds no plan {slug} (plans: {known}){did_you_mean(slug, plans)}"
            raise NotFoundError(msg)
        return slug
    if len(plans) == 1:
        return plans[0]
    if not plans:
        msg = "the ledger holds no plan yet: run `ledger new-plan SLUG --title TEXT`"
        raise NotFoundError(msg)
    msg = f"the ledger holds several plans ({', '.join(plans)}): name one with --plan"
    raise InvalidInputError(msg)
