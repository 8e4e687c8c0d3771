"""Start and stop `make run`'s stack (python -m local) for end-to-end tests."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import psutil

from local import stack as local_stack
from local.run import READY_LINE

ROOT = Path(__file__).resolve().parents[2]


def free_port_block(size: int = 5) -> int:
    """A base port whose next size-1 ports are free too (outside the ephemeral range)."""
    return local_stack.free_port_block(size)


port_free = local_stack.port_free


def clean_env(**overrides: str) -> dict[str, str]:
    """This process's environment without any ANALYTICS_* setting, plus overrides."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANALYTICS_")}
    env.update(overrides)
    return env


class RunningStack:
    def __init__(self, local_dir: Path, port: int, **env: str):
        self.local_dir, self.port = local_dir, port
        self.env = clean_env(ANALYTICS_LOCAL_DIR=str(local_dir), ANALYTICS_HTTP_PORT=str(port), **env)
        self.out_path = local_dir.parent / f"run-{port}-{time.monotonic_ns()}.out"
        self.process: subprocess.Popen | None = None
        self.ready_seconds: float | None = None

    def start(self, timeout: float = 120) -> RunningStack:
        started = time.monotonic()
        with open(self.out_path, "w") as out:  # the child keeps its own descriptor
            self.process = subprocess.Popen([sys.executable, "-m", "local"], cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if READY_LINE in self.output():
                self.ready_seconds = time.monotonic() - started
                return self
            if self.process.poll() is not None:
                raise AssertionError(f"make run exited with {self.process.returncode}:\n{self.output()}")
            time.sleep(0.1)
        raise AssertionError(f"make run not ready in {timeout} s:\n{self.output()}")

    def output(self) -> str:
        return self.out_path.read_text(errors="replace")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def database_url(self) -> str:
        """The URL of the stack's embedded PostgreSQL (its data lives under local_dir/data)."""
        from local.embedded import EmbeddedPostgres

        return EmbeddedPostgres(self.local_dir / "data", database="analytics").url

    def keys(self) -> dict:
        return json.loads((self.local_dir / "keys.json").read_text())

    def state(self) -> dict:
        return json.loads((self.local_dir / "run.json").read_text())

    def tree(self) -> list[psutil.Process]:
        """The emulator and every process below it, embedded servers included."""
        root = psutil.Process(self.process.pid)
        found = [root, *root.children(recursive=True)]
        for pid in self.state().get("servers", {}).values():
            server = psutil.Process(pid)
            found += [server, *server.children(recursive=True)]
        return found

    def interrupt(self, timeout: float = 10) -> float:
        """SIGINT, as Ctrl-C would; returns the seconds until the emulator exited."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=timeout)
        return time.monotonic() - started

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def call(method: str, url: str, body: dict | None = None, headers: dict | None = None, timeout: float = 10) -> tuple[int, dict]:
    """(status, JSON body); (0, None) when nothing answered. Always closes its connection."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    data = json.dumps(body).encode() if body is not None else None
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request(method, target, body=data, headers={"Content-Type": "application/json", **(headers or {})})
        response = connection.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw else None
    except (OSError, http.client.HTTPException):
        return 0, None  # nothing listening (yet), or no answer in time
    finally:
        connection.close()


def wait_for(predicate, timeout: float, interval: float = 0.05):
    """Poll until predicate() is truthy; returns (value, seconds waited) or raises."""
    started = time.monotonic()
    while True:
        value = predicate()
        if value:
            return value, time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)
