"""The compose stack on a real engine, in the order a user meets it: `make up` on a clean clone,
the seed event, the roles, kills and a PostgreSQL restart under load, backup and restore, and
`make down` then `make up` again with the data still there. The tests share one stack and run
in this file's order.
"""

from __future__ import annotations

import uuid

import pytest

from tests.containers import load
from tests.e2e.stack import wait_for

pytestmark = pytest.mark.containers

SEED = {"user_id": "user_123", "action": "play", "element": "video_player", "duration": 12.5, "timestamp": "2024-01-15T10:30:00Z"}
APP_SERVICES = {"postgres", "redis", "ingest", "metrics", "stream-drain", "view-refresh", "scheduler", "gateway"}
SEED_ID = str(uuid.uuid4())
KILL_RUN = f"kill-{uuid.uuid4().hex[:8]}"
RESTART_RUN = f"restart-{uuid.uuid4().hex[:8]}"


def test_make_up_on_a_clean_clone_brings_every_service_to_healthy(stack):
    result, seconds = stack.make("up")
    assert result.returncode == 0, result.stdout + result.stderr
    stack.figures["make_up_cold_seconds"] = round(seconds, 1)
    assert "Analytics engine is up under docker compose (every service healthy)" in result.stdout
    assert f"http://127.0.0.1:{stack.gateway_port}/" in result.stdout
    services = stack.services()
    assert {name for name, s in services.items() if s["state"] == "running" and s["health"] == "healthy"} >= APP_SERVICES
    assert services["migrate"]["state"] == "exited" and services["migrate"]["exit"] == 0
    if "grafana" not in services:  # no registry here: one line says so, and nothing else is missing
        lines = [line for line in result.stdout.splitlines() if "Grafana" in line]
        assert lines == [
            "make up: Grafana left out: its image grafana/grafana:13.2.2 cannot be pulled and has no local equivalent; everything else starts"
        ]


def test_the_image_holds_the_runtime_and_not_local(stack):
    listing = stack.compose("exec", "-T", "ingest", "ls", "/app").stdout.decode().split()
    assert sorted(listing) == ["functions", "requirements.txt", "runtime", "scheduler", "sql", "static"]
    whoami = stack.compose("exec", "-T", "ingest", "id", "-u").stdout.decode().strip()
    assert whoami == "10001"


def test_the_seed_event_at_the_gateway_is_in_metrics_and_in_postgresql(stack):
    status, body = stack.request("POST", "/event", {**SEED, "event_id": SEED_ID}, {"X-Write-Key": stack.secrets["ANALYTICS_WRITE_KEY"]})
    assert (status, body) == (202, {"event_id": SEED_ID, "status": "accepted"})
    counted, _ = wait_for(lambda: (m := stack.metrics())["all_time"]["events"] == 1 and m, timeout=60, interval=0.5)
    assert counted["all_time"]["top_elements"] == [{"element": "video_player", "count": 1}]
    rows = stack.sql(f"SELECT user_id, action, element, duration, timestamp AT TIME ZONE 'UTC' FROM events WHERE event_id = '{SEED_ID}'")
    assert rows == [["user_123", "play", "video_player", "12.5", "2024-01-15 10:30:00"]]


def test_only_migrate_is_superuser_and_grafanas_role_reads_only(stack):
    assert stack.sql("SELECT rolname, rolsuper FROM pg_roles WHERE rolname IN ('analytics', 'analytics_reader') ORDER BY 1") == [
        ["analytics", "f"],
        ["analytics_reader", "f"],
    ]
    logged_in = stack.sql(
        "SELECT DISTINCT usename FROM pg_stat_activity WHERE backend_type = 'client backend' AND usename IS NOT NULL ORDER BY 1"
    )
    assert {row[0] for row in logged_in} <= {"analytics", "analytics_reader"}, logged_in
    assert stack.sql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner <> 'analytics'") == [["0"]]
    reader = ["exec", "-T", "-e", f"PGPASSWORD={stack.secrets['ANALYTICS_READER_PASSWORD']}", "postgres", "psql", "-h", "127.0.0.1"]
    reader += [
        "-U",
        "analytics_reader",
        "-d",
        "analytics",
        "-tA",
        "-c",
        "SELECT count(*) FROM events",
        "-c",
        "CREATE TABLE written (x int)",
    ]
    result = stack.compose(*reader)
    assert result.stdout.decode().strip() == "1"
    assert "cannot execute CREATE TABLE in a read-only transaction" in result.stderr.decode()


def test_killing_the_drain_and_ingest_while_5000_events_arrive_loses_and_doubles_none(stack):
    sent = load.send_with_kills(stack, KILL_RUN, count=5000, kills={1000: "stream-drain", 2500: "ingest"})
    assert sent.unacknowledged == []
    assert len(sent.acknowledged) == 5000
    stack.figures["kill_run_seconds"] = round(sent.seconds, 1)
    wait_for(lambda: all(s["health"] == "healthy" for n, s in stack.services().items() if n in APP_SERVICES), timeout=120, interval=1)
    load.wait_drained(stack)
    rows = stack.sql(f"SELECT event_id, count(*) FROM events WHERE user_id LIKE '{KILL_RUN}-%' GROUP BY event_id")
    stored = {event_id: int(n) for event_id, n in rows}
    assert set(sent.acknowledged) - set(stored) == set(), "lost"
    assert {e: n for e, n in stored.items() if n != 1} == {}, "duplicated"
    assert set(stored) == set(sent.acknowledged)


def test_a_postgresql_restart_builds_a_backlog_that_drains_afterwards(stack):
    postgres = stack.container("postgres")
    assert load.docker(stack, "stop", "--time", "5", postgres).returncode == 0
    ids = load.send_plain(stack, RESTART_RUN, count=300)  # ingest needs only Redis: all accepted
    assert len(ids) == 300
    assert load.docker(stack, "start", postgres).returncode == 0
    load.wait_drained(stack)
    rows = stack.sql(f"SELECT event_id FROM events WHERE user_id LIKE '{RESTART_RUN}-%'")
    assert sorted(r[0] for r in rows) == sorted(ids)


def test_backup_and_restore_through_the_containers(stack):
    dump = stack.compose("exec", "-T", "postgres", "pg_dump", "-U", "analytics", "-d", "analytics", "--format=custom", timeout=300)
    assert dump.returncode == 0 and dump.stdout[:5] == b"PGDMP", dump.stderr.decode()
    admin = ["exec", "-T", "postgres", "psql", "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c"]
    assert stack.compose(*admin, "CREATE DATABASE restored OWNER analytics").returncode == 0
    try:
        restore = stack.compose(
            "exec", "-T", "postgres", "pg_restore", "-U", "analytics", "-d", "restored", "--exit-on-error", stdin=dump.stdout, timeout=300
        )
        assert restore.returncode == 0, restore.stderr.decode()
        for query in (
            "SELECT count(*), count(DISTINCT event_id) FROM events",
            "SELECT count(*) FROM schema_migrations",
            "SELECT count(*) FROM event_ids",
        ):
            assert stack.sql(query, "restored") == stack.sql(query)
        assert stack.sql("SELECT count(*) FROM events", "restored") == [[str(1 + 5000 + 300)]]
    finally:
        stack.compose(*admin, "DROP DATABASE IF EXISTS restored WITH (FORCE)")


def test_make_down_stops_everything_keeps_the_data_and_a_second_make_up_has_it(stack):
    result, _ = stack.make("down")
    assert result.returncode == 0, result.stderr
    assert load.project_containers(stack, running_only=True) == []
    assert load.project_volumes(stack) >= {f"{stack.project}_postgres-data", f"{stack.project}_redis-data"}
    result, seconds = stack.make("up")
    assert result.returncode == 0, result.stdout + result.stderr
    stack.figures["make_up_warm_seconds"] = round(seconds, 1)
    assert stack.sql("SELECT count(*) FROM events") == [[str(1 + 5000 + 300)]]
    assert stack.sql(f"SELECT count(*) FROM events WHERE event_id = '{SEED_ID}'") == [["1"]]
    status, _ = stack.request("GET", "/healthz")
    assert status == 200
