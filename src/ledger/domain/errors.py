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


class UntrustedTimestampError(LedgerError):
    """A timestamp reply that does not prove when the digest existed: `what` is one of
    "not granted", "untrusted signer", "signature", "imprint differs". `ledger verify` exits 1
    on it: the reply was read, and it fails."""

    def __init__(self, what: str, detail: str) -> None:
        super().__init__(f"{what}: {detail}")
        self.what = what
