"""The rollups' commands: backfill them from stored events, and verify (or repair) them.

    python -m engine.aggregates backfill        # count events stored before sql/009 (make migrate runs it)
    python -m engine.aggregates verify [--fix]  # make verify-aggregates [FIX=1]

Both may run while ingest and the drain keep running: each backfill chunk, and the whole
verification, holds the lock of sql/009_rollups.sql that the drain takes shared, so drains
wait for it and no event is counted twice or missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections.abc import Callable

from engine import config
from engine.core import constants as c
from engine.core import partitions
from engine.core.errors import EngineError
from engine.db import postgres, rollups
from engine.logs import configure, get_logger

log = get_logger("engine.aggregates")


def run_backfill(
    conn, say: Callable[[str], None] | None = None, budget_seconds: float | None = None, chunk_events: int = c.BACKFILL_CHUNK_EVENTS
) -> dict:
    """Count uncounted stored events chunk by chunk, newest first, until none is left or the budget is spent."""
    started = time.monotonic()
    counted, chunks = 0, 0
    for project_id, _ in rollups.pending_backfill(conn):
        while budget_seconds is None or time.monotonic() - started < budget_seconds:
            chunk = rollups.backfill_chunk(conn, project_id, chunk_events)
            if chunk is None:
                break
            counted += chunk.events
            chunks += 1
            down_to = str(chunk.low or "the oldest event")
            progress = {"project_id": project_id, "events": chunk.events, "counted": counted, "down_to": down_to}
            log.info("backfill chunk counted", extra=progress)
            if say:
                say(f"backfill: project {project_id}: {counted:,} events counted so far, down to {progress['down_to']}")
            if chunk.low is None:
                break
    left = rollups.pending_backfill(conn)
    return {"counted": counted, "chunks": chunks, "pending_projects": [p for p, _ in left], "seconds": round(time.monotonic() - started, 3)}


def minute_cutoff(settings: config.Settings, now: dt.datetime):
    return partitions.retention_cutoff(now, settings.rollup_retention_days)


def verify(conn, settings: config.Settings, now: dt.datetime, fix: bool, say: Callable[[str], None]) -> int:
    """Recompute, print the differences, rewrite them when fix; the number of tables that differed."""
    if rollups.pending_backfill(conn):
        raise EngineError("a backfill is still running (rollup_backfill has rows): run `python -m engine.aggregates backfill` first")
    cutoff = minute_cutoff(settings, now)
    with postgres.transaction(conn):
        differences, skipped, kept_from = rollups.recompute(conn, cutoff)
        for d in differences:
            scope = f" ({d.scope})" if d.scope else ""
            say(f"{d.table}{scope}: {d.missing} recomputed rows not stored as such, {d.extra} stored rows not recomputed")
            for side, row in d.sample:
                say(f"    {side}: {tuple(str(v) for v in row)}")
        if skipped:
            say(f"not checked: {', '.join(skipped)} (all time; raw events before {kept_from.isoformat()} were dropped by retention)")
        if differences and fix:
            rollups.rewrite(conn, differences, cutoff)
            say(f"rewrote {len(differences)} table(s) from the recomputation")
    if not differences:
        say("the rollups match the raw events")
    return len(differences)


def connect(settings: config.Settings):
    return postgres.connect(
        settings.database_url, application_name="analytics-aggregates", statement_timeout_ms=3_600_000, io_timeout_seconds=30
    )


def main(argv: list[str]) -> int:
    configure()
    parser = argparse.ArgumentParser(prog="python -m engine.aggregates", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("backfill", "verify"))
    parser.add_argument("--fix", action="store_true", help="verify: rewrite what differs from the recomputation")
    args = parser.parse_args(argv)
    try:
        settings = config.get_settings().require("database_url")
        conn = connect(settings)
    except (EngineError, postgres.InterfaceError) as exc:
        print(f"aggregates: {exc}", file=sys.stderr)
        return 1
    try:
        if args.command == "backfill":
            result = run_backfill(conn, say=lambda line: print(line, flush=True))
            print(f"backfill: {result['counted']:,} events counted in {result['chunks']} chunk(s); nothing left to count")
            return 0
        differing = verify(conn, settings, dt.datetime.now(dt.UTC), args.fix, say=lambda line: print(line, flush=True))
        return 0 if differing == 0 or args.fix else 1
    except (EngineError, postgres.DatabaseError, postgres.InterfaceError) as exc:
        print(f"aggregates: {postgres.server_message(exc)}", file=sys.stderr)
        return 1
    finally:
        conn.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
