import http.server
import json
import logging
import threading

import pytest

from engine.config import Settings
from engine.core.errors import ConfigError
from scheduler.__main__ import build
from scheduler.jobs import BACKOFF_CAP_SECONDS, Backoff, Job, call, job_table


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


@pytest.fixture
def endpoint():
    """A real HTTP endpoint answering with the statuses queued in `answers`, recording requests."""
    answers, seen = [], []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            seen.append((self.path, self.headers.get("Authorization")))
            status = answers.pop(0) if answers else 200
            body = json.dumps({"read": 3} if status == 200 else {"error": {"code": "x"}}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/tasks/stream-drain", answers, seen
    server.shutdown()
    server.server_close()


def test_backoff_doubles_to_a_cap_and_resets():
    backoff = Backoff()
    delays = [backoff.failed(0.0) for _ in range(8)]
    assert delays == [1, 2, 4, 8, 16, BACKOFF_CAP_SECONDS, BACKOFF_CAP_SECONDS, BACKOFF_CAP_SECONDS]
    backoff.succeeded()
    assert (backoff.failures, backoff.not_before) == (0, 0.0)


def test_call_sends_the_token_and_logs_the_answer(endpoint, caplog):
    url, _, seen = endpoint
    caplog.set_level(logging.INFO, logger="scheduler")
    call(Job("stream-drain", url, 1, 5), "tok-0123456789abcdef", Backoff())
    assert seen == [("/tasks/stream-drain", "Bearer tok-0123456789abcdef")]
    [record] = caplog.records
    assert (record.msg, record.job, record.status, record.answer) == ("job ran", "stream-drain", 200, {"read": 3})


def test_failures_back_off_then_recover(endpoint, caplog):
    url, answers, seen = endpoint
    caplog.set_level(logging.INFO, logger="scheduler")
    answers.extend([500, 503])
    clock, backoff, job = FakeClock(), Backoff(), Job("stream-drain", url, 1, 5)
    call(job, "t" * 16, backoff, clock)  # 500: back off 1 s
    assert (backoff.failures, backoff.not_before) == (1, 101.0)
    call(job, "t" * 16, backoff, clock)  # still backing off: not called
    assert len(seen) == 1
    clock.now = 101.0
    call(job, "t" * 16, backoff, clock)  # 503: back off 2 s
    assert (backoff.failures, backoff.not_before) == (2, 103.0)
    clock.now = 103.0
    call(job, "t" * 16, backoff, clock)  # 200: reset
    assert (backoff.failures, len(seen)) == (0, 3)
    statuses = [(r.msg, getattr(r, "status", None)) for r in caplog.records]
    assert statuses == [("job failed; backing off", 500), ("job failed; backing off", 503), ("job ran", 200)]


def test_unreachable_trigger_is_logged_not_raised(caplog):
    backoff = Backoff()
    call(Job("view-refresh", "http://127.0.0.1:9/tasks/view-refresh", 30, 30), "t" * 16, backoff)
    assert backoff.failures == 1
    assert caplog.records[-1].error.startswith("URLError")


def test_job_table_and_scheduler_shape():
    settings = Settings(task_token="t" * 16, drain_url="http://d/tasks/stream-drain", refresh_url="http://r/tasks/view-refresh")
    assert [(j.id, j.interval_seconds) for j in job_table(settings)] == [("stream-drain", 1.0), ("view-refresh", 30.0)]
    scheduler = build(settings)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"stream-drain", "view-refresh"}
    for job in jobs.values():
        assert (job.max_instances, job.coalesce) == (1, True)
        assert job.misfire_grace_time >= 5


def test_job_table_needs_its_settings():
    with pytest.raises(ConfigError, match="ANALYTICS_DRAIN_URL, ANALYTICS_REFRESH_URL, ANALYTICS_TASK_TOKEN"):
        job_table(Settings())
