"""Who and when for a command: `--by`, else LEDGER_ACTOR, else the OS user; effective today.

Reads the environment and the clock, so it lives here, not in the domain.
"""

from __future__ import annotations

import getpass
import os
from datetime import date

from ledger.domain.errors import InvalidInputError
from ledger.domain.values import Provenance, parse_day


def current_actor(by: str | None = None) -> str:
    """Who is recording: the `--by` given, else $LEDGER_ACTOR, else the OS user."""
    if by is not None and by.strip():
        return by.strip()
    actor = os.environ.get("LEDGER_ACTOR", "").strip()
    if actor:
        return actor
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def make_provenance(
    *,
    source: str,
    by: str | None = None,
    effective: str | date | None = None,
    note: str = "",
    attributed_to: str = "",
    today: date | None = None,
) -> Provenance:
    """A checked provenance; an effective date in the future is refused."""
    today = today or date.today()
    day = parse_day(effective) if isinstance(effective, str) else (effective or today)
    if day > today:
        msg = f"effective date {day.isoformat()} is in the future"
        raise InvalidInputError(msg)
    return Provenance(
        recorded_by=current_actor(by), effective=day, source=source,
        attributed_to=attributed_to.strip(), note=note.strip(),
    )
