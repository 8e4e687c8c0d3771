"""Fault tests: every event that got a 202 ends as exactly one row, whatever crashes.

Each test records the ids acknowledged with 202 and checks PostgreSQL at the end:
lost = acknowledged but absent; duplicated = an id with more than one row.
"""

import random
import signal
import subprocess
import sys
import threading
import time
import uuid

import orjson
import pytest

from engine.core.constants import LOCK_REFRESH
from tests.faults.harness import ROLLUP_TABLES, ROOT, FaultStack, Ledger, events, report, verdict

pytestmark = pytest.mark.faults


@pytest.fixture(scope="module")
def fstack(tmp_path_factory):
    stack = FaultStack(tmp_path_factory.mktemp("faults"), scheduler=True, ANALYTICS_DRAIN_MAX_DELIVERIES="3").start()
    yield stack
    stack.stop()


@pytest.fixture(autouse=True)
def empty(fstack):
    """Each test starts on an empty, fully drained pipeline."""
    fstack.drain_until_empty()
    fstack.sql(f"TRUNCATE events, event_ids, dead_letters, {ROLLUP_TABLES}")
    yield


def sender(stack: FaultStack, ledger: Ledger, total: int, batch: int, pause: float = 0.0):
    def run():
        for start in range(0, total, batch):
            stack.send(events(min(batch, total - start)), ledger)
            time.sleep(pause)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_drain_process_killed_five_times_during_20000_events(fstack):
    started, ledger = time.monotonic(), Ledger()
    thread = sender(fstack, ledger, 20_000, 100, pause=0.02)
    kills = []
    for _ in range(5):
        time.sleep(random.uniform(0.5, 1.5))
        kills.append(fstack.kill("stream-drain"))
        fstack.wait_serving("stream-drain")
    thread.join()
    fstack.drain_until_empty()
    result = verdict(fstack, ledger, 20_000, started)
    report("drain killed 5 times during 20,000 events", result, kills=len(kills))
    assert ledger.statuses == {202: 200}
    assert (result.rows, result.lost, result.duplicated) == (20_000, 0, 0)
    assert fstack.child("stream-drain").restarts >= 5


CRASH_AT = {
    # The drain dies before its COPY ...
    "before the load": "writes.load_rows = die",
    # ... after the COPY reached PostgreSQL, before the insert and commit ...
    "mid-load": (
        "real_run = pg8000.native.Connection.run\n"
        "def run(self, sql, *a, **k):\n"
        "    if sql == queries.QUERIES['load_staged']: die()\n"
        "    return real_run(self, sql, *a, **k)\n"
        "pg8000.native.Connection.run = run"
    ),
    # ... and after the commit, before it acknowledged the entries.
    "after commit, before acknowledge": "consumers.ack_and_delete = die",
}
DOOMED_DRAIN = """
import datetime as dt, os, signal, pg8000.native
from engine import clients, config, drain
from engine.buffer import consumers
from engine.db import postgres, queries, writes
def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)
{patch}
settings = config.function_settings()
conn = postgres.connect(settings.database_url, application_name="doomed", statement_timeout_ms=30000, io_timeout_seconds=10)
drain.run_drain(clients.redis_client(settings), conn, clients.stream_keys(settings), settings, dt.datetime.now(dt.UTC))
"""


@pytest.mark.parametrize("point", list(CRASH_AT))
def test_crash_at_each_point_of_a_drain(fstack, point):
    started, ledger = time.monotonic(), Ledger()
    fstack.child("scheduler").signal_group(signal.SIGSTOP)  # this test drives the drains itself
    try:
        for _ in range(5):
            fstack.send(events(200), ledger)
        script = DOOMED_DRAIN.format(patch=CRASH_AT[point])
        result = subprocess.run([sys.executable, "-c", script], env=fstack.env, cwd=ROOT, capture_output=True, timeout=60)
        assert result.returncode == -signal.SIGKILL, result.stderr.decode()[-1500:]
        committed = sum(fstack.row_counts().values())
        assert committed == (1000 if point == "after commit, before acknowledge" else 0)
        assert fstack.backlog_and_pending() == (1000, 1000)
        fstack.drain_until_empty()
    finally:
        fstack.child("scheduler").signal_group(signal.SIGCONT)
    outcome = verdict(fstack, ledger, 1000, started)
    report(f"drain killed {point}", outcome)
    assert (outcome.rows, outcome.lost, outcome.duplicated) == (1000, 0, 0)


def test_four_drains_at_once_in_a_loop(fstack):
    started, ledger = time.monotonic(), Ledger()
    for _ in range(40):
        fstack.send(events(250), ledger)
    answers = []

    def loop():
        while fstack.backlog_and_pending() != (0, 0):
            answers.append(fstack.drain())

    threads = [threading.Thread(target=loop) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    outcome = verdict(fstack, ledger, 10_000, started)
    report("4 concurrent drains in a loop", outcome, invocations=len(answers))
    assert {status for status, _ in answers} == {200}
    assert fstack.backlog_and_pending() == (0, 0)
    assert (outcome.rows, outcome.lost, outcome.duplicated) == (10_000, 0, 0)


def test_postgres_stopped_30_s_during_load(fstack):
    started, ledger = time.monotonic(), Ledger()
    thread = sender(fstack, ledger, 12_000, 50, pause=0.15)
    time.sleep(3)
    fstack.pg.stop()
    down_at = time.monotonic()
    drain_status, _ = fstack.drain(timeout=30)  # the drain fails cleanly while PostgreSQL is down
    time.sleep(max(0.0, 30 - (time.monotonic() - down_at)))
    fstack.pg.start()
    thread.join()
    fstack.drain_until_empty(timeout=180)
    outcome = verdict(fstack, ledger, 12_000, started)
    report("PostgreSQL stopped for 30 s during load", outcome, drain_status_while_down=drain_status)
    assert ledger.statuses == {202: 240}  # ingest never stopped answering 202
    assert drain_status == 503
    assert (outcome.rows, outcome.lost, outcome.duplicated) == (12_000, 0, 0)


def test_redis_restarted_with_aof_during_load(fstack):
    started, ledger = time.monotonic(), Ledger()
    thread = sender(fstack, ledger, 6_000, 50, pause=0.05)
    time.sleep(2)
    fstack.redis.stop()
    time.sleep(3)
    fstack.redis.start()
    thread.join()
    fstack.drain_until_empty(timeout=120)
    outcome = verdict(fstack, ledger, 6_000, started)
    report("Redis restarted (AOF) during load", outcome, statuses=ledger.statuses)
    assert set(ledger.statuses) <= {202, 503}  # never a 500
    assert ledger.statuses.get(503, 0) > 0  # requests did arrive while it was down
    assert outcome.rows == len(ledger.acknowledged)
    assert (outcome.lost, outcome.duplicated) == (0, 0)


PAUSED_DRAIN = """
import datetime as dt, os, signal
from engine import clients, config, drain
from engine.db import postgres, writes
real_load = writes.load_rows
def pause_then_load(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGSTOP)  # frozen holding its batch, as a stuck process would
    return real_load(*args, **kwargs)
writes.load_rows = pause_then_load
settings = config.function_settings()
conn = postgres.connect(settings.database_url, application_name="paused", statement_timeout_ms=30000, io_timeout_seconds=10)
print(drain.run_drain(clients.redis_client(settings), conn, clients.stream_keys(settings), settings, dt.datetime.now(dt.UTC)).as_dict())
"""


def test_drain_paused_past_the_reclaim_threshold_is_taken_over(fstack):
    started, ledger = time.monotonic(), Ledger()
    fstack.child("scheduler").signal_group(signal.SIGSTOP)
    try:
        fstack.send(events(500), ledger)
        paused = subprocess.Popen(
            [sys.executable, "-c", PAUSED_DRAIN], env=fstack.env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 30
        while fstack.backlog_and_pending()[1] != 500 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert fstack.backlog_and_pending() == (500, 500)  # read, held, frozen
        time.sleep(2.0)  # past ANALYTICS_DRAIN_RECLAIM_IDLE_MS=1500
        status, body = fstack.drain()
        assert (status, body["reclaimed"], body["inserted"]) == (200, 500, 500)
        paused.send_signal(signal.SIGCONT)
        out, err = paused.communicate(timeout=60)
        assert paused.returncode == 0, err.decode()[-1500:]
        late = orjson.loads(out.decode().strip().replace("'", '"'))
        assert (late["inserted"], late["duplicates"]) == (0, 500)  # its late load changed nothing
    finally:
        fstack.child("scheduler").signal_group(signal.SIGCONT)
    outcome = verdict(fstack, ledger, 500, started)
    report("drain frozen (SIGSTOP) past the reclaim threshold", outcome)
    assert fstack.backlog_and_pending() == (0, 0)
    assert (outcome.rows, outcome.lost, outcome.duplicated) == (500, 0, 0)


def test_one_poison_among_1000_good(fstack):
    started, ledger = time.monotonic(), Ledger()
    fstack.send(events(500), ledger)
    client = fstack.redis_client()
    moment = "2026-01-01T00:00:00+00:00"
    poison = {"v": 1, "event_id": str(uuid.uuid4()), "project_id": 1, "user_id": "x" * 300, "action": "play"}
    poison.update(timestamp=moment, received_at=moment)  # user_id is too long for varchar(255)
    client.xadd(fstack.stream_keys().stream, {b"e": orjson.dumps(poison)})
    client.close()
    fstack.send(events(500), ledger)
    deadline = time.monotonic() + 60
    while fstack.sql("SELECT count(*) FROM dead_letters")[0][0] == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    fstack.drain_until_empty()
    outcome = verdict(fstack, ledger, 1001, started)
    [(deliveries, error)] = fstack.sql("SELECT deliveries, error FROM dead_letters")
    report("one poison entry among 1,000 good", outcome, dead_letters=1, deliveries=deliveries)
    assert deliveries == 3 and error.startswith("22001")
    assert (outcome.rows, outcome.lost, outcome.duplicated) == (1000, 0, 0)


def test_the_same_5000_ids_sent_three_times(fstack):
    started, ledger = time.monotonic(), Ledger()
    batch = events(5000)
    answers = []
    for attempt in range(3):
        for i in range(0, 5000, 500):
            answers.append(fstack.send(batch[i : i + 500], ledger)[1])
        if attempt == 1:
            fstack.drain_until_empty()  # the third copy arrives after the first two were stored
    fstack.drain_until_empty()
    outcome = verdict(fstack, ledger, 15_000, started)
    report("the same 5,000 ids sent 3 times", outcome)
    assert sum(a["accepted"] for a in answers) == 5000
    assert sum(a["duplicates"] for a in answers) == 10_000
    assert (outcome.rows, outcome.lost, outcome.duplicated) == (5000, 0, 0)


def test_three_concurrent_view_refreshes_and_metrics_never_blocks(fstack):
    for _ in range(20):
        fstack.send(events(500))
    fstack.drain_until_empty()
    # Make the refresh take a while: 200k more rows straight into PostgreSQL, days before the
    # drained ones, left for the refresh to count as a backfill (sql/009_rollups.sql).
    fstack.sql(
        'INSERT INTO events (event_id, project_id, user_id, action, element, duration, "timestamp", received_at) '
        "SELECT gen_random_uuid(), 1, 'u' || (g % 5000), 'click', 'e' || (g % 50), g % 30, "
        "now() - interval '2 days' - (g % 86400) * interval '1 second', now() FROM generate_series(1, 200000) g"
    )
    fstack.sql("INSERT INTO rollup_backfill (project_id, counted_from) VALUES (1, now() - interval '2 days')")
    results, latencies, stop = [], [], threading.Event()
    barrier = threading.Barrier(3)

    def refresh():
        barrier.wait()
        results.append(fstack.refresh())

    def poll_metrics():
        while not stop.is_set():
            t = time.monotonic()
            status, _ = fstack.metrics()
            latencies.append((status, time.monotonic() - t))

    # The scheduler refreshes every 30 s too: hold it, and let a refresh of its own finish first.
    with fstack.paused("scheduler"):
        fstack.wait_lock_free(LOCK_REFRESH)
        poller = threading.Thread(target=poll_metrics)
        poller.start()
        threads = [threading.Thread(target=refresh) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stop.set()
        poller.join()
    statuses = sorted(body["status"] for _, body in results)
    slowest = max(seconds for _, seconds in latencies)
    outcome = verdict(fstack, Ledger(), 0, time.monotonic())
    report("3 concurrent view refreshes", outcome, refreshes=statuses, metrics_calls=len(latencies), slowest_metrics_s=round(slowest, 3))
    assert statuses == ["refreshed", "skipped", "skipped"]
    assert {status for status, _ in latencies} == {200}
    assert slowest < 2.0
    fstack.sql(f"TRUNCATE events, {ROLLUP_TABLES}")


def test_freshness_stays_bounded_while_the_drain_keeps_up(fstack):
    ledger, samples = Ledger(), []
    thread = sender(fstack, ledger, 3000, 20, pause=0.05)
    while thread.is_alive():
        status, body = fstack.metrics()
        if status == 200:
            samples.append(body["freshness"])
        time.sleep(0.25)
    thread.join()
    fstack.drain_until_empty()
    worst_lag = max(s["oldest_undrained_age_seconds"] or 0 for s in samples)
    # drain interval (0.5 s) + drain time + one scheduler tick of slack
    assert worst_lag < 0.5 + 2 + 1.0, worst_lag
    assert max(s["seconds_since_drain"] for s in samples if s["seconds_since_drain"] is not None) < 3.5
    outcome = verdict(fstack, ledger, 3000, time.monotonic())
    report("freshness under steady load", outcome, samples=len(samples), worst_lag_s=round(worst_lag, 3))
    assert (outcome.rows, outcome.lost, outcome.duplicated) == (3000, 0, 0)


def test_sigterm_lets_the_drain_in_flight_finish_its_batches(fstack):
    started, ledger = time.monotonic(), Ledger()
    fstack.child("scheduler").signal_group(signal.SIGSTOP)
    try:
        for _ in range(60):
            fstack.send(events(500), ledger)
        answer = {}
        invocation = threading.Thread(target=lambda: answer.update(zip(("status", "body"), fstack.drain(), strict=True)))
        invocation.start()
        deadline = time.monotonic() + 10
        while fstack.backlog_and_pending()[1] == 0 and time.monotonic() < deadline:
            time.sleep(0.01)  # wait until the invocation holds entries
        fstack.child("stream-drain").signal_group(signal.SIGTERM)  # as a platform scales it down
        invocation.join(timeout=30)
        assert answer["status"] == 200  # the invocation was allowed to finish ...
        assert answer["body"]["read"] > 0
        assert fstack.backlog_and_pending()[1] == 0  # ... and left nothing pending behind it
        fstack.wait_serving("stream-drain")
        fstack.drain_until_empty()
    finally:
        fstack.child("scheduler").signal_group(signal.SIGCONT)
    outcome = verdict(fstack, ledger, 30_000, started)
    report("SIGTERM during a drain invocation", outcome, drained_by_the_stopping_invocation=answer["body"]["read"])
    assert (outcome.rows, outcome.lost, outcome.duplicated) == (30_000, 0, 0)
