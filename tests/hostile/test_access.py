"""Every route x every kind of credential: only the allowed cells succeed."""

import pytest

from tests.e2e.stack import call, wait_for
from tests.hostile.conftest import events_in_db, function_port
from tests.hostile.requests import send

pytestmark = pytest.mark.integration

EVENT = {"user_id": "isolation-check", "action": "play", "element": "secret_feature"}
ROUTES = [
    ("ingest", "POST", "/event", "write"),
    ("ingest", "POST", "/events", "write"),
    ("metrics", "GET", "/metrics", "read"),
    ("metrics", "GET", "/metrics/per-minute", "read"),
    ("metrics", "GET", "/metrics/elements", "read"),
    ("metrics", "GET", "/metrics/heatmap", "read"),
    ("metrics", "GET", "/metrics/users", "read"),
    ("stream-drain", "POST", "/tasks/stream-drain", "task"),
    ("view-refresh", "POST", "/tasks/view-refresh", "task"),
    ("ingest", "GET", "/internal/metrics", "task"),
    ("metrics", "GET", "/internal/metrics", "task"),
    ("stream-drain", "GET", "/internal/metrics", "task"),
    ("view-refresh", "GET", "/internal/metrics", "task"),
]
CREDENTIALS = ["none", "wrong", "write", "other_write", "read", "other_read", "task"]


def headers_for(credential: str, creds: dict) -> dict:
    if credential == "none":
        return {}
    if credential == "wrong":
        return {"X-Write-Key": "wrong-key-wrong-key", "Authorization": "Bearer wrong-key-wrong-key"}
    value = creds[credential]
    return {"X-Write-Key": value} if credential.endswith("write") else {"Authorization": f"Bearer {value}"}


def allowed(needs: str, credential: str) -> bool:
    if needs == "write":
        return credential in ("write", "other_write")
    if needs == "read":
        return credential in ("read", "other_read")
    return credential == "task"


@pytest.mark.parametrize(("target", "method", "path", "needs"), ROUTES)
def test_only_the_allowed_cells_succeed(hostile, target, method, path, needs):
    body = b'{"user_id": "u", "action": "play"}' if path == "/event" else b'[{"user_id": "u", "action": "play"}]'
    results = {}
    for credential in CREDENTIALS:
        headers = {**headers_for(credential, hostile.credentials), "Content-Type": "application/json"}
        # The function alone, and through the gateway (which does not route /internal/...).
        ports = (function_port(hostile, target),) if path.startswith("/internal/") else (function_port(hostile, target), hostile.port)
        for port in ports:
            status, answer, _, _ = send(port, method, path, headers, body if method == "POST" else None)
            results[(credential, port)] = status
            if allowed(needs, credential):
                assert status in (200, 202), (credential, port, status, answer)
            else:
                assert (status, answer["error"]["code"]) == (401, "unauthorized"), (credential, port, status, answer)
    assert sum(1 for status in results.values() if status in (200, 202)) == len(ports) * sum(allowed(needs, c) for c in CREDENTIALS)


def test_metrics_are_scoped_to_the_read_keys_project(hostile):
    creds = hostile.credentials
    status, _, _, _ = send(
        function_port(hostile, "ingest"),
        "POST",
        "/event",
        {"X-Write-Key": creds["other_write"], "Content-Type": "application/json"},
        str(EVENT).replace("'", '"').encode(),
    )
    assert status == 202
    task = {"Authorization": f"Bearer {creds['task']}"}
    wait_for(lambda: events_in_db(hostile, "element = 'secret_feature'") == 1, timeout=15)
    assert call("POST", f"{hostile.url}/tasks/stream-drain", headers=task)[0] == 200
    _, mine = call("GET", f"{hostile.url}/metrics", headers={"Authorization": f"Bearer {creds['read']}"})
    _, theirs = call("GET", f"{hostile.url}/metrics", headers={"Authorization": f"Bearer {creds['other_read']}"})
    assert "secret_feature" not in [e["element"] for e in mine["top_elements"]]
    assert [e["element"] for e in theirs["top_elements"]] == ["secret_feature"]
    assert events_in_db(hostile, "element = 'secret_feature' AND project_id <> 1") == 1
