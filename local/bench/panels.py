"""Every Grafana panel's query over 30 days, at the larger data size, as Grafana would send it.

The macros are expanded the way Grafana's PostgreSQL datasource expands them for a 30-day range
ending now with $__interval = 1h (a panel about a thousand pixels wide), or the panel's own
relative time where it has one (the "last 5 minutes" stats), in UTC for the product dashboard's $tz: $__timeFrom() and
$__timeTo() become quoted RFC 3339 times, $__timeFilter(column) a BETWEEN of the two. Each query
runs once to warm up, then RUNS times; the median is the figure. The rollup tables' sizes are
recorded beside them.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import statistics
import time

from engine.db import rollups
from local.bench.context import Bench
from local.bench.figures import Figure, Goal
from local.bench.processes import ROOT

PANEL_GOAL_MS = 100.0
RUNS = 5
SPAN = dt.timedelta(days=30)
INTERVAL_MS = 3_600_000
ROLLUP_TABLES = (*rollups.MINUTE_TABLES, *rollups.COARSE_TABLES, *rollups.ALL_TIME_TABLES)


def expand(sql: str, start: dt.datetime, end: dt.datetime) -> str:
    def stamp(moment: dt.datetime) -> str:
        return "'" + moment.strftime("%Y-%m-%dT%H:%M:%SZ") + "'"

    sql = re.sub(r"\$__timeFilter\(([^)]+)\)", lambda m: f"{m.group(1)} BETWEEN {stamp(start)} AND {stamp(end)}", sql)
    sql = sql.replace("$__timeFrom()", stamp(start)).replace("$__timeTo()", stamp(end))
    return sql.replace("$__interval_ms", str(INTERVAL_MS)).replace("$__interval", "1h").replace("$project", "1").replace("$tz", "UTC")


def panel_queries() -> list[tuple[str, str, dt.timedelta]]:
    """(title, SQL, time range) of every panel's query."""
    found = []
    for path in sorted((ROOT / "grafana" / "dashboards").glob("*.json")):
        for panel in json.loads(path.read_text())["panels"]:
            own = panel.get("timeFrom")
            span = dt.timedelta(minutes=int(own.removesuffix("m"))) if own else SPAN
            for target in panel.get("targets", []):
                found.append((f"{path.stem.removeprefix('analytics-')}: {panel['title']}", target["rawSql"], span))
    return found


def rollup_sizes(conn) -> dict:
    return {
        table: {"rows": rows, "mb": round(size / 2**20, 1)}
        for table in ROLLUP_TABLES
        for rows, size in conn.run(f"SELECT count(*), pg_total_relation_size('{table}') FROM {table}")
    }


def measure(bench: Bench, stored: int) -> list[Figure]:
    end = dt.datetime.now(dt.UTC).replace(microsecond=0)
    conn = bench.connect()
    figures = []
    try:
        bench.details["rollups"] = rollup_sizes(conn)
        bench.say(
            f"rollup tables at {stored:,} events: " + ", ".join(f"{t} {v['rows']:,} rows" for t, v in bench.details["rollups"].items())
        )
        bench.say(f"every Grafana panel over 30 days at {stored:,} events ($__interval 1h), median of {RUNS}")
        for title, raw, span in panel_queries():
            sql = expand(raw, end - span, end)
            conn.run(sql)
            times = []
            for _ in range(RUNS):
                started = time.perf_counter()
                conn.run(sql)
                times.append((time.perf_counter() - started) * 1000)
            median = statistics.median(times)
            bench.say(f"  {median:8.1f} ms  {title}")
            figures.append(
                Figure(
                    key=f"panel_{re.sub(r'[^a-z0-9]+', '_', title.lower()).strip('_')}",
                    name=f"Grafana at {stored:,} events, {'30 days' if span == SPAN else 'its own 5 minutes'}: {title}",
                    unit="ms",
                    value=median,
                    goal=Goal(max_value=PANEL_GOAL_MS),
                    details={"runs_ms": [round(t, 2) for t in times]},
                )
            )
    finally:
        conn.close()
    return figures
