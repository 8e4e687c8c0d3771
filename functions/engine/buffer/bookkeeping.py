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


def read_counters(client: redis.Redis, keys: Keys) -> dict[str, int]:
    return {k.decode(): int(v) for k, v in client.hgetall(keys.counters).items()}


def pipeline_facts(client: redis.Redis, keys: Keys, now_ms: int) -> tuple[int, float | None, dict[str, str]]:
    """(backlog, age of the oldest undrained entry, recorded state) in one round trip."""
    with client.pipeline(transaction=False) as pipe:
        pipe.xlen(keys.stream)
        pipe.xrange(keys.stream, count=1)
        pipe.hgetall(keys.state)
        length, first, state = pipe.execute()
    age = None
    if first:
        millis = int(first[0][0].split(b"-")[0])
        age = max(0.0, (now_ms - millis) / 1000.0)
    return length, age, {k.decode(): v.decode() for k, v in state.items()}


def write_state(client: redis.Redis, keys: Keys, **values: float | int | str) -> None:
    """Record pipeline facts (last drain, last refresh) that /metrics reports as freshness."""
    client.hset(keys.state, mapping=values)


def read_state(client: redis.Redis, keys: Keys) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in client.hgetall(keys.state).items()}


def now_ms() -> int:
    return int(time.time() * 1000)
