"""stream-drain over a sharded stream: claim shards one at a time, drain each, let go.

An invocation walks the shards from a random one, takes each shard whose lease is free
(buffer/leases.py), drains it with what is left of its budget, and releases it: K drains
invoked side by side spread over N shards, and a drain that died leaves a lease that lapses,
after which the next drain to come by takes the shard over, its pending entries included
(run_drain reclaims them).
With one shard (ANALYTICS_STREAM_SHARDS=1) the one stream's lease is taken all the same: an
erasure (engine/erase.py) holds every shard's lease, so that no drain is between reading
entries and committing them while it runs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import random
import time

import redis

from engine import drain
from engine.buffer import consumers, leases
from engine.buffer.keys import Keys
from engine.config import Settings
from engine.core import constants as c
from engine.logs import get_logger

log = get_logger("engine.shards")


def lease_ms(settings: Settings) -> int:
    """How long a shard's lease lasts: twice the drain's budget and a margin (renewed before each batch)."""
    return int(2000 * settings.drain_budget_seconds) + c.SHARD_LEASE_MARGIN_MS


def renewing(rclient, keys: Keys, token: str, ttl_ms: int, clock):
    """run_drain's clock, which it reads before each batch: each reading also renews the lease."""

    def read() -> float:
        if not leases.renew(rclient, keys, token, ttl_ms):
            log.warning("shard lease lapsed while draining", extra={"shard": keys.stream})
        return clock()

    return read


def drain_shards(
    rclient, conn, shards: tuple[Keys, ...], settings: Settings, now: dt.datetime, clock=time.monotonic
) -> tuple[drain.DrainReport, list[int]]:
    """One drain invocation over every shard it can claim; its report and the shards it drained."""
    started = clock()
    deadline = started + settings.drain_budget_seconds
    token, ttl = drain.consumer_name(), lease_ms(settings)
    total, drained = drain.DrainReport(), []
    first = random.randrange(len(shards))  # noqa: S311 (spreading work, not a secret)
    for index in [(first + i) % len(shards) for i in range(len(shards))]:
        if clock() >= deadline:
            break
        keys = shards[index]
        if not leases.acquire(rclient, keys, token, ttl):
            continue
        try:
            budget = dataclasses.replace(settings, drain_budget_seconds=max(0.1, deadline - clock()))
            report = drain.run_drain(rclient, conn, keys, budget, now, renewing(rclient, keys, token, ttl, clock))
        finally:
            with contextlib.suppress(redis.RedisError):
                leases.release(rclient, keys, token)
        drained.append(index)
        for field in dataclasses.fields(report):
            if field.name not in ("backlog", "seconds"):
                setattr(total, field.name, getattr(total, field.name) + getattr(report, field.name))
    total.backlog = sum(consumers.backlog(rclient, keys) for keys in shards)
    total.seconds = round(clock() - started, 4)
    return total, drained
