"""Figures 5 and 6: GET /metrics latency at two data sizes, and the view refresh at the larger one.

The data comes from local.generate (COPY of realistic events ending now). The second load is
generated without refreshing the views, so that the view-refresh function's own run is the
refresh measured at the larger size.
"""

from __future__ import annotations

import datetime as dt
import logging
import time

from local import generate
from local.bench.calls import call
from local.bench.context import Bench
from local.bench.figures import Figure, Goal
from local.bench.load import Load

METRICS_GOAL_MS = 50.0
REFRESH_GOAL_SECONDS = 10.0
PROGRESS_SECONDS = 15.0


class Progress(logging.Handler):
    """Prints local.generate's "events loaded" lines at most every PROGRESS_SECONDS."""

    def __init__(self, bench: Bench):
        super().__init__(logging.INFO)
        self.bench = bench
        self.last = time.monotonic()

    def emit(self, record: logging.LogRecord) -> None:
        loaded = getattr(record, "loaded", None)
        if loaded is not None and time.monotonic() - self.last >= PROGRESS_SECONDS:
            self.last = time.monotonic()
            self.bench.say(f"    {loaded:,} of {record.of:,} loaded")


def load_events(bench: Bench, events: int, seed: int, refresh: bool) -> dict:
    """COPY `events` generated events into the run's database; local.generate's report."""
    logger = logging.getLogger("local.generate")
    handler = Progress(bench)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        shape = generate.Shape(events, dt.datetime.now(dt.UTC).replace(microsecond=0), seed=seed)
        return generate.generate(bench.stores.database_url, shape, refresh=refresh)
    finally:
        logger.removeHandler(handler)


def latency_figures(bench: Bench, stored: int, goal: bool) -> list[Figure]:
    """GET /metrics p50 and p99 against GET /healthz of the same function, same clients."""
    plan = bench.plan

    def load(path: str, seconds: int) -> Load:
        return Load(bench.functions.url("metrics", path), "GET", (), bench.read_headers(), plan.read_connections, seconds)

    conn = bench.connect()
    try:
        (rows,) = conn.run("SELECT count(*) FROM events")[0]
    finally:
        conn.close()
    bench.say(f"GET /metrics and GET /healthz at {rows:,} stored events: {plan.read_connections} clients, {plan.read_seconds} s each")
    bench.load(load("/metrics", plan.warmup_seconds))
    metrics = bench.load(load("/metrics", plan.read_seconds))
    healthz = bench.load(load("/healthz", plan.read_seconds))
    bench.say(
        f"  /metrics p50 {metrics.latency_ms['p50']:.1f} ms p99 {metrics.latency_ms['p99']:.1f} ms ({metrics.rps:,.0f} req/s); "
        f"/healthz p50 {healthz.latency_ms['p50']:.1f} ms p99 {healthz.latency_ms['p99']:.1f} ms"
    )
    note = f"{metrics.errors} errors" if metrics.errors else ""
    details = {"metrics": metrics.as_dict(), "healthz": healthz.as_dict(), "stored_events": rows}
    figures = []
    for q in ("p50", "p99"):
        checked = goal and q == "p99"
        figures.append(
            Figure(
                key=f"metrics_{q}_{stored}",
                name=f"GET /metrics {q} at {stored:,} events, {plan.read_connections} clients",
                unit="ms",
                value=metrics.latency_ms[q],
                goal=Goal(max_value=METRICS_GOAL_MS) if checked else Goal(),
                floor=healthz.latency_ms[q],
                floor_name=f"GET /healthz {q}, same function",
                details=details if q == "p50" else {},
                note=note,
            )
        )
    return figures


def refresh_figure(bench: Bench, stored: int) -> Figure:
    bench.say(f"view refresh at {stored:,} events (POST /tasks/view-refresh)")
    started = time.perf_counter()
    status, body = call("POST", bench.functions.url("view-refresh", "/tasks/view-refresh"), bench.task_headers(), b"", timeout=3600)
    wall = time.perf_counter() - started
    if status != 200 or not isinstance(body, dict) or body.get("status") != "refreshed":
        raise RuntimeError(f"view-refresh answered {status}: {body}")
    bench.say(f"  refreshed in {body['seconds']:.1f} s: {body.get('timings')}")
    return Figure(
        key="view_refresh",
        name=f"view refresh at {stored:,} events",
        unit="s",
        value=float(body["seconds"]),
        goal=Goal(max_value=REFRESH_GOAL_SECONDS),
        details={"answer": body, "wall_seconds": round(wall, 3)},
    )


def measure(bench: Bench) -> list[Figure]:
    plan = bench.plan
    bench.say(f"loading {plan.small_events:,} generated events (local.generate)")
    small = load_events(bench, plan.small_events, seed=1, refresh=True)
    bench.say(f"  {small['events']:,} in {small['seconds']:.0f} s ({small['events_per_second']:,} events/s while loading)")
    bench.details["generate"] = [small]
    figures = latency_figures(bench, plan.small_events, goal=False)
    more = plan.large_events - plan.small_events
    bench.say(f"loading {more:,} more generated events (views left to the refresh measured next)")
    large = load_events(bench, more, seed=2, refresh=False)
    bench.say(f"  {large['events']:,} in {large['seconds']:.0f} s ({large['events_per_second']:,} events/s while loading)")
    bench.details["generate"].append(large)
    figures.append(refresh_figure(bench, plan.large_events))
    figures += latency_figures(bench, plan.large_events, goal=True)
    return figures
