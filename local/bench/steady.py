"""Steady load: ten wrk rounds back to back at 32 keep-alive connections on each server,
the worst round beside the first. A server whose rate collapses after its first round (as the
thread-per-connection one did, from about 7,500 to about 2,200 req/s) misses the goal.
"""

from __future__ import annotations

from collections.abc import Iterator

from local.bench import bodies
from local.bench.context import Bench
from local.bench.figures import Figure, Goal
from local.bench.load import Load
from local.bench.processes import HELLO

ROUNDS = 10
# Each server's request under steady load: what a client sends it most (the task functions are
# invoked once at a time by the scheduler, so their health check stands for their server).
TARGETS = (
    (HELLO, "GET", "/"),
    ("ingest", "POST", "/event"),
    ("metrics", "GET", "/healthz"),
    ("stream-drain", "GET", "/healthz"),
    ("view-refresh", "GET", "/healthz"),
)


def measure(bench: Bench) -> Iterator[Figure]:
    seconds = max(1, bench.plan.load_seconds // 2)
    bench.say(f"steady load: {ROUNDS} rounds of {seconds} s per server, {bench.plan.connections} connections")
    for name, method, path in TARGETS:
        sent = tuple(bodies.single_bodies(64, bench.event_time)) if method == "POST" else ()
        headers = bench.write_headers() if method == "POST" else ()
        load = Load(bench.functions.url(name, path), method, sent, headers, bench.plan.connections, seconds)
        rates = [bench.load(load).rps for _ in range(ROUNDS)]
        bench.say(f"  {name} {method} {path}: " + ", ".join(f"{r:,.0f}" for r in rates) + " req/s")
        yield Figure(
            key=f"steady_{name.replace('-', '_')}",
            name=f"steady load, worst of {ROUNDS} rounds, {name} {method} {path}",
            unit="req/s",
            value=min(rates),
            goal=Goal(min_ratio=0.80),
            floor=rates[0],
            floor_name="its own first round, same run",
            details={"rounds_rps": rates},
        )
