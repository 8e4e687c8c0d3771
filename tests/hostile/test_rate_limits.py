"""Rate limits: a flooding key or address gets 429 + Retry-After, and slows no one else."""

import threading
import time

import pytest

from engine.db import postgres
from engine.keycli import create_project_keys
from tests.e2e.stack import RunningStack, free_port_block
from tests.hostile.conftest import function_port, stack_database_url
from tests.hostile.requests import send

pytestmark = pytest.mark.integration
EVENTS_10 = b"[" + b",".join([b'{"user_id": "u", "action": "play"}'] * 10) + b"]"


def limited_stack(tmp_path, **env):
    stack = RunningStack(tmp_path / "local", free_port_block(), **env).start()
    conn = postgres.connect(stack_database_url(stack), application_name="tests", statement_timeout_ms=10_000, io_timeout_seconds=10)
    try:
        _, other = create_project_keys(conn, "second")
    finally:
        conn.close()
    stack.other_write = other["write"]
    return stack


def flood(port, headers, per_second, seconds, results):
    """Send batches of 10 at per_second events/s for `seconds`; record (status, headers) per request."""
    interval = 10 / per_second
    started = time.monotonic()
    n = 0
    while time.monotonic() - started < seconds:
        status, answer, response_headers, _ = send(port, "POST", "/events", headers, EVENTS_10)
        results.append((status, answer, response_headers))
        n += 1
        time.sleep(max(0.0, started + n * interval - time.monotonic()))


def accepted(results) -> int:
    return sum(answer["accepted"] for status, answer, _ in results if status == 202)


def test_one_keys_flood_is_limited_and_another_key_is_not_slowed(tmp_path):
    stack = limited_stack(tmp_path, ANALYTICS_KEY_RATE_LIMIT="100", ANALYTICS_IP_RATE_LIMIT="0")
    try:
        port = function_port(stack, "ingest")
        flooding, calm = [], []
        json_type = {"Content-Type": "application/json"}
        a = threading.Thread(target=flood, args=(port, {**json_type, "X-Write-Key": stack.keys()["write_key"]}, 300, 10, flooding))
        b = threading.Thread(target=flood, args=(port, {**json_type, "X-Write-Key": stack.other_write}, 50, 10, calm))
        started = time.monotonic()
        a.start(), b.start()
        a.join(), b.join()
        elapsed = time.monotonic() - started
        limit = 100 * elapsed + 200  # the rate over the run, plus one burst (2 s worth)
        print(f"\nflooding key: sent {10 * len(flooding)}, accepted {accepted(flooding)} (limit {limit:.0f})")
        print(f"calm key: accepted {accepted(calm)} of {10 * len(calm)}")
        assert accepted(flooding) <= limit
        assert accepted(flooding) >= 0.8 * 100 * elapsed  # the limiter is not stricter than it says
        refused = [(answer, headers) for status, answer, headers in flooding if status == 429]
        assert refused and all(a["error"]["code"] == "rate_limited" and int(h["Retry-After"]) >= 1 for a, h in refused)
        assert {status for status, _, _ in calm} == {202}
        assert accepted(calm) == 10 * len(calm)
    finally:
        stack.stop()


def test_one_addresss_flood_is_limited_and_another_address_is_not(tmp_path):
    stack = limited_stack(tmp_path, ANALYTICS_KEY_RATE_LIMIT="0", ANALYTICS_IP_RATE_LIMIT="100")
    try:
        port = function_port(stack, "ingest")
        key = {"Content-Type": "application/json", "X-Write-Key": stack.keys()["write_key"]}
        flooding, calm = [], []
        a = threading.Thread(target=flood, args=(port, {**key, "X-Forwarded-For": "203.0.113.7"}, 300, 5, flooding))
        b = threading.Thread(target=flood, args=(port, {**key, "X-Forwarded-For": "198.51.100.9"}, 50, 5, calm))
        a.start(), b.start()
        a.join(), b.join()
        assert any(status == 429 for status, _, _ in flooding)
        assert {status for status, _, _ in calm} == {202}
    finally:
        stack.stop()


def test_a_request_larger_than_the_burst_is_413(tmp_path):
    stack = RunningStack(tmp_path / "local", free_port_block(), ANALYTICS_KEY_RATE_LIMIT="5").start()
    try:
        headers = {"Content-Type": "application/json", "X-Write-Key": stack.keys()["write_key"]}
        status, answer, _, _ = send(function_port(stack, "ingest"), "POST", "/events", headers, EVENTS_10)
        assert (status, answer["accepted"]) == (202, 10)  # a whole burst (5 events/s x 2 s) at once is fine
        eleven = b"[" + b",".join([b'{"user_id": "u", "action": "play"}'] * 11) + b"]"
        status, answer, _, _ = send(function_port(stack, "ingest"), "POST", "/events", headers, eleven)
        assert (status, answer["error"]["code"], answer["error"]["details"]) == (413, "payload_too_large", {"limit_events": 10})
    finally:
        stack.stop()
