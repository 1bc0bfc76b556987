"""The one place that knows the database: the event store on SQLAlchemy (SQLite or PostgreSQL).

`ledger.store.app` opens the event store (the library's recorder, for writes);
`ledger.store.engine` connects with SQLAlchemy Core alone, for queries. Opening
a ledger picks the backend from its URL; `init` creates the tables and the
triggers that make the database itself refuse UPDATE, DELETE (and on PostgreSQL
TRUNCATE) of stored events. This package imports nothing itself, so a query
pays only for what it uses.
"""
