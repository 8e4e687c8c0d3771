"""Appending to the event stream: rate limits, backpressure, dedupe marks and the append, in one script.

Every function takes its client as an argument; `clients.redis_client` creates it lazily.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import redis

from engine.buffer import dedupe
from engine.buffer.keys import Keys
from engine.core import constants as c


class Backpressure(Exception):
    """The stream holds more undrained entries than max_backlog: nothing was appended."""


class RateLimited(Exception):
    """A token bucket lacks tokens for this request: nothing was appended."""

    def __init__(self, retry_after_ms: int, which: str):
        super().__init__(f"rate limited by the {which} limit; retry in {retry_after_ms} ms")
        self.retry_after_ms, self.which = retry_after_ms, which


# Appends the events of one or more requests (groups), in one atomic step. Per group, in order:
# rate limits, then backpressure, then the append; each group has its own outcome, exactly
# as if its requests had been appended one after the other.
# - Rate limits are token buckets (per write key, per client address) refilled at `rate`
#   events/s up to `burst`; a request takes one token per event, all or nothing.
# - Backpressure: nothing is appended when the backlog would pass its limit; nothing is
#   ever trimmed. Deciding both here means concurrent requests cannot overrun either.
# - Dedupe: an event whose client id was marked within the window is not appended again
#   (buffer/dedupe.py keeps the marks). The mark is set just before the XADD (one HSET
#   both checks and sets it: its reply says whether the id was new) and removed again if the XADD fails, so no mark ever stands
#   for an event that is not in the stream; a retry after a failure appends it then.
# KEYS: stream, counters, then each group's key bucket and address bucket. ARGV: dedupe
# window ms, the marks' index hash, max backlog, the number of groups, three empty
# places, bucket width ms, marks per shard, clock ms ('' for the server's TIME) (the
# positions buffer/dedupe.py reads), then per group: key rate, key burst, address rate,
# address burst, n, and n (dedupe id, payload) pairs, the dedupe id the 16 bytes of a
# client's UUID, empty for server-generated ids. Returns per group {'OK', entry id or 0
# for a duplicate, ...}, {'RATELIMIT', wait ms, which} or {'BACKLOG'}; an XADD that fails
# ends the call with {'ERR', message} for its group (the groups after it are not tried).
_APPEND_SCRIPT = (
    """
local now = tonumber(ARGV[10])
if now == nil then
  local clock = redis.call('TIME')
  now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
end
local function peek(bucket, rate, burst, n)
  if rate <= 0 then return 0, 0 end
  local state = redis.call('HMGET', bucket, 'tokens', 'at')
  local tokens = tonumber(state[1]) or burst
  local at = tonumber(state[2]) or now
  if now > at then tokens = math.min(burst, tokens + (now - at) * rate / 1000) end
  if tokens < n then return tokens, math.ceil((n - tokens) * 1000 / rate) end
  return tokens, 0
end
local function spend(bucket, tokens, rate, burst, n)
  if rate > 0 then
    redis.call('HSET', bucket, 'tokens', tokens - n, 'at', now)
    redis.call('PEXPIRE', bucket, math.ceil(burst * 1000 / rate) + 1000)
  end
end
"""
    + dedupe.LUA
    + """
local backlog, max_backlog = redis.call('XLEN', KEYS[1]), tonumber(ARGV[3])
local replies, accepted, duplicates = {}, 0, 0
local function count()
  save_marks()
  if accepted > 0 then redis.call('HINCRBY', KEYS[2], 'accepted', accepted) end
  if duplicates > 0 then redis.call('HINCRBY', KEYS[2], 'duplicates', duplicates) end
end
local at = 11
for g = 1, tonumber(ARGV[4]) do
  local key_rate, key_burst = tonumber(ARGV[at]), tonumber(ARGV[at + 1])
  local ip_rate, ip_burst = tonumber(ARGV[at + 2]), tonumber(ARGV[at + 3])
  local n = tonumber(ARGV[at + 4])
  local first = at + 5
  at = first + 2 * n
  local key_bucket, ip_bucket = KEYS[1 + 2 * g], KEYS[2 + 2 * g]
  local key_tokens, key_wait = peek(key_bucket, key_rate, key_burst, n)
  local ip_tokens, ip_wait = peek(ip_bucket, ip_rate, ip_burst, n)
  if key_wait > 0 or ip_wait > 0 then
    local which = 'key'
    if ip_wait > key_wait then which = 'address' end
    replies[g] = {'RATELIMIT', math.max(key_wait, ip_wait), which}
  elseif backlog + n > max_backlog then
    replies[g] = {'BACKLOG'}
  else
    spend(key_bucket, key_tokens, key_rate, key_burst, n)
    spend(ip_bucket, ip_tokens, ip_rate, ip_burst, n)
    local out, added, repeated = {'OK'}, 0, 0
    for i = first, at - 1, 2 do
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
        repeated = repeated + 1
      else
        local entry = redis.pcall('XADD', KEYS[1], '*', 'e', ARGV[i + 1])
        if type(entry) == 'table' and entry.err then
          if shard then unmark(shard, dedupe_id) end
          count()
          replies[g] = {'ERR', entry.err}
          return replies
        end
        out[#out + 1] = entry
        added = added + 1
      end
    end
    backlog = backlog + added
    accepted, duplicates = accepted + added, duplicates + repeated
    replies[g] = out
  end
end
count()
return replies
"""
)


class NotFsynced(Exception):
    """WAITAOF timed out: the events are in the stream but not confirmed on disk."""


class NotReplicated(NotFsynced):
    """WAIT timed out: the events are in the master's stream but no replica confirmed them."""


_APPEND_SHA = hashlib.sha1(_APPEND_SCRIPT.encode()).hexdigest()  # noqa: S324 (Redis names scripts by SHA-1)


@dataclass(frozen=True)
class Call:
    """The terms of one append call to one stream shard (every group in the call shares them).

    marks_per_shard is dedupe.marks_per_shard of the server's listpack limit. The script reads
    the server's clock unless clock_ms is given (the tests place a window's edge). With
    fsync_timeout_ms the call also waits (WAITAOF, on the same connection, in the same round
    trip) until the append is fsynced; with replica_timeout_ms, until one replica holds it (WAIT 1).
    """

    keys: Keys
    dedupe_seconds: int
    max_backlog: int
    fsync_timeout_ms: int | None = None
    marks_per_shard: int | None = None
    clock_ms: int | None = None
    replica_timeout_ms: int | None = None


# One request's part of a call: its (dedupe_id, payload) items and the buckets it draws from.
Group = tuple[list[tuple[bytes, bytes]], Any]
# Per group: its entry ids in item order (None for a duplicate), or why it was not appended.
Outcome = list[bytes | None] | Exception


def queue_append(pipe, call: Call, groups: list[Group]) -> None:
    """Put the call on a pipeline (redis-py's, sync or asyncio): EVALSHA, then WAITAOF and WAIT if asked."""
    script_keys: list = [call.keys.stream, call.keys.counters]
    argv: list = [call.dedupe_seconds * 1000, call.keys.seen, call.max_backlog, len(groups), "", "", ""]
    argv += [dedupe.bucket_ms(call.dedupe_seconds), call.marks_per_shard or dedupe.marks_per_shard(None)]
    argv.append("" if call.clock_ms is None else call.clock_ms)
    for items, buckets in groups:
        if buckets is None:
            script_keys += [call.keys.counters, call.keys.counters]
            argv += [0, 0, 0, 0, len(items)]
        else:
            script_keys += [buckets.key_bucket, buckets.ip_bucket]
            argv += [buckets.key_rate, buckets.key_burst, buckets.ip_rate, buckets.ip_burst, len(items)]
        for dedupe_id, payload in items:
            argv += (dedupe_id, payload)
    pipe.execute_command("EVALSHA", _APPEND_SHA, len(script_keys), *script_keys, *argv)
    if call.fsync_timeout_ms is not None:
        pipe.execute_command("WAITAOF", 1, 0, call.fsync_timeout_ms)
    if call.replica_timeout_ms is not None:
        pipe.execute_command("WAIT", 1, call.replica_timeout_ms)


def read_outcomes(call: Call, groups: list[Group], replies: list) -> list[Outcome]:
    """Each group's outcome from the pipeline's replies (queue_append)."""
    waited: Exception | None = None
    if call.fsync_timeout_ms is not None and int(replies[1][0]) < 1:
        waited = NotFsynced(f"the append was not fsynced within {call.fsync_timeout_ms} ms")
    elif call.replica_timeout_ms is not None and int(replies[-1]) < 1:
        waited = NotReplicated(f"no replica confirmed the append within {call.replica_timeout_ms} ms")
    outcomes: list[Outcome] = []
    for reply in replies[0]:
        status = reply[0]
        if status == b"OK":
            outcomes.append(waited or [None if entry_id == 0 else entry_id for entry_id in reply[1:]])
        elif status == b"RATELIMIT":
            outcomes.append(RateLimited(int(reply[1]), reply[2].decode()))
        elif status == b"BACKLOG":
            outcomes.append(Backpressure("the stream holds more undrained events than its limit"))
        else:  # an XADD failed: this group and the ones after it (which the script did not try)
            failed = redis.ResponseError(reply[1].decode())
            outcomes += [failed] * (len(groups) - len(outcomes))
    return outcomes


def append_groups(client: redis.Redis, call: Call, groups: list[Group]) -> list[Outcome]:
    """Append every group in one script call (and one round trip); the script is loaded only when
    Redis lacks it. redis-py's Script objects ask SCRIPT EXISTS before every execution: a second
    round trip per call, on the hottest path there is."""
    for attempt in (1, 2):
        with client.pipeline(transaction=False) as pipe:
            queue_append(pipe, call, groups)
            try:
                return read_outcomes(call, groups, pipe.execute())
            except redis.exceptions.NoScriptError:
                if attempt == 2:
                    raise
        load_script(client)
    raise AssertionError("unreachable")


def load_script(client):
    """SCRIPT LOAD the append script (a coroutine with an asyncio client)."""
    return client.script_load(_APPEND_SCRIPT)


def settled(outcome: Outcome) -> list[bytes | None]:
    """A group's entry ids, or its refusal raised."""
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


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
    replica_timeout_ms: int | None = None,
) -> list[bytes | None]:
    """Append one request's (dedupe_id, payload) items to the stream (Call: the terms); None marks a duplicate.

    A dedupe_id is the 16 bytes of the client's UUID, b"" for a server-generated id. Raises
    RateLimited when a bucket (ratelimit.Buckets) lacks tokens, and Backpressure when the
    backlog would pass max_backlog; either way nothing is appended. Raises NotFsynced or
    NotReplicated when a wait the call asked for timed out. Never trims: MAXLEN would
    silently delete entries no drain has read yet.
    """
    if not items:
        return []
    call = Call(keys, dedupe_seconds, max_backlog, fsync_timeout_ms, marks_per_shard, clock_ms, replica_timeout_ms)
    return settled(append_groups(client, call, [(items, buckets)])[0])


def requeue(client: redis.Redis, keys: Keys, payloads: list[bytes]) -> list[bytes]:
    """Append payloads as they are, in one transaction (dead letters put back); their entry ids."""
    with client.pipeline(transaction=True) as pipe:
        for payload in payloads:
            pipe.xadd(keys.stream, {c.ENTRY_FIELD: payload})
        return pipe.execute()
