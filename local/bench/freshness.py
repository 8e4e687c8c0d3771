"""Figure 4: seconds from a 202 until GET /metrics counts the event, at a steady rate, scheduler running.

Senders post small batches at a fixed pace, as the tracker does (each event's 202 is its
batch's); a poller reads events_in_window from GET /metrics every POLL_PAUSE_SECONDS, a pace
that resolves well under the drain interval without the poller becoming a load of its own.
The events go to a project of their own (engine.keycli), so that its window counts nothing
else. Right after, GET /metrics is measured on that project, its window then holding these
events: the read cost that grows with traffic, where the read figures show it with stored data.
"""

from __future__ import annotations

import dataclasses
import json
import math
import secrets
import threading
import time
from collections.abc import Iterator

from engine import keycli
from local.bench import bodies, stats
from local.bench.calls import KeptConnection, call
from local.bench.context import Bench
from local.bench.figures import Figure, Goal
from local.bench.load import Load

SENDERS = 8
POLL_PAUSE_SECONDS = 0.1
BATCH_EVENTS = 10
SETTLE_SECONDS = 15.0
COUNTER = "events_in_window"


def read_count(connection: KeptConnection, headers: dict[str, str]) -> int | None:
    status, raw = connection.call("GET", "/metrics", headers)
    if status != 200:
        return None
    return int(json.loads(raw)[COUNTER])


def own_project(bench: Bench) -> dict[str, str]:
    """A new project's write and read keys."""
    conn = bench.connect()
    try:
        _, keys = keycli.create_project_keys(conn, f"bench-freshness-{secrets.token_hex(3)}")
    finally:
        conn.close()
    return keys


def wait_counting(bench: Bench, keys: dict[str, str], timeout: float = 60) -> int:
    """Send one event and wait until the scheduler's drain makes GET /metrics count it; the count then."""
    write = {"Content-Type": "application/json", "X-Write-Key": keys["write"]}
    read = {"Authorization": f"Bearer {keys['read']}"}
    deadline = time.monotonic() + timeout
    while call("POST", bench.functions.url("ingest", "/events"), write, bodies.batch_bodies_at(0, 1, None))[0] != 202:
        if time.monotonic() > deadline:
            raise RuntimeError("ingest does not accept the new project's write key")
        time.sleep(0.5)
    while time.monotonic() < deadline:
        status, body = call("GET", bench.functions.url("metrics", "/metrics"), read)
        if status == 200 and body.get(COUNTER, 0) >= 1:
            return body[COUNTER]
        time.sleep(0.2)
    raise RuntimeError(f"the scheduler's drain did not make the event count within {timeout:.0f} s")


class Senders:
    """Threads posting batches of BATCH_EVENTS, together `rate` events per second, recording each 202's time."""

    def __init__(self, bench: Bench, write_key: str, rate: int, seconds: float):
        self.url = bench.functions.url("ingest", "/events")
        self.headers = {"Content-Type": "application/json", "X-Write-Key": write_key}
        self.rate, self.seconds = rate, seconds
        self.acked: list[float] = []
        self.failed = 0
        self.late = 0
        self.lock = threading.Lock()

    def _send(self, index: int, start: float) -> None:
        connection = KeptConnection(self.url, timeout=10)
        acked, failed, late = [], 0, 0
        end = start + self.seconds
        per_second = self.rate / BATCH_EVENTS
        for n in range(index, int(per_second * self.seconds), SENDERS):
            due = start + n / per_second
            now = time.perf_counter()
            if now >= end:  # behind schedule: the rate achieved is reported, the duration kept
                break
            if due > now:
                time.sleep(due - now)
            elif now - due > 0.1:
                late += 1
            body = bodies.batch_bodies_at(n, BATCH_EVENTS, None)
            status, _ = connection.call("POST", "/events", self.headers, body)
            if status == 202:
                acked += [time.perf_counter()] * BATCH_EVENTS
            else:
                failed += BATCH_EVENTS
        connection.close()
        with self.lock:
            self.acked += acked
            self.failed += failed
            self.late += late

    def run(self) -> None:
        start = time.perf_counter() + 0.2
        threads = [threading.Thread(target=self._send, args=(i, start), daemon=True) for i in range(SENDERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


class Poller(threading.Thread):
    """Reads the counter from GET /metrics back to back: (when the answer arrived, count since the start)."""

    def __init__(self, bench: Bench, read_key: str, baseline: int):
        super().__init__(daemon=True)
        self.connection = KeptConnection(bench.functions.url("metrics", "/metrics"), timeout=30)
        self.headers = {"Authorization": f"Bearer {read_key}"}
        self.baseline = baseline
        self.polls: list[tuple[float, int]] = []
        self.failed = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            count = read_count(self.connection, self.headers)
            if count is None:
                self.failed += 1
            else:
                self.polls.append((time.perf_counter(), count - self.baseline))
            time.sleep(POLL_PAUSE_SECONDS)
        self.connection.close()

    def latest(self) -> int:
        return self.polls[-1][1] if self.polls else 0


def measure(bench: Bench) -> Iterator[Figure]:
    plan = bench.plan
    interval = bench.functions.settings.drain_interval_seconds
    bench.say(
        f"freshness: {plan.freshness_events_per_second} events/s for {plan.freshness_seconds} s in a project of its own, "
        f"scheduler on (drain every {interval:g} s)"
    )
    keys = own_project(bench)
    bench.functions.start_scheduler()
    try:
        baseline = wait_counting(bench, keys)
        poller = Poller(bench, keys["read"], baseline)
        poller.start()
        senders = Senders(bench, keys["write"], plan.freshness_events_per_second, plan.freshness_seconds)
        sent_from = time.perf_counter()
        senders.run()
        sending = time.perf_counter() - sent_from
        deadline = time.monotonic() + SETTLE_SECONDS
        while poller.latest() < len(senders.acked) and time.monotonic() < deadline:
            time.sleep(0.1)
        poller.stopping.set()
        poller.join(timeout=30)
    finally:
        bench.functions.stop_scheduler()
    lags, missing = stats.freshness_lags(senders.acked, poller.polls)
    lags_all = lags + [math.inf] * missing  # never counted within the wait: later than any lag seen
    gaps = [b[0] - a[0] for a, b in zip(poller.polls, poller.polls[1:], strict=False)]
    details = {
        "acknowledged": len(senders.acked),
        "failed": senders.failed,
        "late_sends": senders.late,
        "achieved_events_per_second": round(len(senders.acked) / sending, 1) if sending else None,
        "never_counted": missing,
        "polls": len(poller.polls),
        "poll_failures": poller.failed,
        "median_poll_gap_ms": round(stats.median(gaps) * 1000, 1) if gaps else None,
        "lag_seconds": stats.summary(lags),
    }
    bench.say(f"  {len(senders.acked):,} events acknowledged, {missing} never counted; polls every {details['median_poll_gap_ms']} ms")
    note = "; ".join(
        part
        for part in (
            f"{missing} never counted" if missing else "",
            f"{senders.failed} refused" if senders.failed else "",
            f"sent {details['achieved_events_per_second']} events/s" if senders.late else "",
        )
        if part
    )
    floor_name = f"the drain interval, {interval:g} s"
    name = f"freshness p50, 202 → counted by GET /metrics, {plan.freshness_events_per_second:,} events/s"
    p50, p99 = stats.percentile(lags_all, 50), stats.percentile(lags_all, 99)
    yield Figure("freshness_p50", name, "s", p50, floor=interval, floor_name=floor_name, details=details, note=note)
    yield Figure("freshness_p99", "freshness p99", "s", p99, goal=Goal(max_value=2.0), floor=interval, floor_name=floor_name, note=note)
    yield from busy_window(bench, keys["read"], poller.latest() + baseline)


def busy_window(bench: Bench, read_key: str, in_window: int) -> Iterator[Figure]:
    """GET /metrics on the freshness project while its window holds what was just sent, against
    GET /healthz of the same function with the same clients (goal: p99 within 5 times)."""
    plan = bench.plan
    metrics = Load(bench.functions.url("metrics", "/metrics"), "GET", (), (("Authorization", f"Bearer {read_key}"),), plan.read_connections)
    healthz = Load(bench.functions.url("metrics", "/healthz"), "GET", (), (), plan.read_connections)
    bench.say(f"GET /metrics with {in_window:,} events in its window: {plan.read_connections} clients, {plan.read_seconds} s")
    result = bench.load(dataclasses.replace(metrics, seconds=plan.read_seconds))
    floor = bench.load(dataclasses.replace(healthz, seconds=plan.read_seconds))
    bench.say(
        f"  p50 {result.latency_ms['p50']:.1f} ms p99 {result.latency_ms['p99']:.1f} ms ({result.rps:,.0f} req/s); "
        f"/healthz p50 {floor.latency_ms['p50']:.1f} ms p99 {floor.latency_ms['p99']:.1f} ms"
    )
    note = f"{result.errors} errors" if result.errors else ""
    for q in ("p50", "p99"):
        yield Figure(
            f"metrics_busy_{q}",
            f"GET /metrics {q}, {in_window:,} events in the window, {plan.read_connections} clients",
            "ms",
            result.latency_ms[q],
            goal=Goal(max_ratio=5.0) if q == "p99" else Goal(),
            floor=floor.latency_ms[q],
            floor_name=f"GET /healthz {q}, same function",
            details={"metrics": result.as_dict(), "healthz": floor.as_dict()} if q == "p50" else {},
            note=note,
        )
