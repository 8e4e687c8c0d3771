"""The bench's fixture of the append script before the dedupe marks behaves as that layout did, on a real Redis."""

import uuid

import orjson

from local.bench import append_before_marks, bodies


def test_the_layout_before_marks_each_client_id_as_a_text_key_and_answers_its_resend_as_a_duplicate(rclient, keys):
    append_before_marks.load(rclient)
    ids = [str(uuid.uuid4()) for _ in range(3)]
    new_id = str(uuid.uuid4())
    first = append_before_marks.append_events_before(rclient, keys, [(i, b"{}") for i in ids], 60, 1000)
    again = append_before_marks.append_events_before(rclient, keys, [(ids[1], b"{}"), (new_id, b"{}"), ("", b"{}")], 60, 1000)
    assert all(first) and len(set(first)) == 3
    assert again[0] is None and again[1] is not None and again[2] is not None
    assert rclient.xlen(keys.stream) == 5
    marks = {key.decode().removeprefix(f"{keys.seen}:") for key in rclient.keys(f"{keys.seen}:*")}
    assert marks == {*ids, new_id}
    assert 0 < rclient.ttl(f"{keys.seen}:{ids[0]}") <= 60
    assert rclient.hgetall(keys.counters) == {b"accepted": b"5", b"duplicates": b"1"}


def test_bodies_with_ids_carry_distinct_ids_that_are_the_same_every_run():
    sent = bodies.batch_bodies_with_ids(3, 10, None, first=5)
    ids = [event["event_id"] for body in sent for event in orjson.loads(body)]
    assert sent == bodies.batch_bodies_with_ids(3, 10, None, first=5)
    assert len(ids) == len(set(ids)) == 30
    assert all(uuid.UUID(i).version == 4 for i in ids)
    assert ids[0] == bodies.client_event_id(5)
    assert orjson.loads(sent[0])[0]["user_id"] == bodies.make_event(5, None)["user_id"]
