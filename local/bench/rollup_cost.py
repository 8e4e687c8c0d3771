"""What the rollups cost the drain: the same drain, with them and without, alternating, in one run.

The drain runs in this process (engine.drain.run_drain, the function's own code) on a stream of
its own, filled with the same number of fresh events before each round. "Without" is that drain
with writes.add_to_rollups replaced by a step that does nothing: the events and their ids are
stored exactly as before the rollups, and nothing is counted. Each mode writes to a project of its
own, so the counted project's rollups stay exact.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import time
import uuid

from engine import config, drain
from engine.buffer.keys import Keys
from engine.core import enrich
from engine.db import writes
from local.bench import bodies
from local.bench.context import Bench
from local.bench.figures import Figure, Goal

EVENTS_PER_ROUND = 100_000
PROJECTS = {"with": 900, "without": 901}


@contextlib.contextmanager
def rollups_off():
    """The drain without the rollups: add_to_rollups does nothing for the block."""
    kept = writes.add_to_rollups
    writes.add_to_rollups = lambda conn: None
    try:
        yield
    finally:
        writes.add_to_rollups = kept


def fill(client, keys: Keys, count: int, project_id: int, first: int) -> None:
    """Append count fresh events as ingest would have (XADD in pipelines of 1000)."""
    now = dt.datetime.now(dt.UTC)
    for start in range(0, count, 1000):
        pipe = client.pipeline(transaction=False)
        for i in range(first + start, first + min(start + 1000, count)):
            payload = enrich.build_entry(
                bodies.make_event(i, None), event_id=uuid.uuid4(), moment=now, received_at=now, project_id=project_id, request_id="bench"
            )
            pipe.xadd(keys.stream, {b"e": payload})
        pipe.execute()


def measure(bench: Bench) -> list[Figure]:
    keys = Keys.for_namespace(f"{bench.stores.namespace}-rollup-cost")
    environ = {"ANALYTICS_DATABASE_URL": bench.stores.database_url, "ANALYTICS_REDIS_URL": bench.stores.redis_url}
    settings = dataclasses.replace(config.load_settings(environ), drain_budget_seconds=3600.0)
    client, conn = bench.redis(), bench.connect()
    rates: dict[str, list[float]] = {"with": [], "without": []}
    bench.say(f"drain with and without rollups: {EVENTS_PER_ROUND:,} events a round, {bench.plan.rounds} rounds each, alternating")
    try:
        for round_ in range(bench.plan.rounds):
            for mode in ("with", "without"):
                fill(client, keys, EVENTS_PER_ROUND, PROJECTS[mode], round_ * EVENTS_PER_ROUND)
                conn.run("CHECKPOINT")
                with rollups_off() if mode == "without" else contextlib.nullcontext():
                    started = time.perf_counter()
                    report = drain.run_drain(client, conn, keys, settings, dt.datetime.now(dt.UTC))
                    seconds = time.perf_counter() - started
                rates[mode].append(report.inserted / seconds)
                bench.say(
                    f"  round {round_ + 1}, {mode} rollups: {report.inserted:,} events in {seconds:.2f} s ({rates[mode][-1]:,.0f} events/s)"
                )
        client.delete(keys.stream)
    finally:
        client.close()
        conn.close()
    with_, without = (sorted(rates[m])[len(rates[m]) // 2] for m in ("with", "without"))
    per_event_us = {m: round(1e6 / sorted(rates[m])[len(rates[m]) // 2], 1) for m in rates}
    return [
        Figure(
            key="drain_rollups",
            name="drain with rollups (in-process, median of rounds)",
            unit="events/s",
            value=with_,
            goal=Goal(min_ratio=0.85),
            floor=without,
            floor_name="the same drain without rollups, same run",
            details={"events_per_round": EVENTS_PER_ROUND, "rates": rates, "microseconds_per_event": per_event_us},
        )
    ]
