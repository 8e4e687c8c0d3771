"""view-refresh: the lock, partition maintenance and retention."""

import datetime as dt
import threading
import time

import pytest

from engine import refresh
from engine.core import constants as c
from engine.db import postgres, queries, upkeep
from tests.conftest import with_settings
from tests.factories import make_event
from tests.helpers import queue

pytestmark = pytest.mark.integration


def partitions(conn):
    return {name for (name,) in conn.run(queries.QUERIES["event_partitions"])}


def test_second_refresh_while_one_holds_the_lock_is_skipped(settings, conn):
    holder = postgres.connect(settings.database_url, application_name="holder", statement_timeout_ms=10_000, io_timeout_seconds=10)
    assert upkeep.try_advisory_lock(holder, c.LOCK_REFRESH)
    try:
        result = refresh.run_refresh(conn, settings, dt.datetime.now(dt.UTC))
        assert result["status"] == "skipped"
        upkeep.advisory_unlock(holder, c.LOCK_REFRESH)  # closing alone releases it only when the server notices
    finally:
        holder.close()
    assert refresh.run_refresh(conn, settings, dt.datetime.now(dt.UTC))["status"] == "refreshed"


def test_concurrent_refreshes_exactly_one_runs_the_others_skip(settings):
    """Three refreshes at once: the one that takes the lock is held inside its work (a blocker
    locks event_ids, which its retention step deletes from) until both others have answered."""
    blocker = postgres.connect(settings.database_url, application_name="blocker", statement_timeout_ms=60_000, io_timeout_seconds=30)
    blocker.run("BEGIN")
    blocker.run("LOCK TABLE event_ids IN ACCESS EXCLUSIVE MODE")
    results: list[str] = []
    kept = with_settings(settings, retention_days=30)

    def one():
        connection = postgres.connect(settings.database_url, application_name="r", statement_timeout_ms=60_000, io_timeout_seconds=30)
        try:
            results.append(refresh.run_refresh(connection, kept, dt.datetime.now(dt.UTC))["status"])
        finally:
            connection.close()

    threads = [threading.Thread(target=one) for _ in range(3)]
    try:
        for t in threads:
            t.start()
        deadline = time.monotonic() + 30
        while len(results) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert results == ["skipped", "skipped"]  # answered while the third still holds the lock
    finally:
        blocker.run("ROLLBACK")
        blocker.close()
        for t in threads:
            t.join()
    assert results == ["skipped", "skipped", "refreshed"]


def test_creates_exactly_the_missing_partitions_ahead(settings, conn):
    now = dt.datetime.now(dt.UTC)
    before = partitions(conn)
    expected = {(now.date() + dt.timedelta(days=i)).strftime("events_p%Y%m%d") for i in range(21)}
    missing = expected - before
    assert missing  # 20 days ahead are more than any set-up creates
    result = refresh.run_refresh(conn, with_settings(settings, partition_days_ahead=20), now)
    assert set(result["partitions"]["created"]) == missing
    assert expected <= partitions(conn)
    again = refresh.run_refresh(conn, with_settings(settings, partition_days_ahead=20), now)
    assert again["partitions"]["created"] == []


def test_retention_drops_old_partitions_ids_and_default_rows(settings, conn, rclient, keys):
    from engine import drain

    now = dt.datetime.now(dt.UTC)
    old = (now - dt.timedelta(days=20)).isoformat()
    recent = (now - dt.timedelta(days=2)).isoformat()
    queue(settings, [make_event(timestamp=old), make_event(timestamp=recent), make_event(timestamp="2024-01-15T10:30:00Z")])
    drain.run_drain(rclient, conn, keys, settings, now)
    assert conn.run("SELECT count(*) FROM events")[0][0] == 3
    conn.run("UPDATE event_ids SET received_at = received_at - interval '400 days'")  # pretend ids are old

    result = refresh.run_refresh(conn, with_settings(settings, retention_days=10), now)
    old_partition = (now - dt.timedelta(days=20)).strftime("events_p%Y%m%d")
    assert old_partition in result["partitions"]["dropped"]
    assert old_partition not in partitions(conn)
    assert result["partitions"]["expired_default_rows"] == 1
    assert result["partitions"]["expired_event_ids"] == 3
    assert [r[0].isoformat()[:10] for r in conn.run('SELECT "timestamp" FROM events')] == [recent[:10]]
