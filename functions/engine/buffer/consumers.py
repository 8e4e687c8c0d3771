"""The drain's side of the stream: its consumer group, reading, reclaiming and acknowledging."""

from __future__ import annotations

import redis

from engine.buffer.keys import Keys


def ensure_group(client: redis.Redis, keys: Keys) -> None:
    """Create the drain's consumer group (reading from the stream's start) if missing."""
    try:
        client.xgroup_create(keys.stream, keys.group, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def read_new(client: redis.Redis, keys: Keys, consumer: str, count: int) -> list[tuple[bytes, dict]]:
    """Entries never delivered to any consumer of the group, oldest first."""
    reply = client.xreadgroup(keys.group, consumer, {keys.stream: ">"}, count=count)
    if not reply:
        return []
    return [(entry_id, fields or {}) for entry_id, fields in reply[0][1]]


def reclaim_stale(
    client: redis.Redis, keys: Keys, consumer: str, min_idle_ms: int, count: int
) -> tuple[list[tuple[bytes, dict]], list[bytes]]:
    """Take over entries a dead or stuck consumer left pending for min_idle_ms or longer.

    Returns (entries, vanished_ids): vanished ids were pending but are gone from the stream.
    """
    claimed: list[tuple[bytes, dict]] = []
    vanished: list[bytes] = []
    start = "0-0"
    while len(claimed) < count:
        reply = client.xautoclaim(keys.stream, keys.group, consumer, min_idle_ms, start_id=start, count=count - len(claimed))
        start, entries = reply[0], reply[1]
        for entry_id, fields in entries:
            if fields is None:
                vanished.append(entry_id)
            else:
                claimed.append((entry_id, fields))
        if len(reply) > 2:
            vanished.extend(reply[2])
        if start in (b"0-0", "0-0"):
            break
    return claimed, vanished


def delivery_counts(client: redis.Redis, keys: Keys, consumer: str, entry_ids: list[bytes]) -> dict[bytes, int]:
    """How many times each pending entry of `consumer` has been delivered."""
    if not entry_ids:
        return {}
    ordered = sorted(entry_ids, key=entry_sort_key)
    rows = client.xpending_range(
        keys.stream, keys.group, min=ordered[0], max=ordered[-1], count=len(ordered) * 2 + 10, consumername=consumer
    )
    wanted = set(entry_ids)
    return {row["message_id"]: row["times_delivered"] for row in rows if row["message_id"] in wanted}


def ack_and_delete(client: redis.Redis, keys: Keys, entry_ids: list[bytes], **counts: int) -> None:
    """Acknowledge entries and delete them from the stream (and count them), in one transaction.

    Called only after the rows they became are committed: acknowledging first could lose
    them to a crash between the two.
    """
    if not entry_ids:
        return
    with client.pipeline(transaction=True) as pipe:
        pipe.xack(keys.stream, keys.group, *entry_ids)
        pipe.xdel(keys.stream, *entry_ids)
        for name, amount in counts.items():
            if amount:
                pipe.hincrby(keys.counters, name, amount)
        pipe.execute()


def backlog(client: redis.Redis, keys: Keys) -> int:
    """Entries in the stream not yet drained (read-but-unacknowledged ones included)."""
    return client.xlen(keys.stream)


def oldest_entry_age_seconds(client: redis.Redis, keys: Keys, now_ms: int) -> float | None:
    """Age of the oldest undrained entry, from its id's timestamp; None when the stream is empty."""
    first = client.xrange(keys.stream, count=1)
    if not first:
        return None
    millis = int(first[0][0].split(b"-")[0])
    return max(0.0, (now_ms - millis) / 1000.0)


def forget_idle_consumers(client: redis.Redis, keys: Keys, idle_ms: int, keep: str) -> int:
    """Delete consumers idle for idle_ms that hold nothing pending.

    A consumer with pending entries is never deleted: XGROUP DELCONSUMER would drop its
    pending entries, and nothing would ever deliver them again.
    """
    removed = 0
    for info in client.xinfo_consumers(keys.stream, keys.group):
        name = info["name"].decode() if isinstance(info["name"], bytes) else info["name"]
        if name != keep and info["pending"] == 0 and info["idle"] >= idle_ms:
            client.xgroup_delconsumer(keys.stream, keys.group, name)
            removed += 1
    return removed


def entry_sort_key(entry_id: bytes | str) -> tuple[int, int]:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    millis, _, seq = text.partition("-")
    return int(millis), int(seq or 0)
