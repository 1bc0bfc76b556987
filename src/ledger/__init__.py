"""ledger: an audit ledger of improvement-plan changes, every change an immutable event."""

__version__ = "0.1.0"
