"""The `ledger` Typer application with every command (`ledger.cli.root` says how it is built)."""

from __future__ import annotations

from ledger.cli.root import COMMANDS, make_app

app = make_app(COMMANDS)
