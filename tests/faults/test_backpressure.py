"""Backpressure instead of loss: past the backlog limit ingest answers 503 + Retry-After."""

import time

import pytest

from tests.e2e.stack import call
from tests.faults.harness import FaultStack, Ledger, events, report, verdict

pytestmark = pytest.mark.faults


def test_backlog_over_the_limit_is_503_and_recovers(tmp_path):
    stack = FaultStack(tmp_path, scheduler=False, ANALYTICS_MAX_BACKLOG="3000").start()
    try:
        started, ledger = time.monotonic(), Ledger()
        answers = [stack.send(events(400), ledger) for _ in range(10)]
        accepted = sum(body["accepted"] for status, body in answers if status == 202)
        refused = [(status, body) for status, body in answers if status != 202]
        assert accepted == 2800  # seven batches fit under 3000; the eighth would pass it
        assert {status for status, _ in refused} == {503}
        assert all(body["error"]["code"] == "backpressure" for _, body in refused)
        assert stack.backlog_and_pending() == (2800, 0)  # nothing trimmed

        status, body = stack.send(events(1))
        assert status == 202  # a small request still fits under the limit
        ledger.record(status, body)
        status, health = call("GET", stack.url("ingest", "/healthz"))
        assert (status, health["stream"]["backlog"], health["stream"]["refusing"]) == (200, 2801, None)
        status, body = stack.send(events(199), ledger)
        assert status == 202  # exactly at the limit
        status, health = call("GET", stack.url("ingest", "/healthz"))
        assert (status, health["stream"]["refusing"]) == (503, "backpressure: the drain is behind")

        stack.drain_until_empty()
        status, body = stack.send(events(400), ledger)
        assert status == 202  # recovered by itself once the drain caught up
        stack.drain_until_empty()
        outcome = verdict(stack, ledger, 4000 + 1 + 199 + 400, started)
        report("backlog over the limit: 503 then recovery", outcome, refused_requests=len(refused))
        assert (outcome.rows, outcome.lost, outcome.duplicated) == (3400, 0, 0)
    finally:
        stack.stop()


def test_retry_after_is_sent(tmp_path):
    stack = FaultStack(tmp_path, scheduler=False, ANALYTICS_MAX_BACKLOG="10").start()
    try:
        import json
        import urllib.error
        import urllib.request

        request = urllib.request.Request(
            stack.url("ingest", "/events"),
            data=json.dumps(events(11)).encode(),
            method="POST",
            headers={"Content-Type": "application/json", "X-Write-Key": stack.keys["ANALYTICS_WRITE_KEY"]},
        )
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=10)
        with caught.value as refused:
            assert refused.code == 503
            assert refused.headers["Retry-After"] == "5"
            assert json.loads(refused.read())["error"]["code"] == "backpressure"
        assert stack.backlog_and_pending() == (0, 0)
    finally:
        stack.stop()
