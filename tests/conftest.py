"""Fixtures for the three tiers: pure units need none; functions and integration tests get
real Redis and PostgreSQL (never mocks), a fresh database per run and a clean one per test.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
import redis

from engine import clients, config
from engine.buffer.keys import Keys
from engine.db import migrate, postgres
from tests.services import run_services

ROOT = Path(__file__).resolve().parents[1]
MAIN = str(ROOT / "functions" / "main.py")
WRITE_KEY = "test-write-key-0123456789"
READ_KEY = "test-read-key-0123456789"
TASK_TOKEN = "test-task-token-0123456789"


@pytest.fixture(scope="session")
def services():
    with run_services() as found:
        yield found


@pytest.fixture(scope="session")
def function_env(services):
    """The environment a function process of this run gets (also set on this process)."""
    env = {
        "ANALYTICS_ENV": "test",
        "ANALYTICS_DATABASE_URL": services.database_url,
        "ANALYTICS_REDIS_URL": services.redis_url,
        "ANALYTICS_REDIS_NAMESPACE": services.namespace,
        "ANALYTICS_WRITE_KEY": WRITE_KEY,
        "ANALYTICS_READ_KEY": READ_KEY,
        "ANALYTICS_TASK_TOKEN": TASK_TOKEN,
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    config.get_settings.cache_clear()
    migrate.migrate(services.database_url)
    yield env
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    config.get_settings.cache_clear()
    clients.reset()


@pytest.fixture(scope="session")
def settings(function_env) -> config.Settings:
    return config.load_settings(function_env)


@pytest.fixture
def conn(settings):
    connection = postgres.connect(
        settings.database_url, application_name="analytics-tests", statement_timeout_ms=60_000, io_timeout_seconds=30
    )
    yield connection
    connection.close()


@pytest.fixture
def rclient(settings) -> redis.Redis:
    client = redis.Redis.from_url(settings.redis_url)
    yield client
    client.close()


@pytest.fixture
def keys(settings) -> Keys:
    return Keys.for_namespace(settings.redis_namespace)


@pytest.fixture(autouse=True)
def clean_state(request):
    """Empty tables and stream before each test that touches the stores."""
    if "services" not in request.fixturenames and not any(
        name in request.fixturenames for name in ("settings", "apps", "conn", "rclient", "function_env")
    ):
        yield
        return
    settings = request.getfixturevalue("settings")
    connection = postgres.connect(
        settings.database_url, application_name="analytics-tests", statement_timeout_ms=60_000, io_timeout_seconds=30
    )
    connection.run(
        "TRUNCATE events, event_ids, dead_letters, task_runs, users, groups, group_members, identity_links, "
        "rollup_minutes, rollup_minute_users, rollup_minute_elements, rollup_hour_actions, rollup_hour_elements, rollup_day_elements, "
        "rollup_day_action_users, rollup_day_actions, rollup_day_users, rollup_days, rollup_week_users, rollup_totals, rollup_users, rollup_elements, "
        "rollup_heatmap, rollup_user_sessions, rollup_element_users, rollup_backfill, erasures"
    )
    connection.run("UPDATE rollup_status SET raw_kept_from = NULL")
    connection.run("DELETE FROM api_keys WHERE project_id <> 1")
    connection.run("DELETE FROM projects WHERE id <> 1")
    connection.close()
    client = redis.Redis.from_url(settings.redis_url)
    stale = list(client.scan_iter(match="{" + settings.redis_namespace + "}*", count=1000))
    if stale:
        client.delete(*stale)
    client.close()
    yield


@pytest.fixture(scope="session")
def apps(function_env):
    """Each of the four targets loaded through functions-framework, as its own app: ingest (an async
    function) as its ASGI application, the others as their Flask one; each with a test client."""
    from functions_framework import create_app
    from functions_framework.aio import create_asgi_app

    from engine import groupappend
    from tests.asgi_client import AsgiClient

    loaded = {target: create_app(target, MAIN).test_client() for target in ("metrics", "stream_drain", "view_refresh")}
    ingest = AsgiClient(create_asgi_app("ingest", MAIN))
    yield {"ingest": ingest, **loaded}
    ingest.close(groupappend.release)


def with_settings(settings: config.Settings, **changes) -> config.Settings:
    return dataclasses.replace(settings, **changes)


WRITE = {"X-Write-Key": WRITE_KEY}
READ = {"Authorization": f"Bearer {READ_KEY}"}
TASK = {"Authorization": f"Bearer {TASK_TOKEN}"}
