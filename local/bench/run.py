"""One benchmark run: start the stores and the functions, measure every figure, print and write the table."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
import traceback
from pathlib import Path

from engine import config
from local.bench import dedupe_append, drain, freshness, marks, reads, report, rollup_cost, scaleout, steady, writes
from local.bench.context import Bench
from local.bench.figures import Figure, Goal
from local.bench.load import WRK_HOW_TO_GET
from local.bench.plan import Plan
from local.bench.processes import HELLO, ROOT, Functions
from local.bench.procs import CpuMeter, MemorySampler
from local.bench.stores import open_stores
from local.stack import FUNCTIONS

OUT = ROOT / ".local" / "bench"
KEEP_RUN_DIRS = 3
MEMORY_GOAL_MB = 150.0
# The benchmark measures the engine, not the rate limiter; nor does it stop at the default backlog.
OVERRIDES = {"ANALYTICS_KEY_RATE_LIMIT": "0", "ANALYTICS_IP_RATE_LIMIT": "0", "ANALYTICS_MAX_BACKLOG": "1000000000"}
PHASES = {
    "steady": steady.measure,
    "writes": writes.measure,
    "marks": marks.measure,
    "dedupe-append": dedupe_append.measure,
    "drain": drain.measure,
    "drain-scale": scaleout.measure,
    "rollup-cost": rollup_cost.measure,
    "freshness": freshness.measure,
    "reads": reads.measure,
    "analytics": reads.measure_analytics,
}
# Phases that only read: the ones a database given as it is (--database-url) may run.
READ_ONLY_PHASES = ("analytics",)


def machine() -> dict:
    """Cores, memory and what else was running, for the record."""
    meminfo = Path("/proc/meminfo").read_text().split()
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(int(meminfo[meminfo.index("MemTotal:") + 1]) / 1024**2, 1),
        "cpu": next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if "model name" in line), ""),
        "python": platform.python_version(),
        "load_average": os.getloadavg(),
    }


def git_state() -> dict:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    changed = [
        line[3:]
        for line in git("status", "--porcelain").splitlines()
        if line[3:].startswith(("functions/", "sql/", "runtime/", "local/stack.py"))
    ]
    return {"commit": git("rev-parse", "--short", "HEAD"), "uncommitted_engine_files": changed}


def memory_figures(peaks: dict[str, dict]) -> list[Figure]:
    figures = []
    for function in FUNCTIONS:
        peak = peaks.get(function.name)
        processes = len(peak["processes"]) if peak else 0
        figures.append(
            Figure(
                key=f"memory_{function.name}",
                name=f"peak memory, {function.name} ({processes} processes)",
                unit="MB",
                value=peak["max_mb"] if peak else None,
                goal=Goal(max_value=MEMORY_GOAL_MB),
                details=peak or {},
            )
        )
    return figures


def prune_runs(directory: Path) -> None:
    runs = sorted(p for p in directory.glob("run-*") if p.is_dir())
    for old in runs[:-KEEP_RUN_DIRS]:
        shutil.rmtree(old, ignore_errors=True)


def run(plan: Plan, generator: str, phases: list[str], database_as_is: str | None = None) -> int:
    """The whole run; 0 when every phase measured, 1 when one failed (missed goals are reported, not failures)."""
    started_at = dt.datetime.now(dt.UTC)
    stamp = started_at.strftime("%Y%m%dT%H%M%SZ")
    root = OUT / f"run-{stamp}"
    settings = config.get_settings()
    facts = {
        "started_at": started_at.isoformat(),
        "mode": plan.name,
        "plan": dataclasses.asdict(plan),
        "machine": machine(),
        "git": git_state(),
    }
    print(f"==> make bench ({plan.describe()})", flush=True)
    print(f"    {facts['machine']['cores']} cores, {facts['machine']['memory_gib']} GiB; load average {facts['machine']['load_average']}")
    print(f"    load generator: {generator}" + ("" if generator == "wrk" else f" ({WRK_HOW_TO_GET})"), flush=True)
    figures: list[Figure] = []
    failures: dict[str, str] = {}
    cpu: dict[str, dict] = {}
    meter_all = CpuMeter()
    sampler = MemorySampler()
    event_time = (started_at - dt.timedelta(hours=1)).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    database_url = database_as_is or settings.database_url
    with open_stores(root, database_url, settings.redis_url, as_is=database_as_is is not None) as stores:
        print(f"==> {stores.describe()}; logs in {root / 'logs'}", flush=True)
        functions = Functions(stores, root / "logs", OVERRIDES)
        bench = Bench(plan, stores, functions, generator, event_time)
        try:
            functions.start()
            (root / "pids.json").write_text(json.dumps(functions.pids(), indent=2))
            bench.say(f"functions serving on ports {functions.base + 1}-{functions.base + 5}; pids in {root / 'pids.json'}")
            for name, pid in functions.pids().items():
                sampler.watch(name, pid)
            sampler.start()
            for phase in phases:
                meter = CpuMeter()
                try:
                    for figure in PHASES[phase](bench):  # figures measured before a failure are kept
                        figures.append(figure)
                except Exception as exc:
                    failures[phase] = f"{type(exc).__name__}: {exc}"
                    bench.say(f"!! {phase} failed: {failures[phase]}")
                    traceback.print_exc()
                cpu[phase] = meter.read()
                bench.say(f"   {phase}: machine {cpu[phase]['machine_cores']} cores busy, others {cpu[phase]['others_cores']}")
                dead = functions.dead()
                if dead:
                    failures[f"{phase}:processes"] = f"died during {phase}: {', '.join(dead)}"
                    bench.say(f"!! {failures[f'{phase}:processes']}")
                    break
        finally:
            sampler.stop()
            functions.stop()
    peaks = sampler.peak_mb()
    figures += memory_figures(peaks)
    facts |= {
        "finished_at": dt.datetime.now(dt.UTC).isoformat(),
        "seconds": round(time.monotonic() - bench.started, 1),
        "generator": generator,
        "stores": stores.describe(),
        "cpu": {"whole_run": meter_all.read(), "phases": cpu},
        "memory": peaks,
        "hello_memory": peaks.get(HELLO),
        "details": bench.details,
        "failures": failures,
    }
    doc = report.document(figures, facts)
    path = report.write_json(doc, OUT, started_at)
    prune_runs(OUT)
    print()
    print(report.render_table(figures))
    print()
    whole = facts["cpu"]["whole_run"]
    print(f"{report.summary_line(figures)}. {facts['seconds']:.0f} s; machine {whole['machine_cores']} cores busy on average, "
          f"{whole['others_cores']} of them by other processes.")  # fmt: skip
    for phase, why in failures.items():
        print(f"FAILED {phase}: {why}", file=sys.stderr)
    print(f"JSON: {path.relative_to(ROOT)} (and {(OUT / 'latest.json').relative_to(ROOT)})")
    return 1 if failures else 0
