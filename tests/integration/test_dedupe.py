"""Dedupe marks against real Redis: exact answers at the window's edge, one row after it, bytes per mark."""

from __future__ import annotations

import datetime as dt
import random
import struct
import time
import uuid

import pytest
import redis

from engine import drain
from engine.buffer import dedupe, facts, streams
from engine.buffer.keys import Keys
from engine.core import constants as c
from local.bench.marks import private_redis
from tests.conftest import with_settings
from tests.factories import make_event
from tests.helpers import event_ids_in_db, queue

pytestmark = pytest.mark.integration

WINDOW_SECONDS = 60
WINDOW_MS = WINDOW_SECONDS * 1000
PAYLOAD = b"{}"


def append(rclient, keys, ids: list[uuid.UUID], clock_ms: int, per_shard: int = 256) -> list[bool]:
    """Append ids at clock_ms, 500 a call, per_shard marks a shard; True where the answer was "duplicate"."""
    answers = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        replies = streams.append_events(
            rclient, keys, [(i.bytes, PAYLOAD) for i in chunk], WINDOW_SECONDS, 10**9, marks_per_shard=per_shard, clock_ms=clock_ms
        )
        answers += [reply is None for reply in replies]
    return answers


def test_resends_within_the_window_are_duplicates_and_new_ids_never_are(rclient, keys):
    rng = random.Random(20)
    start = 1_900_000_000_000 + 12_345  # not on a bucket boundary
    # 50,000 originals, marked at 100 moments spread over one window; the last ones exactly
    # one window before the resend, the first ones nearly two windows before it.
    originals = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(50_000)]
    marked_at = {}
    for step in range(100):
        moment = start + step * (WINDOW_MS // 100)
        chunk = originals[step * 500 : (step + 1) * 500]
        assert append(rclient, keys, chunk, moment) == [False] * 500
        marked_at.update(dict.fromkeys(chunk, moment))
        rclient.delete(keys.stream)
    resend_at = start + 99 * (WINDOW_MS // 100) + WINDOW_MS  # the window's edge for the last step
    new = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(50_000)]
    mixed = originals + new
    rng.shuffle(mixed)
    answers = dict(zip(mixed, append(rclient, keys, mixed, resend_at), strict=True))
    assert [i for i in new if answers[i]] == []  # no new event is ever a duplicate
    within = [i for i in originals if resend_at - marked_at[i] <= WINDOW_MS]
    assert len(within) == 500 and all(answers[i] for i in within)
    edge_minus_one = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(500)]
    assert append(rclient, keys, edge_minus_one, resend_at) == [False] * 500
    assert append(rclient, keys, edge_minus_one, resend_at + WINDOW_MS - 1) == [True] * 500
    # Past window + bucket width (2 windows here) every mark is forgotten: accepted again.
    later = resend_at + 2 * WINDOW_MS + 1
    assert append(rclient, keys, originals, later) == [False] * len(originals)
    assert append(rclient, keys, originals[:1000], later) == [True] * 1000


def test_a_duplicate_within_one_request_is_answered_duplicate(rclient, keys):
    twice = uuid.uuid4()
    assert append(rclient, keys, [twice, uuid.uuid4(), twice], 1_900_000_000_000) == [False, False, True]


def shard_keys(rclient, keys) -> list[bytes]:
    """The namespace's shard hashes (every key under Keys.seen but the index itself, the bitmaps and the list of buckets to delete)."""
    return [key for key in rclient.scan_iter(match=f"{keys.seen}:*", count=1000) if not key.endswith((b":b", b":gc"))]


def test_a_mark_taken_back_after_a_failed_append_leaves_no_shard_unlisted(rclient, keys):
    lone = uuid.uuid4()
    rclient.set(keys.stream, "not a stream")  # XADD fails: WRONGTYPE
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        append(rclient, keys, [lone], 1_900_000_000_000)
    assert [key for key in shard_keys(rclient, keys) if rclient.hexists(key, lone.bytes)] == []
    rclient.delete(keys.stream)
    assert append(rclient, keys, [lone], 1_900_000_000_000) == [False]  # the retry is appended
    holding = [key for key in shard_keys(rclient, keys) if rclient.hexists(key, lone.bytes)]
    bucket = 1_900_000_000_000 // WINDOW_MS
    assert len(holding) == 1 and holding[0].startswith(f"{keys.seen}:{bucket}:0:".encode())
    assert rclient.hget(retired_key(keys), str(bucket)) == b"1024"  # so a call two buckets later deletes it


def test_marks_in_a_generation_that_filled_up_within_the_call_are_found_by_the_rest_of_it(rclient, keys):
    # One mark a shard: the bucket's first generation (1,024 shards) fills after 1,024 marks, the
    # next (4,096) after 4,096 more, all within one call; every resend in it must still be found.
    ids = [uuid.uuid4() for _ in range(6000)]
    items = [(i.bytes, PAYLOAD) for i in ids + ids]
    replies = streams.append_events(rclient, keys, items, WINDOW_SECONDS, 10**9, marks_per_shard=1, clock_ms=1_900_000_000_000)
    assert [r is None for r in replies] == [False] * 6000 + [True] * 6000
    bucket = 1_900_000_000_000 // WINDOW_MS
    assert rclient.hget(keys.seen, str(bucket)) == b"1024 4096 16384"
    assert dedupe.marks_held(rclient, keys.seen) == 6000 and rclient.xlen(keys.stream) == 6000


def test_resend_after_the_window_is_accepted_and_makes_no_second_row(settings, rclient, conn, keys):
    short = with_settings(settings, dedupe_window_seconds=1)
    event = make_event(event_id=str(uuid.uuid4()))
    queue(short, [event])
    assert rclient.xlen(keys.stream) == 1
    queue(short, [event])  # within the window: a duplicate, not appended
    assert rclient.xlen(keys.stream) == 1
    drain.run_drain(rclient, conn, keys, short, dt.datetime.now(dt.UTC))
    time.sleep(2 * short.dedupe_window_seconds + 0.2)  # window + bucket width
    queue(short, [event])
    assert rclient.xlen(keys.stream) == 1  # accepted at ingest
    report = drain.run_drain(rclient, conn, keys, short, dt.datetime.now(dt.UTC))
    assert (report.read, report.inserted, report.duplicates) == (1, 0, 1)
    assert event_ids_in_db(conn) == [event["event_id"]]


def test_200000_marks_cost_at_most_the_stated_bytes_each():
    ids = 200_000
    keys = Keys.for_namespace("memory")
    with private_redis() as client:
        per_shard = dedupe.marks_per_shard(facts.server_facts(client).hash_listpack_entries)
        before = None
        for _ in range(ids // 500 + 1):  # the first call (loading the script, buffers) is not measured
            items = [(uuid.uuid4().bytes, PAYLOAD) for _ in range(500)]
            streams.append_events(client, keys, items, c.DEFAULT_DEDUPE_WINDOW_SECONDS, 10**9, marks_per_shard=per_shard)
            client.delete(keys.stream)  # the stream's memory is the backlog's share, not the marks'
            before = before or client.info("memory")["used_memory"]
        grown = client.info("memory")["used_memory"] - before
        assert dedupe.marks_held(client, keys.seen) == ids + 500
    assert grown / ids <= c.DEDUPE_BYTES_PER_MARK


# Buckets one window wide (DEDUPE_BUCKETS_PER_WINDOW = 1): three moments 12,345 ms into consecutive
# buckets. A lookup at the third reads the second (the first is past the window by then).
B0 = 1_900_000_000_000 // WINDOW_MS
AT = [(B0 + k) * WINDOW_MS + 12_345 for k in range(3)]


def new_ids(n: int, seed: int) -> list[uuid.UUID]:
    rng = random.Random(seed)
    return [uuid.UUID(int=rng.getrandbits(128)) for _ in range(n)]


def bit_of(i: uuid.UUID, bits: int) -> int:
    """The bitmap bit a mark sets: the xor of the id's four words (the shard's hash too), mod bits."""
    a, b, c_, d = struct.unpack(">iiii", i.bytes)
    return (a ^ b ^ c_ ^ d) & (bits - 1)


def steady_bucket(rclient, keys, before: int, marks: list[uuid.UUID]) -> int:
    """AT[0]'s bucket gets `before` marks, AT[1]'s the marks (its bitmap sized from `before`): its bits."""
    assert append(rclient, keys, new_ids(before, 99), AT[0]) == [False] * before
    assert append(rclient, keys, marks, AT[1]) == [False] * len(marks)
    rclient.delete(keys.stream)
    index = rclient.hgetall(keys.seen)
    bucket = str(B0 + 1).encode()
    assert index[bucket + b":k"] == index[bucket + b":t"] == str(len(marks)).encode()  # every mark set its bit
    return int(index[bucket + b":m"])


def bitmap_key(keys, k: int) -> str:
    return f"{keys.seen}:{B0 + k}:b"


def retired_key(keys) -> str:
    return f"{keys.seen}:gc"


def bucket_of(shard: bytes) -> int:
    return int(shard.split(b":")[-3])


def test_shards_have_no_expiry_of_their_own_and_their_bucket_is_listed_for_deletion(rclient, keys):
    start = 1_900_000_000_000 + 12_345  # 52,345 ms into its bucket (one window wide)
    bucket = start // WINDOW_MS
    rng = random.Random(21)
    ids = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(3000)]
    assert append(rclient, keys, ids[:2000], start) == [False] * 2000
    # The names as before: <seen>:<bucket>:<generation>:<xor of the id's four words, low 10 bits>.
    words = [struct.unpack(">iiii", i.bytes) for i in ids[:2000]]
    named = {f"{keys.seen}:{bucket}:0:{(a ^ b ^ c ^ d) & 1023}".encode() for a, b, c, d in words}
    assert set(shard_keys(rclient, keys)) == named
    assert {rclient.pttl(key) for key in named} == {-1}  # no PEXPIRE a shard: the script deletes them (below)
    assert rclient.hgetall(retired_key(keys)) == {str(bucket).encode(): b"1024"}
    assert rclient.pttl(retired_key(keys)) == -1  # kept as long as it lists shards
    assert append(rclient, keys, ids[2000:], start + 5_000) == [False] * 1000
    assert dedupe.marks_held(rclient, keys.seen) == 3000


def test_calls_that_mark_delete_the_shards_of_the_buckets_past_the_window_1024_names_a_call(rclient, keys):
    # Marks in three consecutive buckets; the first grows a second generation (at 64 marks a shard,
    # its first 1,024 shards hold 65,536 marks; the 70,000 add one of 4,096 shards): 5,120 names.
    first, second, third = new_ids(70_000, 60), new_ids(2000, 61), new_ids(2000, 62)
    assert append(rclient, keys, first, AT[0], per_shard=64) == [False] * len(first)
    assert rclient.hget(keys.seen, str(B0)) == b"1024 4096"
    assert append(rclient, keys, second, AT[1]) == [False] * len(second)
    assert {bucket_of(key) for key in shard_keys(rclient, keys)} == {B0, B0 + 1}
    # AT[2]'s first call deletes 1,024 names of bucket B0 (past the window), its generation 0; the next
    # generation 1's shards 0 to 1,023; three more calls the rest, and B0's entry in the list.
    assert append(rclient, keys, third[:1], AT[2]) == [False]
    assert rclient.hget(retired_key(keys), f"{B0}:d") == b"1024"
    assert {key.split(b":")[-2] for key in shard_keys(rclient, keys) if bucket_of(key) == B0} == {b"1"}
    assert append(rclient, keys, third[1:2], AT[2]) == [False]
    left = [key.split(b":")[-2:] for key in shard_keys(rclient, keys) if bucket_of(key) == B0]
    assert left and all(gen == b"1" and int(shard) >= 1024 for gen, shard in left)
    for start in (2, 3, 4):
        assert append(rclient, keys, third[start : start + 1], AT[2]) == [False]
    assert append(rclient, keys, third[5:], AT[2]) == [False] * (len(third) - 5)
    assert {bucket_of(key) for key in shard_keys(rclient, keys)} == {B0 + 1, B0 + 2}
    assert set(rclient.hkeys(retired_key(keys))) == {str(B0 + 1).encode(), str(B0 + 2).encode()}
    assert rclient.exists(bitmap_key(keys, 1)) == 1  # the bucket before, still read by lookups, kept all of its keys
    assert append(rclient, keys, second[:500] + first[:500], AT[2] + 1) == [True] * 500 + [False] * 500


def test_after_a_quiet_spell_the_first_call_deletes_every_bucket_left_before_it(rclient, keys):
    marked = new_ids(5000, 63)
    assert append(rclient, keys, marked[:2500], AT[0]) == [False] * 2500
    assert append(rclient, keys, marked[2500:], AT[1]) == [False] * 2500
    # Hours without a call: the index and the bitmaps expire (as their PEXPIRE makes them); the
    # shards, which have no expiry, stay until the next call that makes a mark.
    rclient.delete(keys.seen, bitmap_key(keys, 0), bitmap_key(keys, 1))
    assert len(shard_keys(rclient, keys)) > 1500
    later = AT[1] + 5 * WINDOW_MS
    assert append(rclient, keys, marked[:1000], later) == [False] * 1000  # past the window: accepted again
    now_bucket = later // WINDOW_MS
    assert {bucket_of(key) for key in shard_keys(rclient, keys)} == {now_bucket}
    assert rclient.hkeys(retired_key(keys)) == [str(now_bucket).encode()]
    assert dedupe.marks_held(rclient, keys.seen) == 1000


def test_the_bitmap_holds_the_bit_of_every_mark_and_a_resend_from_the_previous_bucket_is_found(rclient, keys):
    marked = new_ids(2000, 30)
    bits = steady_bucket(rclient, keys, 2000, marked)
    assert bits == 4096  # 2 bits a mark of the bucket before: 4,000, up to a power of two
    ones = {bit_of(i, bits) for i in marked}
    assert rclient.bitcount(bitmap_key(keys, 1)) == len(ones)
    assert all(rclient.getbit(bitmap_key(keys, 1), b) == 1 for b in ones)
    fresh = new_ids(2000, 31)
    answers = append(rclient, keys, marked + fresh, AT[2] - 1)  # within the window of every mark in bucket 1
    assert answers == [True] * 2000 + [False] * 2000
    assert rclient.pttl(bitmap_key(keys, 1)) > 0  # it expires with its bucket's shards


def test_one_call_of_2500_ids_sets_every_bit_and_reads_them(rclient, keys):
    assert append(rclient, keys, new_ids(2000, 50), AT[0]) == [False] * 2000
    marked, fresh = new_ids(2500, 51), new_ids(2500, 52)
    replies = streams.append_events(
        rclient, keys, [(i.bytes, PAYLOAD) for i in marked], WINDOW_SECONDS, 10**9, marks_per_shard=256, clock_ms=AT[1]
    )
    assert all(r is not None for r in replies)
    assert rclient.bitcount(bitmap_key(keys, 1)) == len({bit_of(i, 4096) for i in marked})
    mixed = fresh + marked
    replies = streams.append_events(
        rclient, keys, [(i.bytes, PAYLOAD) for i in mixed], WINDOW_SECONDS, 10**9, marks_per_shard=256, clock_ms=AT[2] - 1
    )
    assert [r is None for r in replies] == [False] * len(fresh) + [True] * len(marked)


def test_a_new_id_whose_bit_collides_with_a_marked_ones_is_accepted(rclient, keys):
    marked = new_ids(2000, 32)
    bits = steady_bucket(rclient, keys, 2000, marked)
    # The id with its first two words swapped: the same xor, so the same bit (and shard), never marked.
    twins = [uuid.UUID(bytes=i.bytes[4:8] + i.bytes[0:4] + i.bytes[8:]) for i in marked[:500]]
    assert all(rclient.getbit(bitmap_key(keys, 1), bit_of(t, bits)) == 1 for t in twins)
    assert append(rclient, keys, twins, AT[2] - 1) == [False] * 500
    assert append(rclient, keys, twins + marked[:500], AT[2]) == [True] * 1000


def test_a_bucket_that_outgrew_its_bitmap_answers_exactly(rclient, keys):
    marked = new_ids(20_000, 33)
    bits = steady_bucket(rclient, keys, 100, marked)  # sized for 100 marks (the least, 1,024 bits) for 20,000
    assert bits == c.DEDUPE_BITMAP_MIN_BITS and rclient.bitcount(bitmap_key(keys, 1)) == bits  # every bit 1
    fresh = new_ids(20_000, 34)
    mixed = marked + fresh
    random.Random(35).shuffle(mixed)
    answers = dict(zip(mixed, append(rclient, keys, mixed, AT[2] - 1), strict=True))
    assert [i for i in fresh if answers[i]] == [] and all(answers[i] for i in marked)


def test_a_bucket_after_one_with_no_marks_has_no_bitmap_and_is_read_exactly(rclient, keys):
    marked = new_ids(3000, 36)
    assert append(rclient, keys, marked, AT[1]) == [False] * 3000
    assert rclient.hget(keys.seen, f"{B0 + 1}:m") is None and rclient.exists(bitmap_key(keys, 1)) == 0
    assert append(rclient, keys, marked[:1000] + new_ids(1000, 37), AT[2]) == [True] * 1000 + [False] * 1000


def test_rolling_deploy_a_bucket_without_a_bitmap_is_read_by_its_shards(rclient, keys):
    # What the script before bitmaps leaves: the same shards and index, without ':m', ':k' or the bitmap.
    marked = new_ids(2000, 38)
    steady_bucket(rclient, keys, 2000, marked)
    rclient.hdel(keys.seen, f"{B0 + 1}:m", f"{B0 + 1}:k")
    rclient.delete(bitmap_key(keys, 1))
    assert append(rclient, keys, marked + new_ids(2000, 39), AT[2] - 1) == [True] * 2000 + [False] * 2000


def test_rolling_deploy_marks_made_without_their_bit_in_a_bucket_with_a_bitmap_are_found(rclient, keys):
    marked = new_ids(2000, 40)
    bits = steady_bucket(rclient, keys, 2000, marked)
    # 2,000 more marked as the script before bitmaps marks them: into the bucket's shards (one
    # generation of 1,024 here), counted in ':n' and ':t', no bit set, ':k' untouched.
    unbitted = [i for i in new_ids(20_000, 41) if rclient.getbit(bitmap_key(keys, 1), bit_of(i, bits)) == 0][:2000]
    for i in unbitted:
        rclient.hset(f"{keys.seen}:{B0 + 1}:0:{bit_of(i, 1024)}", i.bytes, 1)
    rclient.hincrby(keys.seen, f"{B0 + 1}:t", 2000)
    rclient.hincrby(keys.seen, f"{B0 + 1}:n", 2000)
    assert append(rclient, keys, unbitted + marked[:500], AT[2] - 1) == [True] * 2500


def test_200000_marks_at_steady_state_cost_at_most_the_stated_bytes_each_with_their_bitmap():
    # Steady state: the bucket before holds as many marks (the measured one's shards and bitmap are
    # sized from it) and the one before that has expired (its keys deleted here, as their expiry
    # would), so the keyspace keeps its size as the measured bucket fills.
    ids, keys = 200_000, Keys.for_namespace("memory")
    measured = new_ids(ids, 42)
    with private_redis() as client:
        per_shard = dedupe.marks_per_shard(facts.server_facts(client).hash_listpack_entries)

        def mark(marks: list[uuid.UUID], moment: int) -> None:
            for start in range(0, len(marks), 500):
                items = [(i.bytes, PAYLOAD) for i in marks[start : start + 500]]
                streams.append_events(client, keys, items, WINDOW_SECONDS, 10**9, marks_per_shard=per_shard, clock_ms=moment)
                client.delete(keys.stream)

        mark(new_ids(ids, 43), AT[0])
        mark(new_ids(ids, 44), AT[1])
        client.delete(*client.scan_iter(match=f"{keys.seen}:{B0}:*", count=1000))
        before = client.info("memory")["used_memory"]
        mark(measured, AT[2])
        grown = client.info("memory")["used_memory"] - before
        assert client.hget(keys.seen, f"{B0 + 2}:m") == b"524288"  # 2**19 bits for 400,000: 2.6 a mark
        # A string as long as its highest bit set needs (2**19 / 8 bytes at most).
        assert client.strlen(bitmap_key(keys, 2)) == max(bit_of(i, 2**19) for i in measured) // 8 + 1
        assert dedupe.marks_held(client, keys.seen) == 2 * ids
    assert grown / ids <= c.DEDUPE_BYTES_PER_MARK, grown / ids
