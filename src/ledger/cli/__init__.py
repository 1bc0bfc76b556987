"""The `ledger` command line: one thin layer of parse, call, format over the application.

Only this package imports typer. Heavy imports (eventsourcing, SQLAlchemy)
happen inside commands, so `ledger --help` starts fast.
"""

from __future__ import annotations


def main() -> None:
    """Entry point of the `ledger` console script."""
    import sys

    for arg in sys.argv[1:]:  # Python hands undecodable bytes on as lone surrogates
        if not arg.isprintable() and any("\udc80" <= c <= "\udcff" for c in arg):
            from ledger.domain.words import shown

            text = arg.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            sys.stderr.write(shown(f"error: the argument '{text}' is not valid UTF-8") + "\n")
            raise SystemExit(2)
    from ledger.cli.root import app_for  # keeps `import ledger.cli` light

    app_for(sys.argv[1:])()
