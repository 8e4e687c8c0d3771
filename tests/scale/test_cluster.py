"""The sharded stream on a real Redis Cluster: 3 masters, 3 replicas, 8 shards, 3 drains.

30,000 events go through ingest while one master is SIGKILLed (its replica takes over) and
one of the three drains is SIGKILLed with a batch in hand (its shards are taken over).
Every event id that got a 202 must be exactly one row: nothing acknowledged is lost
(a 202 waited for a replica), nothing is loaded twice.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import threading
import time
from dataclasses import dataclass, field

import psutil
import pytest
import redis
import redis.cluster

from engine.buffer.keys import shard_keys
from engine.db import postgres
from tests.conftest import TASK_TOKEN, WRITE_KEY
from tests.e2e.stack import free_port_block
from tests.faults.harness import ARTIFACTS, events
from tests.scale.functions import FunctionProcess, call
from tests.scale.rediscluster import RedisClusterServers

pytestmark = pytest.mark.scale

EVENTS, BATCH, SENDERS, SHARDS = 30_000, 100, 6, 8
RUN_SECONDS = 200  # the whole run's bound


@dataclass
class Ledger:
    acknowledged: set[str] = field(default_factory=set)
    statuses: dict[int, int] = field(default_factory=dict)
    refusals_without_retry_after: int = 0
    last_refusal: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def cluster_stack(function_env, tmp_path):
    base = free_port_block(16)  # 6 servers, their 6 bus ports, 4 functions
    servers = RedisClusterServers(tmp_path, base)
    env = {k: v for k, v in function_env.items() if k != "ANALYTICS_REDIS_URL"} | {
        "ANALYTICS_REDIS_CLUSTER_NODES": "",
        "ANALYTICS_STREAM_SHARDS": str(SHARDS),
        "ANALYTICS_KEY_RATE_LIMIT": "0",
        "ANALYTICS_IP_RATE_LIMIT": "0",
        "ANALYTICS_DRAIN_BUDGET_SECONDS": "1",
        "ANALYTICS_DRAIN_RECLAIM_IDLE_MS": "1500",
        "ANALYTICS_DRAIN_BATCH_SIZE": "500",
        "ANALYTICS_IO_TIMEOUT_SECONDS": "2",
    }
    logs = ARTIFACTS / "scale-cluster"
    processes = []
    try:
        servers.start()
        env["ANALYTICS_REDIS_CLUSTER_NODES"] = servers.nodes()
        ingest = FunctionProcess("ingest", base + 12, env, logs, threads=8)
        drains = [FunctionProcess("stream-drain", base + 13 + i, env, logs, threads=2) for i in range(3)]
        processes = [ingest, *drains]
        for process in processes:
            process.start()
        for process in processes:
            process.wait_ready()
        yield servers, ingest, drains
    finally:
        for process in processes:
            process.stop()
        servers.stop()


def send_all(port: int, batches: queue.Queue, ledger: Ledger, deadline: float) -> None:
    """Send each batch until it gets its 202, resending (same event ids) after a 503 or no answer."""
    while time.monotonic() < deadline:
        try:
            batch = batches.get_nowait()
        except queue.Empty:
            return
        while time.monotonic() < deadline:
            status, body, headers = call("POST", port, "/events", {"events": batch}, {"X-Write-Key": WRITE_KEY})
            with ledger.lock:
                ledger.statuses[status] = ledger.statuses.get(status, 0) + 1
                if status == 202:
                    ledger.acknowledged.update(body["event_ids"])
                elif status == 503:
                    ledger.last_refusal = time.monotonic()
                    ledger.refusals_without_retry_after += "Retry-After" not in headers
            if status == 202:
                break
            assert status in (0, 503), (status, body)
            time.sleep(0.2)


def drive_drain(process: FunctionProcess, reports: list, stop: threading.Event) -> None:
    while not stop.is_set() and process.proc.poll() is None:
        status, body, _ = call("POST", process.port, "/tasks/stream-drain", headers={"Authorization": f"Bearer {TASK_TOKEN}"}, timeout=30)
        if status == 200:
            reports.append(body)
        else:
            time.sleep(0.2)


def pending_of(client, pids: set[int]) -> int:
    """Entries pending to consumers of these processes (drain.consumer_name holds the pid)."""
    total = 0
    for keys in shard_keys(NAMESPACE[0], SHARDS):
        for info in client.xinfo_consumers(keys.stream, keys.group):
            if int(info["name"].decode().split("-")[-2]) in pids:
                total += info["pending"]
    return total


NAMESPACE: list[str] = []


def holding_a_batch(process: FunctionProcess, client, pids: set[int]) -> bool:
    """Freeze the drain (SIGSTOP); True, leaving it frozen, when it holds pending entries, else thaw it."""
    os.killpg(process.proc.pid, signal.SIGSTOP)
    if pending_of(client, pids) > 0:
        return True
    os.killpg(process.proc.pid, signal.SIGCONT)
    return False


def wait(predicate, seconds: float, what: str, interval: float = 0.02):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"not within {seconds} s: {what}")


def test_cluster_failover_and_drain_takeover_lose_nothing(cluster_stack, function_env):
    servers, ingest, drains = cluster_stack
    NAMESPACE[:] = [function_env["ANALYTICS_REDIS_NAMESPACE"]]
    shards = shard_keys(NAMESPACE[0], SHARDS)
    masters = {servers.master_of(k.stream) for k in shards}
    assert len(masters) == 3, "the 8 shards spread over the 3 masters"
    client = redis.cluster.RedisCluster(startup_nodes=[redis.cluster.ClusterNode("127.0.0.1", p) for p in servers.ports])
    all_events = events(EVENTS)
    batches: queue.Queue = queue.Queue()
    for i in range(0, EVENTS, BATCH):
        batches.put(all_events[i : i + BATCH])
    ledger, reports, stop = Ledger(), [], threading.Event()
    deadline = time.monotonic() + RUN_SECONDS
    threads = [threading.Thread(target=send_all, args=(ingest.port, batches, ledger, deadline)) for _ in range(SENDERS)]
    threads += [threading.Thread(target=drive_drain, args=(d, reports, stop)) for d in drains]
    for thread in threads:
        thread.start()
    try:
        # A master dies mid-run: its replica takes over.
        wait(lambda: len(ledger.acknowledged) >= EVENTS // 4, 90, "a quarter acknowledged")
        victim_master = servers.master_of(shards[0].stream)
        acknowledged_before = len(ledger.acknowledged)
        servers.kill(victim_master)
        killed_at = time.monotonic()
        wait(lambda: servers.master_of(shards[0].stream) != victim_master and servers.healthy_state(), 30, "failover", 0.05)
        failover_seconds = time.monotonic() - killed_at
        wait(lambda: len(ledger.acknowledged) > acknowledged_before + 2000, 60, "ingest answering 202 again")
        ingest_recovered_seconds = max(0.0, ledger.last_refusal - killed_at)
        # A drain dies with a batch in hand: the others take its shards over.
        victim = drains[0]
        pids = {victim.proc.pid, *(p.pid for p in psutil.Process(victim.proc.pid).children(recursive=True))}
        wait(lambda: holding_a_batch(victim, client, pids), 60, "the victim drain holding a batch", 0.005)
        victim.kill()  # while stopped with a batch in hand: read, not yet acknowledged
        for thread in threads[:SENDERS]:
            thread.join(max(1.0, deadline - time.monotonic()))
        assert batches.empty() and len(ledger.acknowledged) == EVENTS, (len(ledger.acknowledged), ledger.statuses)
        conn = postgres.connect(
            function_env["ANALYTICS_DATABASE_URL"], application_name="scale-test", statement_timeout_ms=60_000, io_timeout_seconds=30
        )
        try:
            wait(lambda: conn.run("SELECT count(*) FROM events")[0][0] >= EVENTS, 90, "every acknowledged event drained", 0.5)
            wait(lambda: sum(client.xlen(k.stream) for k in shards) == 0, 60, "every shard emptied, the dead drain's too", 0.5)
            time.sleep(1.5)  # a late duplicate, were there one, would land now
            rows = [r[0] for r in conn.run("SELECT event_id::text FROM events")]
        finally:
            conn.close()
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
        client.close()
    lost = ledger.acknowledged - set(rows)
    assert len(rows) == len(set(rows)) == EVENTS
    assert lost == set() and set(rows) == ledger.acknowledged
    assert ledger.statuses.get(503, 0) > 0 and ledger.refusals_without_retry_after == 0, ledger.statuses
    assert sum(r["reclaimed"] for r in reports) > 0, "the dead drain's pending entries were taken over"
    assert {s for r in reports for s in r.get("shards", [])} == set(range(SHARDS))
    figures = {
        "events": EVENTS,
        "acknowledged": len(ledger.acknowledged),
        "acknowledged_lost": len(lost),
        "failover_seconds": round(failover_seconds, 2),
        "ingest_refusing_seconds": round(ingest_recovered_seconds, 2),
        "statuses": ledger.statuses,
        "reclaimed": sum(r["reclaimed"] for r in reports),
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "scale-cluster.json").write_text(json.dumps(figures, indent=2))
    print(f"\nscale cluster figures: {json.dumps(figures)}")
