"""Leases on stream shards: which drain works on which shard, for a bounded time.

A lease is a key in the shard's slot holding its holder's token, set with SET NX PX;
only the holder may renew or release it (compare-and-set in a script). A drain that dies
stops renewing, and its lease lapses after its time to live: another drain takes the shard,
and its pending entries with it (buffer/consumers.reclaim_stale). A lease is for sharing
the work, not for safety: two drains on one shard would still load each entry once,
since the consumer group hands an entry to one consumer and the insert is idempotent.
"""

from __future__ import annotations

import redis

from engine.buffer.keys import Keys

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def acquire(client: redis.Redis, keys: Keys, token: str, ttl_ms: int) -> bool:
    """Take the shard's lease unless another holder has it."""
    return bool(client.set(keys.lease, token, nx=True, px=ttl_ms))


def renew(client: redis.Redis, keys: Keys, token: str, ttl_ms: int) -> bool:
    """Extend the lease; False when it lapsed and is no longer this holder's."""
    return bool(client.eval(_RENEW, 1, keys.lease, token, ttl_ms))


def release(client: redis.Redis, keys: Keys, token: str) -> None:
    client.eval(_RELEASE, 1, keys.lease, token)


def holder(client: redis.Redis, keys: Keys) -> str | None:
    value = client.get(keys.lease)
    return value.decode() if value is not None else None
