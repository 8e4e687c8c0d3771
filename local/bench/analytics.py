"""The analytics questions (the analytics routes and the export) at the reads phase's larger size, against their goals.

Measured on the metrics function as served (gunicorn + uvicorn workers), on the events
local.generate loaded (plan.days days ending now):
- timeseries, the last 90 days by day with one filter (action), and breakdown by element over
  30 days: closed-loop loads of plan.read_connections clients for plan.read_seconds; p99;
- funnel, 3 steps over 30 days, and retention, 12 weekly cohorts: one request at a time, after
  a warm-up; the median of RUNS;
- first, export of the newest EXPORT_EVENTS events as CSV (all of them when fewer are stored): the wall
  time of the whole download, and the peak resident memory of the function's processes while
  it streams (procs.ResidentPeak).
"""

from __future__ import annotations

import datetime as dt
import http.client
import statistics
import time
from urllib.parse import urlencode

from engine.core import constants as c
from local import generate
from local.bench.context import Bench
from local.bench.figures import Figure, Goal
from local.bench.load import Load
from local.bench.procs import ResidentPeak

TIMESERIES_GOAL_MS = 50.0
BREAKDOWN_GOAL_MS = 100.0
FUNNEL_GOAL_SECONDS = 2.0
RETENTION_GOAL_SECONDS = 1.0
EXPORT_GOAL_SECONDS = 10.0
EXPORT_RSS_GOAL_MB = 150.0
EXPORT_EVENTS = 1_000_000
RUNS = 3
# One filter, and three steps that the generated events hold (local.generate's actions, most used first).
FILTER_ACTION = generate.ACTIONS[1]
FUNNEL_STEPS = ",".join(generate.ACTIONS[:3])
FUNNEL_WITHIN_SECONDS = 7 * 86_400
PROJECT = c.DEFAULT_PROJECT_ID  # the project of the bench's keys, which local.generate loads


def _range(end: dt.datetime, days: int) -> dict[str, str]:
    return {"from": (end - dt.timedelta(days=days)).isoformat(), "to": end.isoformat()}


def latency_figure(bench: Bench, key: str, name: str, path: str, params: dict, goal_ms: float) -> Figure:
    """p99 (and p50 in details) of a closed-loop load on one analytics URL."""
    plan = bench.plan
    url = bench.functions.url("metrics", f"{path}?{urlencode(params)}")
    bench.load(Load(url, "GET", (), bench.read_headers(), plan.read_connections, plan.warmup_seconds))
    result = bench.load(Load(url, "GET", (), bench.read_headers(), plan.read_connections, plan.read_seconds))
    p99 = result.latency_ms["p99"]
    bench.say(f"  {name}: p50 {result.latency_ms['p50']} ms p99 {p99} ms ({result.rps:,.0f} req/s, {result.errors} errors)")
    answered = result.requests - result.errors
    if answered <= 0:
        # wrk reports latencies of 0 when no request came back within the load: that is no figure, not a fast one.
        note = f"no answer within the {plan.read_seconds} s load"
    else:
        note = f"{result.errors} errors" if result.errors else ""
    return Figure(
        key=key,
        name=f"{name}, {plan.read_connections} clients, p99",
        unit="ms",
        value=None if note or p99 is None else p99,
        goal=Goal(max_value=goal_ms),
        details={"url": url, "load": result.as_dict()},
        note=note,
    )


def get(bench: Bench, path: str, params: dict, timeout: float = 600) -> tuple[int, bytes, float]:
    """(status, body, seconds) of one GET on the metrics function."""
    connection = http.client.HTTPConnection("127.0.0.1", bench.functions.port("metrics"), timeout=timeout)
    started = time.perf_counter()
    try:
        connection.request("GET", f"{path}?{urlencode(params)}", headers=dict(bench.read_headers()))
        response = connection.getresponse()
        body = response.read()
        return response.status, body, time.perf_counter() - started
    finally:
        connection.close()


def timed_figure(bench: Bench, key: str, name: str, path: str, params: dict, goal_seconds: float) -> Figure:
    """The median time of RUNS requests, one at a time, after one to warm up."""
    status, body, _ = get(bench, path, params)
    runs = []
    for _ in range(RUNS):
        status, body, seconds = get(bench, path, params)
        if status != 200:
            break
        runs.append(seconds)
    ok = status == 200 and len(runs) == RUNS
    value = statistics.median(runs) if ok else None
    outcome = f"median {value:.2f} s of {[round(r, 2) for r in runs]}" if ok else f"HTTP {status} {body[:200]!r}"
    bench.say(f"  {name}: {outcome}")
    return Figure(
        key=key,
        name=f"{name} (median of {RUNS})",
        unit="s",
        value=value,
        goal=Goal(max_value=goal_seconds),
        details={"path": path, "params": params, "seconds": runs},
        note="" if ok else f"HTTP {status}",
    )


def export_start(bench: Bench, events: int, end: dt.datetime) -> tuple[dt.datetime, int]:
    """The whole minute from which the newest `events` events (or all of them) of the bench's
    project were stored, and how many of its events [that minute, end) holds now (the freshness
    phase's project is another: the export never shows it)."""
    conn = bench.connect()
    try:
        mine = "FROM events WHERE project_id = :project"
        rows = conn.run(f'SELECT "timestamp" {mine} ORDER BY "timestamp" DESC OFFSET :n LIMIT 1', project=PROJECT, n=events - 1)
        if not rows:
            rows = conn.run(f'SELECT min("timestamp") {mine}', project=PROJECT)
        start = rows[0][0].replace(second=0, microsecond=0)
        in_range = f'SELECT count(*) {mine} AND "timestamp" >= :start AND "timestamp" < :end'
        (held,) = conn.run(in_range, project=PROJECT, start=start, end=end)[0]
    finally:
        conn.close()
    return start, held


def export_figures(bench: Bench, end: dt.datetime) -> list[Figure]:
    """One CSV export of the newest EXPORT_EVENTS events: wall time, and the function's peak RSS meanwhile."""
    # To the next whole minute: the newest events may lie in the current one.
    end = end + dt.timedelta(minutes=1)
    start, held = export_start(bench, EXPORT_EVENTS, end)
    params = {"from": start.isoformat(), "to": end.isoformat(), "format": "csv"}
    connection = http.client.HTTPConnection("127.0.0.1", bench.functions.port("metrics"), timeout=600)
    lines = size = 0
    before = ResidentPeak(bench.functions.pids()["metrics"])
    before.sample()
    with ResidentPeak(bench.functions.pids()["metrics"]) as rss:
        started = time.perf_counter()
        connection.request("GET", f"/export/events?{urlencode(params)}", headers=dict(bench.read_headers()))
        response = connection.getresponse()
        while chunk := response.read(1 << 16):
            lines += chunk.count(b"\n")
            size += len(chunk)
        seconds = time.perf_counter() - started
    connection.close()
    rows = max(0, lines - 1)
    ok = response.status == 200
    bench.say(
        f"  export: {rows:,} events as CSV ({size / 1e6:.0f} MB) in {seconds:.1f} s, peak RSS {rss.max_mb:.0f} MB (HTTP {response.status})"
    )
    details = {"params": params, "rows": rows, "held_before": held, "bytes": size, "status": response.status, "rss_kb": rss.peaks}
    note = "" if ok else f"HTTP {response.status}"
    return [
        Figure(
            key="export_csv_seconds",
            name=f"export of {rows:,} events as CSV",
            unit="s",
            value=seconds if ok else None,
            goal=Goal(max_value=EXPORT_GOAL_SECONDS),
            details=details,
            note=note,
        ),
        Figure(
            key="export_csv_rss",
            name="peak RSS of the metrics function's processes during that export",
            unit="MB",
            value=rss.max_mb if ok else None,
            goal=Goal(max_value=EXPORT_RSS_GOAL_MB),
            floor=before.max_mb,
            floor_name="the same processes' RSS just before the export",
            note=note,
        ),
    ]


def measure(bench: Bench, stored: int) -> list[Figure]:
    end = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    bench.say(f"analytics routes and export at {stored:,} events ({bench.plan.days} days of them)")
    return [
        *export_figures(bench, end),  # first: the routes after it leave memory behind in the workers
        latency_figure(
            bench,
            "timeseries_90d_p99",
            f"GET /metrics/timeseries, 90 days by day, action={FILTER_ACTION}",
            "/metrics/timeseries",
            {**_range(end, 90), "interval": "day", "action": FILTER_ACTION},
            TIMESERIES_GOAL_MS,
        ),
        latency_figure(
            bench,
            "breakdown_30d_p99",
            "GET /metrics/breakdown by element, 30 days",
            "/metrics/breakdown",
            {**_range(end, 30), "by": "element"},
            BREAKDOWN_GOAL_MS,
        ),
        timed_figure(
            bench,
            "funnel_30d_seconds",
            f"GET /metrics/funnel, 3 steps ({FUNNEL_STEPS}), 30 days",
            "/metrics/funnel",
            {**_range(end, 30), "steps": FUNNEL_STEPS, "within": FUNNEL_WITHIN_SECONDS},
            FUNNEL_GOAL_SECONDS,
        ),
        timed_figure(
            bench,
            "retention_12w_seconds",
            "GET /metrics/retention, 12 weekly cohorts",
            "/metrics/retention",
            {**_range(end, 84), "period": "week", "periods": 12},
            RETENTION_GOAL_SECONDS,
        ),
    ]
