"""The append script as it was BEFORE the time-bucketed dedupe marks (git: d2d8dca^, functions/engine/buffer/streams.py).

A bench-only fixture, kept verbatim for the "before" side of the append figure (local/bench/
dedupe_append.py): each client event_id is a text key of its own (`<Keys.seen>:<uuid as text>`,
EXISTS then SET EX after the XADD). It lives under local/bench/, which no module under
functions/ may import (tests/unit/test_layout.py); the engine runs only buffer/streams.py.
"""

from __future__ import annotations

import hashlib

import redis

from engine.buffer.keys import Keys

# KEYS: stream, counters, key bucket, address bucket. ARGV: dedupe TTL seconds, seen prefix,
# max backlog, key rate, key burst, address rate, address burst, then (dedupe id, payload)
# pairs, the dedupe id the client's UUID as text, empty for server-generated ids. Returns per
# event the entry id, or 0 for a duplicate.
SCRIPT = """
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

SHA = hashlib.sha1(SCRIPT.encode()).hexdigest()  # noqa: S324 (Redis names scripts by SHA-1)

# The window the layout before used by default: a day.
WINDOW_SECONDS_BEFORE = 24 * 3600


def append_events_before(
    client: redis.Redis, keys: Keys, items: list[tuple[str, bytes]], dedupe_seconds: int, max_backlog: int
) -> list[bytes | None]:
    """Append (dedupe id as text, payload) items with the script before the rework, no rate limits
    (as engine.buffer.streams.append_events without buckets); None marks a duplicate."""
    argv: list = [dedupe_seconds, f"{keys.seen}:", max_backlog, 0, 0, 0, 0]
    for dedupe_id, payload in items:
        argv.extend((dedupe_id, payload))
    with client.pipeline(transaction=False) as pipe:  # as the code before sent it: EVALSHA in a pipeline
        pipe.execute_command("EVALSHA", SHA, 4, keys.stream, keys.counters, keys.counters, keys.counters, *argv)
        (replies,) = pipe.execute()
    return [None if entry_id == 0 else entry_id for entry_id in replies]


def load(client: redis.Redis) -> None:
    """Load the script into the server, so that EVALSHA finds it."""
    if client.script_load(SCRIPT) != SHA:
        raise AssertionError("the server named the script differently")
