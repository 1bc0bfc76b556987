"""The read models' tables, in the ledger's own database, and their tracking positions.

Read models are derived data: a rebuild may empty and refill them; events
are never touched. JSON values are stored as text so SQLite and PostgreSQL
hold the same rows.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    inspect,
    text,
)

metadata = MetaData()

tracking = Table(
    "proj_tracking", metadata,
    Column("model", Text, primary_key=True),
    Column("position", BigInteger, nullable=False),
)

streams = Table(
    "proj_streams", metadata,
    Column("stream", String(32), primary_key=True),
    Column("plan", Text, nullable=False),
    Column("item", Text, nullable=False),
)

changes = Table(
    "proj_changes", metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("stream", String(32), nullable=False),
    Column("version", Integer, nullable=False),
    Column("recorded_at", String(40), nullable=False),
    Column("effective", String(10), nullable=False),
    Column("basis", Text, nullable=False),
    Column("edition", String(7), nullable=False),  # "" for a hand entry
    Column("plan", Text, nullable=False),
    Column("item", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("by", Text, nullable=False),
    Column("db_role", Text, nullable=False),
    Column("attributed_to", Text, nullable=False),
    Column("before", Text, nullable=False),
    Column("after", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("note", Text, nullable=False),
    Column("corrects", Integer),
    Column("topic", Text, nullable=False),
    Column("state", LargeBinary, nullable=False),
    Index("proj_changes_plan_item", "plan", "item", "version"),
    Index("proj_changes_plan_effective", "plan", "effective"),
    Index("proj_changes_recorded", "recorded_at"),
    Index("proj_changes_stream", "stream", "version"),
)

items = Table(
    "proj_items", metadata,
    Column("plan", Text, primary_key=True),
    Column("item", Text, primary_key=True),
    Column("theme", Text, nullable=False),
    Column("row", Text, nullable=False),
)

outcomes = Table(
    "proj_outcomes", metadata,
    Column("plan", Text, primary_key=True),
    Column("item", Text, primary_key=True),
    Column("outcome", Integer, primary_key=True),
    Column("slip_count", Integer, nullable=False),
    Column("row", Text, nullable=False),
)

snapshots = Table(
    "proj_snapshots", metadata,
    Column("plan", Text, primary_key=True),
    Column("item", Text, primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("row", Text, nullable=False),
    Index("proj_snapshots_month", "plan", "month"),
)

item_history = Table(
    "proj_item_history", metadata,
    Column("plan", Text, primary_key=True),
    Column("item", Text, primary_key=True),
    Column("valid_from", String(10), primary_key=True),
    Column("valid_to", String(10)),
    Column("row", Text, nullable=False),
    Column("slippage", Text, nullable=False),
    Index("proj_item_history_plan", "plan", "valid_from"),
)

editions = Table(
    "proj_editions", metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("plan", Text, nullable=False),
    Column("row", Text, nullable=False),
)

plans = Table(
    "proj_plans", metadata,
    Column("plan", Text, primary_key=True),
    Column("title", Text, nullable=False),
    Column("last_month", String(7), nullable=False),
    Column("themes", Text, nullable=False),
)

ALL_READ_TABLES = (streams, changes, items, outcomes, snapshots, item_history, editions, plans)


def create_tables(engine: Engine) -> None:
    """Create the read models' tables that do not exist yet. A change log made before it kept
    each change's edition gets the column, and the read models are emptied so that the next
    catch-up derives them all again from the events (read models are derived data)."""
    if "proj_changes" in inspect(engine).get_table_names() and "edition" not in {
            c["name"] for c in inspect(engine).get_columns("proj_changes")}:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE proj_changes ADD COLUMN edition VARCHAR(7) "
                              "NOT NULL DEFAULT ''"))
            for table in (*ALL_READ_TABLES, tracking):
                conn.execute(table.delete())
    metadata.create_all(engine)


def out_of_date(engine: Engine) -> str | None:
    """Which read-model table lacks a column this version writes (made by an older ledger),
    as `table.column`; None where they are all current."""
    found = inspect(engine)
    names = set(found.get_table_names())
    for table in (*ALL_READ_TABLES, tracking):
        if table.name not in names:
            return table.name
        have = {c["name"] for c in found.get_columns(table.name)}
        missing = [c.name for c in table.columns if c.name not in have]
        if missing:
            return f"{table.name}.{missing[0]}"
    return None
