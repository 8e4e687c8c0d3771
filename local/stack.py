"""The processes of the stack and exactly how each is started: one table, used by `make run`,
by the benchmark and by the container image, so that all of them serve the functions alike.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

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


# Ingest is the hot path: two workers keep both cores busy (one worker's threads contend for
# the interpreter lock). The task functions run one invocation at a time.
FUNCTIONS = (
    Function("ingest", "ingest", 1, workers=2, threads=4),
    Function("metrics", "metrics", 2, workers=1, threads=8),
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


def function_urls(host: str, base_port: int) -> dict[str, str]:
    """The ANALYTICS_*_URL variables that point the gateway and the scheduler at the functions."""
    port = {f.name: base_port + f.port_offset for f in FUNCTIONS}
    return {
        "ANALYTICS_INGEST_URL": f"http://{host}:{port['ingest']}",
        "ANALYTICS_METRICS_URL": f"http://{host}:{port['metrics']}",
        "ANALYTICS_DRAIN_URL": f"http://{host}:{port['stream-drain']}/tasks/stream-drain",
        "ANALYTICS_REFRESH_URL": f"http://{host}:{port['view-refresh']}/tasks/view-refresh",
    }
