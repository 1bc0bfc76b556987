"""Database triggers that refuse any UPDATE or DELETE of stored events.

Immutability is the product: even a person with SQL access to the ledger's
database cannot rewrite history without first dropping these triggers,
which the hash chain then exposes.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Engine

REFUSAL = "ledger events are immutable"


def _sqlite_statements(table: str) -> list[str]:
    return [
        f"""CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table}
            BEGIN SELECT RAISE(ABORT, '{REFUSAL}: UPDATE refused'); END""",
        f"""CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table}
            BEGIN SELECT RAISE(ABORT, '{REFUSAL}: DELETE refused'); END""",
    ]


def _postgres_statements(table: str) -> list[str]:
    return [
        f"""CREATE OR REPLACE FUNCTION {table}_refuse_change() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '{REFUSAL}: % refused', TG_OP; END $$""",
        f"""CREATE OR REPLACE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION {table}_refuse_change()""",
        f"""CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION {table}_refuse_change()""",
    ]


def install_guards(engine: Engine, table: str) -> None:
    """Create (idempotently) the triggers that keep `table` append-only."""
    statements = (
        _postgres_statements(table) if engine.dialect.name == "postgresql"
        else _sqlite_statements(table)
    )
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
