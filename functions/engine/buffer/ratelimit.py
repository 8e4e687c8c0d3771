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
        name = f"{keys.state.rsplit(':', 1)[0]}:{c.SALT_SUFFIX}:{day.isoformat()}"
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
    tag = keys.state.rsplit(":", 1)[0]
    ip_tag = address_tag(daily_salt(client, keys, now.date()), address) if ip_rate else "off"
    return Buckets(
        key_bucket=f"{tag}:{c.RATE_SUFFIX}:key:{write_key_hash.hex()[:24]}",
        key_rate=key_rate,
        ip_bucket=f"{tag}:{c.RATE_SUFFIX}:ip:{ip_tag}",
        ip_rate=ip_rate,
    )
