"""Figure: POST /events of 100 events with client event_ids, with the dedupe marks against the layout before them.

The goal: ingest's throughput with the time-bucketed marks (engine/buffer/dedupe.py, in
the append script) at least 0.95 of what it was with a text key per id (the script before,
kept as local/bench/append_before_marks.py). Both run in this one process on the run's Redis,
each in a namespace of its own, in short alternating slices (which goes first alternates
too), on the same bodies: each slice sends new ids, so every event is appended and marked.
The figures are medians over the slices.

Steady state, as in production: before the timed slices each layout is given as many marks as
the run will add (fill_marks). For the marks, they go to the bucket before the current one, by
the real script on a clock one bucket earlier, after the index records that the bucket before
that held as many (what the script would have left an hour on), so the filled bucket is sized
as a steady one is: every lookup then reads a full previous bucket, as in production. For the
text keys, as many keys of their own (their window is a day: all of them would still be live).

A request here is what ingest does with a body, without HTTP: parse it, validate the batch,
build each entry (engine.ingest.checked_items), then the one append script call.
The value is requests/s with the marks, the floor the same with the layout before; the
details also give the append call alone, where the whole difference lies, and the Redis
server's CPU an event over all slices (INFO cpu; on a shared server, with whatever else it served).
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable, Iterator

from engine.buffer import dedupe, facts, streams
from engine.buffer.keys import Keys
from engine.core import constants as c
from engine.core.enrich import build_entry
from engine.core.jsonbody import parse_json
from engine.core.pipeline import check_batch, split_batch
from local.bench import append_before_marks, bodies, stats
from local.bench.context import Bench
from local.bench.figures import Figure, Goal
from local.bench.stores import delete_namespace

BATCH = 100
GOAL_RATIO = 0.95
WARMUP_REQUESTS = 20
SLICES_PER_ROUND = 5  # short alternating slices, so that a change in the machine's other load falls on both sides


def items_of(body: bytes, retention_days: int, as_dedupe_id: Callable) -> list[tuple]:
    """(dedupe id, payload) of each event of a body, as ingest builds them."""
    events, sent_at = split_batch(parse_json(body))
    received_at = dt.datetime.now(dt.UTC)
    items = []
    for checked in check_batch(events, received_at, retention_days, sent_at):
        event = checked.event
        payload = build_entry(
            event, event_id=event["event_id"], moment=event["moment"], received_at=received_at,
            project_id=c.DEFAULT_PROJECT_ID, request_id="bench-dedupe-append",
        )  # fmt: skip
        items.append((as_dedupe_id(event["event_id"]), payload))
    return items


def layouts(client, namespace: str, window_seconds: int, max_backlog: int, per_shard: int) -> dict[str, tuple[Callable, Callable]]:
    """name -> (append(items), dedupe id of a client UUID) for the layout before and the marks now."""
    before, after = Keys.for_namespace(f"{namespace}.before"), Keys.for_namespace(f"{namespace}.after")
    append_before_marks.load(client)
    return {
        "before": (
            lambda items: append_before_marks.append_events_before(
                client, before, items, append_before_marks.WINDOW_SECONDS_BEFORE, max_backlog
            ),
            str,
        ),
        "after": (
            lambda items: streams.append_events(client, after, items, window_seconds, max_backlog, marks_per_shard=per_shard),
            lambda event_id: event_id.bytes,
        ),
    }


FILL_CALL = 1000  # marks a fill call


def fill_marks(client, namespace: str, window_seconds: int, marks: int, per_shard: int) -> None:
    """Steady state: `marks` marks in the bucket before the current one of the marks' namespace, and as
    many text keys in the layout before's, on new ids (their streams emptied again)."""
    after, before = Keys.for_namespace(f"{namespace}.after"), Keys.for_namespace(f"{namespace}.before")
    width = dedupe.bucket_ms(window_seconds)
    seconds, micros = client.time()
    earlier = seconds * 1000 + micros // 1000 - width
    client.hset(after.seen, f"{earlier // width - 1}:t", marks)  # sizes the filled bucket as a steady one
    for start in range(0, marks, FILL_CALL):
        ids = [uuid.uuid4() for _ in range(min(FILL_CALL, marks - start))]
        streams.append_events(
            client, after, [(i.bytes, b"{}") for i in ids], window_seconds, 10**9, marks_per_shard=per_shard, clock_ms=earlier
        )
        text_ids = [(str(i), b"{}") for i in ids]
        append_before_marks.append_events_before(client, before, text_ids, append_before_marks.WINDOW_SECONDS_BEFORE, 10**9)
        client.delete(after.stream, before.stream)


def one_round(sent: list[bytes], retention_days: int, append: Callable, as_dedupe_id: Callable, client) -> dict:
    """Every body through parse, validate, build and append: seconds in all, in the append, events accepted,
    and the Redis server's CPU seconds meanwhile (on a shared server, with whatever else it served)."""
    appending, accepted = 0.0, 0
    redis_cpu = server_cpu_seconds(client)
    started = time.perf_counter()
    for body in sent:
        items = items_of(body, retention_days, as_dedupe_id)
        mark = time.perf_counter()
        accepted += sum(1 for entry in append(items) if entry is not None)
        appending += time.perf_counter() - mark
    seconds = time.perf_counter() - started
    redis_seconds = server_cpu_seconds(client) - redis_cpu
    return {
        "seconds": seconds,
        "append_seconds": appending,
        "accepted": accepted,
        "requests": len(sent),
        "redis_cpu_seconds": redis_seconds,
        "events": len(sent) * BATCH,
    }


def server_cpu_seconds(client) -> float:
    """The Redis server's own CPU time so far (INFO cpu: its getrusage, finer than /proc's ticks)."""
    cpu = client.info("cpu")
    return float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])


def speed(done: list[dict], seconds: str) -> float:
    """The median over slices of requests per second, timed by `seconds` (the whole request, or the append alone)."""
    return stats.median([r["requests"] / r[seconds] for r in done])


def measure(bench: Bench) -> Iterator[Figure]:
    plan, settings = bench.plan, bench.functions.settings
    requests = plan.append_requests
    client = bench.redis()
    namespace = bench.stores.namespace
    try:
        per_shard = dedupe.marks_per_shard(facts.server_facts(client).hash_listpack_entries)
        ways = layouts(client, namespace, settings.dedupe_window_seconds, settings.max_backlog, per_shard)
        slices = plan.rounds * SLICES_PER_ROUND
        per_slice = max(1, requests // SLICES_PER_ROUND)
        filled = (WARMUP_REQUESTS + slices * per_slice) * BATCH
        bench.say(
            f"POST /events ×{BATCH} with client ids, in process: marks vs a text key per id, {slices} alternating slices of {per_slice:,}, "
            f"at steady state (each layout first given {filled:,} marks, the marks in the previous bucket)"
        )
        fill_marks(client, namespace, settings.dedupe_window_seconds, filled, per_shard)
        warm = bodies.batch_bodies_with_ids(WARMUP_REQUESTS, BATCH, bench.event_time)
        for append, as_id in ways.values():
            one_round(warm, settings.retention_days, append, as_id, client)
        rounds: dict[str, list[dict]] = {"before": [], "after": []}
        for i in range(slices):
            sent = bodies.batch_bodies_with_ids(per_slice, BATCH, bench.event_time, first=(WARMUP_REQUESTS + i * per_slice) * BATCH)
            for name in ("before", "after") if i % 2 == 0 else ("after", "before"):
                rounds[name].append(one_round(sent, settings.retention_days, *ways[name], client))
            if (i + 1) % SLICES_PER_ROUND == 0:
                line = {
                    name: f"{speed(done[-SLICES_PER_ROUND:], 'seconds'):,.0f} req/s "
                    f"(append {speed(done[-SLICES_PER_ROUND:], 'append_seconds'):,.0f})"
                    for name, done in rounds.items()
                }
                bench.say(f"  round {(i + 1) // SLICES_PER_ROUND}: before {line['before']}, after {line['after']}")
    finally:
        client.close()
        for side in ("before", "after"):
            delete_namespace(bench.stores.redis_url, f"{namespace}.{side}")
    rate = {name: speed(done, "seconds") for name, done in rounds.items()}
    append_rate = {name: speed(done, "append_seconds") for name, done in rounds.items()}
    expected = per_slice * BATCH
    short = [
        f"{name} accepted {r['accepted']:,} of {expected:,}" for name, done in rounds.items() for r in done if r["accepted"] != expected
    ]
    append_ratio = append_rate["after"] / append_rate["before"]
    redis_us = {name: sum(r["redis_cpu_seconds"] for r in done) * 1e6 / sum(r["events"] for r in done) for name, done in rounds.items()}
    cpu = f"Redis CPU {redis_us['after']:.1f} µs an event, {redis_us['before']:.1f} before"
    yield Figure(
        key="post_events_dedupe",
        name=f"POST /events ×{BATCH} with client ids, in process, with the time-bucketed marks",
        unit="req/s",
        value=rate["after"],
        goal=Goal(min_ratio=GOAL_RATIO),
        floor=rate["before"],
        floor_name="the same with a text key per id (the append script before the marks), same process, same bodies",
        details={
            "rounds": rounds,
            "append_calls_per_second": append_rate,
            "append_ratio": append_ratio,
            "redis_cpu_us_per_event": redis_us,
            "events_per_request": BATCH,
            "filled_marks": filled,
        },
        note="; ".join(short) or f"the append call alone: {append_ratio:.2f} × before; {cpu}",
    )
