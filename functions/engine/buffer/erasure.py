"""Erasing a person from the stream: find their undrained entries in a shard, delete them.

XDEL removes an entry whether or not a consumer holds it pending; the erasure acknowledges
the pending ones too, so the group forgets them. (A pending id whose entry is gone is also
handled by the drain: XAUTOCLAIM reports it as deleted, buffer/consumers.reclaim_stale.)
"""

from __future__ import annotations

from collections.abc import Iterator

import redis

from engine.buffer.keys import Keys
from engine.core import constants as c
from engine.core import erasure

SCAN_PAGE_ENTRIES = 1000


def entries(client: redis.Redis, keys: Keys, page: int = SCAN_PAGE_ENTRIES) -> Iterator[tuple[bytes, dict | None]]:
    """Every entry of the shard's stream, oldest first, decoded (None when it cannot be)."""
    start = "-"
    while True:
        batch = client.xrange(keys.stream, min=start, count=page)
        for entry_id, fields in batch:
            yield entry_id, erasure.decode_payload((fields or {}).get(c.ENTRY_FIELD, b""))
        if len(batch) < page:
            return
        start = "(" + (batch[-1][0].decode() if isinstance(batch[-1][0], bytes) else batch[-1][0])


def delete_entries(client: redis.Redis, keys: Keys, entry_ids: list[bytes]) -> int:
    """Acknowledge (if pending) and delete entries, in one transaction; how many were deleted."""
    if not entry_ids:
        return 0
    with client.pipeline(transaction=True) as pipe:
        pipe.xack(keys.stream, keys.group, *entry_ids)  # fails alone (NOGROUP) when no drain ever ran
        pipe.xdel(keys.stream, *entry_ids)
        results = pipe.execute(raise_on_error=False)
    deleted = results[-1]
    if isinstance(deleted, Exception):
        raise deleted
    return int(deleted)
