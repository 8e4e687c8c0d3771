"""The functions under measurement, started from local.stack's table exactly as `make run` starts them.

Also the hello-world floor, served by the same command with ingest's WORKERS and THREADS, and
the scheduler, started only while a figure needs it. Nothing restarts a process that dies
during a run: a death is a failed run, reported, not papered over.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
from pathlib import Path

from engine import config
from local import stack
from local.bench.stores import Stores
from local.supervisor import Child, Supervisor

ROOT = stack.ROOT
HELLO = "hello"
HELLO_SOURCE = "local/bench/hello.py"
HELLO_PORT_OFFSET = 5
READY_SECONDS = 90


def served_like(function: stack.Function, port: int, source: str, target: str) -> list[str]:
    """function's own command line, serving another source and target: the same server, the same flags."""
    return stack.edge_command(stack.function_app(function, source, target), "127.0.0.1", port, function.workers, sys.executable)


def bench_environment(stores: Stores, keys: dict[str, str], base_port: int, overrides: dict[str, str]) -> dict[str, str]:
    """The functions' environment: this process's, with the run's stores, keys and ports.

    ANALYTICS_* tunables set by the caller pass through (so that `ANALYTICS_DRAIN_BATCH_SIZE=5000
    make bench` measures that setting); the stores, keys and limits are the run's own.
    """
    env = config.process_environment()
    for name in ("ANALYTICS_LOCAL_DIR", "ANALYTICS_HTTP_PORT", "ANALYTICS_HTTP_HOST"):
        env.pop(name, None)
    env.update(
        {
            "ANALYTICS_DATABASE_URL": stores.database_url,
            "ANALYTICS_REDIS_URL": stores.redis_url,
            "ANALYTICS_REDIS_NAMESPACE": stores.namespace,
            **keys,
            **stack.function_urls("127.0.0.1", base_port),
            "PYTHONPATH": f"{ROOT / 'functions'}{os.pathsep}{ROOT}",
            "PYTHONUNBUFFERED": "1",
            **overrides,
        }
    )
    return env


def new_keys() -> dict[str, str]:
    return {name: secrets.token_urlsafe(24) for name in ("ANALYTICS_WRITE_KEY", "ANALYTICS_READ_KEY", "ANALYTICS_TASK_TOKEN")}


class Functions:
    """The four functions, the hello floor and (on demand) the scheduler, each in its own process group."""

    def __init__(self, stores: Stores, logs: Path, overrides: dict[str, str]):
        self.base = stack.free_port_block(HELLO_PORT_OFFSET + 1)
        self.keys = new_keys()
        self.env = bench_environment(stores, self.keys, self.base, overrides)
        self.settings = config.load_settings(self.env)
        self.logs = logs
        logs.mkdir(parents=True, exist_ok=True)
        children = []
        for function in stack.FUNCTIONS:
            port = self.base + function.port_offset
            children.append(
                Child(
                    function.name,
                    stack.function_command(function, port),
                    {**self.env, **stack.function_env(function)},
                    logs / f"{function.name}.log",
                    f"http://127.0.0.1:{port}/healthz",
                )
            )
        ingest = stack.function_named("ingest")
        hello_port = self.base + HELLO_PORT_OFFSET
        children.append(
            Child(
                HELLO,
                served_like(ingest, hello_port, HELLO_SOURCE, "hello"),
                {**self.env, **stack.function_env(ingest)},
                logs / "hello.log",
                f"http://127.0.0.1:{hello_port}/",
            )
        )
        children.append(Child(stack.SCHEDULER, stack.scheduler_command(), self.env, logs / "scheduler.log"))
        self.supervisor = Supervisor(children, ROOT)

    def start(self) -> None:
        names = {c.name for c in self.supervisor.children if c.name != stack.SCHEDULER}
        self.supervisor.start(names)
        not_ready = self.supervisor.wait_ready(READY_SECONDS, threading.Event())
        if not_ready:
            raise RuntimeError(f"not ready after {READY_SECONDS} s: {', '.join(not_ready)}")

    def child(self, name: str) -> Child:
        return next(c for c in self.supervisor.children if c.name == name)

    def pids(self) -> dict[str, int]:
        return {c.name: c.pid for c in self.supervisor.children if c.process is not None and c.process.poll() is None}

    def port(self, name: str) -> int:
        if name == HELLO:
            return self.base + HELLO_PORT_OFFSET
        return self.base + stack.function_named(name).port_offset

    def url(self, name: str, path: str) -> str:
        return f"http://127.0.0.1:{self.port(name)}{path}"

    def start_scheduler(self) -> None:
        self.supervisor.start({stack.SCHEDULER})

    def stop_scheduler(self) -> None:
        scheduler = self.child(stack.SCHEDULER)
        scheduler.signal_group(signal.SIGTERM)
        try:
            scheduler.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            scheduler.signal_group(signal.SIGKILL)
            scheduler.process.wait(timeout=5)
        scheduler.process = None

    def dead(self) -> list[str]:
        """Functions that were started and are no longer running (each one invalidates the run)."""
        return [
            f"{c.name} (exit {c.process.returncode})"
            for c in self.supervisor.children
            if c.name != stack.SCHEDULER and c.process is not None and c.process.poll() is not None
        ]

    def stop(self) -> None:
        self.supervisor.stop_all(10)
