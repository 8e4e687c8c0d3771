"""Figure: the drain with 1, 2 and 4 stream shards, as many drains side by side, and the CPU each part used.

The run's functions serve one ANALYTICS_STREAM_SHARDS value, so each shard count gets a
Redis namespace of its own (`<run namespace>.n<N>`) and drain processes of its own: N
instances of the stream-drain function, each served exactly as `make run` serves it (its
command, one worker), with ANALYTICS_STREAM_SHARDS=N and that namespace. The same number of events,
built as ingest builds them (validated, enriched, fresh event ids), is appended to the
namespace's shards, routed by (project, person) as ingest routes them; then each drain is
invoked back to back from a thread of its own until every shard is empty. An invocation that
found every shard leased (it read nothing) waits 50 ms before the next, as a scheduler would.

CPU is read from /proc over the drain's interval: the drain processes, PostgreSQL (the
postmaster and its backends) and Redis (its server process). On a shared server the last two
include whatever else used them meanwhile; the machine's busy cores say how much that was.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
import uuid
from collections.abc import Iterator

from engine.buffer.keys import shard_index, shard_keys
from engine.core import constants as c
from engine.core.enrich import build_entry
from engine.core.pipeline import check_batch
from local import stack
from local.bench import bodies
from local.bench.calls import call
from local.bench.context import Bench
from local.bench.figures import Figure
from local.bench.processes import READY_SECONDS, ROOT
from local.bench.procs import TreeCpu, parents
from local.bench.stores import delete_namespace
from local.supervisor import Child, Supervisor

SHARD_COUNTS = (1, 2, 4)
PIPELINE = 1000
IDLE_PAUSE_SECONDS = 0.05
MAX_INVOCATIONS = 10_000


def namespace_for(bench: Bench, shards: int) -> str:
    return f"{bench.stores.namespace}.n{shards}"


def fill(bench: Bench, namespace: str, shards: int, events: int) -> int:
    """Append `events` events to the namespace's shards as ingest would; how many were appended."""
    keys = shard_keys(namespace, shards)
    client = bench.redis()
    received_at = dt.datetime.now(dt.UTC)
    appended = 0
    try:
        for start in range(0, events, PIPELINE):
            sent = [bodies.make_event(i, bench.event_time) for i in range(start, min(start + PIPELINE, events))]
            with client.pipeline(transaction=False) as pipe:
                for checked in check_batch(sent, received_at, bench.functions.settings.retention_days):
                    event = checked.event
                    payload = build_entry(
                        event, event_id=uuid.uuid4(), moment=event["moment"], received_at=received_at,
                        project_id=c.DEFAULT_PROJECT_ID, request_id="bench-scale",
                    )  # fmt: skip
                    shard = keys[shard_index(c.DEFAULT_PROJECT_ID, str(event["user_id"]), shards)]
                    pipe.xadd(shard.stream, {c.ENTRY_FIELD: payload})
                appended += len(pipe.execute())
    finally:
        client.close()
    return appended


@contextlib.contextmanager
def drains(bench: Bench, namespace: str, shards: int, logs) -> Iterator[list[Child]]:
    """`shards` stream-drain processes on the namespace, ready; stopped on the way out."""
    function = stack.function_named("stream-drain")
    base = stack.free_port_block(shards)
    env = {
        **bench.functions.env,
        **stack.function_env(function),
        "ANALYTICS_STREAM_SHARDS": str(shards),
        "ANALYTICS_REDIS_NAMESPACE": namespace,
    }
    children = [
        Child(
            f"drain-s{shards}-{i}",
            stack.function_command(function, base + i),
            env,
            logs / f"scale-drain-s{shards}-{i}.log",
            f"http://127.0.0.1:{base + i}/healthz",
        )
        for i in range(shards)
    ]
    supervisor = Supervisor(children, ROOT)
    try:
        supervisor.start({child.name for child in children})
        not_ready = supervisor.wait_ready(READY_SECONDS, threading.Event())
        if not_ready:
            raise RuntimeError(f"not ready after {READY_SECONDS} s: {', '.join(not_ready)}")
        yield children
    finally:
        supervisor.stop_all(10)


def waiting(bench: Bench, namespace: str, shards: int) -> int:
    client = bench.redis()
    try:
        return sum(client.xlen(keys.stream) for keys in shard_keys(namespace, shards))
    finally:
        client.close()


def invoke_until_empty(bench: Bench, url: str, namespace: str, shards: int, answers: list, errors: list) -> None:
    """One drain's loop: invoke, until every shard of the namespace is empty."""
    for _ in range(MAX_INVOCATIONS):
        status, body = call("POST", url, bench.task_headers(), b"", timeout=600)
        if status != 200:
            errors.append(f"the drain answered {status}: {body}")
            return
        answers.append(body)
        if waiting(bench, namespace, shards) == 0:
            return
        if not body.get("read"):
            time.sleep(IDLE_PAUSE_SECONDS)
    errors.append(f"the stream was not empty after {MAX_INVOCATIONS} invocations")


def server_pids(bench: Bench) -> dict[str, int]:
    """The PostgreSQL postmaster and the Redis server of the run."""
    client = bench.redis()
    try:
        redis_pid = int(client.info("server")["process_id"])
    finally:
        client.close()
    conn = bench.connect()
    try:
        (backend,) = conn.run("SELECT pg_backend_pid()")[0]
        postmaster = parents()[backend]  # a backend's parent is the postmaster
    finally:
        conn.close()
    return {"postgres": postmaster, "redis": redis_pid}


def count_rows(bench: Bench) -> int:
    conn = bench.connect()
    try:
        return conn.run("SELECT count(*) FROM events")[0][0]
    finally:
        conn.close()


def measure_one(bench: Bench, shards: int, events: int, servers: dict[str, int]) -> dict:
    namespace = namespace_for(bench, shards)
    try:
        appended = fill(bench, namespace, shards, events)
        with drains(bench, namespace, shards, bench.functions.logs) as children:
            before = count_rows(bench)
            conn = bench.connect()
            conn.run("CHECKPOINT")  # no dirty pages of the previous count's drain
            conn.close()
            answers: list[dict] = []
            errors: list[str] = []
            threads = [
                threading.Thread(
                    target=invoke_until_empty,
                    args=(bench, child.health_url.replace("/healthz", "/tasks/stream-drain"), namespace, shards, answers, errors),
                )
                for child in children
            ]
            meter = TreeCpu({**{child.name: child.pid for child in children}, **servers})
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            seconds = time.perf_counter() - started
            cpu = meter.read()
            committed = count_rows(bench) - before
    finally:
        delete_namespace(bench.stores.redis_url, namespace)
    if errors:
        raise RuntimeError("; ".join(errors))
    drain_cores = sum(cpu[child.name] for child in children)
    return {
        "shards": shards,
        "appended": appended,
        "committed": committed,
        "seconds": round(seconds, 3),
        "events_per_second": committed / seconds if seconds > 0 else None,
        "cores": {"drains": round(drain_cores, 3), "postgres": cpu["postgres"], "redis": cpu["redis"], "machine": cpu["machine"]},
        "per_drain_cores": {child.name: cpu[child.name] for child in children},
        "invocations": len(answers),
        "idle_invocations": sum(1 for a in answers if not a.get("read")),
    }


def per_core(result: dict, part: str) -> float | None:
    cores = result["cores"][part]
    return round(result["events_per_second"] / cores) if result["events_per_second"] and cores > 0 else None


def measure(bench: Bench) -> Iterator[Figure]:
    events = bench.plan.scale_events
    servers = server_pids(bench)
    bench.say(f"drain scale-out: {events:,} events each with {', '.join(map(str, SHARD_COUNTS))} shards × as many drains")
    single = None
    for shards in SHARD_COUNTS:
        result = measure_one(bench, shards, events, servers)
        rate, cores = result["events_per_second"], result["cores"]
        single = rate if shards == 1 else single
        bench.say(
            f"  {shards} × {shards}: {result['committed']:,} rows in {result['seconds']:.1f} s ({rate or 0:,.0f} events/s); cores: "
            f"drains {cores['drains']}, PostgreSQL {cores['postgres']}, Redis {cores['redis']}, machine {cores['machine']}"
        )
        per = {part: per_core(result, part) for part in ("drains", "postgres", "redis")}
        used = f"cores: drains {cores['drains']:.2f}, PostgreSQL {cores['postgres']:.2f}, Redis {cores['redis']:.2f}"
        note = f"{used} (machine {cores['machine']:.2f})"
        if result["committed"] != result["appended"]:
            note = f"{result['appended']:,} appended but {result['committed']:,} rows committed"
        yield Figure(
            key=f"drain_shards_{shards}",
            name=f"drain, {shards} shard{'s' if shards > 1 else ''} × {shards} drain{'s' if shards > 1 else ''}",
            unit="events/s",
            value=rate if result["committed"] else None,
            floor=None if shards == 1 else single,
            floor_name="—" if shards == 1 else "1 shard × 1 drain, same run",
            details={**result, "events_per_core_second": per},
            note=note,
        )
