"""The drain against real Redis and PostgreSQL: idempotency, crashes, poison, partitions."""

import datetime as dt
import itertools
import os
import subprocess
import sys
import uuid

import orjson
import pytest

from engine import drain
from engine.buffer import consumers
from engine.db import writes
from tests.conftest import ROOT, with_settings
from tests.factories import make_event, make_events
from tests.helpers import append_raw, entry_for, event_ids_in_db, pending_count, queue

pytestmark = pytest.mark.integration


def run(rclient, conn, keys, settings, **changes):
    return drain.run_drain(rclient, conn, keys, with_settings(settings, **changes), dt.datetime.now(dt.UTC))


def count(conn, table="events"):
    return conn.run(f"SELECT count(*) FROM {table}")[0][0]


def test_drain_moves_everything_in_batches(settings, rclient, conn, keys):
    ids = queue(settings, make_events(450))
    report = run(rclient, conn, keys, settings, drain_batch_size=100)
    assert (report.read, report.inserted, report.duplicates, report.batches, report.backlog) == (450, 450, 0, 5, 0)
    assert sorted(event_ids_in_db(conn)) == sorted(ids)
    assert rclient.xlen(keys.stream) == 0
    assert pending_count(rclient, keys) == 0


def test_rows_keep_every_field(settings, rclient, conn, keys):
    event = make_event(session_id="s-1", properties={"plan": "pro", "tags": ["a", "b"], "n": 3}, sent_at=make_event()["timestamp"])
    [event_id] = queue(settings, [event], request_id="req-42")
    run(rclient, conn, keys, settings)
    row = conn.run(
        "SELECT event_id, project_id, user_id, action, element, duration, session_id, properties, "
        'client_timestamp IS NOT NULL, sent_at IS NOT NULL, received_at >= "timestamp" FROM events'
    )[0]
    assert [str(row[0]), *row[1:]] == [
        event_id,
        1,
        "user_123",
        "play",
        "video_player",
        12.5,
        "s-1",
        {"plan": "pro", "tags": ["a", "b"], "n": 3},
        True,
        True,
        True,
    ]


def test_same_event_id_twice_in_the_stream_makes_one_row(settings, rclient, conn, keys):
    event_id = str(uuid.uuid4())
    payload = entry_for(make_event(), event_id=event_id)
    append_raw(rclient, keys, payload)
    append_raw(rclient, keys, payload)
    report = run(rclient, conn, keys, settings)
    assert (report.read, report.inserted, report.duplicates) == (2, 1, 1)
    assert event_ids_in_db(conn) == [event_id]


def test_resend_after_the_dedupe_window_still_makes_one_row(settings, rclient, conn, keys):
    event = make_event(event_id=str(uuid.uuid4()))
    queue(settings, [event])
    run(rclient, conn, keys, settings)
    for key in rclient.scan_iter(match=keys.seen + "*"):
        rclient.delete(key)  # the Redis dedupe window has passed
    queue(settings, [event])
    report = run(rclient, conn, keys, settings)
    assert (report.read, report.inserted, report.duplicates) == (1, 0, 1)
    assert event_ids_in_db(conn) == [event["event_id"]]


class SimulatedCrash(BaseException):
    """Stands in for the process dying: not an Exception, so nothing catches it."""


def crash_in(monkeypatch, module, name, rclient, conn, keys, settings):
    """Run a drain that dies when it calls module.name."""

    def crash(*args, **kwargs):
        raise SimulatedCrash

    monkeypatch.setattr(module, name, crash)
    with pytest.raises(SimulatedCrash):
        run(rclient, conn, keys, settings)
    monkeypatch.undo()


def test_crash_between_commit_and_acknowledge_loses_and_duplicates_nothing(settings, rclient, conn, keys, monkeypatch):
    ids = queue(settings, make_events(300))
    crash_in(monkeypatch, consumers, "ack_and_delete", rclient, conn, keys, settings)
    assert count(conn) == 300  # committed
    assert pending_count(rclient, keys) == 300  # but never acknowledged

    report = run(rclient, conn, keys, settings, drain_reclaim_idle_ms=0)
    assert (report.reclaimed, report.read, report.inserted, report.duplicates) == (300, 300, 0, 300)
    assert sorted(event_ids_in_db(conn)) == sorted(ids)
    assert (rclient.xlen(keys.stream), pending_count(rclient, keys)) == (0, 0)


KILLED_DRAIN = """
import datetime as dt, os, signal
from engine import clients, config, drain
from engine.buffer import consumers
from engine.db import postgres
settings = config.function_settings()
def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)
consumers.ack_and_delete = die
conn = postgres.connect(settings.database_url, application_name="doomed", statement_timeout_ms=30000, io_timeout_seconds=10)
drain.run_drain(clients.redis_client(settings), conn, clients.stream_keys(settings), settings, dt.datetime.now(dt.UTC))
"""


def test_drain_process_killed_after_commit_before_ack(settings, function_env, rclient, conn, keys):
    ids = queue(settings, make_events(500))
    env = {**os.environ, **function_env, "PYTHONPATH": f"{ROOT / 'functions'}:{ROOT}"}
    result = subprocess.run([sys.executable, "-c", KILLED_DRAIN], env=env, capture_output=True, timeout=60)
    assert result.returncode == -9, result.stderr.decode()[-2000:]
    assert count(conn) == 500
    assert pending_count(rclient, keys) == 500

    report = run(rclient, conn, keys, settings, drain_reclaim_idle_ms=0)
    assert (report.reclaimed, report.inserted, report.duplicates) == (500, 0, 500)
    assert sorted(event_ids_in_db(conn)) == sorted(ids)
    assert (rclient.xlen(keys.stream), pending_count(rclient, keys)) == (0, 0)


def test_drain_killed_before_commit_leaves_entries_for_the_next(settings, rclient, conn, keys, monkeypatch):
    ids = queue(settings, make_events(200))
    crash_in(monkeypatch, writes, "load_rows", rclient, conn, keys, settings)
    assert count(conn) == 0
    assert pending_count(rclient, keys) == 200
    # Not yet idle long enough: a second drain leaves them to their (presumed live) owner.
    assert run(rclient, conn, keys, settings, drain_reclaim_idle_ms=60_000).read == 0
    report = run(rclient, conn, keys, settings, drain_reclaim_idle_ms=0)
    assert (report.reclaimed, report.inserted) == (200, 200)
    assert sorted(event_ids_in_db(conn)) == sorted(ids)


def test_poison_is_dead_lettered_after_n_deliveries_while_1000_good_land(settings, rclient, conn, keys):
    good = queue(settings, make_events(500))
    # Valid JSON, decodes fine, but PostgreSQL refuses it: user_id is longer than varchar(255).
    poison_id = append_raw(rclient, keys, entry_for(make_event(), user_id="x" * 300)).decode()
    good += queue(settings, make_events(500))

    first = run(rclient, conn, keys, settings, drain_max_deliveries=3, drain_reclaim_idle_ms=60_000)
    assert (first.read, first.inserted, first.retry_later, first.dead_lettered) == (1001, 1000, 1, 0)
    assert sorted(event_ids_in_db(conn)) == sorted(good)  # the poison blocked nothing
    assert pending_count(rclient, keys) == 1

    later = run(rclient, conn, keys, settings, drain_max_deliveries=3, drain_reclaim_idle_ms=0)
    assert later.dead_lettered == 1
    [(stream_id, error, deliveries, payload)] = conn.run("SELECT stream_id, error, deliveries, payload FROM dead_letters")
    assert stream_id == poison_id
    assert deliveries == 3
    assert error.startswith("22001") and "too long" in error
    assert orjson.loads(payload)["user_id"] == "x" * 300
    assert count(conn) == 1000
    assert (rclient.xlen(keys.stream), pending_count(rclient, keys)) == (0, 0)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", "entry is not valid JSON"),
        (orjson.dumps({"v": 1}), "entry lacks event_id"),
        (orjson.dumps({"v": 7}), "entry version 7 is not 1"),
    ],
)
def test_undecodable_entry_is_dead_lettered_at_once(settings, rclient, conn, keys, payload, reason):
    queue(settings, make_events(10))
    append_raw(rclient, keys, payload)
    report = run(rclient, conn, keys, settings)
    assert (report.read, report.inserted, report.dead_lettered) == (11, 10, 1)
    [(error, deliveries, stored)] = conn.run("SELECT error, deliveries, payload FROM dead_letters")
    assert error.startswith(reason)
    assert (deliveries, stored) == (1, payload)
    assert rclient.xlen(keys.stream) == 0


def test_old_events_land_in_the_default_partition_and_new_days_get_one(settings, rclient, conn, keys):
    today = dt.datetime.now(dt.UTC)
    queue(settings, [make_event(timestamp="2024-01-15T10:30:00Z"), make_event(timestamp=(today - dt.timedelta(days=3)).isoformat())])
    run(rclient, conn, keys, settings)
    where = dict(conn.run("SELECT tableoid::regclass::text, count(*) FROM events GROUP BY 1"))
    three_days_ago = (today - dt.timedelta(days=3)).strftime("events_p%Y%m%d")
    assert where == {"events_default": 1, three_days_ago: 1}


def test_finished_consumers_are_removed(settings, rclient, conn, keys):
    queue(settings, make_events(5))
    run(rclient, conn, keys, settings)
    run(rclient, conn, keys, settings)
    assert rclient.xinfo_consumers(keys.stream, keys.group) == []


def test_budget_bounds_an_invocation(settings, rclient, conn, keys):
    queue(settings, make_events(300))
    # start, the reclaim loop's check, the first read's check: all at 0; then 5 s have passed.
    clock = itertools.chain([0.0, 0.0, 0.0], itertools.repeat(5.0))
    report = drain.run_drain(
        rclient,
        conn,
        keys,
        with_settings(settings, drain_batch_size=100, drain_budget_seconds=1),
        dt.datetime.now(dt.UTC),
        clock=lambda: next(clock),
    )
    assert (report.read, report.backlog) == (100, 200)
    assert pending_count(rclient, keys) == 0  # no batch was read ahead and left unloaded


def test_a_failed_load_leaves_the_batch_read_ahead_to_the_next_invocation(settings, rclient, conn, keys, monkeypatch):
    ids = queue(settings, make_events(250))
    calls = []

    def fail_second(conn_, rows):
        calls.append(rows.count(b"\n"))
        if len(calls) == 2:
            raise SimulatedCrash
        return real_load(conn_, rows)

    real_load = writes.load_rows
    monkeypatch.setattr(writes, "load_rows", fail_second)
    with pytest.raises(SimulatedCrash):
        run(rclient, conn, keys, settings, drain_batch_size=100)
    monkeypatch.undo()
    assert calls == [100, 100]
    assert count(conn) == 100
    # The failed batch and the one read ahead while it loaded wait, pending, for a reclaim.
    assert pending_count(rclient, keys) == 150
    report = run(rclient, conn, keys, settings, drain_batch_size=100, drain_reclaim_idle_ms=0)
    assert (report.reclaimed, report.inserted, report.duplicates) == (150, 150, 0)
    assert sorted(event_ids_in_db(conn)) == sorted(ids)
    assert (rclient.xlen(keys.stream), pending_count(rclient, keys)) == (0, 0)


def test_replayed_dead_letters_land_once_the_cause_is_fixed(settings, rclient, conn, keys):
    from engine import replay

    # The cause: a rule the data breaks (here a constraint someone added by mistake).
    conn.run("ALTER TABLE events ADD CONSTRAINT no_explosions CHECK (action <> 'explode')")
    queue(settings, make_events(20))
    queue(settings, [make_event(action="explode")])
    first = run(rclient, conn, keys, settings, drain_max_deliveries=1)
    assert (first.inserted, first.dead_lettered) == (20, 1)
    assert conn.run("SELECT error FROM dead_letters")[0][0].startswith("23514")

    conn.run("ALTER TABLE events DROP CONSTRAINT no_explosions")  # the fix
    try:
        ids = replay.replay(conn, rclient, keys)
        assert len(ids) == 1
        assert replay.replay(conn, rclient, keys) == []  # nothing is sent twice
        again = run(rclient, conn, keys, settings)
        assert (again.read, again.inserted, again.dead_lettered) == (1, 1, 0)
        assert count(conn) == 21
        assert conn.run("SELECT count(*) FROM dead_letters WHERE replayed_at IS NOT NULL") == [[1]]
    finally:
        conn.run("ALTER TABLE events DROP CONSTRAINT IF EXISTS no_explosions")


def test_awkward_text_reaches_the_row_unchanged(settings, rclient, conn, keys):
    """Backslashes, quotes, tabs, newlines and non-ASCII survive COPY's text format both ways."""
    awkward = 'tab\there, new\nline, back\\slash, "quote", \\N, é ✓ 🎉'
    queue(settings, [make_event(user_id=awkward, element="e\\t", properties={"k": awkward, awkward: [awkward]})])
    run(rclient, conn, keys, settings)
    assert conn.run("SELECT user_id, element, properties FROM events") == [[awkward, "e\\t", {"k": awkward, awkward: [awkward]}]]


def test_an_entry_without_its_script_in_redis_still_appends(settings, rclient, conn, keys):
    rclient.script_flush()  # a restarted Redis has forgotten every script
    ids = queue(settings, make_events(3))
    assert len(ids) == 3 and rclient.xlen(keys.stream) == 3
