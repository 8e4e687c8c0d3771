"""`make run`: the whole stack in the foreground, as a cloud platform would run it.

Steps: check ports -> stores (embedded unless configured) -> migrations -> keys ->
functions, scheduler and gateway as separate processes -> wait until ready -> supervise
until SIGINT/SIGTERM -> stop everything within 10 s.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import shutil
import signal
import sys
import threading
import time
from pathlib import Path

from engine import config, keycli, logs
from engine.core.errors import ConfigError, EngineError
from engine.db import migrate, postgres
from local import stack
from local.embedded import EmbeddedError, EmbeddedPostgres, EmbeddedRedis
from local.keys import ensure_keys
from local.preflight import StartupError, check_database, check_ports, check_redis, claim_instance
from local.supervisor import Child, Supervisor

ROOT = stack.ROOT
READY_TIMEOUT_SECONDS = 90
CHILDREN_STOP_SECONDS = 6.0
SERVERS_STOP_SECONDS = 3.0


# The banner's last line: whoever starts the stack (tests, local.render_figure) waits for it.
READY_LINE = "Ctrl-C stops everything."


def say(line: str = "") -> None:
    print(line, flush=True)


def local_dir(settings: config.Settings) -> Path:
    return Path(settings.local_dir).resolve() if settings.local_dir else ROOT / ".local"


def register(database_url: str, secrets: dict[str, str]) -> None:
    """Record the default project's keys (hashed) so `make keys` lists them."""
    conn = postgres.connect(database_url, application_name="analytics-run", statement_timeout_ms=10_000, io_timeout_seconds=10)
    try:
        keycli.register_configured_keys(conn, secrets["ANALYTICS_WRITE_KEY"], secrets["ANALYTICS_READ_KEY"])
    finally:
        conn.close()


def is_loopback(host: str) -> bool:
    with contextlib.suppress(ValueError):
        return ipaddress.ip_address(host).is_loopback
    return host == "localhost"


class Stack:
    """Everything one `make run` started, so that all of it can be stopped."""

    def __init__(self, settings: config.Settings, stopping: threading.Event):
        self.settings = settings
        self.stopping = stopping
        self.dir = local_dir(settings)
        self.servers: list = []
        self.supervisor: Supervisor | None = None
        self.run_file = self.dir / "run.json"
        self.database_url: str | None = None

    def start_stores(self) -> tuple[str, str]:
        database_url, redis_url = self.settings.database_url, self.settings.redis_url
        data = self.dir / "data"
        if database_url is None:
            say(f"==> starting embedded PostgreSQL (data in {data / 'pgdata'})")
            server = EmbeddedPostgres(data, database="analytics", die_with_parent=True)
            self.servers.append(server)
            database_url = server.start()
        else:
            say("==> using PostgreSQL at ANALYTICS_DATABASE_URL")
            check_database(database_url)
        if redis_url is None:
            say(f"==> starting embedded Redis (append-only file in {data / 'redis'})")
            server = EmbeddedRedis(data, appendonly=True, die_with_parent=True)
            self.servers.append(server)
            redis_url = server.start()
        else:
            say("==> using Redis at ANALYTICS_REDIS_URL")
            check_redis(redis_url)
        return database_url, redis_url

    def children(self, env: dict[str, str]) -> list[Child]:
        host, base = self.settings.http_host, self.settings.http_port
        logs_dir = self.dir / "logs"
        logs_dir.mkdir(parents=True, exist_ok=True)
        for old in logs_dir.glob("*.log"):
            old.replace(old.with_suffix(".log.1"))
        result = []
        for function in stack.FUNCTIONS:
            port = base + function.port_offset
            result.append(
                Child(
                    function.name,
                    stack.function_command(function, port),
                    {**env, **stack.function_env(function)},
                    logs_dir / f"{function.name}.log",
                    health_url=f"http://127.0.0.1:{port}/healthz",
                )
            )
        result.append(Child("scheduler", stack.scheduler_command(), env, logs_dir / "scheduler.log"))
        result.append(
            Child(
                "gateway", stack.gateway_command(host, base), env, logs_dir / "gateway.log", health_url=f"http://127.0.0.1:{base}/healthz"
            )
        )
        return result

    def record(self, supervisor: Supervisor) -> None:
        """.local/run.json: this run's pid and its children's, for tools and tests."""
        state = {"pid": os.getpid(), "children": {c.name: c.pid for c in supervisor.children}}
        state["servers"] = {type(s).__name__: s.process.pid for s in self.servers if s.process}
        if "EmbeddedPostgres" in state["servers"]:
            state["database_url"] = self.database_url  # for `make key` & co. (local/keytool.py)
        # Written whole, then renamed into place: a reader (a tool, a test) polling it while a
        # restart rewrites it sees the old state or the new one, never an empty file.
        partial = self.run_file.with_suffix(".json.tmp")
        partial.write_text(json.dumps(state, indent=2))
        os.replace(partial, self.run_file)

    def start(self) -> dict[str, str]:
        started = time.monotonic()
        self.dir.mkdir(parents=True, exist_ok=True)
        claim_instance(self.run_file)
        host, base = self.settings.http_host, self.settings.http_port
        check_ports(host, {"gateway": base, **{f.name: base + f.port_offset for f in stack.FUNCTIONS}})
        database_url, redis_url = self.start_stores()
        self.database_url = database_url
        say("==> applying migrations")
        applied = migrate.migrate(database_url)
        say(f"    {len(applied)} applied" if applied else "    schema is current")
        secrets = ensure_keys(self.settings, self.dir)
        register(database_url, secrets)
        env = {
            **config.process_environment(),
            **secrets,
            **stack.function_urls("127.0.0.1", base),
            "ANALYTICS_DATABASE_URL": database_url,
            "ANALYTICS_REDIS_URL": redis_url,
            "ANALYTICS_ENV": self.settings.env,
            "PYTHONPATH": f"{ROOT / 'functions'}{os.pathsep}{ROOT}",
            "PYTHONUNBUFFERED": "1",
        }
        say("==> starting the functions, the scheduler and the gateway")
        self.supervisor = Supervisor(self.children(env), ROOT, on_change=self.record)
        # The scheduler comes last, as a cloud scheduler is set up after the deploy: its
        # first ticks would otherwise fail on functions still starting.
        self.supervisor.start({c.name for c in self.supervisor.children if c.name != "scheduler"})
        not_ready = self.supervisor.wait_ready(READY_TIMEOUT_SECONDS, self.stopping)
        if not not_ready and not self.stopping.is_set():
            self.supervisor.start({"scheduler"})
        if self.stopping.is_set():
            return secrets
        if not_ready:
            raise StartupError(f"not ready after {READY_TIMEOUT_SECONDS} s: {', '.join(not_ready)} (logs in {self.dir / 'logs'})")
        self.banner(secrets, database_url, redis_url, time.monotonic() - started)
        return secrets

    def banner(self, secrets: dict[str, str], database_url: str, redis_url: str, seconds: float) -> None:
        host, base = self.settings.http_host, self.settings.http_port
        url = f"http://{host}:{base}"
        embedded = {type(s).__name__ for s in self.servers}
        say()
        say(f"Analytics engine is up at {url}  (ready in {seconds:.1f} s)")
        say()
        say(f"  dashboard      {url}/")
        say(f"  ingest         POST {url}/event, {url}/events    (function alone on :{base + 1})")
        say(f"  metrics        GET  {url}/metrics                (function alone on :{base + 2})")
        say(f"  stream-drain   every {self.settings.drain_interval_seconds:g} s by the scheduler    (function alone on :{base + 3})")
        say(f"  view-refresh   every {self.settings.refresh_interval_seconds:g} s by the scheduler   (function alone on :{base + 4})")
        say()
        say(f"  write key      {secrets['ANALYTICS_WRITE_KEY']}   (X-Write-Key header)")
        say(f"  read key       {secrets['ANALYTICS_READ_KEY']}   (Authorization: Bearer)")
        say(f"  task token     {secrets['ANALYTICS_TASK_TOKEN']}")
        say(f"  PostgreSQL     {'embedded, ' if 'EmbeddedPostgres' in embedded else ''}{database_url}")
        say(f"  Redis          {'embedded, ' if 'EmbeddedRedis' in embedded else ''}{redis_url}")
        say(f"  logs           {self.dir / 'logs'}/*.log")
        say()
        say("Try it:")
        say(
            f"  curl -X POST {url}/event -H 'Content-Type: application/json' -H 'X-Write-Key: {secrets['ANALYTICS_WRITE_KEY']}' \\\n"
            """    -d '{"user_id": "user_123", "action": "play", "element": "video_player", "duration": 12.5}'"""
        )
        say(f"  curl {url}/metrics -H 'Authorization: Bearer {secrets['ANALYTICS_READ_KEY']}'")
        say()
        if not is_loopback(host):
            say(f"WARNING: serving on {host}, reachable from other machines, with generated development keys in {self.dir / 'keys.json'}.")
        say(READY_LINE)

    def supervise(self) -> None:
        while not self.stopping.wait(0.5):
            self.supervisor.watch_once()
            for server in self.servers:
                if server.process is not None and server.process.poll() is not None:
                    logs.get_logger("local.supervisor").warning(
                        "embedded server exited; restarting",
                        extra={"child": type(server).__name__, "exit_code": server.process.returncode},
                    )
                    server.start()
                    self.record(self.supervisor)

    def stop(self) -> None:
        started = time.monotonic()
        if self.supervisor is not None:
            self.supervisor.stop_all(CHILDREN_STOP_SECONDS)
        for server in reversed(self.servers):
            server.stop(timeout=SERVERS_STOP_SECONDS)
        self.run_file.unlink(missing_ok=True)
        say(f"==> stopped everything in {time.monotonic() - started:.1f} s")


def run() -> int:
    logs.configure()
    stopping = threading.Event()

    def on_signal(signum, frame):
        if not stopping.is_set():
            say(f"\n==> {signal.Signals(signum).name}: stopping")
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        settings = config.get_settings()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stack_ = Stack(settings, stopping)
    try:
        stack_.start()
        if not stopping.is_set():
            stack_.supervise()
    except (StartupError, EmbeddedError, EngineError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        stack_.stop()
    return 0


def reset(argv: list[str]) -> int:
    """`make reset`: delete .local/ (embedded data, keys, logs) after asking."""
    target = local_dir(config.get_settings())
    if not target.exists():
        say(f"nothing to reset: {target} does not exist")
        return 0
    run_file = target / "run.json"
    try:
        claim_instance(run_file)
    except StartupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if "--yes" not in argv:
        try:
            answer = input(f"Delete {target} (embedded PostgreSQL and Redis data, keys, logs)? [y/N] ")
        except EOFError:  # no terminal to ask: keep it, as a "no" would
            answer = ""
        if answer.strip().lower() not in ("y", "yes"):
            say(f"kept {target}")
            return 0
    shutil.rmtree(target)
    say(f"deleted {target}")
    return 0
