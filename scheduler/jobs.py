"""One table of jobs, each calling a function's HTTP trigger with the task token.

A failing call is logged with its status and retried on a later tick after a capped,
doubling backoff; nothing a call does can stop the scheduler.
"""

from __future__ import annotations

import dataclasses
import json
import time
import urllib.error
import urllib.request

from engine.config import Settings
from engine.logs import get_logger

log = get_logger("scheduler")

BACKOFF_BASE_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 30.0
CALL_TIMEOUT_SECONDS = 120.0


@dataclasses.dataclass(frozen=True)
class Job:
    """A scheduled call: POST url every interval seconds."""

    id: str
    url: str
    interval_seconds: float
    misfire_grace_seconds: float


def job_table(settings: Settings) -> list[Job]:
    settings.require("drain_url", "refresh_url", "task_token")
    return [
        Job("stream-drain", settings.drain_url, settings.drain_interval_seconds, misfire_grace_seconds=5),
        Job("view-refresh", settings.refresh_url, settings.refresh_interval_seconds, misfire_grace_seconds=30),
    ]


@dataclasses.dataclass
class Backoff:
    """Failures in a row, and the earliest time (monotonic) the next call may go out."""

    failures: int = 0
    not_before: float = 0.0

    def failed(self, now: float) -> float:
        self.failures += 1
        delay = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (self.failures - 1))
        self.not_before = now + delay
        return delay

    def succeeded(self) -> None:
        self.failures, self.not_before = 0, 0.0


def call(job: Job, token: str, backoff: Backoff, clock=time.monotonic) -> None:
    """One tick of a job: call its trigger unless backing off, and log one line with the answer."""
    started = clock()
    if started < backoff.not_before:
        return
    # config accepts only http(s) URLs for the task triggers.
    request = urllib.request.Request(job.url, method="POST", data=b"", headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    status, answer, error = None, None, None
    try:
        with urllib.request.urlopen(request, timeout=CALL_TIMEOUT_SECONDS) as response:  # noqa: S310 (our own http URL)
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    except (urllib.error.URLError, OSError) as exc:
        raw, error = b"", f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
    try:
        answer = json.loads(raw) if raw else None
    except ValueError:
        answer = raw[:300].decode(errors="replace")
    seconds = round(clock() - started, 4)
    if status == 200:
        backoff.succeeded()
        log.info("job ran", extra={"job": job.id, "status": status, "seconds": seconds, "answer": answer})
    else:
        delay = backoff.failed(clock())
        log.warning(
            "job failed; backing off",
            extra={"job": job.id, "status": status, "error": error, "answer": answer, "seconds": seconds, "retry_in_seconds": delay},
        )
