"""A `make run` stack for the hostile-input tests, with a second project to test isolation."""

from __future__ import annotations

import pytest

from engine.db import postgres
from engine.keycli import create_project_keys
from local.embedded import EmbeddedPostgres
from tests.e2e.stack import RunningStack, free_port_block


def stack_database_url(stack: RunningStack) -> str:
    return EmbeddedPostgres(stack.local_dir / "data", database="analytics").url


@pytest.fixture(scope="package")
def hostile(tmp_path_factory):
    stack = RunningStack(
        tmp_path_factory.mktemp("hostile") / "local",
        free_port_block(),
        ANALYTICS_KEY_RATE_LIMIT="0",
        ANALYTICS_IP_RATE_LIMIT="0",
    ).start()
    try:
        conn = postgres.connect(stack_database_url(stack), application_name="tests", statement_timeout_ms=10_000, io_timeout_seconds=10)
        try:
            _, other = create_project_keys(conn, "other")
        finally:
            conn.close()
        keys = stack.keys()
        stack.credentials = {
            "write": keys["write_key"],
            "read": keys["read_key"],
            "task": keys["task_token"],
            "other_write": other["write"],
            "other_read": other["read"],
        }
        yield stack
    finally:
        stack.stop()


def function_port(stack: RunningStack, name: str) -> int:
    return stack.port + {"ingest": 1, "metrics": 2, "stream-drain": 3, "view-refresh": 4}[name]


def events_in_db(stack: RunningStack, where: str = "true") -> int:
    conn = postgres.connect(stack_database_url(stack), application_name="tests", statement_timeout_ms=10_000, io_timeout_seconds=10)
    try:
        return conn.run(f"SELECT count(*) FROM events WHERE {where}")[0][0]
    finally:
        conn.close()
