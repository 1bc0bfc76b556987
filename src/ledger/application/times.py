"""Recorded moments as users write them: a day (its end) or an ISO timestamp; UTC strings out."""

from __future__ import annotations

from datetime import UTC, datetime, time

from ledger.domain.errors import InvalidInputError
from ledger.domain.values import MAX_YEAR, MIN_YEAR, parse_day


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
        # the years every date may have, checked before any arithmetic: a moment at the
        # calendar's edge (0001-01-01T00:00+01:00) overflows when moved to UTC
        if not MIN_YEAR <= moment.year <= MAX_YEAR:
            msg = f"{text!r}: year {moment.year} is outside {MIN_YEAR}-{MAX_YEAR}"
            raise InvalidInputError(msg)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    return utc_text(moment)


def utc_text(moment: datetime) -> str:
    """A moment as the ledger shows every timestamp: UTC, to the microsecond (as the store
    witnesses it), so that any moment shown can be given back as `--known-at` exactly."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
