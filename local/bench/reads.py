"""GET /metrics latency and the view-refresh at two data sizes, and every Grafana panel at the larger.

The data comes from local.generate (realistic events ending now, counted into the rollups in
the transactions that store them, as the drain does). The rest of the larger size is loaded by
LOADERS `python -m local.generate` processes at once (different seeds, so different events).
The view-refresh is measured at both sizes: its cost must follow what changed, not history.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

from local import generate
from local.bench import analytics, panels, stats
from local.bench.calls import call
from local.bench.context import Bench
from local.bench.figures import Figure, Goal
from local.bench.load import Load
from local.bench.processes import ROOT

METRICS_GOAL_MS = 50.0
REFRESH_GOAL_SECONDS = 1.0
REFRESH_GROWTH_GOAL = 1.5  # refresh at the larger size / at the smaller
PROGRESS_SECONDS = 15.0
# Two loaders keep both cores busy (one generates while the server indexes); more only contend.
LOADERS = 2


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


def load_events(bench: Bench, events: int, seed: int) -> dict:
    """COPY `events` generated events into the run's database; local.generate's report."""
    logger = logging.getLogger("local.generate")
    handler = Progress(bench)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        shape = generate.Shape(events, dt.datetime.now(dt.UTC).replace(microsecond=0), days=bench.plan.days, seed=seed)
        return generate.generate(bench.stores.database_url, shape)
    finally:
        logger.removeHandler(handler)


def load_in_parallel(bench: Bench, events: int, first_seed: int, loaders: int = LOADERS) -> dict:
    """COPY `events` more generated events with `loaders` local.generate processes at once."""
    shares = [events // loaders + (1 if i < events % loaders else 0) for i in range(loaders)]
    started = time.monotonic()
    children = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "local.generate",
                "--events",
                str(share),
                "--seed",
                str(first_seed + i),
                "--days",
                str(bench.plan.days),
                "--database-url",
                bench.stores.database_url,
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": f"{ROOT / 'functions'}{os.pathsep}{ROOT}"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for i, share in enumerate(shares)
    ]
    loaded = [0] * loaders
    reports: list[dict | None] = [None] * loaders
    errors: list[str] = []

    def follow(i: int, child: subprocess.Popen) -> None:
        for line in child.stderr:
            try:
                loaded[i] = json.loads(line).get("loaded", loaded[i])
            except ValueError:
                errors.append(line.strip())
                continue
        out = child.stdout.read().strip().splitlines()
        child.stdout.close()
        child.stderr.close()
        reports[i] = json.loads(out[-1]) if out else None

    followers = [threading.Thread(target=follow, args=(i, c), daemon=True) for i, c in enumerate(children)]
    for follower in followers:
        follower.start()
    last = time.monotonic()
    while any(c.poll() is None for c in children):
        time.sleep(0.5)
        if time.monotonic() - last >= PROGRESS_SECONDS:
            last = time.monotonic()
            bench.say(f"    {sum(loaded):,} of {events:,} loaded")
    for follower in followers:
        follower.join(timeout=30)
    for child in children:
        child.wait()
    failed = [c.returncode for c in children if c.returncode != 0]
    if failed or None in reports:
        raise RuntimeError(f"local.generate failed (exit codes {[c.returncode for c in children]}): {' | '.join(errors[-4:])}")
    seconds = time.monotonic() - started
    return {"events": sum(r["events"] for r in reports), "seconds": round(seconds, 2),
            "events_per_second": round(sum(r["events"] for r in reports) / seconds), "loaders": reports}  # fmt: skip


def settle(bench: Bench) -> float:
    """VACUUM and CHECKPOINT after a bulk load, as autovacuum soon would; seconds taken.

    Left to autovacuum, the vacuum of freshly loaded partitions would run during the
    measurements; done first, the reads meet the steady state a running deployment has.
    """
    started = time.monotonic()
    conn = bench.connect()
    try:
        conn.run("VACUUM events")
        conn.run("VACUUM event_ids")
        conn.run("CHECKPOINT")
    finally:
        conn.close()
    seconds = time.monotonic() - started
    bench.say(f"  VACUUM and CHECKPOINT after the load: {seconds:.0f} s")
    return seconds


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
    bench.say(
        f"GET /metrics and GET /healthz at {rows:,} stored events: {plan.read_connections} clients, "
        f"{plan.rounds} rounds of {plan.read_seconds} s each"
    )
    bench.load(load("/metrics", plan.warmup_seconds))
    metrics, healthz = [], []
    for i in range(plan.rounds):
        metrics.append(bench.load(load("/metrics", plan.read_seconds)))
        healthz.append(bench.load(load("/healthz", plan.read_seconds)))
        m, h = metrics[-1].latency_ms, healthz[-1].latency_ms
        bench.say(
            f"  round {i + 1}: /metrics p50 {m['p50']:.1f} ms p99 {m['p99']:.1f} ms ({metrics[-1].rps:,.0f} req/s); "
            f"/healthz p50 {h['p50']:.1f} ms p99 {h['p99']:.1f} ms"
        )
    errors = sum(r.errors for r in metrics)
    note = f"{errors} errors" if errors else ""
    details = {"metrics": [r.as_dict() for r in metrics], "healthz": [r.as_dict() for r in healthz], "stored_events": rows}

    def med(results, q):
        return stats.median([r.latency_ms[q] for r in results])

    figures = []
    for q in ("p50", "p99"):
        checked = goal and q == "p99"
        figures.append(
            Figure(
                key=f"metrics_{q}_{stored}",
                name=f"GET /metrics {q} at {stored:,} events, {plan.read_connections} clients (median of {plan.rounds})",
                unit="ms",
                value=med(metrics, q),
                goal=Goal(max_value=METRICS_GOAL_MS) if checked else Goal(),
                floor=med(healthz, q),
                floor_name=f"GET /healthz {q}, same function",
                details=details if q == "p50" else {},
                note=note,
            )
        )
    return figures


def error_code(body) -> str:
    """The code of the engine's JSON error shape, or the start of whatever came back."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("code"))
    return str(body)[:60]


def refresh_figure(bench: Bench, stored: int, key: str = "view_refresh") -> Figure:
    """One view-refresh invocation; a failed one is a figure without a value, saying why."""
    bench.say(f"view refresh at {stored:,} events (POST /tasks/view-refresh)")
    started = time.perf_counter()
    status, body = call("POST", bench.functions.url("view-refresh", "/tasks/view-refresh"), bench.task_headers(), b"", timeout=3600)
    wall = time.perf_counter() - started
    refreshed = status == 200 and isinstance(body, dict) and body.get("status") == "refreshed"
    if refreshed:
        bench.say(f"  refreshed in {body['seconds']:.1f} s: {body.get('timings')}")
    else:
        bench.say(f"  !! view-refresh answered {status} after {wall:.1f} s: {body}")
    return Figure(
        key=key,
        name=f"view refresh at {stored:,} events",
        unit="s",
        value=float(body["seconds"]) if refreshed else None,
        goal=Goal(max_value=REFRESH_GOAL_SECONDS),
        details={"status": status, "answer": body, "wall_seconds": round(wall, 3)},
        note="" if refreshed else f"failed after {wall:.0f} s: HTTP {status} {error_code(body)}",
    )


def measure(bench: Bench) -> Iterator[Figure]:
    plan = bench.plan
    bench.say(f"loading {plan.small_events:,} generated events (local.generate)")
    small = load_events(bench, plan.small_events, seed=1)
    bench.say(f"  {small['events']:,} in {small['seconds']:.0f} s ({small['events_per_second']:,} events/s while loading)")
    small["settle_seconds"] = settle(bench)
    bench.details["generate"] = [small]
    at_small = refresh_figure(bench, plan.small_events, key="view_refresh_small")
    yield at_small
    yield from latency_figures(bench, plan.small_events, goal=False)
    more = plan.large_events - plan.small_events
    bench.say(f"loading {more:,} more generated events with {LOADERS} local.generate processes")
    large = load_in_parallel(bench, more, first_seed=2)
    bench.say(f"  {large['events']:,} in {large['seconds']:.0f} s ({large['events_per_second']:,} events/s)")
    large["settle_seconds"] = settle(bench)
    bench.details["generate"].append(large)
    at_large = refresh_figure(bench, plan.large_events)
    yield at_large
    yield Figure(
        key="view_refresh_growth",
        name=f"view refresh at {plan.large_events:,} events ÷ at {plan.small_events:,}",
        unit="s",
        value=at_large.value,
        goal=Goal(max_ratio=REFRESH_GROWTH_GOAL),
        floor=at_small.value,
        floor_name=f"view refresh at {plan.small_events:,} events, same run",
    )
    yield from latency_figures(bench, plan.large_events, goal=True)
    yield from panels.measure(bench, plan.large_events)
    yield from analytics.measure(bench, plan.large_events)


def measure_analytics(bench: Bench) -> Iterator[Figure]:
    """The analytics figures alone, on a database given as it is (--database-url): its events of
    the bench's project, however they were loaded (local.generate, say), counted from the rollups."""
    conn = bench.connect()
    try:
        rows = conn.run("SELECT events FROM rollup_totals WHERE project_id = :p", p=analytics.PROJECT)
    finally:
        conn.close()
    stored = int(rows[0][0]) if rows else 0
    if not stored:
        raise RuntimeError(f"the database holds no event of project {analytics.PROJECT}: load some first (python -m local.generate)")
    yield from analytics.measure(bench, stored)
