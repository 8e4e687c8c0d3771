"""The processes of the stack and exactly how each is started: one table, used by `make run`,
by the benchmark and by the container image, so that all of them serve the functions alike.

    python -m local.stack exec ingest     # what a container of infra/Dockerfile runs
    python -m local.stack health ingest   # its compose healthcheck
    python -m local.stack print ingest    # the argv and environment exec would use, as JSON
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import socket
import sys
import urllib.error
import urllib.request
from pathlib import Path

from engine import config
from engine.core.errors import ConfigError
from engine.db import postgres

ROOT = Path(__file__).resolve().parents[1]
SOURCE = "functions/main.py"


@dataclasses.dataclass(frozen=True)
class Function:
    """A functions-framework process serving one target; workers and threads set its concurrency."""

    name: str
    target: str
    port_offset: int
    workers: int
    threads: int


# Ingest and metrics answer clients: two workers each keep both cores busy (one worker's
# threads contend for the interpreter lock; with metrics at 1 x 8, 8 concurrent readers
# queued behind it). The task functions run one invocation at a time.
FUNCTIONS = (
    Function("ingest", "ingest", 1, workers=2, threads=4),
    Function("metrics", "metrics", 2, workers=2, threads=4),
    Function("stream-drain", "stream_drain", 3, workers=1, threads=2),
    Function("view-refresh", "view_refresh", 4, workers=1, threads=2),
)

GATEWAY_THREADS = 16


def function_command(function: Function, port: int, host: str = "127.0.0.1", python: str = sys.executable) -> list[str]:
    return [python, "-m", "functions_framework", "--source", SOURCE, "--target", function.target, "--host", host, "--port", str(port)]


def function_env(function: Function) -> dict[str, str]:
    """functions-framework reads its concurrency from WORKERS and THREADS."""
    return {"WORKERS": str(function.workers), "THREADS": str(function.threads)}


def scheduler_command(python: str = sys.executable) -> list[str]:
    return [python, "-m", "scheduler"]


def gateway_command(host: str, port: int, python: str = sys.executable) -> list[str]:
    return [
        python, "-m", "gunicorn", "local.gateway:create_app()",
        "--bind", f"{host}:{port}",
        "--worker-class", "gthread", "--workers", "1", "--threads", str(GATEWAY_THREADS),
        "--graceful-timeout", "5", "--log-level", "warning",
    ]  # fmt: skip


def function_urls(host: str | None, base_port: int) -> dict[str, str]:
    """The ANALYTICS_*_URL variables that point the gateway and the scheduler at the functions.

    host None: each function is reached by its own name, as on a compose network.
    """
    base = {f.name: f"http://{host or f.name}:{base_port + f.port_offset}" for f in FUNCTIONS}
    return {
        "ANALYTICS_INGEST_URL": base["ingest"],
        "ANALYTICS_METRICS_URL": base["metrics"],
        "ANALYTICS_DRAIN_URL": f"{base['stream-drain']}/tasks/stream-drain",
        "ANALYTICS_REFRESH_URL": f"{base['view-refresh']}/tasks/view-refresh",
    }


# --- One process by name: what the container image runs and checks (python -m local.stack). ---

SCHEDULER = "scheduler"
GATEWAY = "gateway"
PROCESSES = (*(f.name for f in FUNCTIONS), SCHEDULER, GATEWAY)
HEALTH_TIMEOUT_SECONDS = 5.0
# The scheduler has no port; it is healthy while the drain it triggers keeps being recorded.
SCHEDULER_STALE_MIN_SECONDS = 60.0
LAST_DRAIN_SQL = "SELECT extract(epoch FROM now() - max(finished_at))::float8 FROM task_runs WHERE task = 'stream-drain'"


def function_named(name: str) -> Function:
    for function in FUNCTIONS:
        if function.name == name:
            return function
    raise KeyError(name)


def process_command(name: str, host: str, base_port: int, python: str = sys.executable) -> tuple[list[str], dict[str, str]]:
    """The argv and the extra environment of one process of the stack, exactly as `make run` starts it."""
    if name == SCHEDULER:
        return scheduler_command(python), {}
    if name == GATEWAY:
        return gateway_command(host, base_port, python), {}
    function = function_named(name)
    return function_command(function, base_port + function.port_offset, host, python), function_env(function)


def health_port(name: str, base_port: int) -> int | None:
    """The port whose /healthz tells whether this process is well; None for the scheduler."""
    if name == SCHEDULER:
        return None
    if name == GATEWAY:
        return base_port
    return base_port + function_named(name).port_offset


def ephemeral_ports() -> range:
    """The ports this machine gives outgoing connections (Linux's ip_local_port_range)."""
    try:
        low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    except (OSError, ValueError):
        low, high = 32768, 60999
    return range(low, high + 1)


def free_port_block(size: int) -> int:
    """A base port whose next size-1 ports are free too, outside the ephemeral range.

    A port picked by binding to 0 comes from the ephemeral range, where any outgoing
    connection (to PostgreSQL, to Redis) may take it before the server binds it.
    """
    ephemeral = ephemeral_ports()
    for _ in range(500):
        base = random.randrange(10_000, 65_000 - size)  # noqa: S311 (not a secret)
        block = range(base, base + size)
        if any(port in ephemeral for port in (block.start, block.stop - 1)):
            continue
        if all(port_free(port) for port in block):
            return base
    raise RuntimeError("no free block of ports on 127.0.0.1 outside the ephemeral range")


def port_free(port: int) -> bool:
    """True when a server could bind 127.0.0.1:port now."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def check_http(port: int) -> str | None:
    """None when GET /healthz on this machine's port answers 200, else why not."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=HEALTH_TIMEOUT_SECONDS) as answer:
            return None if answer.status == 200 else f"/healthz answered {answer.status}"
    except urllib.error.HTTPError as exc:
        return f"/healthz answered {exc.code}: {exc.read(300).decode(errors='replace')}"
    except (urllib.error.URLError, OSError) as exc:
        return f"/healthz did not answer: {getattr(exc, 'reason', exc)}"


def check_scheduler(settings: config.Settings) -> str | None:
    """None when a stream-drain run was recorded recently enough, else why not."""
    if not settings.database_url:
        return "ANALYTICS_DATABASE_URL must be set for the scheduler's health check"
    stale_after = max(SCHEDULER_STALE_MIN_SECONDS, 10 * settings.drain_interval_seconds)
    try:
        conn = postgres.connect(settings.database_url, application_name="analytics-health", statement_timeout_ms=5000, io_timeout_seconds=5)
        try:
            (age,) = conn.run(LAST_DRAIN_SQL)[0]
        finally:
            conn.close()
    except Exception as exc:  # any failure is the answer of a health check
        return f"cannot read task_runs: {postgres.server_message(exc)}"
    if age is None:
        return "no stream-drain run recorded yet"
    if age > stale_after:
        return f"the last stream-drain run finished {age:.0f} s ago (more than {stale_after:.0f} s)"
    return None


def main(argv: list[str]) -> int:
    """python -m local.stack exec|print|health NAME: run, show or check one process of the stack."""
    if len(argv) != 2 or argv[0] not in ("exec", "print", "health") or argv[1] not in PROCESSES:
        print(f"usage: python -m local.stack exec|print|health {'|'.join(PROCESSES)}", file=sys.stderr)
        return 2
    action, name = argv
    try:
        settings = config.get_settings()
    except ConfigError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 2
    if action == "health":
        port = health_port(name, settings.http_port)
        problem = check_scheduler(settings) if port is None else check_http(port)
        print(f"{name}: {problem or 'ok'}", file=sys.stderr if problem else sys.stdout)
        return 1 if problem else 0
    command, extra_env = process_command(name, settings.http_host, settings.http_port)
    if action == "print":
        print(json.dumps({"argv": command, "env": extra_env}))
        return 0
    sys.stdout.flush()
    os.execvpe(command[0], command, {**config.process_environment(), **extra_env})  # noqa: S606 (the process table's own argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
