"""Where each read model stands: its tracking position, the last stored event it has applied.

A batch moves the positions in the same transaction as its rows, from the
positions it read: a runner that moved them meanwhile makes the batch fail
on the primary key, so no batch is ever applied twice.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Engine, insert, select, text, update

from projections import schema

LOG_MODELS = ("change_log", "editions")
DERIVED_MODELS = ("current_plan", "slippage_history", "monthly_snapshots")
MODELS = ("change_log", "current_plan", "slippage_history", "monthly_snapshots", "editions")


def positions(engine: Engine) -> dict[str, int]:
    """Each read model's tracking position (0 where it has applied nothing)."""
    with engine.connect() as conn:
        rows: dict[str, int] = {model: position for model, position in conn.execute(
            select(schema.tracking.c.model, schema.tracking.c.position)).all()}
    return {model: int(rows.get(model, 0)) for model in MODELS}


def can_write(engine: Engine) -> bool:
    """Whether this connection's role may write the read models (on PostgreSQL only the
    projector role and the owner may, and never on a standby; on SQLite whoever may write the
    file)."""
    if engine.dialect.name != "postgresql":
        return True
    with engine.connect() as conn:
        return bool(conn.execute(text(
            "SELECT NOT pg_is_in_recovery() AND bool_and(has_table_privilege(t, p)) "
            "FROM unnest(ARRAY["
            "'proj_tracking', 'proj_changes', 'proj_items', 'proj_item_history']) t, "
            "unnest(ARRAY['INSERT', 'UPDATE', 'DELETE']) p")).scalar())


def log_position(at: dict[str, int]) -> int:
    """How far the change log (and the editions list) has come."""
    return min(at[m] for m in LOG_MODELS)


def derived_lag(at: dict[str, int]) -> bool:
    """Whether the derived models stand elsewhere than the change log (an interrupted rebuild)."""
    log = log_position(at)
    return any(at[m] != log for m in DERIVED_MODELS)


def track(conn: Connection, models: Sequence[str], last: int, read: dict[str, int]) -> None:
    """Move each model's position from what the batch read to `last`, in the batch's
    transaction; a model another runner moved meanwhile fails the whole batch."""
    for model in models:
        updated = conn.execute(update(schema.tracking)
                               .where(schema.tracking.c.model == model,
                                      schema.tracking.c.position == read[model])
                               .values(position=last))
        if updated.rowcount == 0:
            conn.execute(insert(schema.tracking).values(model=model, position=last))


def reset(conn: Connection, models: Sequence[str], position: int) -> None:
    """Set models' positions outright (after deriving them again from the change log)."""
    for model in models:
        conn.execute(schema.tracking.delete().where(schema.tracking.c.model == model))
        conn.execute(insert(schema.tracking).values(model=model, position=position))
