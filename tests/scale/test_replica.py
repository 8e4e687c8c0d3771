"""GET /metrics read from a streaming replica (ANALYTICS_DATABASE_READ_URL) while writes stay on the primary.

With replay paused, the answer stays what the replica holds, the freshness block says how
far behind it is (and that the lag grows), and it names the last drain the replica replayed,
not the last one Redis recorded.
"""

from __future__ import annotations

import time

import pytest

from engine.db import migrate
from tests.conftest import READ_KEY, TASK_TOKEN, WRITE_KEY
from tests.e2e.stack import free_port_block
from tests.faults.harness import ARTIFACTS, events
from tests.scale.functions import FunctionProcess, call
from tests.scale.pgpair import PrimaryAndReplica

pytestmark = pytest.mark.scale


@pytest.fixture
def replica_stack(function_env):
    base = free_port_block(6)
    pair = PrimaryAndReplica(base)
    processes = []
    try:
        pair.start()
        migrate.migrate(pair.url("primary"))
        env = function_env | {
            "ANALYTICS_DATABASE_URL": pair.url("primary"),
            "ANALYTICS_DATABASE_READ_URL": pair.url("replica"),
            "ANALYTICS_KEY_RATE_LIMIT": "0",
            "ANALYTICS_IP_RATE_LIMIT": "0",
        }
        logs = ARTIFACTS / "scale-replica"
        processes = [FunctionProcess(name, base + 2 + i, env, logs) for i, name in enumerate(("ingest", "stream-drain", "metrics"))]
        for process in processes:
            process.start()
        for process in processes:
            process.wait_ready()
        yield pair, *processes
    finally:
        for process in processes:
            process.stop()
        pair.stop()


def send_and_drain(ingest: FunctionProcess, drain: FunctionProcess, count: int) -> None:
    status, body, _ = call("POST", ingest.port, "/events", {"events": events(count)}, {"X-Write-Key": WRITE_KEY})
    assert status == 202 and body["accepted"] == count, body
    status, body, _ = call("POST", drain.port, "/tasks/stream-drain", headers={"Authorization": f"Bearer {TASK_TOKEN}"}, timeout=30)
    assert status == 200 and body["inserted"] == count, body


def metrics(process: FunctionProcess) -> dict:
    status, body, _ = call("GET", process.port, "/metrics", headers={"Authorization": f"Bearer {READ_KEY}"})
    assert status == 200, body
    return body


def test_metrics_read_the_replica_and_never_claim_what_it_has_not_replayed(replica_stack):
    pair, ingest, drain, metrics_fn = replica_stack
    send_and_drain(ingest, drain, 50)
    pair.wait_replayed()
    body = metrics(metrics_fn)
    assert body["events_in_window"] == 50
    fresh = body["freshness"]
    assert fresh["read_from"] == "replica" and fresh["replica"]["replay_paused"] is False
    assert fresh["replica"]["unreplayed_bytes"] == 0 and fresh["replica"]["replay_lag_seconds"] == 0
    replayed_drain = fresh["last_drain_at"]

    with pair.connect("replica") as replica:
        replica.run("SELECT pg_wal_replay_pause()")
    try:
        send_and_drain(ingest, drain, 30)
        with pair.connect("primary") as primary:
            assert primary.run("SELECT count(*) FROM events")[0][0] == 80
            primary.run("SELECT pg_switch_wal()")  # ship the drain's WAL now; the replica receives it, paused
        time.sleep(1.0)
        first = metrics(metrics_fn)
        time.sleep(1.5)
        second = metrics(metrics_fn)
        for body in (first, second):
            assert body["events_in_window"] == 50, "the answer is what the replica holds"
            assert body["freshness"]["replica"]["replay_paused"] is True
            assert body["freshness"]["replica"]["unreplayed_bytes"] > 0
            assert body["freshness"]["last_drain_at"] == replayed_drain, "the last drain named is the one the replica holds"
            assert body["freshness"]["backlog"] == 0
        lag = [b["freshness"]["replica"]["replay_lag_seconds"] for b in (first, second)]
        assert 0 < lag[0] < lag[1], lag
    finally:
        with pair.connect("replica") as replica:
            replica.run("SELECT pg_wal_replay_resume()")
    pair.wait_replayed()
    body = metrics(metrics_fn)
    assert body["events_in_window"] == 80 and body["freshness"]["replica"]["unreplayed_bytes"] == 0
    assert body["freshness"]["last_drain_at"] > replayed_drain
