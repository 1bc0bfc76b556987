"""Fresh, empty databases on a PostgreSQL server for harnesses and benchmarks, dropped after."""

from __future__ import annotations

import uuid

from sqlalchemy import create_engine, text

_FILE_COPY: dict[str, bool] = {}  # per server (admin URL): whether it has STRATEGY FILE_COPY


class ThrowawayDatabases:
    """Creates databases next to the one an admin URL names; `drop_all` removes them."""

    def __init__(self, admin_url: str, prefix: str) -> None:
        self.admin, self.prefix = admin_url, prefix
        self.made: list[str] = []

    def _run(self, statement: str) -> str:
        engine = create_engine(self.admin.replace("postgresql://", "postgresql+psycopg://", 1),
                               isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            result = conn.execute(text(statement))
            first = str(result.scalar()) if result.returns_rows else ""
        engine.dispose()
        return first

    def _strategy(self) -> str:
        """Copy the template's files (PostgreSQL 15 and later): its default there, WAL_LOG,
        writes every page of the copy to the write-ahead log, several times the work for the
        small databases made here."""
        if self.admin not in _FILE_COPY:
            _FILE_COPY[self.admin] = int(self._run("SHOW server_version_num")) >= 150000
        return " STRATEGY FILE_COPY" if _FILE_COPY[self.admin] else ""

    def fresh(self, template: str = "") -> str:
        """The URL of a new database: empty, or a copy of the database named `template`
        (which nobody may be connected to)."""
        name = f"{self.prefix}_{uuid.uuid4().hex[:8]}"
        self._run(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
                  + self._strategy())
        self.made.append(name)
        return self.admin.rsplit("/", 1)[0] + f"/{name}"

    def disconnect(self, name: str) -> None:
        """End every other session on the database `name` and wait until they are gone: it can
        serve as a template only then (a process's idle pooled connections count too)."""
        self._run("SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity "
                  f"WHERE datname = '{name}' AND pid <> pg_backend_pid()")

    def drop_all(self) -> None:
        """Drop every database this made."""
        for name in self.made:
            self._run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.made.clear()
