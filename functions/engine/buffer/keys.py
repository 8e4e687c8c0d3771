"""The Redis key names of one deployment: in one place, all under the namespace's hash tag,
so every key one append touches lives in one cluster slot and the append stays one atomic call."""

from __future__ import annotations

from dataclasses import dataclass

from engine.core import constants as c


@dataclass(frozen=True)
class Keys:
    """The Redis key names of one deployment, all under the namespace's hash tag."""

    stream: str
    seen: str  # the dedupe marks' index hash, and the prefix of their shard hashes (buffer/dedupe.py)
    state: str
    counters: str
    group: str = c.DRAIN_GROUP

    @classmethod
    def for_namespace(cls, namespace: str) -> Keys:
        tag = "{" + namespace + "}"
        return cls(
            stream=f"{tag}:{c.STREAM_SUFFIX}",
            seen=f"{tag}:{c.DEDUPE_SUFFIX}",
            state=f"{tag}:{c.STATE_SUFFIX}",
            counters=f"{tag}:{c.COUNTERS_SUFFIX}",
        )
