"""The Redis layer: the event stream, its consumer group, dedupe marks and pipeline state.

Every function takes its client as an argument; `clients.redis_client` creates it lazily.
"""

from __future__ import annotations

import hashlib
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
    counters: str
    group: str = c.DRAIN_GROUP

    @classmethod
    def for_namespace(cls, namespace: str) -> Keys:
        tag = "{" + namespace + "}"
        return cls(
            stream=f"{tag}:{c.STREAM_SUFFIX}",
            seen_prefix=f"{tag}:{c.DEDUPE_SUFFIX}:",
            state=f"{tag}:{c.STATE_SUFFIX}",
            counters=f"{tag}:{c.COUNTERS_SUFFIX}",
        )


class Backpressure(Exception):
    """The stream holds more undrained entries than max_backlog: nothing was appended."""


class RateLimited(Exception):
    """A token bucket lacks tokens for this request: nothing was appended."""

    def __init__(self, retry_after_ms: int, which: str):
        super().__init__(f"rate limited by the {which} limit; retry in {retry_after_ms} ms")
        self.retry_after_ms, self.which = retry_after_ms, which


# Appends events, in one atomic step: rate limits, then backpressure, then the append.
# - Rate limits are token buckets (per write key, per client address) refilled at `rate`
#   events/s up to `burst`; a request takes one token per event, all or nothing.
# - Backpressure: nothing is appended when the backlog would pass its limit; nothing is
#   ever trimmed. Deciding both here means concurrent requests cannot overrun either.
# - Dedupe: an event whose client id was seen within the window is not appended again.
#   The mark is written after the XADD: if the script died between the two, a retry would
#   append again and PostgreSQL's unique event id absorbs the copy; the other order could
#   mark an event seen that was never appended, and lose it.
# KEYS: stream, counters, key bucket, address bucket. ARGV: dedupe TTL seconds, seen prefix,
# max backlog, key rate, key burst, address rate, address burst, then (dedupe id, payload)
# pairs, the dedupe id empty for server-generated ids. Returns per event the entry id, or 0
# for a duplicate.
_APPEND_SCRIPT = """
local n = (#ARGV - 7) / 2
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local function peek(bucket, rate, burst)
  if rate <= 0 then return 0, 0 end
  local state = redis.call('HMGET', bucket, 'tokens', 'at')
  local tokens = tonumber(state[1]) or burst
  local at = tonumber(state[2]) or now
  if now > at then tokens = math.min(burst, tokens + (now - at) * rate / 1000) end
  if tokens < n then return tokens, math.ceil((n - tokens) * 1000 / rate) end
  return tokens, 0
end
local key_rate, key_burst = tonumber(ARGV[4]), tonumber(ARGV[5])
local ip_rate, ip_burst = tonumber(ARGV[6]), tonumber(ARGV[7])
local key_tokens, key_wait = peek(KEYS[3], key_rate, key_burst)
local ip_tokens, ip_wait = peek(KEYS[4], ip_rate, ip_burst)
if key_wait > 0 or ip_wait > 0 then
  local which = 'key'
  if ip_wait > key_wait then which = 'address' end
  return redis.error_reply('RATELIMIT ' .. math.max(key_wait, ip_wait) .. ' ' .. which)
end
if redis.call('XLEN', KEYS[1]) + n > tonumber(ARGV[3]) then
  return redis.error_reply('BACKLOG the stream holds more undrained events than its limit')
end
local function spend(bucket, tokens, rate, burst)
  if rate > 0 then
    redis.call('HSET', bucket, 'tokens', tokens - n, 'at', now)
    redis.call('PEXPIRE', bucket, math.ceil(burst * 1000 / rate) + 1000)
  end
end
spend(KEYS[3], key_tokens, key_rate, key_burst)
spend(KEYS[4], ip_tokens, ip_rate, ip_burst)
local out, accepted, duplicates = {}, 0, 0
for i = 8, #ARGV, 2 do
  local dedupe_id = ARGV[i]
  local mark = ARGV[2] .. dedupe_id
  if dedupe_id ~= '' and redis.call('EXISTS', mark) == 1 then
    out[#out + 1] = 0
    duplicates = duplicates + 1
  else
    out[#out + 1] = redis.call('XADD', KEYS[1], '*', 'e', ARGV[i + 1])
    accepted = accepted + 1
    if dedupe_id ~= '' then
      redis.call('SET', mark, '1', 'EX', ARGV[1])
    end
  end
end
if accepted > 0 then redis.call('HINCRBY', KEYS[2], 'accepted', accepted) end
if duplicates > 0 then redis.call('HINCRBY', KEYS[2], 'duplicates', duplicates) end
return out
"""


def server_error(exc: redis.ResponseError) -> str:
    """The server's own error text (redis-py prefixes errors raised inside a pipeline)."""
    return str(exc).rsplit("caused error: ", 1)[-1]


class NotFsynced(Exception):
    """WAITAOF timed out: the events are in the stream but not confirmed on disk."""


_APPEND_SHA = hashlib.sha1(_APPEND_SCRIPT.encode()).hexdigest()  # noqa: S324 (Redis names scripts by SHA-1)


def _run_append(client: redis.Redis, script_keys: list, argv: list, fsync_timeout_ms: int | None) -> list:
    """EVALSHA (and WAITAOF) in one round trip; the script is loaded only when Redis lacks it.

    redis-py's Script objects in a pipeline ask SCRIPT EXISTS before every execution: a
    second round trip per request, on the hottest path there is.
    """
    for attempt in (1, 2):
        with client.pipeline(transaction=False) as pipe:
            pipe.execute_command("EVALSHA", _APPEND_SHA, len(script_keys), *script_keys, *argv)
            if fsync_timeout_ms is not None:
                pipe.execute_command("WAITAOF", 1, 0, fsync_timeout_ms)
            try:
                return pipe.execute()
            except redis.exceptions.NoScriptError:
                if attempt == 2:
                    raise
        client.script_load(_APPEND_SCRIPT)
    raise AssertionError("unreachable")


def append_events(
    client: redis.Redis,
    keys: Keys,
    items: list[tuple[str, bytes]],
    dedupe_seconds: int,
    max_backlog: int,
    fsync_timeout_ms: int | None = None,
    buckets=None,
) -> list[bytes | None]:
    """Append (dedupe_id, payload) items to the stream; None marks a duplicate.

    Raises RateLimited when a bucket (ratelimit.Buckets) lacks tokens, and Backpressure when
    the backlog would pass max_backlog; either way nothing is appended. With
    fsync_timeout_ms, also waits (WAITAOF, on the same connection, in the same round trip)
    until the append is fsynced, raising NotFsynced if it is not in time.
    Never trims: MAXLEN would silently delete entries no drain has read yet.
    """
    if not items:
        return []
    if buckets is None:
        limits, bucket_keys = [0, 0, 0, 0], [keys.counters, keys.counters]
    else:
        limits = [buckets.key_rate, buckets.key_burst, buckets.ip_rate, buckets.ip_burst]
        bucket_keys = [buckets.key_bucket, buckets.ip_bucket]
    argv: list = [dedupe_seconds, keys.seen_prefix, max_backlog, *limits]
    for dedupe_id, payload in items:
        argv.extend((dedupe_id, payload))
    script_keys = [keys.stream, keys.counters, *bucket_keys]
    try:
        replies = _run_append(client, script_keys, argv, fsync_timeout_ms)
    except redis.ResponseError as exc:
        message = server_error(exc)
        if message.startswith("BACKLOG"):
            raise Backpressure(message) from None
        if message.startswith("RATELIMIT"):
            _, wait_ms, which = message.split()
            raise RateLimited(int(wait_ms), which) from None
        raise
    if fsync_timeout_ms is not None and int(replies[1][0]) < 1:
        raise NotFsynced(f"the append was not fsynced within {fsync_timeout_ms} ms")
    return [None if entry_id == 0 else entry_id for entry_id in replies[0]]


def count(client: redis.Redis, keys: Keys, **increments: int) -> None:
    """Add to the ops counters every function exposes on /internal/metrics."""
    increments = {k: v for k, v in increments.items() if v}
    if increments:
        with client.pipeline(transaction=False) as pipe:
            for name, amount in increments.items():
                pipe.hincrby(keys.counters, name, amount)
            pipe.execute()


def read_counters(client: redis.Redis, keys: Keys) -> dict[str, int]:
    return {k.decode(): int(v) for k, v in client.hgetall(keys.counters).items()}


@dataclass(frozen=True)
class ServerFacts:
    """What this Redis keeps on disk and how full it is (None where CONFIG is not allowed)."""

    version: str
    used_memory: int
    maxmemory: int | None
    appendonly: bool | None
    appendfsync: str | None
    rdb_snapshots: bool | None
    waitaof: bool

    @property
    def persistent(self) -> bool | None:
        if self.appendonly is None:
            return None
        return bool(self.appendonly or self.rdb_snapshots)


def server_facts(client: redis.Redis) -> ServerFacts:
    info = client.info("server") | client.info("memory")
    version = str(info.get("redis_version", "0"))
    try:
        config = client.config_get("appendonly", "appendfsync", "save", "maxmemory")
    except redis.ResponseError:  # CONFIG renamed or forbidden (managed Redis)
        config = {}
    major, minor = (int(part) for part in (version.split(".") + ["0"])[:2])

    def value(name):
        raw = config.get(name, config.get(name.encode()))
        return raw.decode() if isinstance(raw, bytes) else raw

    return ServerFacts(
        version=version,
        used_memory=int(info.get("used_memory", 0)),
        maxmemory=int(value("maxmemory")) if value("maxmemory") is not None else None,
        appendonly=(value("appendonly") == "yes") if value("appendonly") is not None else None,
        appendfsync=value("appendfsync"),
        rdb_snapshots=bool(value("save").strip()) if value("save") is not None else None,
        waitaof=(major, minor) >= (7, 2),
    )


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
