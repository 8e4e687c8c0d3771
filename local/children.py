"""Child processes of the local servers: started as another user when root, stopped by pid, their logs' tails."""

from __future__ import annotations

import os
import pwd
import signal
import subprocess
import time
from pathlib import Path

# PostgreSQL refuses to run as root: as root, the servers run as this system user.
SYSTEM_USER = "embedded_postgres"


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def stop_pid(pid: int, sig: int, timeout: float) -> None:
    """Signal a process and wait for it to go; SIGKILL it if it outlives the timeout."""
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    while pid_alive(pid) and time.monotonic() < deadline + 5:
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


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def run_as_user() -> dict:
    """Popen arguments that drop root: PostgreSQL refuses to run as root."""
    if os.geteuid() != 0:
        return {}
    try:
        entry = pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SYSTEM_USER], check=True, capture_output=True
        )
        entry = pwd.getpwnam(SYSTEM_USER)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def parent_death_hook(enabled: bool):
    """A preexec_fn that makes the server get SIGTERM when its parent dies (or None)."""
    if not enabled:
        return None
    from local.supervisor import die_with_parent

    return die_with_parent


def make_traversable(path: Path) -> None:
    """Let the unprivileged server user reach path (a+x on each parent) when we are root."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)
