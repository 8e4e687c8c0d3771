"""Dedupe marks: the client event_ids ingest remembers for the window, in compact Redis hashes.

A mark is the id's 16 bytes as a field of a small hash. Marks are grouped by time into buckets
(window / DEDUPE_BUCKETS_PER_WINDOW wide: the window itself) and, within a bucket, spread over
shard hashes by a hash of the id, so that each shard stays under the server's
hash-max-listpack-entries and keeps Redis's compact listpack encoding (about 23 bytes a mark
against 149 for a key of its own, measured in the README's memory model). A bucket's shards have
no expiry of their own: calls that make marks delete those of every bucket no lookup can reach
any more, DEDUPE_UNLINK_NAMES_A_CALL shard names at most a call, listed with their generations'
shard counts in a hash of their own (Keys.seen:gc, which never expires, so a quiet spell of any
length ends with that deletion). The bucket's bitmap, a pre-check that lets most lookups of a
new id skip the bucket's shards, expires when no lookup can reach it. The index hash (Keys.seen)
records, per live bucket, the shard counts of its generations, how many marks it holds and its
bitmap's size.

Exactness: a lookup at time t reads every bucket that may hold a mark made after t - window
(skipping one only when its bitmap's bit for the id is 0, which no mark of the id leaves),
so a resend within the window is always found; a mark is only ever found for an id that was
marked, so a new event is never called a duplicate. A mark is forgotten between window and
window + bucket width after it was made; PostgreSQL's unique event id guards after that.
"""

from __future__ import annotations

import redis

from engine.core import constants as c

# Lua, run inside the append script (buffer/streams._APPEND_SCRIPT) after the rate limits and the
# backlog check. Expects `now` (ms) and ARGV 1 (window ms), 2 (the index hash, Keys.seen),
# 8 (bucket width ms), 9 (marks per shard). Defines seen_before(id) -> found, hash (HEXISTS
# in every live generation but the one marks go to, listed once a call in `reads`, a bucket's
# generations skipped when its bitmap's bit for the id is 0), mark(id, hash) -> the shard it
# was marked in, or nil when it already was (HSET, whose reply says whether the field is new:
# the check and the insert in one scan of the shard, where HSETNX scans twice), unmark(shard,
# id) to take a mark back, and save_marks() to call once at the end.
#
# Cost per new mark, measured (README, "Scale-out and the dedupe append: their figures"): a
# GETBIT (and HEXISTS when the bit is 1), the HSET and a SETBIT, nothing else. No shard gets an
# expiry (an HLEN a mark told the HSET that created one): save_marks lists the current bucket's
# generations in Keys.seen:gc (written only when they differ from what the list holds) and
# unlinks the shard names of the listed buckets before the oldest live one,
# DEDUPE_UNLINK_NAMES_A_CALL at most a call (how far it got: '<bucket>:d' in the list), so a
# bucket of many shards costs many calls a little each, not one call much. Every argument
# a mark gives Redis is a string (Redis converts a Lua number with snprintf's %.17g, on every
# call): offsets and shard names are formatted with %d, and the values are '1'.
# At steady state a new id's lookup would scan a full listpack shard of the previous bucket to
# its end; the bucket's bitmap (a string of M bits, M a power of two, sized when the bucket is
# created: DEDUPE_BITMAP_BITS_PER_MARK for each mark the bucket before held) answers most of
# them with one GETBIT: each mark sets bit (hash mod M), so a 0 bit means the id was never
# marked there. A 1 bit (the id's own, or another id's) falls through to the HEXISTS, so the
# bitmap never makes a new id a duplicate; a bucket that outgrows its bitmap only reads its
# shards more often.
#
# Keys: the index hash Keys.seen; shard hashes named Keys.seen .. ':' .. bucket .. ':' ..
# generation .. ':' .. shard, the bitmap Keys.seen .. ':' .. bucket .. ':b', and the hash of
# buckets whose shards are still to be deleted, Keys.seen .. ':gc' ('<bucket>' = shard counts of
# its generations, as in the index), all under the namespace's hash tag. A script of before (a
# rolling deploy) reads and marks the same shards; the shards it creates get their expiry as
# before, and the ones this script creates are deleted by its calls two buckets later (rolled back
# for good, those stay: Keys.seen:gc lists them). Index fields: '<bucket>' = shard counts of its
# generations ('256 1024'), '<bucket>:n' = marks in its last generation, '<bucket>:t' = marks in
# the bucket, '<bucket>:m' = its bitmap's bits (none: no bitmap, every lookup reads the shards),
# '<bucket>:k' = marks that set their bit. The bitmap is trusted only while k = t: a script
# without bitmaps (a rolling deploy; such a script reads and writes every other field as this one
# does) adds to t alone. A bucket's first generation gets enough shards for as many marks as the
# bucket before it held; when a generation fills its shards to `marks per shard`, a new one with
# four times the shards takes over (a burst, or the first bucket after a quiet spell), so no shard
# outgrows its compact encoding.
LUA = f"""
local window, width, per_shard = tonumber(ARGV[1]), tonumber(ARGV[8]), tonumber(ARGV[9])
local seen = ARGV[2]
local retired = seen .. ':gc'
local current = math.floor(now / width)
local oldest = math.floor((now - window) / width)
local expire_ms = (current + 1) * width + window - now
local format, band = string.format, bit.band
local live, reads, fresh = nil, nil, nil
local function prefixes(bucket, text)
  local gens = {{}}
  if text then
    for k in string.gmatch(text, '%d+') do
      gens[#gens + 1] = {{tonumber(k), seen .. ':' .. bucket .. ':' .. #gens .. ':'}}
    end
  end
  return gens
end
local function load_index()
  local fields = {{current .. ':n'}}
  for b = current, oldest, -1 do
    local i = #fields
    fields[i + 1], fields[i + 2], fields[i + 3], fields[i + 4] = tostring(b), b .. ':t', b .. ':m', b .. ':k'
  end
  local got = redis.call('HMGET', seen, unpack(fields))
  live, reads = {{}}, {{}}
  for i = 2, #fields, 4 do
    local gens = prefixes(fields[i], got[i])
    live[#live + 1] = gens
    local bits = tonumber(got[i + 2]) or 0
    if got[i + 3] ~= got[i + 1] then bits = 0 end
    local read = {{bits = bits, key = seen .. ':' .. fields[i] .. ':b', gens = {{}}}}
    local last = #gens
    if i == 2 then last = last - 1 end
    for g = last, 1, -1 do read.gens[#read.gens + 1] = gens[g] end
    reads[#reads + 1] = read
  end
  fresh = {{n = tonumber(got[1]) or 0, t = tonumber(got[3]) or 0, before = tonumber(got[7]) or 0, created = false, grown = false}}
end
local function seen_before(id)
  if live == nil then load_index() end
  local a, b, c, d = struct.unpack('>i4i4i4i4', id)
  local h = bit.bxor(a, b, c, d)
  for _, read in ipairs(reads) do
    local gens = read.gens
    if #gens > 0 and (read.bits == 0 or redis.call('GETBIT', read.key, format('%d', band(h, read.bits - 1))) == 1) then
      for _, gen in ipairs(gens) do
        if redis.call('HEXISTS', gen[2] .. format('%d', band(h, gen[1] - 1)), id) == 1 then return true, h end
      end
    end
  end
  return false, h
end
local function shards_for(marks)
  local k = {c.DEDUPE_MIN_SHARDS}
  while k < {c.DEDUPE_MAX_SHARDS} and k * per_shard < marks do k = k * 2 end
  return k
end
local function bits_for(marks)
  if marks <= 0 then return 0 end
  local m = {c.DEDUPE_BITMAP_MIN_BITS}
  while m < {c.DEDUPE_BITMAP_MAX_BITS} and m < marks * {c.DEDUPE_BITMAP_BITS_PER_MARK} do m = m * 2 end
  return m
end
local function mark(id, h)
  local gens, cur = live[1], reads[1]
  if #gens == 0 then
    gens[1] = {{shards_for(fresh.before), seen .. ':' .. current .. ':0:'}}
    fresh.created, fresh.grown, fresh.n = true, true, 0
    cur.bits, fresh.bitmap_new = bits_for(fresh.before), true
  elseif fresh.n >= gens[#gens][1] * per_shard and gens[#gens][1] < {c.DEDUPE_MAX_SHARDS} then
    table.insert(cur.gens, 1, gens[#gens])
    gens[#gens + 1] = {{math.min(gens[#gens][1] * 4, {c.DEDUPE_MAX_SHARDS}), seen .. ':' .. current .. ':' .. #gens .. ':'}}
    fresh.grown, fresh.n = true, 0
  end
  local gen = gens[#gens]
  local shard = gen[2] .. format('%d', band(h, gen[1] - 1))
  if redis.call('HSET', shard, id, '1') == 0 then return nil end
  if cur.bits > 0 then
    redis.call('SETBIT', cur.key, format('%d', band(h, cur.bits - 1)), '1')
    if fresh.bitmap_new then
      redis.call('PEXPIRE', cur.key, expire_ms)
      fresh.bitmap_new = false
    end
  end
  fresh.n, fresh.t = fresh.n + 1, fresh.t + 1
  fresh.marked = true
  return shard
end
local function unmark(shard, id)
  redis.call('HDEL', shard, id)
  fresh.n, fresh.t = fresh.n - 1, fresh.t - 1
end
local function delete_retired(record)
  local budget = {c.DEDUPE_UNLINK_NAMES_A_CALL}
  for field, counts in pairs(record) do
    local bucket = tonumber(field)
    if bucket and bucket < oldest then
      local done, at, names = tonumber(record[field .. ':d']) or 0, 0, {{}}
      local g = 0
      for k in string.gmatch(counts, '%d+') do
        local prefix = seen .. ':' .. field .. ':' .. g .. ':'
        for s = math.max(done - at, 0), tonumber(k) - 1 do
          if #names == budget then break end
          names[#names + 1] = prefix .. format('%d', s)
        end
        at, g = at + tonumber(k), g + 1
      end
      if #names > 0 then redis.call('UNLINK', unpack(names)) end
      done, budget = done + #names, budget - #names
      if done < at then
        redis.call('HSET', retired, field .. ':d', done)
        return
      end
      redis.call('UNLINK', seen .. ':' .. field .. ':b')
      redis.call('HDEL', retired, field, field .. ':d')
    end
  end
end
local function save_marks()
  if fresh == nil or not fresh.marked then return end
  local index = {{current .. ':n', fresh.n, current .. ':t', fresh.t}}
  local bits = reads[1].bits
  if bits > 0 then
    index[#index + 1], index[#index + 2] = current .. ':k', fresh.t
    if fresh.created then index[#index + 1], index[#index + 2] = current .. ':m', bits end
  end
  local counts = {{}}
  for _, gen in ipairs(live[1]) do counts[#counts + 1] = gen[1] end
  counts = table.concat(counts, ' ')
  if fresh.grown then index[#index + 1], index[#index + 2] = tostring(current), counts end
  redis.call('HSET', seen, unpack(index))
  if fresh.created then
    for _, field in ipairs(redis.call('HKEYS', seen)) do
      local bucket = tonumber(string.match(field, '^%-?%d+'))
      if bucket and bucket < oldest then redis.call('HDEL', seen, field) end
    end
    redis.call('PEXPIRE', seen, expire_ms)
  end
  local listed, record = redis.call('HGETALL', retired), {{}}
  for i = 1, #listed, 2 do record[listed[i]] = listed[i + 1] end
  if record[tostring(current)] ~= counts then redis.call('HSET', retired, tostring(current), counts) end
  delete_retired(record)
end
"""


def bucket_ms(window_seconds: int) -> int:
    """Width of one time bucket of marks: the window / DEDUPE_BUCKETS_PER_WINDOW, in ms."""
    return max(1, -(-window_seconds * 1000 // c.DEDUPE_BUCKETS_PER_WINDOW))


def marks_per_shard(hash_listpack_entries: int | None) -> int:
    """Marks a shard hash may hold: half the server's listpack limit, so a doubling still fits."""
    limit = hash_listpack_entries if hash_listpack_entries else c.ASSUMED_HASH_LISTPACK_ENTRIES
    return max(1, int(limit * c.DEDUPE_SHARD_FILL))


def marks_held(client: redis.Redis, seen_key: str) -> int:
    """Marks in the live buckets (some may already be past their window, not yet expired)."""
    index = client.hgetall(seen_key)
    return sum(int(v) for k, v in index.items() if k.endswith(b":t"))
