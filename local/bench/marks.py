"""Redis memory: bytes per remembered event_id, and the steady state at 1,000 events/s (README, Redis memory model).

Measured on a redis-server of its own (the embedded binary, no persistence), so that nothing
else moves used_memory: 200,000 ids through the append script, against the layout it replaced
(a text key per id with its own TTL) in the same run.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
import uuid
from collections.abc import Iterator

import redis

from engine.buffer import dedupe, facts, streams
from engine.buffer.keys import Keys
from engine.core import constants as c
from local.bench.context import Bench
from local.bench.figures import Figure, Goal
from local.embedded import redis_server_binary
from local.stack import free_port_block

IDS = 200_000
CALL_IDS = 500
RATE_PER_SECOND = 1000
BACKLOG_SECONDS = 1.0  # the drain interval: what the stream holds while the drain keeps up
ENTRIES_MEASURED = 20_000
BYTES_GOAL = 24
STEADY_GOAL_MB = 256


@contextlib.contextmanager
def private_redis() -> Iterator[redis.Redis]:
    port = free_port_block(1)
    command = [str(redis_server_binary()), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    try:
        for _ in range(200):
            with contextlib.suppress(redis.ConnectionError):
                client.ping()
                break
            time.sleep(0.05)
        yield client
    finally:
        client.close()
        server.terminate()
        server.wait(timeout=10)


def grown_per_item(client: redis.Redis, calls: Iterator[None], items: int) -> float:
    """used_memory growth per item over the calls after the first (which loads scripts and buffers)."""
    next(calls)
    before = client.info("memory")["used_memory"]
    for _ in calls:
        pass
    return (client.info("memory")["used_memory"] - before) / items


def marks_today(client: redis.Redis, keys: Keys) -> Iterator[None]:
    for _ in range(IDS // CALL_IDS + 1):
        with client.pipeline(transaction=False) as pipe:
            for _ in range(CALL_IDS):
                pipe.set(f"{keys.seen}:{uuid.uuid4()}", "1", ex=86_400)
            pipe.execute()
        yield


def marks_now(client: redis.Redis, keys: Keys, per_shard: int) -> Iterator[None]:
    for _ in range(IDS // CALL_IDS + 1):
        items = [(uuid.uuid4().bytes, b"{}") for _ in range(CALL_IDS)]
        streams.append_events(client, keys, items, c.DEFAULT_DEDUPE_WINDOW_SECONDS, 10**9, marks_per_shard=per_shard)
        client.delete(keys.stream)
        yield


def entries(client: redis.Redis, stream: str, payloads: list[bytes]) -> Iterator[None]:
    for start in range(0, ENTRIES_MEASURED + 1000, 1000):
        with client.pipeline(transaction=False) as pipe:
            for i in range(start, start + 1000):
                pipe.xadd(stream, {c.ENTRY_FIELD: payloads[i % len(payloads)]})
            pipe.execute()
        yield


def measure(bench: Bench) -> Iterator[Figure]:
    keys = bench.keys()
    source = bench.redis()
    payloads = [fields[c.ENTRY_FIELD] for _, fields in source.xrevrange(keys.stream, count=1000)] or [b"{}"]
    source.close()
    bench.say(f"Redis memory: {IDS:,} ids, the layout before and after, on a private redis-server")
    with private_redis() as client:
        before = grown_per_item(client, marks_today(client, keys), IDS)
        client.flushall()
        per_shard = dedupe.marks_per_shard(facts.server_facts(client).hash_listpack_entries)
        after = grown_per_item(client, marks_now(client, keys, per_shard), IDS)
        client.flushall()
        entry = grown_per_item(client, entries(client, "bench:entries", payloads), ENTRIES_MEASURED)
    bench.say(f"  {before:.1f} B a mark before, {after:.1f} after; a stream entry {entry:.0f} B")
    yield Figure(
        key="dedupe_bytes_per_id",
        name=f"Redis bytes per remembered id ({IDS:,} ids)",
        unit="B",
        value=round(after, 1),
        goal=Goal(max_value=BYTES_GOAL),
        floor=round(before, 1),
        floor_name="a text key per id with its own TTL (the layout before issue 20), same server",
        details={"marks_per_shard": per_shard},
    )
    window = c.DEFAULT_DEDUPE_WINDOW_SECONDS
    remembered = RATE_PER_SECOND * (window + dedupe.bucket_ms(window) / 1000)
    steady = RATE_PER_SECOND * BACKLOG_SECONDS * entry + remembered * after
    yield Figure(
        key="redis_steady_state",
        name=f"Redis memory at {RATE_PER_SECOND:,} events/s with client ids, default settings, steady state",
        unit="MB",
        value=steady / 1e6,
        goal=Goal(max_value=STEADY_GOAL_MB),
        floor=RATE_PER_SECOND * BACKLOG_SECONDS * entry / 1e6,
        floor_name=f"the backlog alone ({BACKLOG_SECONDS:g} s of entries of {entry:.0f} B)",
        details={"entry_bytes": entry, "marks_at_most": remembered, "bytes_per_mark": after, "window_seconds": window},
        note=f"backlog x entry + rate x (window + bucket) x bytes a mark; {before:.0f} B a mark for 24 h before: "
        f"{RATE_PER_SECOND * 86_400 * before / 1e9:.1f} GB",
    )
