"""DELETE /people/{user_id} on a running `make run` stack, on the metrics port and through the
gateway, with every kind of credential: only an admin key erases, and only in its own project."""

import datetime as dt
import time

import pytest

from engine import keycli
from engine.db import postgres
from tests.hostile.conftest import events_in_db, function_port, stack_database_url
from tests.hostile.requests import send

pytestmark = pytest.mark.integration

PERSON = "erasure-check"


def admin_keys(stack) -> dict[str, str]:
    conn = postgres.connect(stack_database_url(stack), application_name="tests", statement_timeout_ms=10_000, io_timeout_seconds=10)
    try:
        other = conn.run("SELECT id FROM projects WHERE name = 'other'")[0][0]
        now = dt.datetime.now(dt.UTC)
        return {
            "admin": keycli.rotate_key(conn, 1, "admin", dt.timedelta(0), now),
            "other_admin": keycli.rotate_key(conn, other, "admin", dt.timedelta(0), now),
        }
    finally:
        conn.close()


def test_only_an_admin_key_of_the_project_erases_its_person(hostile):
    creds = {**hostile.credentials, **admin_keys(hostile)}
    status, _, _, _ = send(hostile.port, "POST", "/event", {"X-Write-Key": creds["write"], "Content-Type": "application/json"},
                           f'{{"user_id": "{PERSON}", "action": "play"}}'.encode())  # fmt: skip
    assert status == 202
    deadline = time.monotonic() + 30
    while events_in_db(hostile, f"user_id = '{PERSON}'") == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert events_in_db(hostile, f"user_id = '{PERSON}'") == 1
    cells = {
        "none": ({}, 401),
        "wrong": ({"Authorization": "Bearer ak_wrong-key-wrong-key"}, 401),
        "write as X-Write-Key": ({"X-Write-Key": creds["write"]}, 401),
        "task": ({"Authorization": f"Bearer {creds['task']}"}, 401),
        "write": ({"Authorization": f"Bearer {creds['write']}"}, 403),
        "read": ({"Authorization": f"Bearer {creds['read']}"}, 403),
        "other_read": ({"Authorization": f"Bearer {creds['other_read']}"}, 403),
        "other_admin": ({"Authorization": f"Bearer {creds['other_admin']}"}, 200),
    }
    for port in (function_port(hostile, "metrics"), hostile.port):
        for name, (headers, expected) in cells.items():
            status, answer, _, _ = send(port, "DELETE", f"/people/{PERSON}", headers, None)
            assert status == expected, (name, port, answer)
            if expected == 200:
                assert answer["status"] == "nothing_found", (name, answer)  # another project's key sees no one
        assert events_in_db(hostile, f"user_id = '{PERSON}'") == 1
    status, answer, _, _ = send(hostile.port, "DELETE", f"/people/{PERSON}", {"Authorization": f"Bearer {creds['admin']}"}, None)
    assert (status, answer["status"], answer["erased"]["events"]) == (200, "erased", 1)
    assert events_in_db(hostile, f"user_id = '{PERSON}'") == 0
