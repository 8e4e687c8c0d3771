"""Run child processes like a function platform: start, wait until ready, restart what dies,
stop everything on the way out.

Each child runs in its own session (so the terminal's Ctrl-C reaches only the supervisor,
which then stops the children in order) and gets SIGTERM if the supervisor itself dies, so a
killed `make run` leaves no orphan behind.
"""

from __future__ import annotations

import ctypes
import dataclasses
import http.client
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from engine.logs import get_logger

log = get_logger("local.supervisor")

QUICK_EXIT_SECONDS = 10.0
MAX_RESTART_DELAY_SECONDS = 30.0
PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """preexec_fn: have the kernel send SIGTERM to this child when its parent dies (Linux)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclasses.dataclass
class Child:
    """One supervised process and how to start it again."""

    name: str
    command: list[str]
    env: dict[str, str]
    log_path: Path
    health_url: str | None = None
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    restarts: int = 0
    quick_exits: int = 0
    restart_at: float | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self, cwd: Path) -> None:
        with open(self.log_path, "ab") as out:
            self.process = subprocess.Popen(
                self.command,
                cwd=cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
        self.started_at = time.monotonic()
        self.restart_at = None

    def healthy(self) -> bool:
        if self.process is None or self.process.poll() is not None:
            return False
        if self.health_url is None:
            return True
        return probe(self.health_url, timeout=2) == 200

    def signal_group(self, sig: int) -> None:
        if self.process is not None:
            try:
                os.killpg(self.process.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass


def probe(url: str, timeout: float) -> int | None:
    """GET url; its status, or None when nothing answered in time.

    http.client with an explicit close: urlopen leaks its socket when the answer times out.
    """
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
    try:
        connection.request("GET", parts.path or "/")
        response = connection.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


def tail(path: Path, lines: int = 8) -> list[str]:
    try:
        return path.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return []


class Supervisor:
    def __init__(self, children: list[Child], cwd: Path, on_change=None):
        self.children = children
        self.cwd = cwd
        self.on_change = on_change or (lambda supervisor: None)

    def start(self, names: set[str] | None = None) -> None:
        """Start the named children (all when names is None)."""
        for child in self.children:
            if names is None or child.name in names:
                child.start(self.cwd)
        self.on_change(self)

    def wait_ready(self, timeout: float, stopping) -> list[str]:
        """Wait until every started child answers its health check; returns those not ready."""
        deadline = time.monotonic() + timeout
        pending = [child for child in self.children if child.process is not None]
        while pending and time.monotonic() < deadline and not stopping.is_set():
            for child in list(pending):
                if child.process.poll() is not None:
                    return [f"{child.name} exited with {child.process.returncode}: " + " | ".join(tail(child.log_path, 4))]
                if child.healthy():
                    pending.remove(child)
            time.sleep(0.1)
        return [child.name for child in pending]

    def watch_once(self) -> None:
        """Restart any child that died; a child that keeps dying quickly waits longer each time."""
        now = time.monotonic()
        for child in self.children:
            if child.process is None or child.process.poll() is None:
                continue
            if child.restart_at is None:
                ran = now - child.started_at
                child.quick_exits = child.quick_exits + 1 if ran < QUICK_EXIT_SECONDS else 0
                delay = 0.0 if child.quick_exits <= 1 else min(MAX_RESTART_DELAY_SECONDS, 2.0 ** (child.quick_exits - 1))
                child.restart_at = now + delay
                log.warning(
                    "process exited; restarting",
                    extra={
                        "child": child.name,
                        "exit_code": child.process.returncode,
                        "ran_seconds": round(ran, 1),
                        "restart_in_seconds": delay,
                        "log": str(child.log_path),
                        "log_tail": tail(child.log_path, 3),
                    },
                )
            if now >= child.restart_at:
                # Workers of a killed gunicorn master may linger, holding its port.
                child.signal_group(signal.SIGKILL)
                child.restarts += 1
                child.start(self.cwd)
                log.warning("process restarted", extra={"child": child.name, "pid": child.pid, "restarts": child.restarts})
                self.on_change(self)

    def stop_all(self, timeout: float) -> None:
        """SIGTERM every child's process group at once; SIGKILL what is left at the timeout."""
        for child in self.children:
            child.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for child in self.children:
            if child.process is None:
                continue
            try:
                child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("process did not stop in time; killing it", extra={"child": child.name})
        for child in self.children:
            # Also reaps gunicorn workers that outlived their master.
            child.signal_group(signal.SIGKILL)
            if child.process is not None and child.process.poll() is None:
                child.process.wait(timeout=5)
