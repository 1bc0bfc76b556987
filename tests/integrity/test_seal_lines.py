"""The seal list of an evidence pack, as the database builds it, is what the pack's own
`chain_line` writes, for every seal, plain role or not, on both backends."""

from __future__ import annotations

from sqlalchemy import create_engine, select

from ledger.export.proof import chain_line
from ledger.store.chain import iter_seal_lines
from ledger.store.engine import normalise_url
from ledger.store.sealed import chain
from tests.integrity.attack import CHAIN, drop_guards, execute


def test_the_database_builds_each_seal_line_as_chain_line_does(url: str) -> None:
    """A role with a quote, a comma and a space (as the owner could leave one) takes the
    row-by-row path; every line equals chain_line of its row."""
    drop_guards(url, CHAIN)
    execute(url, f"UPDATE {CHAIN} SET witnessed_by = :r WHERE position IN (3, 7)",
            {"r": 'o"dd, role \\ é'})
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(
                chain.c.position, chain.c.previous, chain.c.stream, chain.c.content,
                chain.c.link, chain.c.witnessed_at, chain.c.witnessed_by)
                .order_by(chain.c.position)).all()
        lines = list(iter_seal_lines(engine, 1, rows[-1][0], chain_line))
    finally:
        engine.dispose()
    assert len(lines) == len(rows) > 400
    assert lines == [chain_line(*row) for row in rows]
    assert '"o\\"dd, role \\\\ é"]' in lines[2]
