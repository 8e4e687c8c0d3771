"""A stack's client-facing listeners (gateway, ingest, metrics) started from the process table, and
the clients that misbehave against them: slow headers, idle keep-alive, stalled bodies."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import os
import resource
import threading
import time
from pathlib import Path

import psutil

from local import stack
from local.supervisor import Child, Supervisor
from tests.e2e.stack import free_port_block

ROOT = Path(__file__).resolve().parents[2]
LISTENERS = ("gateway", "ingest", "metrics")


def raise_descriptor_limit(needed: int) -> None:
    """This test process holds thousands of sockets: lift its soft limit of open files (to the hard one)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else needed, hard))


class EdgeStack:
    def __init__(self, root: Path, env: dict[str, str]):
        self.base = free_port_block()
        self.env = {
            **env,
            **stack.function_urls("127.0.0.1", self.base),
            "ANALYTICS_KEY_RATE_LIMIT": "0",
            "ANALYTICS_IP_RATE_LIMIT": "0",
            "PYTHONPATH": f"{ROOT / 'functions'}{os.pathsep}{ROOT}",
        }
        (root / "logs").mkdir(parents=True, exist_ok=True)
        children = [
            Child(
                "gateway",
                stack.gateway_command("127.0.0.1", self.base),
                self.env,
                root / "logs" / "gateway.log",
                self.url("gateway", "/openapi.json"),
            )
        ]
        for name in ("ingest", "metrics"):
            function = stack.function_named(name)
            command = stack.function_command(function, self.port(name))
            children.append(
                Child(
                    name,
                    command,
                    {**self.env, **stack.function_env(function)},
                    root / "logs" / f"{name}.log",
                    self.url(name, "/openapi.json"),
                )
            )
        self.supervisor = Supervisor(children, ROOT)

    def port(self, name: str) -> int:
        return self.base if name == "gateway" else self.base + stack.function_named(name).port_offset

    def url(self, name: str, path: str) -> str:
        return f"http://127.0.0.1:{self.port(name)}{path}"

    def start(self) -> EdgeStack:
        self.supervisor.start()
        not_ready = self.supervisor.wait_ready(60, threading.Event())
        if not_ready:
            self.stop()
            raise AssertionError(f"not ready: {not_ready}")
        return self

    def stop(self) -> None:
        self.supervisor.stop_all(5)

    def memory_bytes(self, name: str) -> int:
        """Resident memory of a listener's whole process tree (gunicorn's master and workers)."""
        child = next(c for c in self.supervisor.children if c.name == name)
        root = psutil.Process(child.pid)
        return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])

    def edge_counts(self, name: str, token: str) -> dict[str, float]:
        """The listener's analytics_edge_* figures from its /internal/metrics."""
        status, body = request("GET", self.port(name), "/internal/metrics", headers={"Authorization": f"Bearer {token}"})
        assert status == 200, body
        counts = {}
        for line in body.decode().splitlines():
            if line.startswith("analytics_edge_connections_open "):
                counts["open"] = float(line.split()[-1])
            elif line.startswith("analytics_edge_connections_closed_total{"):
                counts[line.split('"')[1]] = float(line.split()[-1])
        return counts


def request(method: str, port: int, path: str, body: bytes | None = None, headers: dict | None = None, timeout: float = 5):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        answer = conn.getresponse()
        return answer.status, answer.read()
    finally:
        conn.close()


class Crowd:
    """Slow and idle connections held open from one event loop in a thread of their own."""

    def __init__(self, port: int):
        self.port = port
        self.loop = asyncio.new_event_loop()
        # Writing a header line to a connection the server has just closed is the expected race.
        self.loop.set_exception_handler(
            lambda loop, context: None if isinstance(context.get("exception"), ConnectionError) else loop.default_exception_handler(context)
        )
        self.trickler: asyncio.Task | None = None
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        # Per connection: its writer, and a task reading until the server closes it (what it got).
        self.slow: list[tuple[asyncio.StreamWriter, asyncio.Task]] = []
        self.idle: list[tuple[asyncio.StreamWriter, asyncio.Task]] = []
        self.trickling = True

    def run(self, coroutine, timeout: float = 120):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    async def _open_slow(self, count: int) -> None:
        for _ in range(count):
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            writer.write(b"POST /event HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            self.slow.append((writer, self.loop.create_task(reader.read())))
        self.trickler = self.loop.create_task(self._trickle())

    async def _trickle(self) -> None:
        """One more header line on every slow connection each second, never the blank line that ends them."""
        line = 0
        while self.trickling and line < 120:
            await asyncio.sleep(1)
            line += 1
            for writer, reading in self.slow:
                if not reading.done():
                    with contextlib.suppress(ConnectionError):
                        writer.write(f"X-Slow-{line}: {line}\r\n".encode())

    async def _open_idle(self, count: int) -> None:
        for _ in range(count):
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            writer.write(b"GET /no-such-path HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(next(h.split(b":")[1] for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")))
            await reader.readexactly(length)
            self.idle.append((writer, self.loop.create_task(reader.read())))

    def open(self, slow: int, idle: int) -> None:
        self.run(self._open_slow(slow))
        self.run(self._open_idle(idle))

    def still_open(self) -> tuple[int, int]:
        """Slow and idle connections the server has not closed yet."""

        async def count():
            return sum(not t.done() for _, t in self.slow), sum(not t.done() for _, t in self.idle)

        return self.run(count())

    def wait_closed(self, timeout: float) -> tuple[list[bytes], list[bytes]]:
        """What each slow and each idle connection received before the server closed it."""

        async def ends():
            await asyncio.wait([t for _, t in self.slow + self.idle], timeout=timeout)
            return [t.result() if t.done() else None for _, t in self.slow], [t.result() if t.done() else None for _, t in self.idle]

        return self.run(ends(), timeout + 30)

    def close(self) -> None:
        self.trickling = False

        async def shut():
            if self.trickler is not None:
                self.trickler.cancel()
            for writer, reading in self.slow + self.idle:
                writer.close()
                reading.cancel()
            await asyncio.sleep(0.1)

        self.run(shut(), 30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def timed(call) -> tuple[float, object]:
    started = time.monotonic()
    result = call()
    return time.monotonic() - started, result
