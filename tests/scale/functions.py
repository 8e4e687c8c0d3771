"""Function processes for the scale tier (functions-framework, as `make run` starts them) and an HTTP call
that also returns the answer's headers."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import subprocess
import time
from pathlib import Path

from local import stack
from tests.e2e.stack import clean_env

ROOT = Path(__file__).resolve().parents[2]


def call(method: str, port: int, path: str, body=None, headers: dict | None = None, timeout: float = 15) -> tuple[int, dict | None, dict]:
    """(status, JSON body, headers); (0, None, {}) when nothing answered."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = json.dumps(body).encode() if body is not None else None
        connection.request(method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})})
        response = connection.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw else None, dict(response.getheaders())
    except (OSError, http.client.HTTPException, ValueError):
        return 0, None, {}
    finally:
        connection.close()


class FunctionProcess:
    """One function served by functions-framework on its own port, in its own process group."""

    def __init__(self, name: str, port: int, env: dict[str, str], logs: Path, threads: int = 4):
        self.name, self.port = name, port
        function = stack.function_named(name)
        self.command = stack.function_command(function, port)
        self.env = clean_env(**env, WORKERS="1", THREADS=str(threads), PYTHONPATH=f"{ROOT / 'functions'}{os.pathsep}{ROOT}")
        self.log = logs / f"{name}-{port}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> FunctionProcess:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(self.command, env=self.env, cwd=ROOT, stdout=out, stderr=out, start_new_session=True)
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if call("GET", self.port, "/healthz", timeout=5)[0] == 200:
                return
            assert self.proc.poll() is None, f"{self.name} exited: {self.log.read_text()[-2000:]}"
            time.sleep(0.2)
        raise AssertionError(f"{self.name} not healthy within {timeout} s: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL the whole process group (functions-framework's master and its worker)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.kill()
