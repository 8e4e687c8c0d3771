"""Helpers for integration tests: queue events the way ingest does, and read back the outcome."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import uuid

import orjson
import pytest

from engine import groupappend, ingest
from engine.buffer.keys import Keys
from engine.core import copyfmt, enrich
from engine.core.pipeline import check_batch


def queue(settings, events: list[dict], request_id: str = "test") -> list[str]:
    """Validate and append events exactly as POST /events does; returns their ids."""
    received_at = dt.datetime.now(dt.UTC)
    checked = check_batch(events, received_at, settings.retention_days)
    assert all(c.errors is None for c in checked), [c.errors for c in checked if c.errors]
    return append_checked(settings, checked, 1, received_at, request_id).event_ids


def append_checked(settings, checked, project_id: int, received_at, rid: str):
    """ingest.append_checked (async, by group commit) run to its end on an event loop of its own,
    whose asyncio Redis clients are closed after it."""

    async def run():
        try:
            return await ingest.append_checked(settings, checked, project_id, received_at, rid)
        finally:
            await groupappend.release()

    return asyncio.run(run())


def append_raw(rclient, keys: Keys, payload: bytes) -> bytes:
    """Put an entry in the stream bypassing ingest's checks (to build poison)."""
    return rclient.xadd(keys.stream, {b"e": payload})


def entry_for(event: dict, **overrides) -> bytes:
    """A stream payload as ingest would write it, with fields overridden after the fact."""
    import orjson

    now = dt.datetime.now(dt.UTC)
    body = orjson.loads(enrich.build_entry(event, event_id=uuid.uuid4(), moment=now, received_at=now, project_id=1, request_id="raw"))
    body.update(overrides)
    return orjson.dumps(body)


def event_ids_in_db(conn) -> list[str]:
    return [str(row[0]) for row in conn.run("SELECT event_id FROM events ORDER BY event_id")]


def pending_count(rclient, keys) -> int:
    return rclient.xpending(keys.stream, keys.group)["pending"]


def missing(reason: str) -> None:
    """A tool a test needs is missing: skip on a user's machine, fail under CI (which must have it)."""
    if os.environ.get("CI"):
        pytest.fail(f"CI is set and {reason}")
    pytest.skip(reason)


def copy_lines(rows: list[dict], received_at: dt.datetime) -> bytes:
    """COPY lines as the drain writes them, with full control of each field (a new event_id when a row has none)."""
    lines = []
    for i, e in enumerate(rows):
        entry = {
            "event_id": e.get("event_id") or str(uuid.uuid4()),
            "project_id": e["project_id"],
            "user_id": e["user_id"],
            "action": e.get("action", "click"),
            "element": e["element"],
            "duration": e["duration"],
            "timestamp": e["timestamp"].isoformat(),
            "received_at": received_at.isoformat(),
            "session_id": e["session_id"],
            "properties": e.get("properties"),
        }
        lines.append(copyfmt.copy_line(f"0-{i}", orjson.dumps({"v": 1, **entry})))
    return b"".join(lines)
