"""Events sent at the compose stack's gateway while containers are killed, and the checks that
every acknowledged event became exactly one row once the pipeline has caught up.
"""

from __future__ import annotations

import dataclasses
import http.client
import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from tests.e2e.stack import wait_for

SENDERS = 8
RETRY_SECONDS = 120  # one event keeps being resent (same id) until acknowledged, at most this long
DOWN_SECONDS = 3  # how long a killed container stays down before it is started again


@dataclasses.dataclass
class Sent:
    acknowledged: list[str]
    unacknowledged: list[str]
    seconds: float


def docker(stack, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([stack.docker, *args], capture_output=True, text=True, timeout=120)


def event(run: str, index: int) -> dict:
    return {
        "event_id": str(uuid.uuid4()),
        "user_id": f"{run}-{index % 50}",
        "action": "click",
        "element": f"button-{index % 7}",
        "duration": 1.5,
    }


def send_until_acknowledged(stack, body: dict) -> bool:
    """Resend with the same event_id until 202: a resend is never a second row."""
    deadline = time.monotonic() + RETRY_SECONDS
    while time.monotonic() < deadline:
        if stack.post_event(body) == 202:
            return True
        time.sleep(0.2)
    return False


def kill_and_restart(stack, service: str) -> None:
    """docker kill (SIGKILL, nothing flushed), then the container started again.

    Docker counts a kill as a manual stop, which no restart policy undoes, so the test starts
    it, as an operator or a platform would.
    """
    container = stack.container(service)
    assert docker(stack, "kill", container).returncode == 0
    time.sleep(DOWN_SECONDS)
    assert docker(stack, "start", container).returncode == 0


def send_with_kills(stack, run: str, count: int, kills: dict[int, str]) -> Sent:
    """Send count events from SENDERS threads; after kills' index-th acknowledgement, kill that service."""
    bodies = [event(run, i) for i in range(count)]
    acknowledged: list[str] = []
    unacknowledged: list[str] = []
    lock = threading.Lock()
    killers: list[threading.Thread] = []

    def send(body: dict) -> None:
        ok = send_until_acknowledged(stack, body)
        with lock:
            (acknowledged if ok else unacknowledged).append(body["event_id"])
            service = kills.get(len(acknowledged)) if ok else None
        if service:
            killer = threading.Thread(target=kill_and_restart, args=(stack, service))
            killer.start()
            killers.append(killer)

    started = time.monotonic()
    with ThreadPoolExecutor(SENDERS) as pool:
        list(pool.map(send, bodies))
    for killer in killers:
        killer.join()
    assert len(killers) == len(kills)
    return Sent(acknowledged, unacknowledged, time.monotonic() - started)


def send_plain(stack, run: str, count: int) -> list[str]:
    """Send count events once each; the ids acknowledged with 202."""
    bodies = [event(run, i) for i in range(count)]
    with ThreadPoolExecutor(SENDERS) as pool:
        statuses = list(pool.map(stack.post_event, bodies))
    return [b["event_id"] for b, status in zip(bodies, statuses, strict=True) if status == 202]


def wait_drained(stack, timeout: float = 180) -> None:
    """Until the stream holds nothing undrained (GET /metrics' freshness.backlog is 0)."""

    def drained():
        try:
            return stack.metrics()["freshness"]["backlog"] == 0
        except (AssertionError, OSError, KeyError, http.client.HTTPException):
            return False

    wait_for(drained, timeout=timeout, interval=1)


def project_containers(stack, running_only: bool) -> list[str]:
    args = ["ps", "-q", "--filter", f"label=com.docker.compose.project={stack.project}"]
    return docker(stack, *args, *([] if running_only else ["--all"])).stdout.split()


def project_volumes(stack) -> set[str]:
    return set(docker(stack, "volume", "ls", "-q", "--filter", f"label=com.docker.compose.project={stack.project}").stdout.split())
