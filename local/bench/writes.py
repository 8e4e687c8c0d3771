"""Figures 1 and 2 (POST /event, POST /events) against their floors, and the load generator's own ceiling."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

from local import stack
from local.bench import bodies, paced, stats
from local.bench.context import Bench
from local.bench.figures import Figure, Goal
from local.bench.load import Load, LoadResult
from local.bench.processes import HELLO, ROOT
from local.supervisor import probe

SINGLE_BODIES = 64
BATCH_BODIES = 16
FLOOR_SAMPLE = 10_000


def _errors_note(results: list[LoadResult]) -> str:
    errors = sum(r.errors for r in results)
    return f"{errors} errors" if errors else ""


def measure_single(bench: Bench) -> tuple[Figure, float | None]:
    """POST /event against a hello-world function served the same way, rounds alternating."""
    plan = bench.plan
    headers = bench.write_headers()
    sent = tuple(bodies.single_bodies(SINGLE_BODIES, bench.event_time))

    def load(name: str, seconds: int) -> Load:
        return Load(bench.functions.url(name, "/event"), "POST", sent, headers, plan.connections, seconds)

    bench.say(f"POST /event and its floor: {plan.rounds} rounds of {plan.load_seconds} s each, {plan.connections} connections")
    bench.load(load(HELLO, plan.warmup_seconds))
    bench.load(load("ingest", plan.warmup_seconds))
    floors, figures = [], []
    for i in range(plan.rounds):
        floors.append(bench.load(load(HELLO, plan.load_seconds)))
        figures.append(bench.load(load("ingest", plan.load_seconds)))
        bench.say(f"  round {i + 1}: hello {floors[-1].rps:,.0f} req/s, ingest {figures[-1].rps:,.0f} req/s")
    value = stats.median([r.rps for r in figures])
    floor = stats.median([r.rps for r in floors])
    figure = Figure(
        key="post_event",
        name="POST /event, one event per request",
        unit="req/s",
        value=value,
        goal=Goal(min_ratio=0.80),
        floor=floor,
        floor_name="hello-world function, same server, same load",
        details={"ingest": [r.as_dict() for r in figures], "hello": [r.as_dict() for r in floors]},
        note=_errors_note(figures),
    )
    return figure, floor


def xadd_floor(client, stream: str, payloads: list[bytes], total: int, per_pipeline: int) -> float:
    """events/s of redis-py XADD of payloads (cycled) in pipelines of per_pipeline, from this one process."""
    sent, i = 0, 0
    started = time.perf_counter()
    while sent < total:
        with client.pipeline(transaction=False) as pipe:
            for _ in range(per_pipeline):
                pipe.xadd(stream, {b"e": payloads[i % len(payloads)]})
                i += 1
            pipe.execute()
        sent += per_pipeline
    seconds = time.perf_counter() - started
    client.unlink(stream)
    return sent / seconds


def stored_payloads(client, stream: str, count: int) -> list[bytes]:
    """The latest entries ingest wrote: the same events, exactly as stored."""
    return [fields[b"e"] for _, fields in client.xrevrange(stream, count=count)]


def measure_batch(bench: Bench) -> Figure:
    """POST /events in batches against redis-py XADD of the same stored events, rounds alternating."""
    plan = bench.plan
    sent = tuple(bodies.batch_bodies(BATCH_BODIES, plan.batch_size, bench.event_time))
    client, keys = bench.redis(), bench.keys()
    floor_stream = keys.stream + ":bench-floor"

    def load(seconds: int) -> Load:
        return Load(bench.functions.url("ingest", "/events"), "POST", sent, bench.write_headers(), plan.connections, seconds)

    bench.say(f"POST /events (batches of {plan.batch_size}) and its floor (XADD of {plan.xadd_floor_events:,} stored events)")
    bench.load(load(plan.warmup_seconds))
    payloads = stored_payloads(client, keys.stream, FLOOR_SAMPLE)
    results, rates, floors, appended = [], [], [], []
    for i in range(plan.rounds):
        length = client.xlen(keys.stream)
        result = bench.load(load(plan.load_seconds))
        appended.append(client.xlen(keys.stream) - length)
        results.append(result)
        rates.append(result.rps * plan.batch_size)
        floors.append(xadd_floor(client, floor_stream, payloads, plan.xadd_floor_events, plan.batch_size))
        bench.say(f"  round {i + 1}: POST /events {rates[-1]:,.0f} events/s, XADD floor {floors[-1]:,.0f} events/s")
    client.close()
    answered = sum(r.requests - r.errors for r in results) * plan.batch_size
    note = _errors_note(results)
    if sum(appended) < answered:
        note = f"{answered - sum(appended)} answered events missing from the stream"
    return Figure(
        key="post_events",
        name=f"POST /events, batches of {plan.batch_size}",
        unit="events/s",
        value=stats.median(rates),
        goal=Goal(min_ratio=0.80, min_value=50_000),
        floor=stats.median(floors),
        floor_name=f"redis-py XADD, pipelines of {plan.batch_size}, one process",
        details={"loads": [r.as_dict() for r in results], "floors": floors, "appended": appended, "payload_bytes": len(payloads[0])},
        note=note,
    )


def measure_ceiling(bench: Bench, driven: float | None) -> Figure:
    """The generator against a trivial server: how far it is from being what limits the figures."""
    port = stack.free_port_block(1)
    server = subprocess.Popen(
        [sys.executable, "-m", "local.bench.trivial", str(port), "2"], cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 20
        while probe(f"http://127.0.0.1:{port}/", timeout=1) != 200:
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("the trivial server did not start")
            time.sleep(0.1)
        sent = tuple(bodies.single_bodies(SINGLE_BODIES, bench.event_time))
        load = Load(
            f"http://127.0.0.1:{port}/event", "POST", sent, bench.write_headers(), bench.plan.connections, bench.plan.ceiling_seconds
        )
        bench.say(f"load generator ceiling: {bench.generator} against a trivial server for {load.seconds} s")
        result = bench.load(load)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)
    return Figure(
        key="generator_ceiling",
        name=f"load generator ({bench.generator}) against a trivial server",
        unit="req/s",
        value=result.rps,
        goal=Goal(min_ratio=1.5),
        floor=driven,
        floor_name="the fastest rate it drove: the hello floor",
        details=result.as_dict(),
    )


def measure_latency(bench: Bench, max_rps: float) -> Figure:
    """p99 of POST /event at 80 % of the rate it reached (the figure above), on a fixed schedule (paced.py)."""
    rate = 0.8 * max_rps
    sent = tuple(bodies.single_bodies(SINGLE_BODIES, bench.event_time))
    plan = bench.plan
    load = Load(bench.functions.url("ingest", "/event"), "POST", sent, bench.write_headers(), plan.connections, plan.load_seconds)
    bench.say(f"POST /event at 80 % of its rate: {rate:,.0f} req/s on a fixed schedule for {load.seconds} s")
    result = paced.run(load, rate)
    bench.say(f"  p50 {result.latency_ms['p50']:.1f} ms p99 {result.latency_ms['p99']:.1f} ms ({result.errors} errors)")
    return Figure(
        key="post_event_p99",
        name="POST /event at 80 % of its rate, p99 from each request's due time",
        unit="ms",
        value=result.latency_ms["p99"],
        goal=Goal(max_value=20.0),
        details={**result.as_dict(), "rate": round(rate, 1)},
        note=_errors_note([result]),
    )


def measure(bench: Bench) -> Iterator[Figure]:
    single, hello_rps = measure_single(bench)
    yield single
    if single.value:
        yield measure_latency(bench, single.value)
    yield measure_ceiling(bench, hello_rps)
    yield measure_batch(bench)
