"""A stack for fault tests: servers the test may stop, functions it may kill, and a ledger.

Embedded PostgreSQL and Redis (append-only file on) in a temporary directory, the four
functions started exactly as `make run` starts them (local.stack) and supervised (a killed
function comes back), and optionally the real scheduler process. The Ledger records every
event id that got a 202, so that a test can count what was lost and what was duplicated.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import redis

from engine.buffer.keys import Keys
from engine.db import migrate, postgres
from local import stack
from local.embedded import EmbeddedPostgres, EmbeddedRedis
from local.supervisor import Child, Supervisor
from tests.e2e.stack import call, clean_env, free_port_block

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
NAMESPACE = "faults"
ROLLUP_TABLES = (
    "rollup_minutes, rollup_minute_users, rollup_minute_elements, rollup_hour_actions, rollup_hour_elements, rollup_day_elements, "
    "rollup_day_action_users, rollup_day_actions, rollup_day_users, rollup_days, rollup_week_users, rollup_totals, rollup_users, rollup_elements, "
    "rollup_heatmap, rollup_user_sessions, rollup_element_users, rollup_backfill"
)


def events(count: int, **fields) -> list[dict]:
    """Events with client ids (so that every resend can be recognized)."""
    return [
        {
            "user_id": f"user_{random.randrange(200)}",
            "action": random.choice(["play", "click", "view"]),
            "element": random.choice(["video_player", "like_button", "share"]),
            "duration": random.randrange(0, 400) / 8,
            "event_id": str(uuid.uuid4()),
            **fields,
        }
        for _ in range(count)
    ]


@dataclass
class Ledger:
    """Every event id that got a 202, and every status seen."""

    acknowledged: set[str] = field(default_factory=set)
    statuses: dict[int, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, status: int, body) -> None:
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if status == 202 and isinstance(body, dict):
                self.acknowledged.update(i for i in body.get("event_ids", [body.get("event_id")]) if i)


class FaultStack:
    def __init__(self, root: Path, scheduler: bool = False, **env: str):
        self.root = root
        self.port = free_port_block()
        # The servers run as an unprivileged user when we are root, so their data cannot live under
        # pytest's own directory: another pytest session resets it to 0700 when it starts.
        (ROOT / ".local").mkdir(exist_ok=True)
        self.data = Path(tempfile.mkdtemp(prefix="faults-", dir=ROOT / ".local"))
        self.pg = EmbeddedPostgres(self.data, database="analytics", durable=False)
        self.redis = EmbeddedRedis(self.data, appendonly=True)
        self.keys = {
            "ANALYTICS_WRITE_KEY": secrets.token_urlsafe(18),
            "ANALYTICS_READ_KEY": secrets.token_urlsafe(18),
            "ANALYTICS_TASK_TOKEN": secrets.token_urlsafe(18),
        }
        self.extra_env = env
        self.with_scheduler = scheduler
        self.supervisor: Supervisor | None = None
        self.watching = threading.Event()
        self.watcher: threading.Thread | None = None

    # --- lifecycle ---

    def start(self) -> FaultStack:
        (self.root / "logs").mkdir(parents=True, exist_ok=True)
        self.database_url = self.pg.start()
        self.redis_url = self.redis.start()
        migrate.migrate(self.database_url)
        env = clean_env(
            ANALYTICS_ENV="test",
            ANALYTICS_DATABASE_URL=self.database_url,
            ANALYTICS_REDIS_URL=self.redis_url,
            ANALYTICS_REDIS_NAMESPACE=NAMESPACE,
            ANALYTICS_DRAIN_RECLAIM_IDLE_MS="1500",
            ANALYTICS_DRAIN_BUDGET_SECONDS="2",
            ANALYTICS_IO_TIMEOUT_SECONDS="3",
            ANALYTICS_DRAIN_INTERVAL_SECONDS="0.5",
            ANALYTICS_REFRESH_INTERVAL_SECONDS="5",
            # These tests flood from one address on purpose; the limiter has its own tests.
            ANALYTICS_KEY_RATE_LIMIT="0",
            ANALYTICS_IP_RATE_LIMIT="0",
            PYTHONPATH=f"{ROOT / 'functions'}{os.pathsep}{ROOT}",
            **self.keys,
            **stack.function_urls("127.0.0.1", self.port),
            **self.extra_env,
        )
        self.env = env
        children = []
        for function in stack.FUNCTIONS:
            port = self.port + function.port_offset
            child_env = {**env, **stack.function_env(function)}
            if function.name in ("stream-drain", "view-refresh"):
                child_env["THREADS"] = "4"  # room for the concurrent-invocation tests
            children.append(
                Child(
                    function.name,
                    stack.function_command(function, port),
                    child_env,
                    self.root / "logs" / f"{function.name}.log",
                    f"http://127.0.0.1:{port}/healthz",
                )
            )
        if self.with_scheduler:
            children.append(Child("scheduler", stack.scheduler_command(), env, self.root / "logs" / "scheduler.log"))
        self.supervisor = Supervisor(children, ROOT)
        self.supervisor.start()
        not_ready = self.supervisor.wait_ready(60, threading.Event())
        assert not not_ready, f"not ready: {not_ready}"
        self.watching.set()
        self.watcher = threading.Thread(target=self._watch, daemon=True)
        self.watcher.start()
        return self

    def _watch(self) -> None:
        while self.watching.is_set():
            self.supervisor.watch_once()
            time.sleep(0.1)

    def stop(self) -> None:
        self.watching.clear()
        if self.watcher is not None:
            self.watcher.join(timeout=5)
        if self.supervisor is not None:
            self.supervisor.stop_all(5)
        self.redis.stop()
        self.pg.stop()
        shutil.rmtree(self.data, ignore_errors=True)

    # --- faults ---

    def child(self, name: str) -> Child:
        return next(c for c in self.supervisor.children if c.name == name)

    def kill(self, name: str) -> int:
        """SIGKILL a function's whole process group (master and workers); the supervisor restarts it."""
        victim = self.child(name)
        pid = victim.pid
        os.killpg(pid, signal.SIGKILL)
        return pid

    @contextlib.contextmanager
    def paused(self, name: str):
        """SIGSTOP a child's process group for the block (SIGCONT after): e.g. the scheduler,
        so that its own calls cannot race a test's."""
        pid = self.child(name).pid
        os.killpg(pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.killpg(pid, signal.SIGCONT)

    def wait_lock_free(self, key: int, timeout: float = 60) -> None:
        """Until no session holds the advisory lock `key` (a run already in flight finishes)."""
        deadline = time.monotonic() + timeout
        query = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = :hi AND objid = :lo AND objsubid = 1"
        while self.sql(query, hi=key >> 32, lo=key & 0xFFFFFFFF)[0][0]:
            if time.monotonic() > deadline:
                raise AssertionError(f"advisory lock {key} still held after {timeout} s")
            time.sleep(0.1)

    def wait_serving(self, name: str, timeout: float = 30) -> None:
        victim = self.child(name)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if victim.healthy():
                return
            time.sleep(0.1)
        raise AssertionError(f"{name} not serving again within {timeout} s")

    # --- calls ---

    def url(self, name: str, path: str) -> str:
        offset = next(f.port_offset for f in stack.FUNCTIONS if f.name == name)
        return f"http://127.0.0.1:{self.port + offset}{path}"

    def send(self, events: list[dict], ledger: Ledger | None = None, timeout: float = 30):
        status, body = call(
            "POST", self.url("ingest", "/events"), {"events": events}, {"X-Write-Key": self.keys["ANALYTICS_WRITE_KEY"]}, timeout
        )
        if ledger is not None:
            ledger.record(status, body)
        return status, body

    def drain(self, timeout: float = 60):
        return call("POST", self.url("stream-drain", "/tasks/stream-drain"), None, self.task_header(), timeout)

    def refresh(self, timeout: float = 120):
        return call("POST", self.url("view-refresh", "/tasks/view-refresh"), None, self.task_header(), timeout)

    def metrics(self, timeout: float = 10):
        return call("GET", self.url("metrics", "/metrics"), None, {"Authorization": f"Bearer {self.keys['ANALYTICS_READ_KEY']}"}, timeout)

    def task_header(self) -> dict:
        return {"Authorization": f"Bearer {self.keys['ANALYTICS_TASK_TOKEN']}"}

    # --- state ---

    def redis_client(self) -> redis.Redis:
        return redis.Redis.from_url(self.redis_url, socket_timeout=5)

    def stream_keys(self) -> Keys:
        return Keys.for_namespace(NAMESPACE)

    def backlog_and_pending(self) -> tuple[int, int]:
        client, keys = self.redis_client(), self.stream_keys()
        try:
            length = client.xlen(keys.stream)
            pending = client.xpending(keys.stream, keys.group)["pending"] if client.exists(keys.stream) else 0
        except redis.ResponseError:  # no group yet
            pending = 0
        finally:
            client.close()
        return length, pending

    def drain_until_empty(self, timeout: float = 120) -> None:
        """Invoke the drain until the stream is empty and nothing is pending (reclaims included)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.backlog_and_pending() == (0, 0):
                return
            self.drain()
            time.sleep(0.2)
        raise AssertionError(f"not drained within {timeout} s: backlog, pending = {self.backlog_and_pending()}")

    def row_counts(self) -> dict[str, int]:
        conn = postgres.connect(self.database_url, application_name="faults", statement_timeout_ms=60_000, io_timeout_seconds=30)
        try:
            return {str(event_id): n for event_id, n in conn.run("SELECT event_id, count(*) FROM events GROUP BY event_id")}
        finally:
            conn.close()

    def sql(self, query: str, **params):
        conn = postgres.connect(self.database_url, application_name="faults", statement_timeout_ms=60_000, io_timeout_seconds=30)
        try:
            return conn.run(query, **params)
        finally:
            conn.close()


@dataclass
class Verdict:
    sent: int
    rows: int
    lost: int
    duplicated: int
    seconds: float


def verdict(stack_: FaultStack, ledger: Ledger, sent: int, started: float) -> Verdict:
    counts = stack_.row_counts()
    lost = len(ledger.acknowledged - counts.keys())
    duplicated = sum(1 for n in counts.values() if n > 1)
    return Verdict(sent, sum(counts.values()), lost, duplicated, round(time.monotonic() - started, 1))


def report(name: str, result: Verdict, **extra) -> None:
    """Append one line per fault test to test-artifacts/faults.jsonl (the figures of the closing note)."""
    ARTIFACTS.mkdir(exist_ok=True)
    line = {"test": name, **result.__dict__, **extra}
    with open(ARTIFACTS / "faults.jsonl", "a") as out:
        out.write(json.dumps(line) + "\n")
    print(f"\n{name}: {line}", file=sys.stderr)
