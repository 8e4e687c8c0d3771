"""view-refresh: lock -> partitions (create ahead, drop expired) -> rollup upkeep -> answer.

The views are plain views over the rollup tables that the drain keeps (sql/009_rollups.sql),
so nothing is recomputed here. What is left is real upkeep: partitions ahead, retention of raw
events and of the per-minute rollups, and a pending backfill's next chunks (the repair of a
backfill that `make migrate` did not finish). One run at a time: a session advisory lock is
tried, never waited for, so a second concurrent call answers "skipped" at once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time

from engine import aggregates
from engine.config import Settings
from engine.core import constants as c
from engine.core import partitions
from engine.db import rollups, upkeep
from engine.logs import get_logger

log = get_logger("engine.refresh")

# A run spends at most this long on a pending backfill; the next run goes on from there.
BACKFILL_BUDGET_SECONDS = 10.0


def maintain_partitions(conn, settings: Settings, now: dt.datetime) -> dict:
    """Create the partitions of today and the days ahead; drop those past retention.

    Raw events are dropped only once every stored event is counted in the rollups: while a
    backfill is pending, retention waits, so that no event leaves uncounted.
    """
    existing = upkeep.partition_days(conn)
    ahead = [d for d in partitions.days_ahead(now, settings.partition_days_ahead) if d not in existing]
    upkeep.alter_partitions(conn, [partitions.create_statement(d) for d in ahead], c.LOCK_PARTITIONS)
    backfilling = bool(rollups.pending_backfill(conn))
    expired = [] if backfilling else partitions.expired(existing, now, settings.retention_days)
    upkeep.alter_partitions(conn, [partitions.drop_statement(d) for d in expired], c.LOCK_PARTITIONS)
    cutoff = partitions.retention_cutoff(now, settings.retention_days)
    ids, rows = upkeep.delete_expired(conn, cutoff) if cutoff is not None and not backfilling else (0, 0)
    if expired or rows:
        rollups.mark_raw_dropped(conn, cutoff)
    minutes_cutoff = aggregates.minute_cutoff(settings, now)
    minutes = rollups.delete_old_minutes(conn, minutes_cutoff) if minutes_cutoff is not None else 0
    runs = upkeep.delete_old_task_runs(conn, now - dt.timedelta(days=c.TASK_RUNS_KEEP_DAYS))
    return {
        "created": [partitions.partition_name(d) for d in ahead],
        "dropped": [partitions.partition_name(d) for d in expired],
        "retention_waits_for_backfill": backfilling and settings.retention_days > 0,
        "expired_event_ids": ids,
        "expired_default_rows": rows,
        "expired_rollup_minute_rows": minutes,
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
        step = clock()
        backfill = aggregates.run_backfill(conn, budget_seconds=BACKFILL_BUDGET_SECONDS)
        timings["backfill"] = round(clock() - step, 4)
    finally:
        # A broken connection has released the lock already; its error must not mask the cause.
        with contextlib.suppress(Exception):
            upkeep.advisory_unlock(conn, c.LOCK_REFRESH)
    result = {
        "status": "refreshed",
        "timings": timings,
        "partitions": maintenance,
        "backfill": backfill,
        "seconds": round(clock() - started, 4),
    }
    log.info("views refreshed", extra=result)
    return result
