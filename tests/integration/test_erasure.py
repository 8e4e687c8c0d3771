"""Erasing a person while other people's events keep flowing: no row, dead letter or stream entry
of theirs is left, every metric equals the oracle over what remains, and the rollups need no repair."""

import base64
import datetime as dt
import threading

import orjson
import pytest

from engine import aggregates, drain, shards
from engine.buffer import consumers
from engine.core import erasure
from engine.db import postgres, writes
from tests import rollup_check
from tests.conftest import TASK, WRITE_KEY, with_settings
from tests.erasure_helpers import admin_key, project, queue_for, rows_mentioning
from tests.factories import make_event
from tests.helpers import entry_for, queue

pytestmark = pytest.mark.integration

BASIC = {"Authorization": "Basic " + base64.b64encode(f"{WRITE_KEY}:".encode()).decode()}
ALICE_IDS = ("alice", "anon-alice", "old-alice")


def ago(days: float) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).isoformat()


def drain_all(settings, rclient, conn) -> None:
    """Drain every shard until the stream is empty, reclaiming whatever was left pending."""
    quick = with_settings(settings, drain_reclaim_idle_ms=0)
    for _ in range(20):
        report, _ = shards.drain_shards(rclient, conn, shards_of(settings), quick, dt.datetime.now(dt.UTC))
        if report.backlog == 0:
            return
    raise AssertionError("the stream did not empty")


def shards_of(settings):
    from engine import clients

    return clients.stream_shards(settings)


def others_flowing(settings, stop: threading.Event, posted: list[int], errors: list[BaseException]) -> None:
    """Other people's events, posted and drained in a loop until stop is set (and once after)."""
    import redis

    rclient = redis.Redis.from_url(settings.redis_url)
    conn = postgres.connect(settings.database_url, application_name="analytics-tests", statement_timeout_ms=60_000, io_timeout_seconds=30)
    try:
        last = False
        while not last:
            last = stop.is_set()
            batch = [make_event(user_id=f"flow_{i % 5}", session_id=f"f{i % 3}", element=f"el_{i % 4}") for i in range(20)]
            queue(settings, batch)
            posted[0] += len(batch)
            shards.drain_shards(rclient, conn, shards_of(settings), settings, dt.datetime.now(dt.UTC))
    except BaseException as exc:  # reported to the test
        errors.append(exc)
    finally:
        conn.close()
        rclient.close()


def segment(apps, messages: list[dict]) -> None:
    answer = apps["ingest"].post("/v1/batch", json={"batch": messages}, headers=BASIC)
    assert answer.json["accepted"] == len(messages), answer.json


def build_alice(apps, settings, rclient, conn, keys, other: int) -> dict:
    """Alice in project 1 (events over several days, linked ids, traits, a group, a dead letter,
    entries drained, undrained and pending to a dead consumer); bob and carol beside her; an
    "alice" in project `other`. Returns what the erasure should count."""
    mine = [make_event(user_id="alice", timestamp=ago(d), session_id=f"sa{d}", element="video_player") for d in (0, 1, 2, 3)]
    mine.append(make_event(user_id="alice", timestamp=ago(0), element=None, duration=None))
    queue_for(settings, 1, mine + [make_event(user_id="bob", timestamp=ago(d), session_id="sb") for d in (0, 2)])
    queue_for(settings, other, [make_event(user_id="alice", timestamp=ago(d)) for d in (0, 1)])
    segment(
        apps,
        [
            {"type": "track", "anonymousId": "anon-alice", "event": "Viewed", "properties": {"element": "hero"}},
            {"type": "track", "anonymousId": "anon-alice", "userId": "alice", "event": "Signed in"},
            {"type": "identify", "userId": "alice", "traits": {"email": "alice@example.com", "plan": "pro"}},
            {"type": "group", "userId": "alice", "groupId": "acme", "traits": {"size": 10}},
            {"type": "alias", "previousId": "old-alice", "userId": "alice"},
            {"type": "track", "userId": "old-alice", "event": "Clicked", "properties": {"element": "share"}},
            {"type": "identify", "userId": "carol", "traits": {"plan": "free"}},
            {"type": "group", "userId": "carol", "groupId": "acme"},
            {"type": "track", "userId": "carol", "event": "Viewed", "properties": {"element": "hero"}},
        ],
    )
    assert apps["stream_drain"].post("/tasks/stream-drain", headers=TASK).json["backlog"] == 0
    stored = conn.run("SELECT count(*) FROM events WHERE project_id = 1 AND user_id IN ('alice', 'anon-alice', 'old-alice')")[0][0]
    assert stored == 8
    writes.insert_dead_letters(
        conn,
        [
            ("9-1", entry_for(make_event(user_id="alice")), "value too long", 5),
            ("9-2", entry_for(make_event(user_id="bob")), "value too long", 5),
            ("9-3", entry_for(make_event(user_id="alice"), project_id=other), "value too long", 5),
        ],
    )
    # Undrained: two of alice's (one under her anonymous id), one of bob's, all read by a consumer
    # that then died, so they sit pending; and one more of alice's never read.
    queue_for(settings, 1, [make_event(user_id="alice"), make_event(user_id="anon-alice"), make_event(user_id="bob")])
    consumers.ensure_group(rclient, keys)
    assert len(consumers.read_new(rclient, keys, "died-mid-batch", 10)) == 3
    queue_for(settings, 1, [make_event(user_id="old-alice")])
    return {"events": 8, "users": 1, "identity_links": 2, "group_members": 1, "dead_letters": 1, "stream_entries": 3}


def test_a_person_is_erased_everywhere_while_others_keep_flowing(apps, settings, rclient, conn, keys):
    other = project(conn, "other")
    expected = build_alice(apps, settings, rclient, conn, keys, other)
    stop, posted, errors = threading.Event(), [0], []
    flow = threading.Thread(target=others_flowing, args=(settings, stop, posted, errors))
    flow.start()
    try:
        answer = apps["metrics"].delete("/people/anon-alice", headers=admin_key(conn, 1))  # any of her ids finds her
    finally:
        stop.set()
        flow.join(60)
    assert not errors, errors
    assert answer.status_code == 200, answer.json
    assert (answer.json["status"], answer.json["ids"]) == ("erased", 3)
    erased = dict(answer.json["erased"])
    # The flowing drain may have moved some of her undrained entries into events before the
    # erasure paused it: each is counted once, as a row or as an entry.
    assert erased["events"] >= expected["events"]
    assert erased.pop("events") + erased.pop("stream_entries") == expected.pop("events") + expected.pop("stream_entries")
    assert {k: erased[k] for k in expected} == expected
    drain_all(settings, rclient, conn)

    for needle in ALICE_IDS:
        found = rows_mentioning(conn, needle)
        letters = found.pop("dead_letters", [])
        # Only the other project's "alice" is left; a hit in a table without project_id shows as None.
        assert {p for hits in found.values() for p, _ in hits} == ({other} if needle == "alice" else set()), (needle, found)
        if needle == "alice":
            assert len(letters) == 1
            [(payload,)] = conn.run("SELECT payload FROM dead_letters WHERE stream_id = '9-3'")
            assert erasure.decode_payload(bytes(payload))["project_id"] == other
        else:
            assert letters == []
    for keys_ in shards_of(settings):
        for _, fields in rclient.xrange(keys_.stream):
            event = orjson.loads(fields[b"e"])
            assert not (event["project_id"] == 1 and erasure.entry_ids(event) & set(ALICE_IDS)), event
    assert conn.run("SELECT count(*) FROM events WHERE project_id = :p AND user_id = 'alice'", p=other) == [[2]]
    assert conn.run("SELECT count(*) FROM events WHERE user_id LIKE 'flow_%'") == [[posted[0]]]
    assert conn.run("SELECT user_id FROM users ORDER BY user_id") == [["carol"]]
    assert conn.run("SELECT user_id FROM group_members") == [["carol"]]
    assert conn.run("SELECT count(*) FROM dead_letters") == [[2]]
    assert rclient.xpending(keys.stream, keys.group)["pending"] == 0

    now = dt.datetime.now(dt.UTC)
    rollup_check.check(conn, now, [1, other], settings)
    said = []
    with postgres.transaction(conn):
        assert aggregates.verify(conn, settings, now, fix=False, say=said.append) == 0, said


def test_the_record_holds_salted_hashes_that_tell_which_ids_were_erased(apps, settings, rclient, conn, keys):
    queue_for(settings, 1, [make_event(user_id="dora"), make_event(user_id="eve")])
    segment(apps, [{"type": "alias", "previousId": "dora-old", "userId": "dora"}])
    drain_all(settings, rclient, conn)
    apps["metrics"].delete("/people/dora", headers=admin_key(conn, 1))
    apps["metrics"].delete("/people/dora", headers=admin_key(conn, 1))
    [(salt, subject, hashes, counts)] = conn.run("SELECT salt, subject_hash, subject_hashes, counts FROM erasures ORDER BY id LIMIT 1")
    assert bytes(subject) == erasure.subject_hash(bytes(salt), 1, "dora")
    assert sorted(bytes(h) for h in hashes) == sorted(erasure.subject_hash(bytes(salt), 1, i) for i in ("dora", "dora-old"))
    assert (counts["events"], counts["identity_links"]) == (1, 1)
    from engine.db import erasure as db_erasure

    assert [r["counts"]["events"] for r in db_erasure.records_of(conn, 1, "dora-old")] == [1]
    assert [r["counts"]["events"] for r in db_erasure.records_of(conn, 1, "dora")] == [1, 0]
    assert db_erasure.records_of(conn, 1, "eve") == []
    assert db_erasure.records_of(conn, 2, "dora") == []


def test_a_pending_entry_deleted_from_the_stream_is_reported_by_xautoclaim_and_the_drain_copes(settings, rclient, conn, keys):
    queue(settings, [make_event(user_id="gone"), make_event(user_id="kept")])
    consumers.ensure_group(rclient, keys)
    [(gone_id, _), (kept_id, _)] = consumers.read_new(rclient, keys, "died-mid-batch", 10)
    rclient.xdel(keys.stream, gone_id)  # as an erasure that did not acknowledge would leave it
    # XREADGROUP with an id (the consumer's own pending) names the deleted entry with no fields
    # (nil, which redis-py gives as {}); XAUTOCLAIM lists it apart, as deleted, and drops it
    # from the pending list (buffer/consumers.reclaim_stale acknowledges such ids).
    own = rclient.xreadgroup(keys.group, "died-mid-batch", {keys.stream: "0"})
    assert [(i, bool(f)) for i, f in own[0][1]] == [(gone_id, False), (kept_id, True)]
    _, claimed, deleted = rclient.xautoclaim(keys.stream, keys.group, "probe", 0, start_id="0-0")
    assert ([i for i, _ in claimed], deleted) == ([kept_id], [gone_id])
    assert rclient.xpending(keys.stream, keys.group)["pending"] == 1
    report = drain.run_drain(rclient, conn, keys, with_settings(settings, drain_reclaim_idle_ms=0), dt.datetime.now(dt.UTC))
    assert (report.reclaimed, report.inserted, report.backlog) == (1, 1, 0)
    assert conn.run("SELECT user_id FROM events") == [["kept"]]
    assert rclient.xpending(keys.stream, keys.group)["pending"] == 0


def test_events_the_backfill_has_not_counted_yet_are_erased_without_touching_the_rollups(settings, rclient, conn):
    """Half-way through a backfill: events before counted_from are in no rollup yet, so only the
    counted ones come off them; the backfill then counts what is left, and nothing needs repair."""
    from engine import erase
    from tests.helpers import copy_lines

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    mark = now - dt.timedelta(days=2)

    def row(user: str, days: float, element: str) -> dict:
        return {
            "project_id": 1,
            "user_id": user,
            "element": element,
            "duration": 4.5,
            "timestamp": now - dt.timedelta(days=days),
            "session_id": "s",
        }

    counted = [row(u, d, e) for u in ("alice", "bob") for d, e in ((0, "a"), (1, "b"))]
    uncounted = [row(u, d, e) for u in ("alice", "bob") for d, e in ((3, "a"), (4, "c"))]
    writes.load_rows(conn, copy_lines(counted, now))
    with postgres.transaction(conn):  # stored before the rollups existed, as after sql/009
        conn.run("COPY drain_raw FROM STDIN", stream=[copy_lines(uncounted, now)])
        conn.run(
            'INSERT INTO events (event_id, project_id, user_id, action, element, duration, "timestamp", received_at, session_id) '
            "SELECT (entry->>'event_id')::uuid, 1, entry->>'user_id', 'click', entry->>'element', 4.5, "
            "(entry->>'timestamp')::timestamptz, now(), 's' FROM drain_raw"
        )
        conn.run("INSERT INTO rollup_backfill (project_id, counted_from) VALUES (1, :mark)", mark=mark)
    body = erase.erase_person(rclient, conn, shards_of(settings), 1, "alice", "test")
    assert body["erased"]["events"] == 4
    assert aggregates.run_backfill(conn)["counted"] == 2  # bob's two old events
    rollup_check.check(conn, now, [1], settings)
    said = []
    with postgres.transaction(conn):
        assert aggregates.verify(conn, settings, now, fix=False, say=said.append) == 0, said
