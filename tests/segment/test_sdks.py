"""Segment's own SDKs, from PyPI and npm, pointed at this engine: every event lands once."""

import json
import secrets
import subprocess
import time

import pytest
from segment.analytics import Client

from tests.e2e.stack import call, wait_for
from tests.segment.conftest import NODE_DIR, LossyProxy, rows

pytestmark = pytest.mark.e2e


def settle(stack, sql, expected, **params):
    """Wait until the scheduler's drains make `sql` count `expected`."""
    value, _ = wait_for(lambda: (n := rows(stack, sql, **params)[0][0]) == expected and n, timeout=30)
    return value


def python_client(host, write_key, errors):
    return Client(write_key, host=host, upload_size=100, upload_interval=0.2, on_error=lambda e, batch: errors.append(str(e)), gzip=True)


def send_with_python(host, write_key, run):
    errors = []
    client = python_client(host, write_key, errors)
    user = f"py-{run}"
    client.identify(user, {"plan": "pro", "sdk": "python"}, anonymous_id=f"py-anon-{run}")
    client.track(user, "Video Played", {"element": "video_player", "duration": 12.5, "sdk": "python"})
    client.page(user, name="Pricing", properties={"path": "/pricing"})
    for i in range(500):
        client.track(f"{user}-{i % 10}", "Bulk Event", {"element": "bulk", "i": i})
    client.flush()
    client.shutdown()
    return errors


def check_landed(stack, prefix):
    """Every message once, with the right user, action, element and properties."""
    assert settle(stack, "SELECT count(*) FROM events WHERE user_id LIKE :p", 502, p=prefix + "%") == 502
    assert rows(stack, "SELECT count(DISTINCT envelope->>'messageId') FROM events WHERE user_id LIKE :p", p=prefix + "%") == [[502]]
    played = rows(
        stack,
        "SELECT user_id, action, element, duration, properties->>'sdk' FROM events WHERE user_id = :u AND action = 'Video Played'",
        u=prefix,
    )
    assert len(played) == 1 and played[0][1:4] == ["Video Played", "video_player", 12.5]
    assert rows(stack, "SELECT action, element FROM events WHERE user_id = :u AND action = 'page'", u=prefix) == [["page", "Pricing"]]
    bulk = rows(
        stack, "SELECT (properties->>'i')::int FROM events WHERE user_id LIKE :p AND action = 'Bulk Event' ORDER BY 1", p=prefix + "-%"
    )
    assert [i for (i,) in bulk] == list(range(500))
    settle(stack, "SELECT count(*) FROM users WHERE user_id = :u", 1, u=prefix)
    assert rows(stack, "SELECT traits->>'plan' FROM users WHERE user_id = :u", u=prefix) == [["pro"]]


def test_python_sdk(sdk_stack):
    run = secrets.token_hex(3)
    errors = send_with_python(sdk_stack.url, sdk_stack.keys()["write_key"], run)
    assert errors == []
    check_landed(sdk_stack, f"py-{run}")
    assert rows(sdk_stack, "SELECT person_id FROM identity_links WHERE alias_id = :a", a=f"py-anon-{run}") == [[f"py-{run}"]]


def test_python_sdk_retry_after_a_lost_answer_leaves_no_duplicate(sdk_stack):
    proxy = LossyProxy(sdk_stack.port, lose=1)
    try:
        run = secrets.token_hex(3)
        errors = send_with_python(proxy.url, sdk_stack.keys()["write_key"], run)
        assert proxy.batches[0] == 503 and len(proxy.batches) > 6  # one answer lost, and the SDK sent that batch again
        assert errors == []
        check_landed(sdk_stack, f"py-{run}")
    finally:
        proxy.close()


def send_with_node(node, host, write_key, run):
    result = subprocess.run([node, "send.mjs", host, write_key, run], cwd=NODE_DIR, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_node_sdk(sdk_stack, node_sdk):
    run = secrets.token_hex(3)
    outcome = send_with_node(node_sdk, sdk_stack.url, sdk_stack.keys()["write_key"], run)
    assert outcome == {"sent": 503, "errors": []}
    check_landed(sdk_stack, f"node-{run}")


def test_node_sdk_retry_after_a_lost_answer_leaves_no_duplicate(sdk_stack, node_sdk):
    proxy = LossyProxy(sdk_stack.port, lose=1)
    try:
        run = secrets.token_hex(3)
        outcome = send_with_node(node_sdk, proxy.url, sdk_stack.keys()["write_key"], run)
        assert outcome["errors"] == []
        assert proxy.batches[0] == 503 and len(proxy.batches) > 6
        check_landed(sdk_stack, f"node-{run}")
    finally:
        proxy.close()


def test_metrics_count_the_sdk_users(sdk_stack):
    time.sleep(0.1)
    status, body = call("GET", f"{sdk_stack.url}/metrics", headers={"Authorization": f"Bearer {sdk_stack.keys()['read_key']}"})
    assert status == 200 and body["active_users"] >= 11
