"""A Redis Cluster of real servers on loopback for the scale tier: masters, one replica each.

Started from /usr/bin/redis-server with --cluster-enabled, joined by `redis-cli --cluster create`;
every server is stopped by stop(), whatever happened before.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import redis

NODE_TIMEOUT_MS = 1500  # how long a silent master has before its replica takes over


class RedisClusterServers:
    """2 × masters servers on base_port…, their cluster bus on the next 2 × masters ports."""

    def __init__(self, root: Path, base_port: int, masters: int = 3):
        self.root, self.ports = root, [base_port + i for i in range(2 * masters)]
        self.procs: dict[int, subprocess.Popen] = {}

    def start(self, timeout: float = 60) -> RedisClusterServers:
        server, cli = shutil.which("redis-server") or "/usr/bin/redis-server", shutil.which("redis-cli") or "/usr/bin/redis-cli"
        for port in self.ports:
            data = self.root / f"redis-{port}"
            data.mkdir(parents=True, exist_ok=True)
            self.procs[port] = subprocess.Popen(
                [server, "--port", str(port), "--cluster-port", str(port + len(self.ports)), "--bind", "127.0.0.1", "--dir", str(data), "--cluster-enabled", "yes",
                 "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", str(NODE_TIMEOUT_MS),
                 "--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--logfile", str(data / "log")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
        self._until(lambda: all(self._ping(p) for p in self.ports), timeout, "servers answering")
        subprocess.run(
            [cli, "--cluster", "create", *(f"127.0.0.1:{p}" for p in self.ports), "--cluster-replicas", "1", "--cluster-yes"],
            check=True, capture_output=True, timeout=timeout,
        )  # fmt: skip
        self._until(self.healthy, timeout, "cluster ok, every master with its replica")
        return self

    def healthy(self) -> bool:
        """Every live server sees cluster_state ok, and every master has a connected replica."""
        if not self.healthy_state():
            return False
        for port in self.live():
            with self.client(port) as client:
                info = client.info("replication")
                if info["role"] == "master" and info["connected_slaves"] < 1:
                    return False
        return True

    def healthy_state(self) -> bool:
        """Every live server sees cluster_state ok (a master may lack its replica)."""
        for port in self.live():
            with self.client(port) as client:
                if client.cluster("info").get("cluster_state") != "ok":
                    return False
        return True

    def live(self) -> list[int]:
        return [p for p, proc in self.procs.items() if proc.poll() is None]

    def master_of(self, key: str) -> int:
        """The port of the master serving key's slot now."""
        with self.client(self.live()[0]) as client:
            slot = client.cluster("keyslot", key)
            for start, end, master, *_ in client.cluster("slots"):
                if start <= slot <= end:
                    return int(master[1])
        raise AssertionError(f"no master serves {key}")

    def kill(self, port: int) -> None:
        self.procs[port].send_signal(signal.SIGKILL)
        self.procs[port].wait(10)

    def nodes(self) -> str:
        return ",".join(f"127.0.0.1:{p}" for p in self.ports)

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)

    @staticmethod
    def client(port: int) -> redis.Redis:
        return redis.Redis(port=port, socket_timeout=2, decode_responses=True)

    def _ping(self, port: int) -> bool:
        with contextlib.suppress(redis.RedisError), self.client(port) as client:
            return bool(client.ping())
        return False

    @staticmethod
    def _until(predicate, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(redis.RedisError):
                if predicate():
                    return
            time.sleep(0.2)
        raise AssertionError(f"not reached within {timeout} s: {what}")


def kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
