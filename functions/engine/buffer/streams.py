"""Appending to the event stream: rate limits, backpressure, dedupe marks and the append, in one script.

Every function takes its client as an argument; `clients.redis_client` creates it lazily.
"""

from __future__ import annotations

import hashlib

import redis

from engine.buffer import dedupe
from engine.buffer.errors import server_error
from engine.buffer.keys import Keys
from engine.core import constants as c


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
# - Dedupe: an event whose client id was marked within the window is not appended again
#   (buffer/dedupe.py keeps the marks). The mark is set just before the XADD (one HSETNX
#   both checks and sets it) and removed again if the XADD fails, so no mark ever stands
#   for an event that is not in the stream; a retry after a failure appends it then.
# KEYS: stream, counters, key bucket, address bucket. ARGV: dedupe window ms, the marks'
# index hash, max backlog, key rate, key burst, address rate, address burst, bucket width ms,
# marks per shard, clock ms ('' for the server's TIME), then (dedupe id, payload) pairs, the
# dedupe id the 16 bytes of a client's UUID, empty for server-generated ids. Returns per
# event the entry id, or 0 for a duplicate.
_APPEND_SCRIPT = (
    """
local n = (#ARGV - 10) / 2
local now = tonumber(ARGV[10])
if now == nil then
  local clock = redis.call('TIME')
  now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
end
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
"""
    + dedupe.LUA
    + """
local out, accepted, duplicates = {}, 0, 0
for i = 11, #ARGV, 2 do
  local dedupe_id = ARGV[i]
  local shard = nil
  local found, h = false, 0
  if dedupe_id ~= '' then
    found, h = seen_before(dedupe_id)
    if not found then
      shard = mark(dedupe_id, h)
      found = shard == nil
    end
  end
  if found then
    out[#out + 1] = 0
    duplicates = duplicates + 1
  else
    local entry = redis.pcall('XADD', KEYS[1], '*', 'e', ARGV[i + 1])
    if type(entry) == 'table' and entry.err then
      if shard then unmark(shard, dedupe_id) end
      save_marks()
      return entry
    end
    out[#out + 1] = entry
    accepted = accepted + 1
  end
end
save_marks()
if accepted > 0 then redis.call('HINCRBY', KEYS[2], 'accepted', accepted) end
if duplicates > 0 then redis.call('HINCRBY', KEYS[2], 'duplicates', duplicates) end
return out
"""
)


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
    items: list[tuple[bytes, bytes]],
    dedupe_seconds: int,
    max_backlog: int,
    fsync_timeout_ms: int | None = None,
    buckets=None,
    marks_per_shard: int | None = None,
    clock_ms: int | None = None,
) -> list[bytes | None]:
    """Append (dedupe_id, payload) items to the stream; None marks a duplicate.

    A dedupe_id is the 16 bytes of the client's UUID, b"" for a server-generated id.
    marks_per_shard is dedupe.marks_per_shard of the server's listpack limit. The script
    reads the server's clock unless clock_ms is given (the tests place a window's edge).

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
    per_shard = marks_per_shard or dedupe.marks_per_shard(None)
    argv: list = [dedupe_seconds * 1000, keys.seen, max_backlog, *limits, dedupe.bucket_ms(dedupe_seconds), per_shard]
    argv.append("" if clock_ms is None else clock_ms)
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


def requeue(client: redis.Redis, keys: Keys, payloads: list[bytes]) -> list[bytes]:
    """Append payloads as they are, in one transaction (dead letters put back); their entry ids."""
    with client.pipeline(transaction=True) as pipe:
        for payload in payloads:
            pipe.xadd(keys.stream, {c.ENTRY_FIELD: payload})
        return pipe.execute()
