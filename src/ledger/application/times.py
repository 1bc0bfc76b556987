"""Recorded moments as users write them: a day (its end) or an ISO timestamp; UTC strings out."""

from __future__ import annotations

from datetime import UTC, datetime, time

from ledger.domain.errors import InvalidInputError
from ledger.domain.values import parse_day


def parse_known_at(text: str) -> str:
    """A sortable UTC ISO timestamp for `--known-at` (a bare day means its last moment)."""
    text = text.strip()
    if len(text) == 10:
        moment = datetime.combine(parse_day(text), time.max, tzinfo=UTC)
    else:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            msg = f"{text!r} is not a moment: use YYYY-MM-DD or an ISO 8601 timestamp"
            raise InvalidInputError(msg) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
