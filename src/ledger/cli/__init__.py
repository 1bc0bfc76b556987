"""The `ledger` command line: one thin layer of parse, call, format over the application.

Only this package imports typer. Heavy imports (eventsourcing, SQLAlchemy)
happen inside commands, so `ledger --help` starts fast.
"""

from __future__ import annotations


def main() -> None:
    """Entry point of the `ledger` console script."""
    from ledger.cli.app import app  # keeps `import ledger.cli` light

    app()
