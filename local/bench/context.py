"""What every measurement needs: the plan, the stores, the functions, the generator, and a voice."""

from __future__ import annotations

import dataclasses
import time

import redis

from engine.buffer.keys import Keys
from engine.db import postgres
from local.bench.drive import run_load
from local.bench.load import Load, LoadResult
from local.bench.plan import Plan
from local.bench.processes import Functions
from local.bench.stores import Stores


@dataclasses.dataclass
class Bench:
    plan: Plan
    stores: Stores
    functions: Functions
    generator: str
    event_time: str  # the write loads' events happened at this time: before any window the freshness figure reads
    started: float = dataclasses.field(default_factory=time.monotonic)
    details: dict = dataclasses.field(default_factory=dict)

    def say(self, line: str) -> None:
        print(f"[{time.monotonic() - self.started:6.1f} s] {line}", flush=True)

    def load(self, load: Load) -> LoadResult:
        return run_load(load, self.generator)

    def write_headers(self) -> tuple[tuple[str, str], ...]:
        return (("Content-Type", "application/json"), ("X-Write-Key", self.functions.keys["ANALYTICS_WRITE_KEY"]))

    def read_headers(self) -> tuple[tuple[str, str], ...]:
        return (("Authorization", f"Bearer {self.functions.keys['ANALYTICS_READ_KEY']}"),)

    def task_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.functions.keys['ANALYTICS_TASK_TOKEN']}"}

    def redis(self) -> redis.Redis:
        """A client configured like the functions' own (engine.clients): RESP2, hiredis when installed."""
        return redis.Redis.from_url(self.stores.redis_url, socket_timeout=60, protocol=2)

    def keys(self) -> Keys:
        return Keys.for_namespace(self.stores.namespace)

    def connect(self, timeout_ms: int = 3_600_000):
        return postgres.connect(
            self.stores.database_url, application_name="analytics-bench", statement_timeout_ms=timeout_ms, io_timeout_seconds=60
        )
