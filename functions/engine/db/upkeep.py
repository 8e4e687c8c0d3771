"""Upkeep of the store: partitions, retention, task runs and advisory locks."""

from __future__ import annotations

import orjson

from engine.core.partitions import day_of
from engine.db.postgres import conn_state, transaction
from engine.db.queries import run


def partition_days(conn) -> set:
    return {day for (name,) in run(conn, "event_partitions") if (day := day_of(name)) is not None}


def alter_partitions(conn, statements: list[str], lock_key: int) -> None:
    """Create or drop partitions in one transaction, serialized so concurrent callers don't collide.

    Forgets the partitions this connection knew of (conn_state's "partition_days").
    """
    if not statements:
        return
    conn_state(conn).pop("partition_days", None)
    with transaction(conn):
        run(conn, "advisory_xact_lock", key=lock_key)
        for statement in statements:
            conn.run(statement)


def delete_expired(conn, cutoff) -> tuple[int, int]:
    """Forget event ids and default-partition rows older than the retention cutoff."""
    with transaction(conn):
        run(conn, "delete_expired_ids", cutoff=cutoff)
        ids = max(conn.row_count, 0)
        run(conn, "delete_expired_default", cutoff=cutoff)
        rows = max(conn.row_count, 0)
    return ids, rows


def try_advisory_lock(conn, key: int) -> bool:
    return bool(run(conn, "try_advisory_lock", key=key)[0][0])


def advisory_unlock(conn, key: int) -> None:
    run(conn, "advisory_unlock", key=key)


def record_task_run(conn, task: str, status: str, started_at, finished_at, counts: dict, oldest_age: float | None, details: dict) -> None:
    """One row of task_runs: what a drain or refresh invocation did (Grafana charts these)."""
    run(
        conn,
        "insert_task_run",
        task=task,
        status=status,
        started_at=started_at,
        finished_at=finished_at,
        seconds=(finished_at - started_at).total_seconds(),
        read=counts.get("read", 0),
        inserted=counts.get("inserted", 0),
        duplicates=counts.get("duplicates", 0),
        dead_lettered=counts.get("dead_lettered", 0),
        reclaimed=counts.get("reclaimed", 0),
        backlog=counts.get("backlog", 0),
        oldest_age=oldest_age,
        details=orjson.dumps(details).decode(),
    )


def delete_old_task_runs(conn, cutoff) -> int:
    run(conn, "delete_old_task_runs", cutoff=cutoff)
    return max(conn.row_count, 0)


def seconds_since_last_run(conn, task: str) -> float | None:
    """How long ago the last run of `task` finished, or None if none is recorded."""
    return run(conn, "last_task_run_age", task=task)[0][0]
