"""The pipeline's shared state in Redis: ops counters, and the facts /metrics reports as freshness."""

from __future__ import annotations

import time

import redis

from engine.buffer.keys import Keys


def count(client: redis.Redis, keys: Keys, **increments: int) -> None:
    """Add to the ops counters every function exposes on /internal/metrics."""
    increments = {k: v for k, v in increments.items() if v}
    if increments:
        with client.pipeline(transaction=False) as pipe:
            for name, amount in increments.items():
                pipe.hincrby(keys.counters, name, amount)
            pipe.execute()


def read_counters(client: redis.Redis, keys: Keys, shards: tuple[Keys, ...] = ()) -> dict[str, int]:
    """The ops counters, summed over the deployment's own hash and each stream shard's."""
    names = list(dict.fromkeys([keys.counters, *(shard.counters for shard in shards)]))
    with client.pipeline(transaction=False) as pipe:
        for name in names:
            pipe.hgetall(name)
        replies = pipe.execute()
    totals: dict[str, int] = {}
    for reply in replies:
        for k, v in reply.items():
            totals[k.decode()] = totals.get(k.decode(), 0) + int(v)
    return totals


def pipeline_facts(client: redis.Redis, keys: Keys, now_ms: int, shards: tuple[Keys, ...] = ()) -> tuple[int, float | None, dict[str, str]]:
    """(backlog, age of the oldest undrained entry, recorded state) in one round trip, over every shard."""
    streams = list(dict.fromkeys(shard.stream for shard in shards)) or [keys.stream]
    with client.pipeline(transaction=False) as pipe:
        for stream in streams:
            pipe.xlen(stream)
            pipe.xrange(stream, count=1)
        pipe.hgetall(keys.state)
        replies = pipe.execute()
    length = sum(replies[0:-1:2])
    firsts = [int(first[0][0].split(b"-")[0]) for first in replies[1:-1:2] if first]
    age = max(0.0, (now_ms - min(firsts)) / 1000.0) if firsts else None
    return length, age, {k.decode(): v.decode() for k, v in replies[-1].items()}


def write_state(client: redis.Redis, keys: Keys, **values: float | int | str) -> None:
    """Record pipeline facts (last drain, last refresh) that /metrics reports as freshness."""
    client.hset(keys.state, mapping=values)


def read_state(client: redis.Redis, keys: Keys) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in client.hgetall(keys.state).items()}


def now_ms() -> int:
    return int(time.time() * 1000)
