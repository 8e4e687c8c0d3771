"""view-refresh: lock -> partitions (create ahead, drop expired) -> refresh views -> answer.

One refresh at a time: a session advisory lock is tried, never waited for, so a second
concurrent call answers "skipped" at once. The views refresh CONCURRENTLY, so readers of
them are never blocked.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time

from engine.config import Settings
from engine.core import constants as c
from engine.core import partitions
from engine.db import upkeep
from engine.logs import get_logger

log = get_logger("engine.refresh")


def maintain_partitions(conn, settings: Settings, now: dt.datetime) -> dict:
    """Create the partitions of today and the days ahead; drop those past retention."""
    existing = upkeep.partition_days(conn)
    ahead = [d for d in partitions.days_ahead(now, settings.partition_days_ahead) if d not in existing]
    upkeep.alter_partitions(conn, [partitions.create_statement(d) for d in ahead], c.LOCK_PARTITIONS)
    expired = partitions.expired(existing, now, settings.retention_days)
    upkeep.alter_partitions(conn, [partitions.drop_statement(d) for d in expired], c.LOCK_PARTITIONS)
    cutoff = partitions.retention_cutoff(now, settings.retention_days)
    ids, rows = upkeep.delete_expired(conn, cutoff) if cutoff is not None else (0, 0)
    runs = upkeep.delete_old_task_runs(conn, now - dt.timedelta(days=c.TASK_RUNS_KEEP_DAYS))
    return {
        "created": [partitions.partition_name(d) for d in ahead],
        "dropped": [partitions.partition_name(d) for d in expired],
        "expired_event_ids": ids,
        "expired_default_rows": rows,
        "expired_task_runs": runs,
    }


def run_refresh(conn, settings: Settings, now: dt.datetime, clock=time.perf_counter) -> dict:
    """One refresh invocation; {"status": "skipped"} when another holds the lock."""
    started = clock()
    if not upkeep.try_advisory_lock(conn, c.LOCK_REFRESH):
        return {"status": "skipped", "reason": "another view refresh is running", "seconds": round(clock() - started, 4)}
    try:
        step = clock()
        maintenance = maintain_partitions(conn, settings, now)
        timings = {"partitions": round(clock() - step, 4)}
        for view in c.MATERIALIZED_VIEWS:
            step = clock()
            upkeep.refresh_view(conn, view)
            timings[view] = round(clock() - step, 4)
    finally:
        # A broken connection has released the lock already; its error must not mask the cause.
        with contextlib.suppress(Exception):
            upkeep.advisory_unlock(conn, c.LOCK_REFRESH)
    result = {"status": "refreshed", "timings": timings, "partitions": maintenance, "seconds": round(clock() - started, 4)}
    log.info("views refreshed", extra=result)
    return result
