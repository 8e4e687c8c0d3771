"""The drain's writes: events through staging, dead letters, and identity operations.

Every write is idempotent, because delivery is at-least-once: events are unique per event
id, dead letters per stream id, and identity operations merge.
"""

from __future__ import annotations

import orjson

from engine.core.constants import LOCK_ROLLUP_BACKFILL
from engine.db.postgres import conn_state, transaction
from engine.db.queries import QUERIES, run, run_prepared


def ensure_staging(conn) -> None:
    """Create this connection's staging and rollup tables once, outside any transaction.

    Created inside the load's transaction, a rollback would take the tables with it.
    """
    state = conn_state(conn)
    if not state.get("has_staging"):
        for name in ("create_staging", "create_rollup_batch", "create_rollup_fresh"):
            run(conn, name)
        state["has_staging"] = True


# In this order in every transaction, each statement's keys sorted: one global lock order.
ROLLUP_STATEMENTS = sorted(name for name in QUERIES if name.startswith("rollup_apply_"))


def apply_rollups(conn, prepared: bool = True) -> None:
    """Add rollup_batch's rows to the rollup tables (inside the caller's transaction).

    prepared=False parses each statement afresh, so that it resolves the table names again
    (a statement prepared earlier on this connection stays bound to the tables it saw then).
    """
    for name in ROLLUP_STATEMENTS:
        if prepared:
            run_prepared(conn, name)
        else:
            run(conn, name)


def add_to_rollups(conn) -> None:
    """Count the rows this transaction inserted (rollup_batch), leaving to a running backfill
    the ones before its counted_from (see sql/009_rollups.sql)."""
    run_prepared(conn, "rollup_lock_shared", key=LOCK_ROLLUP_BACKFILL)
    run_prepared(conn, "rollup_defer")
    apply_rollups(conn)


def load_rows(conn, copy_text: bytes) -> int:
    """COPY entries (copyfmt.copy_line) into staging, move the new ones into events and their
    counts into the rollups; commit; return rows inserted.

    Idempotent per event id (see sql/load_staged.sql), so a replayed batch inserts and counts nothing.
    """
    ensure_staging(conn)
    with transaction(conn):
        conn.run(QUERIES["copy_staging"], stream=[copy_text])
        run(conn, "load_staged")
        inserted = conn.row_count
        if inserted > 0:
            add_to_rollups(conn)
    return max(inserted, 0)


def insert_dead_letters(conn, letters: list[tuple[str, bytes, str, int]]) -> None:
    """Store (stream_id, payload, error, deliveries) rows; a stream id already there is skipped."""
    if not letters:
        return
    with transaction(conn):
        for stream_id, payload, error, deliveries in letters:
            run(
                conn,
                "insert_dead_letter",
                stream_id=stream_id,
                payload=payload,
                error=error.replace("\x00", "")[:2000],
                deliveries=deliveries,
            )


def apply_identity(conn, operation: dict) -> None:
    """One identify, group or alias (and the links any message carries), idempotently."""
    project_id = int(operation["project_id"])
    kind = operation.get("kind", "event")
    if kind == "identify":
        traits = orjson.dumps(operation.get("traits") or {}).decode()
        run(conn, "upsert_user", project_id=project_id, user_id=operation["user_id"], traits=traits, at=operation["at"])
    elif kind == "group":
        traits = orjson.dumps(operation.get("traits") or {}).decode()
        run(
            conn,
            "upsert_group",
            project_id=project_id,
            group_id=operation["group_id"],
            user_id=operation["user_id"],
            traits=traits,
            at=operation["at"],
        )
    for alias, target in operation.get("links") or []:
        run(conn, "link_identity", project_id=project_id, alias=alias, target=target)


def apply_identities(conn, operations: list[dict]) -> None:
    """Apply operations in one transaction (all or none)."""
    with transaction(conn):
        for operation in operations:
            apply_identity(conn, operation)


def claim_dead_letters(conn, limit: int) -> list:
    """(id, stream_id, payload) of up to `limit` dead letters not replayed yet, locked for this transaction."""
    return run(conn, "claim_dead_letters", limit=limit)


def mark_replayed(conn, ids: list[int]) -> None:
    run(conn, "mark_replayed", ids=ids)
