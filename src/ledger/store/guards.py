"""Database rules that hold even against a person with SQL access short of the owner.

Events and seals refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL; on SQLite also a
REPLACE, which deletes without firing DELETE triggers); only
the database assigns event ids (the next one, no gaps); a seal is refused
unless its event (of the stream it names) is there and, on PostgreSQL, its witness is the server's
clock and the session's own role; on SQLite a seal earlier than the one before
it is refused. Rewriting history needs the owner to drop these rules first,
which the hash chain then exposes.
"""

from __future__ import annotations

import re

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from ledger.domain.errors import LedgerError

REFUSAL = "ledger events are immutable"
# The search path the PostgreSQL rules' functions run with: the system catalogue, and the
# session's temporary schema last (never first, as when it is left out).
PINNED = "pg_catalog, pg_temp"
# On PostgreSQL writers take this table's EXCLUSIVE lock to store events one transaction at a
# time: a lock only a role with UPDATE on it (the writer, the owner) can take or block.
WRITE_LOCK_TABLE = "ledger_write_lock"
GUARDS_LOCK_WAIT_S = 10  # how long `ledger init` waits to lock the tables it guards
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for a lock_timeout
INSUFFICIENT_PRIVILEGE = "42501"  # and for "permission denied"


def in_this_schema(parameter: str) -> str:
    """SQL for the table named by the bound `parameter` in the session's current schema, as
    a regclass (NULL where there is none): never a temporary table of the same name."""
    return f"to_regclass(quote_ident(current_schema()) || '.' || :{parameter})"


def sqlstate(exc: DBAPIError) -> str | None:
    """PostgreSQL's SQLSTATE for a database error (None from a driver that gives none)."""
    return getattr(exc.orig, "sqlstate", None)
PG_CLOCK = "to_char({clock} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US') || '+00:00'"


def _sqlite_immutable(table: str) -> list[str]:
    return [
        f"""CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table}
            BEGIN SELECT RAISE(ABORT, '{REFUSAL}: UPDATE refused'); END""",
        f"""CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table}
            BEGIN SELECT RAISE(ABORT, '{REFUSAL}: DELETE refused'); END""",
    ]


def _postgres_immutable(table: str) -> list[str]:
    return [
        f"""CREATE OR REPLACE FUNCTION {table}_refuse_change() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '{REFUSAL}: % refused', TG_OP; END $$""",
        f"""CREATE OR REPLACE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION {table}_refuse_change()""",
        f"""CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION {table}_refuse_change()""",
    ]


def _sqlite_rules(events: str, chain: str) -> list[str]:
    return [
        # SQLite's REPLACE (INSERT OR REPLACE, REPLACE INTO, an upsert's OR REPLACE) deletes the
        # row whose key it takes without firing DELETE triggers (unless the writer turned
        # recursive_triggers on); a BEFORE INSERT trigger runs before that deletion.
        f"""CREATE TRIGGER IF NOT EXISTS {events}_never_replaced BEFORE INSERT ON {events}
            WHEN EXISTS (SELECT 1 FROM {events} WHERE id = NEW.id)
              OR EXISTS (SELECT 1 FROM {events} WHERE originator_id = NEW.originator_id
                         AND originator_version = NEW.originator_version)
            BEGIN SELECT RAISE(ABORT, '{REFUSAL}: a stored event is never replaced'); END""",
        f"""CREATE TRIGGER IF NOT EXISTS {chain}_never_replaced BEFORE INSERT ON {chain}
            WHEN EXISTS (SELECT 1 FROM {chain} WHERE position = NEW.position)
            BEGIN SELECT RAISE(ABORT, '{REFUSAL}: a stored seal is never replaced'); END""",
        # Checked after the row is in: it must be the next id, with nothing after it.
        f"""CREATE TRIGGER IF NOT EXISTS {events}_next_id AFTER INSERT ON {events}
            WHEN NEW.id <> 1 + COALESCE((SELECT id FROM {events} WHERE id < NEW.id
                                          ORDER BY id DESC LIMIT 1), 0)
              OR EXISTS (SELECT 1 FROM {events} WHERE id > NEW.id)
            BEGIN SELECT RAISE(ABORT, 'ledger events: ids are assigned by the ledger'); END""",
        f"""CREATE TRIGGER IF NOT EXISTS {chain}_needs_event BEFORE INSERT ON {chain}
            WHEN NOT EXISTS (SELECT 1 FROM {events} WHERE id = NEW.position
                             AND lower(hex(originator_id)) = NEW.stream)
            BEGIN SELECT RAISE(ABORT, 'ledger seals: no event of this stream at this position');
            END""",
        f"""CREATE TRIGGER IF NOT EXISTS {chain}_time_forward BEFORE INSERT ON {chain}
            WHEN NEW.witnessed_at < (SELECT witnessed_at FROM {chain}
                                     WHERE position < NEW.position
                                     ORDER BY position DESC LIMIT 1)
            BEGIN SELECT RAISE(ABORT, 'ledger seals: recorded time would go backwards'); END""",
    ]


def _postgres_rules(events: str, chain: str, schema: str, *, drop_default: bool) -> list[str]:
    """The numbering and witnessing rules (with `drop_default`, the ALTER TABLE that leaves
    the numbering to them). Their functions name the events table with its schema and run
    with a fixed search path (`PINNED`, temporary schema last): PostgreSQL otherwise looks a
    table up in the session's temporary schema first, where any role may make a
    `ledger_events` of its own for the function to read (attack round 9)."""
    now, clock = PG_CLOCK.format(clock="now()"), PG_CLOCK.format(clock="clock_timestamp()")
    table = f"{_quoted(schema)}.{events}"
    # The database, not the writer, numbers events: the next id under the writers' lock.
    numbering = [f"ALTER TABLE {events} ALTER COLUMN id DROP DEFAULT"] if drop_default else []
    return [
        f"CREATE TABLE IF NOT EXISTS {_quoted(schema)}.{WRITE_LOCK_TABLE} ()",
        *numbering,
        f"""CREATE OR REPLACE FUNCTION {events}_assign_id() RETURNS trigger
            LANGUAGE plpgsql SET search_path = {PINNED} AS $$
            BEGIN
              IF NEW.id IS NOT NULL THEN
                RAISE EXCEPTION 'ledger events: ids are assigned by the ledger (% refused)',
                  NEW.id;
              END IF;
              SELECT COALESCE(MAX(id), 0) + 1 INTO NEW.id FROM {table};
              RETURN NEW;
            END $$""",
        f"""CREATE OR REPLACE TRIGGER {events}_assign_id BEFORE INSERT ON {events}
            FOR EACH ROW EXECUTE FUNCTION {events}_assign_id()""",
        f"""CREATE OR REPLACE FUNCTION {chain}_witness() RETURNS trigger
            LANGUAGE plpgsql SET search_path = {PINNED} AS $$
            BEGIN
              IF NOT EXISTS (SELECT 1 FROM {table} WHERE id = NEW.position
                             AND replace(originator_id::text, '-', '') = NEW.stream) THEN
                RAISE EXCEPTION 'ledger seals: no event of stream % at position %',
                  NEW.stream, NEW.position;
              END IF;
              IF NEW.witnessed_by IS DISTINCT FROM session_user::text THEN
                RAISE EXCEPTION 'ledger seals: the witness must be this session''s role (%)',
                  session_user;
              END IF;
              IF NEW.witnessed_at < {now} OR NEW.witnessed_at > {clock} THEN
                RAISE EXCEPTION 'ledger seals: the witnessed time must be the server''s clock';
              END IF;
              RETURN NEW;
            END $$""",
        f"""CREATE OR REPLACE TRIGGER {chain}_witness BEFORE INSERT ON {chain}
            FOR EACH ROW EXECUTE FUNCTION {chain}_witness()""",
    ]


def _quoted(name: str) -> str:
    """A PostgreSQL identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'


def _statements(dialect: str, events: str, chain: str, schema: str = "public", *,
                drop_default: bool = True) -> list[str]:
    """Every statement that makes the rules on this backend (PostgreSQL: for tables in
    `schema`, the id default dropped where `drop_default`)."""
    if dialect == "postgresql":
        return [*_postgres_immutable(events), *_postgres_immutable(chain),
                *_postgres_rules(events, chain, schema, drop_default=drop_default)]
    return [*_sqlite_immutable(events), *_sqlite_immutable(chain), *_sqlite_rules(events, chain)]


def _trigger_names(statements: list[str]) -> list[str]:
    """The triggers those statements make, by name, in their order."""
    return [found.group(1) for statement in statements
            if (found := _TRIGGER_NAME.match(statement)) is not None]


_TRIGGER_NAME = re.compile(r"CREATE (?:OR REPLACE )?TRIGGER (?:IF NOT EXISTS )?(\w+)")


def missing_guards(engine: Engine, events: str, chain: str) -> list[str]:
    """The guards' triggers this version installs that the database lacks (a ledger an older
    version made, or one whose owner dropped some), and on PostgreSQL the rules' functions
    that do not run with the pinned search path and the writers' lock table (an older version
    made neither): `ledger init` adds them."""
    names = _trigger_names(_statements(engine.dialect.name, events, chain))
    with engine.connect() as conn:
        if engine.dialect.name != "postgresql":
            present = set(conn.execute(text(
                "SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars())
            return [name for name in names if name not in present]
        present = set(conn.execute(text(  # this schema's tables' triggers, not another's
            f"SELECT tgname FROM pg_trigger WHERE tgname = ANY(:names) AND tgrelid IN "
            f"({in_this_schema('events')}, {in_this_schema('chain')})"),
            {"names": names, "events": events, "chain": chain}).scalars())
        functions = [f"{events}_assign_id", f"{chain}_witness"]
        pinned = set(conn.execute(text(
            "SELECT proname FROM pg_proc WHERE proname = ANY(:names) "
            "AND pronamespace = current_schema()::regnamespace "
            "AND :setting = ANY(proconfig)"),
            {"names": functions, "setting": f"search_path={PINNED}"}).scalars())
        lock_table = conn.execute(text(f"SELECT {in_this_schema('name')} IS NOT NULL"),
                                  {"name": WRITE_LOCK_TABLE}).scalar_one()
    missing = [name for name in names if name not in present]
    missing += [f"{name}() with a pinned search path" for name in functions
                if name not in pinned]
    return missing + ([] if lock_table else [f"{WRITE_LOCK_TABLE} (the writers' lock)"])


def _ids_numbered_by_postgres(engine: Engine, events: str) -> bool:
    """Whether the events' id column has no default left (the database's trigger numbers)."""
    with engine.connect() as conn:
        default = conn.execute(text(
            "SELECT column_default FROM information_schema.columns WHERE table_schema = "
            "current_schema() AND table_name = :table AND column_name = 'id'"),
            {"table": events}).scalar()
    return default is None


def install_guards(engine: Engine, events: str, chain: str) -> list[str]:
    """Create (idempotently) the rules that keep the events and their seals append-only,
    numbered and witnessed by the database; the triggers that were missing before.

    On PostgreSQL a ledger that has every rule is left alone: re-making them takes locks
    (ALTER TABLE, CREATE OR REPLACE TRIGGER) that deadlock with writers inserting at that
    moment. The events' id default is dropped only where it is still there: ALTER TABLE's
    lock waits for every open reader of the events, and every writer would queue behind it
    (attack round 11). Any lock is waited for `GUARDS_LOCK_WAIT_S` at most, then the
    sessions holding it are named (LedgerError) and nothing is changed."""
    missing = missing_guards(engine, events, chain)
    dialect = engine.dialect.name
    if dialect != "postgresql":
        with engine.begin() as conn:
            for statement in _statements(dialect, events, chain):
                conn.execute(text(statement))
        return missing
    numbered = _ids_numbered_by_postgres(engine, events)
    if not missing and numbered:
        return []
    with engine.begin() as conn:
        conn.execute(text(f"SET LOCAL lock_timeout = '{GUARDS_LOCK_WAIT_S}s'"))
        schema = str(conn.execute(text("SELECT current_schema()")).scalar_one())
        try:
            for statement in _statements(dialect, events, chain, schema,
                                         drop_default=not numbered):
                conn.execute(text(statement))
        except OperationalError as exc:
            if sqlstate(exc) != LOCK_NOT_AVAILABLE:
                raise
            msg = (f"`ledger init` waited {GUARDS_LOCK_WAIT_S} s to lock {events} or "
                   f"{chain}, which other sessions hold ({_lock_holders(engine, events, chain)}"
                   f"): nothing was changed; run it again when they end")
            raise LedgerError(msg) from None
    return missing


def _lock_holders(engine: Engine, events: str, chain: str) -> str:
    """The sessions holding a lock on the events or the seals: pid, role, state."""
    with engine.connect() as conn:
        found = conn.execute(text(
            "SELECT DISTINCT a.pid, a.usename, a.state FROM pg_locks l "
            f"JOIN pg_stat_activity a USING (pid) WHERE l.granted AND l.relation IN "
            f"({in_this_schema('events')}, {in_this_schema('chain')}) "
            f"AND a.pid <> pg_backend_pid() ORDER BY a.pid"),
            {"events": events, "chain": chain}).all()
    return "; ".join(f"session {pid} of role {role!r}, {state}" for pid, role, state in found) \
        or "none left"
