"""On PostgreSQL, the application's own role can add and read events, never change them."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from ledger.application.evidence import verify
from ledger.application.reconcile import import_document
from ledger.bootstrap import bootstrap
from ledger.domain.values import Provenance
from ledger.store.engine import EVENTS_TABLE
from tests.editions import SEPTEMBER, SEPTEMBER_EVENTS, SEPTEMBER_HEAD

ROLE_SQL = Path(__file__).resolve().parents[2] / "scripts" / "pg_roles.sql"


@pytest.mark.postgres
def test_the_app_role_can_only_insert_and_select_events(pg_url: str) -> None:
    """As ledger_app: an import works, queries work; UPDATE, DELETE, TRUNCATE are refused."""
    owner = bootstrap(pg_url, create=True).ledger
    owner.init(Provenance("owner", date(2018, 9, 30), "test"))
    owner.close()
    psql = shutil.which("psql")
    assert psql, "psql is not installed"
    subprocess.run([psql, pg_url.replace("+psycopg", ""), "-v", "ON_ERROR_STOP=1",
                    "-v", "writer=ledger_app", "-v", "projector=ledger_projector",
                    "-v", "auditor=ledger_auditor", "-q", "-f", str(ROLE_SQL)], check=True,
                   capture_output=True)
    app_url = pg_url.replace("//ledger@", "//ledger_app@", 1)
    ledger = bootstrap(app_url).ledger
    report = import_document(ledger, SEPTEMBER)
    assert report.events == SEPTEMBER_EVENTS  # and the catalogue makes one more
    assert verify(ledger.app).intact
    engine = ledger.app.engine
    for statement in (f"UPDATE {EVENTS_TABLE} SET topic = 'x'", f"DELETE FROM {EVENTS_TABLE}",
                      f"TRUNCATE {EVENTS_TABLE}", "DROP TRIGGER ledger_events_no_change "
                      f"ON {EVENTS_TABLE}", "UPDATE ledger_chain SET link = 'x'"):
        with pytest.raises(ProgrammingError, match=r"permission denied|must be owner"), \
                engine.begin() as conn:
            conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(text(f"SELECT count(*) FROM {EVENTS_TABLE}")).scalar() == SEPTEMBER_HEAD
    ledger.close()
