"""Checks `make run` makes before it starts anything: free ports, one instance, reachable stores."""

from __future__ import annotations

import contextlib
import json
import os
import socket
from pathlib import Path

import redis

from engine.db import postgres


class StartupError(Exception):
    """A problem the user must fix; its message is the one line we print."""


def check_ports(host: str, ports: dict[str, int]) -> None:
    for name, port in ports.items():
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError:
                base = ports["gateway"]
                raise StartupError(
                    f"port {port} ({name}) on {host} is already in use; stop what holds it "
                    f"(e.g. `lsof -i :{port}`) or choose other ports: ANALYTICS_HTTP_PORT={base + 1000} make run "
                    f"(uses {base + 1000}-{base + 1004})"
                ) from None


def claim_instance(run_file: Path) -> None:
    """Refuse to start a second `make run` on the same .local/; a stale run file is ignored."""
    if run_file.exists():
        with contextlib.suppress(ValueError, OSError, KeyError):
            pid = json.loads(run_file.read_text())["pid"]
            if pid != os.getpid() and Path(f"/proc/{pid}").exists() and "local" in Path(f"/proc/{pid}/cmdline").read_text():
                raise StartupError(f"make run is already running (pid {pid}) on {run_file.parent}; stop it first")


def check_database(url: str) -> None:
    target = postgres.parse_database_url(url)
    where = target.unix_sock or f"{target.host}:{target.port}"
    try:
        postgres.connect(url, application_name="analytics-run", statement_timeout_ms=5000, io_timeout_seconds=5).close()
    except Exception as exc:
        raise StartupError(
            f"cannot reach PostgreSQL at ANALYTICS_DATABASE_URL ({where}, database {target.database}): {postgres.server_message(exc)}. "
            "Start it, correct the URL, or unset ANALYTICS_DATABASE_URL to use an embedded server"
        ) from None


def check_redis(url: str) -> None:
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
        client.ping()
        client.close()
    except redis.RedisError as exc:
        raise StartupError(
            f"cannot reach Redis at ANALYTICS_REDIS_URL: {exc}. "
            "Start it, correct the URL, or unset ANALYTICS_REDIS_URL to use an embedded server"
        ) from None
