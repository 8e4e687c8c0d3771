"""The processes of the stack and exactly how each is started: one table, used by the container
images (python -m runtime), by `make run` and by the benchmark, so all of them serve alike.
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
    asgi: bool = False


# Ingest and metrics answer clients: two workers each keep both cores busy (one worker's
# threads contend for the interpreter lock; with metrics at 1 x 8, 8 concurrent readers
# queued behind it). Ingest is an async function (its requests share append calls: group
# commit); its sync routes (/healthz, /internal/metrics) run in its event loop's threads.
# The task functions run one invocation at a time.
FUNCTIONS = (
    Function("ingest", "ingest", 1, workers=2, threads=4, asgi=True),
    Function("metrics", "metrics", 2, workers=2, threads=4),
    Function("stream-drain", "stream_drain", 3, workers=1, threads=4),
    Function("view-refresh", "view_refresh", 4, workers=1, threads=4),
)

GATEWAY_THREADS = 16
WORKER_CLASS = "runtime.edge.worker.EdgeWorker"
SCHEDULER = "scheduler"
GATEWAY = "gateway"
PROCESSES = (*(f.name for f in FUNCTIONS), SCHEDULER, GATEWAY)
TARGETS = {f.name: f.target for f in FUNCTIONS}


def edge_command(app: str, host: str, port: int, workers: int, python: str) -> list[str]:
    """gunicorn with uvicorn workers, as functions-framework serves an ASGI function, guarded (runtime/edge)."""
    return [
        python, "-m", "gunicorn", app,
        "--bind", f"{host}:{port}", "--workers", str(workers), "--worker-class", WORKER_CLASS,
        "--graceful-timeout", "5", "--log-level", "warning",
    ]  # fmt: skip


def function_app(function: Function, source: str = SOURCE, target: str | None = None) -> str:
    """gunicorn's application argument for a function (or another source and target served the same way).

    asgi: the target is a functions_framework.aio function, served as it is; else a Flask one,
    whose threads (runtime/edge/buffered.py) only take whole requests.
    """
    return f"runtime.edge.apps:function_app({source!r}, {target or function.target!r}, {function.threads}, {function.asgi})"


def function_command(function: Function, port: int, host: str = "127.0.0.1", python: str = sys.executable) -> list[str]:
    return edge_command(function_app(function), host, port, function.workers, python)


def function_env(function: Function) -> dict[str, str]:
    """The target's name, as functions-framework sets it before it loads the source (engine.config reads it)."""
    return {"FUNCTION_TARGET": function.target}


def scheduler_command(python: str = sys.executable) -> list[str]:
    return [python, "-m", "scheduler"]


def gateway_command(host: str, port: int, python: str = sys.executable) -> list[str]:
    return edge_command(f"runtime.edge.apps:gateway_app({GATEWAY_THREADS})", host, port, 1, python)


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
