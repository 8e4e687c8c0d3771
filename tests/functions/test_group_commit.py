"""Group commit against real Redis: concurrent requests share script calls, and each still gets
its own exact answer (ids, duplicates, rate limits, backlog), a failed call fails each request it
carried, and nothing is acknowledged that is not in the stream."""

from __future__ import annotations

import asyncio
import socket
import uuid

import orjson
import pytest
import redis.asyncio

from engine import groupappend
from engine.buffer import ratelimit, streams
from engine.buffer.groupcommit import Committer, append_groups
from tests.conftest import WRITE
from tests.factories import make_event

pytestmark = pytest.mark.integration


def stream_event_ids(rclient, keys) -> list[str]:
    return [orjson.loads(fields[b"e"])["event_id"] for _, fields in rclient.xrange(keys.stream)]


def calls_and_groups(apps) -> tuple[int, int]:
    found = groupappend.committers(apps["ingest"].loop)
    return sum(c.calls for c in found), sum(c.groups for c in found)


def test_concurrent_events_share_one_script_call_and_each_gets_its_own_answer(apps, rclient, keys):
    sent = [make_event(user_id=f"user_{i}", event_id=str(uuid.uuid4())) for i in range(20)]
    resent = sent[3]  # the same client id twice in the same group: stored once
    before = calls_and_groups(apps)
    answers = apps["ingest"].gather(*(("POST", "/event", {"json": event, "headers": WRITE}) for event in [*sent, resent]))
    calls, groups = (now - then for now, then in zip(calls_and_groups(apps), before, strict=True))
    # Every request reaches the committer before its first call runs: one call carries all 21.
    assert (calls, groups) == (1, 21)
    assert [a.status_code for a in answers] == [202] * 21
    assert [a.json["event_id"] for a in answers] == [e["event_id"] for e in [*sent, resent]]
    assert [a.json["status"] for a in answers] == ["accepted"] * 20 + ["duplicate"]
    assert stream_event_ids(rclient, keys) == [e["event_id"] for e in sent]


def test_concurrent_batches_are_appended_in_arrival_order_each_with_its_rejections(apps, rclient, keys):
    batches = [[make_event(user_id=f"u{b}", event_id=str(uuid.uuid4())) for _ in range(5)] + [{"user_id": "u"}] for b in range(6)]
    before = calls_and_groups(apps)
    answers = apps["ingest"].gather(*(("POST", "/events", {"json": batch, "headers": WRITE}) for batch in batches))
    assert calls_and_groups(apps)[0] - before[0] == 1
    for batch, answer in zip(batches, answers, strict=True):
        assert answer.status_code == 202
        assert (answer.json["accepted"], answer.json["duplicates"], [r["index"] for r in answer.json["rejected"]]) == (5, 0, [5])
        assert answer.json["event_ids"] == [e["event_id"] for e in batch[:5]] + [None]
    assert stream_event_ids(rclient, keys) == [e["event_id"] for batch in batches for e in batch[:5]]


def items(count: int) -> list[tuple[bytes, bytes]]:
    return [(uuid.uuid4().bytes, orjson.dumps({"n": i})) for i in range(count)]


def buckets(keys, name: str, rate: int) -> ratelimit.Buckets:
    return ratelimit.Buckets(keys.rate_bucket("key", name), rate, keys.rate_bucket("ip", "off"), 0)


def test_each_group_of_a_call_gets_its_own_rate_limit_and_backlog_outcome(rclient, keys):
    # A key at 5 events/s has a burst of 10: its first group of 8 passes, its second of 4 does not;
    # another key's group is not affected; the backlog of 20 then takes a group of 10 (20 in), not one more.
    limited, other = buckets(keys, "limited", 5), buckets(keys, "other", 5)
    groups = [(items(8), limited), (items(4), limited), (items(2), other), (items(10), None), (items(1), None)]
    call = streams.Call(keys, 60, 20)
    outcomes = streams.append_groups(rclient, call, groups)
    assert [len(o) if isinstance(o, list) else type(o).__name__ for o in outcomes] == [8, "RateLimited", 2, 10, "Backpressure"]
    assert (outcomes[1].which, outcomes[1].retry_after_ms) == ("key", 400)
    assert rclient.xlen(keys.stream) == 20
    stored = [fields[b"e"] for _, fields in rclient.xrange(keys.stream)]
    assert stored == [payload for i in (0, 2, 3) for _, payload in groups[i][0]]
    assert {k.decode(): int(v) for k, v in rclient.hgetall(keys.counters).items()} == {"accepted": 20}


def test_a_duplicate_across_groups_of_one_call_is_stored_once(rclient, keys):
    shared = uuid.uuid4().bytes
    groups = [([(shared, b"first")], None), ([(uuid.uuid4().bytes, b"other"), (shared, b"again")], None)]
    first, second = streams.append_groups(rclient, streams.Call(keys, 60, 100), groups)
    assert first[0] is not None and second[0] is not None and second[1] is None
    assert [fields[b"e"] for _, fields in rclient.xrange(keys.stream)] == [b"first", b"other"]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_failed_call_fails_every_request_it_carried_and_the_next_call_runs(rclient, keys, settings):
    async def scenario():
        dead = redis.asyncio.Redis(port=closed_port(), socket_connect_timeout=1)
        live = redis.asyncio.Redis.from_url(settings.redis_url)
        call = streams.Call(keys, 60, 100)
        target = {"client": dead}
        committer = Committer(lambda groups: append_groups(target["client"], call, groups))
        waiting = await asyncio.gather(*(committer.append((items(2), None)) for _ in range(5)), return_exceptions=True)
        target["client"] = live
        after = await asyncio.gather(*(committer.append((items(3), None)) for _ in range(4)))
        await dead.aclose()
        await live.aclose()
        return waiting, after, committer

    waiting, after, committer = asyncio.run(scenario())
    assert [type(outcome).__name__ for outcome in waiting] == ["ConnectionError"] * 5
    assert [len(ids) for ids in after] == [3] * 4 and all(all(after_ids) for after_ids in after)
    assert (committer.calls, committer.groups, committer.busy) == (2, 9, False)
    assert rclient.xlen(keys.stream) == 12  # only the answered groups' events are in the stream


def test_a_call_carries_at_most_its_event_cap_and_the_rest_wait_for_the_next(rclient, keys, settings):
    async def scenario():
        live = redis.asyncio.Redis.from_url(settings.redis_url)
        committer = Committer(lambda groups: append_groups(live, streams.Call(keys, 60, 10**6), groups))
        answered = await asyncio.gather(*(committer.append((items(500), None)) for _ in range(9)))
        await live.aclose()
        return answered, committer

    answered, committer = asyncio.run(scenario())
    assert [len(ids) for ids in answered] == [500] * 9
    # 2,000 events a call: 4 groups, 4 groups, then the last one.
    assert (committer.calls, committer.groups) == (3, 9)
    assert rclient.xlen(keys.stream) == 4500
