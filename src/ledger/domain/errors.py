"""Errors the domain raises; each says what is wrong in the words a user reads.

`LedgerError` is the base; the CLI maps `ConflictError` to exit code 3 and every
other `LedgerError` to exit code 2.
"""


class LedgerError(Exception):
    """A request the ledger refuses; nothing has been written."""


class InvalidInputError(LedgerError):
    """A value that is not what the command or document needs (a bad date, RAG word...)."""


class NotFoundError(LedgerError):
    """Something named that the ledger does not hold: a plan (or any plan at all), a theme,
    an item, an outcome, an event of an item, or a lead an item does not have."""


class NoChangeError(LedgerError):
    """A change that changes nothing (the same lead, the same target month...)."""


class ConflictError(LedgerError):
    """Someone else changed the same item between our read and our write."""


class ClockBehindError(InvalidInputError):
    """A writer whose clock is behind the ledger's last recorded time (SQLite's only witness)."""


class TamperedError(LedgerError):
    """The store holds something the ledger never wrote: `ledger verify` names it."""
