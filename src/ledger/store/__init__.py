"""The one place that knows the database: the event store on SQLAlchemy (SQLite or PostgreSQL).

Opening a ledger picks the backend from its URL; `init` creates the tables
and the triggers that make the database itself refuse UPDATE, DELETE (and on
PostgreSQL TRUNCATE) of stored events.
"""

from ledger.store.app import EVENTS_TABLE, LedgerApp, open_ledger

__all__ = ["EVENTS_TABLE", "LedgerApp", "open_ledger"]
