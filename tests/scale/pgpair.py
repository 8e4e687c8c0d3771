"""A PostgreSQL 15 primary and a streaming replica made with pg_basebackup, on loopback TCP ports.

The servers run as an unprivileged user (PostgreSQL refuses root: local/children.run_as_user),
from the machine's /usr/lib/postgresql/15/bin; stop() stops both, whatever happened before.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pg8000.native

from local.children import run_as_user

BIN = Path("/usr/lib/postgresql/15/bin")


class PrimaryAndReplica:
    def __init__(self, base_port: int, database: str = "analytics"):
        self.ports = {"primary": base_port, "replica": base_port + 1}
        self.database = database
        self.user = run_as_user()
        self.root = Path(tempfile.mkdtemp(prefix="analytics-pgpair-"))
        self.started: list[str] = []

    def url(self, which: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.ports[which]}/{self.database}"

    def _run(self, *args: str, timeout: float = 120) -> None:
        result = subprocess.run([*args], capture_output=True, text=True, timeout=timeout, **self.user)
        assert result.returncode == 0, f"{args[0]} failed: {result.stderr[-1500:]}"

    def _start(self, which: str) -> None:
        port, data = self.ports[which], self.root / which
        options = f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={self.root} -c fsync=off -c max_connections=50"
        self._run(str(BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(self.root / f"{which}.log"), "-w", "-t", "60", "start")
        self.started.append(which)

    def start(self) -> PrimaryAndReplica:
        if self.user:
            os.chown(self.root, self.user["user"], self.user["group"])
        primary = self.root / "primary"
        self._run(str(BIN / "initdb"), "-D", str(primary), "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C")
        with (primary / "pg_hba.conf").open("a") as hba:
            hba.write("host replication all 127.0.0.1/32 trust\n")
        self._start("primary")
        with contextlib.closing(self.connect("primary", "postgres")) as conn:
            conn.run(f'CREATE DATABASE "{self.database}"')
        port = str(self.ports["primary"])
        self._run(
            str(BIN / "pg_basebackup"),
            "-h",
            "127.0.0.1",
            "-p",
            port,
            "-U",
            "postgres",
            "-D",
            str(self.root / "replica"),
            "-R",
            "-X",
            "stream",
        )
        self._start("replica")
        return self

    def connect(self, which: str, database: str | None = None) -> pg8000.native.Connection:
        return pg8000.native.Connection(
            "postgres", host="127.0.0.1", port=self.ports[which], database=database or self.database, timeout=30
        )

    def wait_replayed(self, timeout: float = 30) -> None:
        """Until the replica has replayed everything the primary has written so far."""
        with contextlib.closing(self.connect("primary")) as primary, contextlib.closing(self.connect("replica")) as replica:
            target = primary.run("SELECT pg_current_wal_lsn()::text")[0][0]
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if replica.run("SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), :t::pg_lsn) >= 0", t=target)[0][0]:
                    return
                time.sleep(0.1)
        raise AssertionError(f"the replica did not replay up to {target} within {timeout} s")

    def stop(self) -> None:
        for which in reversed(self.started):
            with contextlib.suppress(subprocess.SubprocessError, AssertionError):
                self._run(str(BIN / "pg_ctl"), "-D", str(self.root / which), "-m", "immediate", "-w", "-t", "30", "stop", timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)
