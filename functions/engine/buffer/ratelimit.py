"""Rate limits per write key and per client address: which buckets, at what rates.

The buckets themselves are decided in ingest's append script (streams.py), atomically with
the append, so that concurrent requests cannot together overrun a limit. Client addresses
never reach Redis: their bucket is named by an HMAC of the address under a random salt
that is made once a day and forgotten after two (as Plausible does), so a bucket name
cannot be traced back to an address once its salt is gone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import redis

from engine.buffer.keys import Keys
from engine.core import constants as c

_salts: dict[tuple[str, str], bytes] = {}


@dataclass(frozen=True)
class Buckets:
    """The two token buckets one request draws from (a rate of 0 means no limit)."""

    key_bucket: str
    key_rate: int
    ip_bucket: str
    ip_rate: int
    key_tag: str = ""
    ip_tag: str = ""

    @property
    def key_burst(self) -> float:
        return self.key_rate * c.RATE_BURST_SECONDS

    @property
    def ip_burst(self) -> float:
        return self.ip_rate * c.RATE_BURST_SECONDS

    def largest_request(self) -> float | None:
        """The most events one request can ever hold under these limits (None: no limit)."""
        bursts = [b for b, r in ((self.key_burst, self.key_rate), (self.ip_burst, self.ip_rate)) if r > 0]
        return min(bursts) if bursts else None


def daily_salt(client: redis.Redis, keys: Keys, day: dt.date) -> bytes:
    """Today's salt: made by whichever process asks first, shared by all, forgotten in two days."""
    cache_key = (keys.state, day.isoformat())
    salt = _salts.get(cache_key)
    if salt is None:
        name = keys.salt(day.isoformat())
        client.set(name, secrets.token_bytes(32), nx=True, ex=c.SALT_KEEP_SECONDS)
        salt = client.get(name)
        _salts[cache_key] = salt
    return salt


def address_tag(salt: bytes, address: str) -> str:
    return hmac.new(salt, address.encode(), hashlib.sha256).hexdigest()[:24]


def buckets_for(
    key_rate: int, ip_rate: int, client: redis.Redis, keys: Keys, write_key_hash: bytes, address: str, now: dt.datetime
) -> Buckets:
    """The buckets of one request at these limits (events/s; 0 is no limit)."""
    ip_tag = address_tag(daily_salt(client, keys, now.date()), address) if ip_rate else "off"
    key_tag = write_key_hash.hex()[:24]
    return Buckets(keys.rate_bucket("key", key_tag), key_rate, keys.rate_bucket("ip", ip_tag), ip_rate, key_tag, ip_tag)


def for_shard(buckets: Buckets, keys: Keys, shards: int) -> Buckets:
    """The same request's buckets in one stream shard's slot, each with 1/shards of the limit.

    The append script can only reach keys in its shard's slot, so with N shards a write key
    (or an address) has N buckets of rate/N each (README, Scaling out: the trade-off).
    """
    if shards == 1:
        return buckets

    def share(rate: int) -> int:
        return -(-rate // shards) if rate else 0

    return Buckets(
        keys.rate_bucket("key", buckets.key_tag),
        share(buckets.key_rate),
        keys.rate_bucket("ip", buckets.ip_tag),
        share(buckets.ip_rate),
        buckets.key_tag,
        buckets.ip_tag,
    )
