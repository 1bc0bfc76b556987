"""The read models' tables, in the ledger's own database, and their tracking positions.

Read models are derived data: a rebuild may empty and refill them; events
are never touched. JSON values are stored as text so SQLite and PostgreSQL
hold the same rows. Lean by design: no row per event beyond the change log (which
keeps no copy of the event: a re-fold reads the events table by the row's `seq`),
one history row per item per effective date that keeps only what changed on that date
(the item's first row whole, then the top-level keys of its plan row that changed and the
slippage rows of the outcomes that changed: an as-of query folds an item's rows up to the
date), and month-end snapshots answered from that history (see `projections.queries`)
rather than stored item by month. On SQLite the small keyed tables (streams, tracking)
are stored `WITHOUT ROWID` (one b-tree, not a table and its key's index; tables of longer
rows are not, as a row past about 1 KB would spill into a page of its own), the change
log's and editions' `seq` is the rowid itself, and no index is kept that no query uses.
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
from sqlalchemy.engine import Inspector

metadata = MetaData()
# SQLite: the primary key is the rowid (an INTEGER PRIMARY KEY), not a second b-tree beside it
SEQ = BigInteger().with_variant(Integer, "sqlite")

tracking = Table(
    "proj_tracking", metadata,
    Column("model", Text, primary_key=True),
    Column("position", BigInteger, nullable=False),
    sqlite_with_rowid=False,  # SQLite: the table is its primary key's b-tree
)

streams = Table(
    "proj_streams", metadata,
    Column("stream", String(32), primary_key=True),
    Column("plan", Text, nullable=False),
    Column("item", Text, nullable=False),
    sqlite_with_rowid=False,  # SQLite: the table is its primary key's b-tree
)

changes = Table(
    "proj_changes", metadata,
    Column("seq", SEQ, primary_key=True, autoincrement=False),
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
    # (no index on recorded_at or stream: every query naming them names the plan, and the
    # one across all plans reads in seq order)
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
    # the top-level keys of the item's stored plan row (`current_plan.item_record`) whose
    # values differ from its previous row's: the whole row on the item's first date
    Column("row_patch", Text, nullable=False),
    # the slippage rows (`slippage_history.outcome_rows`) that differ from the previous
    # row's, by outcome number (null: no longer a row); NULL where none changed
    Column("slips", Text),
    # how many of the item's updates name each month its month-ends in [valid_from,
    # valid_to) fall in (`ledger snapshots`' updates_in_month), {} where none
    Column("month_updates", Text, nullable=False),
    # queries read one plan's rows in key order (item, valid_from): no other index (and a
    # rowid table, not WITHOUT ROWID: an item's first row, whole, would spill its page)
)

editions = Table(
    "proj_editions", metadata,
    Column("seq", SEQ, primary_key=True, autoincrement=False),
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
RETIRED_INDEXES = ("proj_item_history_plan", "proj_changes_stream", "proj_changes_recorded")


def create_tables(engine: Engine) -> str | None:
    """Create the read models' tables that do not exist yet, and bring those an older ledger
    made to this version's shape: columns it no longer keeps dropped, new ones added, tables
    and indexes it no longer keeps dropped; the read models are then emptied so that the next
    catch-up derives them all again from the events (read models are derived data; events are
    never touched). Tables are altered, not made anew, so that the roles' grants on them stay;
    only on SQLite (which has no grants) is a table stored in an older way (with a rowid
    beside its key) dropped and made again, as ALTER cannot change that.
    Returns what was out of date where an older version's tables were brought up to date."""
    found = inspect(engine)
    names = set(found.get_table_names())
    made_before = any(t.name in names for t in (*ALL_READ_TABLES, tracking))
    stale = out_of_date(engine) if made_before else None
    remade = [t for t in (*ALL_READ_TABLES, tracking)
              if t.name in names and _stored_otherwise(engine, t) is not None]
    changes = []
    for table in (*ALL_READ_TABLES, tracking):
        if table.name not in names or table in remade:
            continue
        have = {c["name"] for c in found.get_columns(table.name)}
        want = {c.name for c in table.columns}
        changes += [(table, "drop", name) for name in sorted(have - want)]
        changes += [(table, "add", name) for name in sorted(want - have)]
    retired = [name for name in RETIRED_TABLES if name in names]
    indexes = _retired_indexes(engine, names, skip={t.name for t in remade})
    if changes or retired or remade or indexes:
        quote = engine.dialect.identifier_preparer.quote
        with engine.begin() as conn:
            for table in (*ALL_READ_TABLES, tracking):
                if table.name in names:
                    conn.execute(table.delete())
            for name in retired:
                conn.execute(text(f"DROP TABLE {quote(name)}"))
            for table in remade:
                conn.execute(text(f"DROP TABLE {quote(table.name)}"))
            for name in indexes:  # (those of a table made again went with it)
                conn.execute(text(f"DROP INDEX {quote(name)}"))
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
    or column missing, or one this version no longer keeps, a table stored otherwise (SQLite),
    an index no longer kept; None where they are current."""
    found = inspect(engine)
    names = set(found.get_table_names())
    for table in (*ALL_READ_TABLES, tracking):
        why = _table_out_of_date(engine, found, table, names)
        if why is not None:
            return why
    retired_tables = [name for name in RETIRED_TABLES if name in names]
    if retired_tables:
        return f"{retired_tables[0]} is no longer kept"
    indexes = _retired_indexes(engine, names)
    if indexes:
        return f"the index {indexes[0]} is no longer kept"
    return None


def _table_out_of_date(engine: Engine, found: Inspector, table: Table, names: set[str],
                       ) -> str | None:
    """Why one read-model table is not this version's (None where it is)."""
    if table.name not in names:
        return f"{table.name} is missing"
    have = {c["name"] for c in found.get_columns(table.name)}
    missing = [c.name for c in table.columns if c.name not in have]
    if missing:
        return f"{table.name}.{missing[0]} is missing"
    retired = sorted(have - {c.name for c in table.columns})
    if retired:
        return f"{table.name}.{retired[0]} is no longer kept"
    otherwise = _stored_otherwise(engine, table)
    return None if otherwise is None else f"{table.name} is stored {otherwise}"


def _stored_otherwise(engine: Engine, table: Table) -> str | None:
    """How an existing SQLite table is stored other than this version stores it (with a
    rowid beside its key, or its key a second b-tree beside the rowid); None where the same,
    and always on PostgreSQL."""
    if engine.dialect.name != "sqlite":
        return None
    with engine.connect() as conn:
        made = conn.execute(text("SELECT sql FROM sqlite_master WHERE type = 'table' AND "
                                 "name = :name"), {"name": table.name}).scalar()
        declared = {row[1]: str(row[2]).upper() for row in conn.execute(
            text(f"PRAGMA table_info({engine.dialect.identifier_preparer.quote(table.name)})"))}
    if made is None:
        return None
    keyed = table.dialect_options["sqlite"]["with_rowid"] is False
    if keyed != ("WITHOUT ROWID" in str(made).upper()):
        return "with a rowid beside its key" if keyed else "without a rowid"
    for column in table.primary_key.columns:
        want = column.type.compile(dialect=engine.dialect).upper()
        if declared.get(column.name, want) != want:
            return f"with {column.name} as {declared[column.name]}, not {want}"
    return None


def _retired_indexes(engine: Engine, names: set[str], skip: frozenset[str] | set[str] = frozenset(),
                     ) -> list[str]:
    """The indexes this version no longer keeps that the read models' tables (but those in
    `skip`) still have."""
    found = inspect(engine)
    have = {str(i["name"]) for t in (*ALL_READ_TABLES, tracking)
            if t.name in names and t.name not in skip for i in found.get_indexes(t.name)}
    return [name for name in RETIRED_INDEXES if name in have]
