"""The Redis layer: the event stream, its consumer group, dedupe marks and pipeline state.

Every function takes its client as an argument; `clients.redis_client` creates it lazily.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis

from engine import constants as c


@dataclass(frozen=True)
class Keys:
    """The Redis key names of one deployment, all under the namespace's hash tag."""

    stream: str
    seen_prefix: str
    state: str
    group: str = c.DRAIN_GROUP

    @classmethod
    def for_namespace(cls, namespace: str) -> Keys:
        tag = "{" + namespace + "}"
        return cls(
            stream=f"{tag}:{c.STREAM_SUFFIX}",
            seen_prefix=f"{tag}:{c.DEDUPE_SUFFIX}:",
            state=f"{tag}:{c.STATE_SUFFIX}",
        )


# Appends events whose id was not seen within the dedupe window, atomically per event.
# The mark is written after the XADD: if the script died between the two, a retry would
# append again and PostgreSQL's unique event id absorbs the copy; the other order could
# mark an event seen that was never appended, and lose it.
# KEYS[1] stream; ARGV[1] dedupe TTL seconds; ARGV[2] seen prefix; then (dedupe id, payload)
# pairs, the dedupe id empty for server-generated ids. Returns per event the entry id or 0.
_APPEND_SCRIPT = """
local out = {}
for i = 3, #ARGV, 2 do
  local dedupe_id = ARGV[i]
  local mark = ARGV[2] .. dedupe_id
  if dedupe_id ~= '' and redis.call('EXISTS', mark) == 1 then
    out[#out + 1] = 0
  else
    out[#out + 1] = redis.call('XADD', KEYS[1], '*', 'e', ARGV[i + 1])
    if dedupe_id ~= '' then
      redis.call('SET', mark, '1', 'EX', ARGV[1])
    end
  end
end
return out
"""


def append_events(client: redis.Redis, keys: Keys, items: list[tuple[str, bytes]], dedupe_seconds: int) -> list[bytes | None]:
    """Append (dedupe_id, payload) items to the stream; None marks a duplicate.

    Never trims: MAXLEN would silently delete entries no drain has read yet.
    """
    if not items:
        return []
    argv: list = [dedupe_seconds, keys.seen_prefix]
    for dedupe_id, payload in items:
        argv.extend((dedupe_id, payload))
    script = client.register_script(_APPEND_SCRIPT)
    result = script(keys=[keys.stream], args=argv)
    return [None if entry_id == 0 else entry_id for entry_id in result]


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


def ack_and_delete(client: redis.Redis, keys: Keys, entry_ids: list[bytes]) -> None:
    """Acknowledge entries and delete them from the stream, in one transaction.

    Called only after the rows they became are committed: acknowledging first could lose
    them to a crash between the two.
    """
    if not entry_ids:
        return
    with client.pipeline(transaction=True) as pipe:
        pipe.xack(keys.stream, keys.group, *entry_ids)
        pipe.xdel(keys.stream, *entry_ids)
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


def pipeline_facts(client: redis.Redis, keys: Keys, now_ms: int) -> tuple[int, float | None, dict[str, str]]:
    """(backlog, age of the oldest undrained entry, recorded state) in one round trip."""
    with client.pipeline(transaction=False) as pipe:
        pipe.xlen(keys.stream)
        pipe.xrange(keys.stream, count=1)
        pipe.hgetall(keys.state)
        length, first, state = pipe.execute()
    age = None
    if first:
        millis = int(first[0][0].split(b"-")[0])
        age = max(0.0, (now_ms - millis) / 1000.0)
    return length, age, {k.decode(): v.decode() for k, v in state.items()}


def write_state(client: redis.Redis, keys: Keys, **values: float | int | str) -> None:
    """Record pipeline facts (last drain, last refresh) that /metrics reports as freshness."""
    client.hset(keys.state, mapping=values)


def read_state(client: redis.Redis, keys: Keys) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in client.hgetall(keys.state).items()}


def entry_sort_key(entry_id: bytes | str) -> tuple[int, int]:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    millis, _, seq = text.partition("-")
    return int(millis), int(seq or 0)


def now_ms() -> int:
    return int(time.time() * 1000)
