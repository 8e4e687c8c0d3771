"""Upgrading a database that holds 1 M events: the backfill counts them in chunks while drains
keep inserting (late events and links included), and then every rollup number equals the oracle."""

import datetime as dt
import random
import secrets
import threading
import uuid

import pytest

from engine import aggregates
from engine.db import migrate, postgres, writes
from local import generate
from tests import rollup_check
from tests.integration.test_rollups import entries, link

pytestmark = pytest.mark.integration

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
STORED = 1_000_000


@pytest.fixture
def old_database(services):
    """A database at migration 008 holding STORED events (loaded as the drain of that version did)."""
    target = postgres.parse_database_url(services.admin_url)
    name = f"analytics_test_backfill_{secrets.token_hex(4)}"
    admin = postgres.connect(target, application_name="analytics-tests", statement_timeout_ms=60_000, io_timeout_seconds=30)
    admin.run(f'CREATE DATABASE "{name}"')
    url = postgres.format_database_url(target.with_database(name))
    conn = postgres.connect(url, application_name="analytics-tests", statement_timeout_ms=600_000, io_timeout_seconds=60)
    try:
        migrate.apply_pending(conn, [m for m in migrate.discover() if m.version < 9])
        shape = generate.Shape(STORED, NOW, days=10, users=3000, elements=60)
        generate.ensure_partitions(conn, shape)
        generator = generate.Generator(shape)
        for start in range(0, STORED, generate.CHUNK_EVENTS):
            events, ids = generator.chunk(min(generate.CHUNK_EVENTS, STORED - start))
            with postgres.transaction(conn):
                conn.run(f"COPY events ({generate.EVENT_COLUMNS}) FROM STDIN", stream=[events])
                conn.run("COPY event_ids (event_id, received_at) FROM STDIN", stream=[ids])
        yield url, conn
    finally:
        conn.close()
        admin.run(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()


def drain_like(url: str, seed: int, stop: threading.Event, counts: list[int]) -> None:
    """Insert batches as the drain does until told to stop: now, late (hours to days back), resends, links."""
    rng = random.Random(seed)
    conn = postgres.connect(url, application_name="analytics-tests", statement_timeout_ms=60_000, io_timeout_seconds=30)
    sent: list[dict] = []
    try:
        while not stop.is_set():
            batch = [
                {
                    "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "project_id": 1,
                    "user_id": rng.choice([f"user_{rng.randrange(3000)}", f"anon_{seed}_{rng.randrange(50)}"]),
                    "element": rng.choice(["video_player", "nav_home", None]),
                    "duration": rng.choice([None, rng.randrange(0, 800) / 8]),
                    "timestamp": NOW - dt.timedelta(seconds=rng.choice([rng.uniform(0, 300), rng.uniform(0, 9 * 86400)])),
                    "session_id": rng.choice([None, f"s{rng.randrange(40)}"]),
                }
                for _ in range(500)
            ]
            resent = rng.sample(sent, min(len(sent), 25))
            counts.append(writes.load_rows(conn, entries(batch + resent)))
            sent += batch
            link(conn, 1, f"anon_{seed}_{rng.randrange(50)}", f"user_{rng.randrange(3000)}")
    finally:
        conn.close()


def test_upgrade_of_a_database_with_1m_events_under_load(old_database, settings):
    url, conn = old_database
    # 009 adds the rollups and their backfill mark; later migrations follow it in the same run.
    assert migrate.apply_pending(conn, migrate.discover()) == [m.version for m in migrate.discover() if m.version >= 9]
    assert [p for p, _ in conn.run("SELECT project_id, counted_from FROM rollup_backfill")] == [1]
    stop, counts = threading.Event(), []
    loaders = [threading.Thread(target=drain_like, args=(url, seed, stop, counts)) for seed in (1, 2)]
    for loader in loaders:
        loader.start()
    progress: list[str] = []
    try:
        result = aggregates.run_backfill(conn, say=progress.append, chunk_events=100_000)
    finally:
        stop.set()
        for loader in loaders:
            loader.join()
    assert result["pending_projects"] == [] and result["chunks"] >= 10
    assert len(progress) == result["chunks"] and progress[-1].endswith("down to the oldest event")
    assert sum(counts) > 0, "the drains kept inserting during the backfill"
    assert result["counted"] >= STORED  # the stored events, and late ones inserted under not-yet-counted ranges
    compared = rollup_check.check(conn, NOW, [1], settings)
    assert compared == STORED + sum(counts)
    said = []
    assert aggregates.verify(conn, settings, NOW, fix=False, say=said.append) == 0, said
