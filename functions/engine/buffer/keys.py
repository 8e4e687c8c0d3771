"""The Redis key names of one deployment: in one place, all under a hash tag, so every key
one append touches lives in one cluster slot and the append stays one atomic call.

One shard (ANALYTICS_STREAM_SHARDS=1) keeps the namespace's own tag, exactly as before
shards existed. With N shards, shard i has a tag of its own, chosen so that the N tags
fall into N equal ranges of the cluster's 16384 slots: a cluster whose masters own equal
ranges (what `redis-cli --cluster create` makes) gets its shards spread evenly. The
deployment's state (last drain, last refresh, the daily salt) stays under the namespace's tag.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

from redis.crc import REDIS_CLUSTER_HASH_SLOTS, key_slot

from engine.core import constants as c


@dataclass(frozen=True)
class Keys:
    """The Redis key names of one stream shard (or of the one stream), all under one hash tag."""

    stream: str
    seen: str  # the dedupe marks' index hash, and the prefix of their shard hashes (buffer/dedupe.py)
    state: str
    counters: str
    group: str = c.DRAIN_GROUP
    tag: str = ""

    @classmethod
    def for_namespace(cls, namespace: str) -> Keys:
        return cls._under("{" + namespace + "}", "{" + namespace + "}")

    @classmethod
    def _under(cls, tag: str, state_tag: str) -> Keys:
        return cls(
            stream=f"{tag}:{c.STREAM_SUFFIX}",
            seen=f"{tag}:{c.DEDUPE_SUFFIX}",
            state=f"{state_tag}:{c.STATE_SUFFIX}",
            counters=f"{tag}:{c.COUNTERS_SUFFIX}",
            tag=tag,
        )

    @property
    def lease(self) -> str:
        """The drain's lease on this shard (engine/shards.py)."""
        return f"{self.tag}:{c.LEASE_SUFFIX}"

    def rate_bucket(self, kind: str, name: str) -> str:
        """A rate-limit bucket (buffer/ratelimit.py), in this shard's slot so the append script can reach it."""
        return f"{self.tag}:{c.RATE_SUFFIX}:{kind}:{name}"

    def salt(self, day: str) -> str:
        return f"{self.state.rsplit(':', 1)[0]}:{c.SALT_SUFFIX}:{day}"


@lru_cache(maxsize=64)
def shard_keys(namespace: str, shards: int) -> tuple[Keys, ...]:
    """The keys of each of `shards` stream shards; one shard is the namespace's own keys."""
    if shards == 1:
        return (Keys.for_namespace(namespace),)
    state_tag = "{" + namespace + "}"
    width = REDIS_CLUSTER_HASH_SLOTS / shards
    out = []
    for i in range(shards):
        low, high = int(i * width), int((i + 1) * width)
        # The first suffix whose slot falls in shard i's range (a few tries: CRC16 spreads evenly).
        tag = next(t for t in (f"{{{namespace}.s{i}.{j}}}" for j in range(100_000)) if low <= key_slot(t.encode()) < high)
        out.append(Keys._under(tag, state_tag))
    return tuple(out)


def shard_index(project_id: int, person: str, shards: int) -> int:
    """The shard of one person's events: the same shard for every event of (project, person)."""
    if shards == 1:
        return 0
    digest = hashlib.blake2b(f"{project_id}\x00{person}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards
