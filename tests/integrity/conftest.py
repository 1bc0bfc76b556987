"""A real ledger (the September 2018 edition imported, read models caught up, and on
PostgreSQL the three roles of scripts/pg_roles.sql) built once per backend and copied for
each attack: a file copy on SQLite, `CREATE DATABASE ... TEMPLATE` on PostgreSQL."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ledger.application.reconcile import import_document
from ledger.bootstrap import bootstrap
from ledger.domain.values import Provenance
from scripts.throwaway_databases import ThrowawayDatabases
from tests.conftest import _pg_admin_url
from tests.editions import SEPTEMBER, SEPTEMBER_HEAD

ROLE_SQL = Path(__file__).resolve().parents[2] / "scripts" / "pg_roles.sql"
WRITER, PROJECTOR, AUDITOR = "integrity_writer", "integrity_projector", "integrity_auditor"
HEAD = SEPTEMBER_HEAD  # the catalogue's event and the September edition's


def build(url: str) -> None:
    """Initialise, import the September edition, catch the read models up."""
    services = bootstrap(url, create=True)
    try:
        services.ledger.init(Provenance("clerk", date(2018, 9, 30), "test"))
        import_document(services.ledger, SEPTEMBER)
        services.projector.catch_up()
    finally:
        services.close()
        services.ledger.app.engine.dispose()


def apply_roles(url: str) -> None:
    """scripts/pg_roles.sql with psql, as the owner."""
    psql = shutil.which("psql")
    assert psql, "psql is not installed"
    subprocess.run([psql, url.replace("+psycopg", ""), "-v", "ON_ERROR_STOP=1",
                    "-v", f"writer={WRITER}", "-v", f"projector={PROJECTOR}",
                    "-v", f"auditor={AUDITOR}", "-q", "-f", str(ROLE_SQL)],
                   check=True, capture_output=True)


class Templates:
    """One built ledger per backend, made on first use."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.made: dict[str, str] = {}

    def sqlite(self) -> Path:
        if "sqlite" not in self.made:
            path = self.directory / "template.db"
            build(f"sqlite:///{path}")
            self.made["sqlite"] = str(path)
        return Path(self.made["sqlite"])

    def postgres(self) -> str:
        if "postgres" not in self.made:
            admin_url = _pg_admin_url()
            name = f"tpl_{uuid.uuid4().hex[:12]}"
            admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            admin.dispose()
            url = f"{admin_url.rsplit('/', 1)[0]}/{name}"
            build(url)
            apply_roles(url)
            self.made["postgres"] = name
        return self.made["postgres"]

    def drop(self) -> None:
        if "postgres" in self.made:
            admin = create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.made["postgres"]}" '
                                  "WITH (FORCE)"))
            admin.dispose()


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    """The built ledgers, dropped at the end of the session."""
    made = Templates(tmp_path_factory.mktemp("integrity-templates"))
    yield made
    made.drop()


@pytest.fixture
def url(backend: str, templates: Templates, tmp_path: Path) -> Iterator[str]:
    """A copy of the built ledger on each backend."""
    with copy_of_template(backend, templates, tmp_path) as copy:
        yield copy


@pytest.fixture
def pg(templates: Templates, tmp_path: Path) -> Iterator[str]:
    """A copy of the built ledger on PostgreSQL only (for attacks by its roles)."""
    with copy_of_template("postgres", templates, tmp_path) as copy:
        yield copy


@contextmanager
def copy_of_template(backend: str, templates: Templates, directory: Path) -> Iterator[str]:
    """A new database that is a copy of the built ledger: a file copy in `directory` on
    SQLite, `CREATE DATABASE ... TEMPLATE` on PostgreSQL (dropped afterwards), with the
    roles' script applied again for the grants a template does not pass on."""
    if backend != "postgres":
        target = directory / "ledger.db"
        shutil.copyfile(templates.sqlite(), target)
        yield f"sqlite:///{target}"
        return
    databases = ThrowawayDatabases(_pg_admin_url(), "t")
    try:
        copy = databases.fresh(template=templates.postgres())
        apply_roles(copy)  # a database's own grants (TEMPORARY, CONNECT) are not copied
        yield copy
    finally:
        databases.drop_all()


def as_role(url: str, role: str) -> str:
    """The same PostgreSQL database, logged in as `role` (the test server trusts loopback)."""
    return make_url(url).set(username=role).render_as_string(hide_password=False)
