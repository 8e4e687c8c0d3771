"""The rollups under faults: four drains at once, their process SIGKILLed mid-batch, and still
every rollup number equals the oracle over the stored rows, with no deadlock and no error."""

import datetime as dt
import random
import threading
import time

import pytest

from engine import config
from engine.db import postgres
from tests import rollup_check
from tests.faults.harness import FaultStack, Ledger, events, report, verdict

pytestmark = pytest.mark.faults


@pytest.fixture(scope="module")
def fstack(tmp_path_factory):
    stack = FaultStack(tmp_path_factory.mktemp("rollup-faults")).start()
    yield stack
    stack.stop()


def late(count: int) -> list[dict]:
    """Events hours to days old, as a client that was offline sends them."""
    now = dt.datetime.now(dt.UTC)
    return [dict(e, timestamp=(now - dt.timedelta(hours=random.uniform(1, 60))).isoformat()) for e in events(count)]


def test_four_drains_killed_mid_batch_leave_exact_rollups(fstack):
    started, ledger = time.monotonic(), Ledger()
    batches = [events(250) if i % 4 else late(250) for i in range(48)]
    for batch in batches:
        fstack.send(batch, ledger)
    for batch in random.sample(batches, 8):  # the same ids again: they must add nothing
        fstack.send(batch)
    answers, stop = [], threading.Event()

    def loop():
        while not stop.is_set() and fstack.backlog_and_pending() != (0, 0):
            answers.append(fstack.drain())

    threads = [threading.Thread(target=loop) for _ in range(4)]
    for t in threads:
        t.start()
    kills = 0
    for _ in range(2):
        time.sleep(random.uniform(0.3, 0.8))
        fstack.kill("stream-drain")  # every invocation in flight dies, mid-batch or between
        kills += 1
        fstack.wait_serving("stream-drain")
    for t in threads:
        t.join(timeout=180)
    stop.set()
    fstack.drain_until_empty()
    outcome = verdict(fstack, ledger, 12_000, started)
    conn = postgres.connect(fstack.database_url, application_name="faults", statement_timeout_ms=120_000, io_timeout_seconds=60)
    try:
        settings = config.load_settings(fstack.env)
        compared = rollup_check.check(conn, dt.datetime.now(dt.UTC), [1], settings)
        deadlocks = conn.run("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")[0][0]
    finally:
        conn.close()
    # Status 0: no answer (the invocation killed in flight, or a call while the function restarted).
    failed = [body for status, body in answers if status not in (200, 0)]
    unanswered = sum(1 for status, _ in answers if status == 0)
    report("4 drains killed mid-batch, rollups", outcome, kills=kills, invocations=len(answers), unanswered=unanswered)
    assert (outcome.rows, outcome.lost, outcome.duplicated, compared) == (12_000, 0, 0, 12_000)
    assert failed == [] and deadlocks == 0
    assert sum(1 for status, _ in answers if status == 200) > 0
