"""Health checks of one process, as a container's healthcheck runs them (python -m runtime health NAME)."""

from __future__ import annotations

import urllib.error
import urllib.request

from engine import config
from engine.db import postgres, upkeep

HEALTH_TIMEOUT_SECONDS = 5.0
# The scheduler has no port; it is healthy while the drain it triggers keeps being recorded.
SCHEDULER_STALE_MIN_SECONDS = 60.0


def check_http(port: int) -> str | None:
    """None when GET /healthz on this machine's port answers 200, else why not."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=HEALTH_TIMEOUT_SECONDS) as answer:
            return None if answer.status == 200 else f"/healthz answered {answer.status}"
    except urllib.error.HTTPError as exc:
        return f"/healthz answered {exc.code}: {exc.read(300).decode(errors='replace')}"
    except (urllib.error.URLError, OSError) as exc:
        return f"/healthz did not answer: {getattr(exc, 'reason', exc)}"


def check_scheduler(settings: config.Settings) -> str | None:
    """None when a stream-drain run was recorded recently enough, else why not."""
    if not settings.database_url:
        return "ANALYTICS_DATABASE_URL must be set for the scheduler's health check"
    stale_after = max(SCHEDULER_STALE_MIN_SECONDS, 10 * settings.drain_interval_seconds)
    try:
        conn = postgres.connect(settings.database_url, application_name="analytics-health", statement_timeout_ms=5000, io_timeout_seconds=5)
        try:
            age = upkeep.seconds_since_last_run(conn, "stream-drain")
        finally:
            conn.close()
    except Exception as exc:  # any failure is the answer of a health check
        return f"cannot read task_runs: {postgres.server_message(exc)}"
    if age is None:
        return "no stream-drain run recorded yet"
    if age > stale_after:
        return f"the last stream-drain run finished {age:.0f} s ago (more than {stale_after:.0f} s)"
    return None
