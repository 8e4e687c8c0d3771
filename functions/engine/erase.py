"""Erase a person: pause the drains -> resolve their ids -> erase rows and rollup counts ->
erase stream entries -> record -> commit -> let the drains go. Behind DELETE /people/{user_id}
and `make erase-person`.

Events of the person that arrive while it runs are erased or are new data, never half of
each: the erasure holds every stream shard's lease (engine/shards.py), so no drain is between
reading entries and committing them, and the rollup lock exclusively (db/erasure.py), so no
backfill counts meanwhile. The stream is searched last, just before the commit: an entry
appended before that search is erased; one appended after it is drained when the leases go,
as a new event (README, "Erasing a person").
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
import uuid

from engine.buffer import erasure as stream_erasure
from engine.buffer import leases
from engine.buffer.keys import Keys
from engine.core import constants as c
from engine.core import erasure
from engine.core.errors import ServiceUnavailable
from engine.db import erasure as db_erasure
from engine.db.postgres import transaction
from engine.logs import get_logger

log = get_logger("engine.erase")


@contextlib.contextmanager
def drains_paused(rclient, shards: tuple[Keys, ...], wait_seconds: float = c.ERASURE_WAIT_SECONDS, clock=time.monotonic):
    """Hold every shard's lease (waiting for running drains to let go), release on the way out."""
    token = f"erasure-{uuid.uuid4().hex}"
    held: list[Keys] = []
    deadline = clock() + wait_seconds
    try:
        for keys in shards:
            while not leases.acquire(rclient, keys, token, c.ERASURE_LEASE_MS):
                if clock() >= deadline:
                    raise ServiceUnavailable(
                        "a drain kept the stream busy; retry the erasure later",
                        {"waited_seconds": wait_seconds},
                        headers={"Retry-After": str(c.RETRY_AFTER_SECONDS)},
                    )
                time.sleep(0.05)
            held.append(keys)
        yield
    finally:
        for keys in held:
            with contextlib.suppress(Exception):
                leases.release(rclient, keys, token)


def _stream_matches(rclient, shards: tuple[Keys, ...], project_id: int, ids: set[str]) -> tuple[set[str], list[tuple[Keys, list[bytes]]]]:
    """ids grown by the links still in the stream, and per shard the entries that name them."""
    decoded = [(keys, list(stream_erasure.entries(rclient, keys))) for keys in shards]
    grown = erasure.linked_ids((e for _, found in decoded for _, e in found), project_id, ids)
    return grown, [(keys, [i for i, e in found if erasure.belongs(e, project_id, grown)]) for keys, found in decoded]


def erase_person(rclient, conn, shards: tuple[Keys, ...], project_id: int, user_id: str, requested_by: str, clock=None) -> dict:
    """Erase one person (and every id linked to them) from a project; the answer's body."""
    clock = clock or (lambda: dt.datetime.now(dt.UTC))
    requested_at = clock()
    with drains_paused(rclient, shards):
        ids = db_erasure.person_ids(conn, project_id, user_id)
        ids, _ = _stream_matches(rclient, shards, project_id, ids)
        with transaction(conn):
            counts = db_erasure.erase_rows(conn, project_id, ids)
            # Last, under the leases and the lock: what was appended until now goes too.
            _, matched = _stream_matches(rclient, shards, project_id, ids)
            counts["stream_entries"] = sum(stream_erasure.delete_entries(rclient, keys, found) for keys, found in matched)
            finished_at = clock()
            record = db_erasure.insert_record(conn, project_id, requested_by, requested_at, finished_at, user_id, ids, counts)
    found = any(counts[k] for k in ("events", "users", "identity_links", "group_members", "dead_letters", "stream_entries"))
    log.info(
        "person erased" if found else "nothing to erase",
        extra={"project_id": project_id, "erasure": record, "requested_by": requested_by, "ids": len(ids), **counts},
    )
    return {
        "erasure_id": record,
        "project_id": project_id,
        "status": "erased" if found else "nothing_found",
        "ids": len(ids),
        "erased": counts,
        "seconds": round((finished_at - requested_at).total_seconds(), 3),
    }
