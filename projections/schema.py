"""The read models' tables, in the ledger's own database, and their tracking positions.

Read models are derived data: a rebuild may empty and refill them; events
are never touched. JSON values are stored as text so SQLite and PostgreSQL
hold the same rows. Lean by design: no row per event beyond the change log (which
keeps no copy of the event: a re-fold reads the events table by the row's `seq`),
one history row per item per effective date, and month-end snapshots answered from
that history (see `projections.queries`) rather than stored item by month.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Index,
    Integer,
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

item_history = Table(
    "proj_item_history", metadata,
    Column("plan", Text, primary_key=True),
    Column("item", Text, primary_key=True),
    Column("valid_from", String(10), primary_key=True),
    Column("valid_to", String(10)),
    Column("row", Text, nullable=False),
    # the item's slippage rows from this date, NULL where the same as on its previous date
    Column("slips", Text),
    # how many of the item's updates name each month its month-ends in [valid_from,
    # valid_to) fall in (`ledger snapshots`' updates_in_month), {} where none
    Column("month_updates", Text, nullable=False),
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

ALL_READ_TABLES = (streams, changes, items, outcomes, item_history, editions, plans)
# Tables and columns an older ledger kept that this one derives elsewhere.
RETIRED_TABLES = ("proj_snapshots",)


def create_tables(engine: Engine) -> str | None:
    """Create the read models' tables that do not exist yet, and bring those an older ledger
    made to this version's shape: columns it no longer keeps dropped, new ones added, tables it
    no longer keeps dropped; the read models are then emptied so that the next catch-up
    derives them all again from the events (read models are derived data; events are never
    touched). Tables are altered, not made anew, so that the roles' grants on them stay.
    Returns what was out of date where an older version's tables were brought up to date."""
    found = inspect(engine)
    names = set(found.get_table_names())
    made_before = any(t.name in names for t in (*ALL_READ_TABLES, tracking))
    stale = out_of_date(engine) if made_before else None
    changes = []
    for table in (*ALL_READ_TABLES, tracking):
        if table.name not in names:
            continue
        have = {c["name"] for c in found.get_columns(table.name)}
        want = {c.name for c in table.columns}
        changes += [(table, "drop", name) for name in sorted(have - want)]
        changes += [(table, "add", name) for name in sorted(want - have)]
    retired = [name for name in RETIRED_TABLES if name in names]
    if changes or retired:
        quote = engine.dialect.identifier_preparer.quote
        with engine.begin() as conn:
            for table in (*ALL_READ_TABLES, tracking):
                if table.name in names:
                    conn.execute(table.delete())
            for name in retired:
                conn.execute(text(f"DROP TABLE {quote(name)}"))
            for table, how, name in changes:
                if how == "drop":
                    conn.execute(text(f"ALTER TABLE {quote(table.name)} DROP COLUMN "
                                      f"{quote(name)}"))
                    continue
                column = table.c[name]
                kind = column.type.compile(dialect=engine.dialect)
                rule = "" if column.nullable else " NOT NULL DEFAULT ''"
                conn.execute(text(f"ALTER TABLE {quote(table.name)} ADD COLUMN {quote(name)} "
                                  f"{kind}{rule}"))
    metadata.create_all(engine)
    return stale


def tables_noting(said: list[str]) -> Callable[[Engine], None]:
    """`create_tables`, noting in `said` what an older version's read models lacked."""
    def make(engine: Engine) -> None:
        if stale := create_tables(engine):
            said.append(stale)
    return make


def out_of_date(engine: Engine) -> str | None:
    """Why the read-model tables are not this version's (made by an older ledger): a table
    or column missing, or one this version no longer keeps; None where they are current."""
    found = inspect(engine)
    names = set(found.get_table_names())
    for table in (*ALL_READ_TABLES, tracking):
        if table.name not in names:
            return f"{table.name} is missing"
        have = {c["name"] for c in found.get_columns(table.name)}
        missing = [c.name for c in table.columns if c.name not in have]
        if missing:
            return f"{table.name}.{missing[0]} is missing"
        retired = sorted(have - {c.name for c in table.columns})
        if retired:
            return f"{table.name}.{retired[0]} is no longer kept"
    retired_tables = [name for name in RETIRED_TABLES if name in names]
    if retired_tables:
        return f"{retired_tables[0]} is no longer kept"
    return None
