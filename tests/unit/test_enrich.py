import datetime as dt
import uuid

import orjson
import pytest

from engine.core.enrich import build_entry, correct_time, new_event_id, time_problem

T = dt.datetime(2026, 5, 1, 12, 0, 0, tzinfo=dt.UTC)
S = dt.timedelta(seconds=1)


@pytest.mark.parametrize(
    ("timestamp", "sent_at", "received_at", "expected"),
    [
        (None, None, T, T),  # no time given: it happened when it arrived
        (T - 60 * S, None, T, T - 60 * S),  # trusted as sent
        (T + 60 * S, None, T, T),  # future: clamped
        (T + 3600 * S, T + 3605 * S, T, T - 5 * S),  # clock 1 h fast
        (T - 3600 * S, T - 3598 * S, T, T - 2 * S),  # clock 1 h slow
        (T, T, T, T),
        (T + 10 * S, T, T, T),  # happened "after" it was sent: clamped to now
    ],
)
def test_correct_time(timestamp, sent_at, received_at, expected):
    assert correct_time(timestamp, sent_at, received_at) == expected


@pytest.mark.parametrize(
    ("moment", "retention", "problem"),
    [
        (T - dt.timedelta(days=10_000), 0, None),
        (T - dt.timedelta(days=29), 30, None),
        (T - dt.timedelta(days=31), 30, "is older than the retention period of 30 days"),
    ],
)
def test_time_problem(moment, retention, problem):
    assert time_problem(moment, T, retention) == problem


def test_new_event_ids_are_uuid7_and_time_ordered():
    ids = [new_event_id() for _ in range(1000)]
    assert all(i.version == 7 for i in ids)
    assert ids == sorted(ids)
    assert len(set(ids)) == 1000


def test_build_entry_keeps_every_field():
    event_id = uuid.uuid4()
    event = {
        "user_id": "u",
        "action": "play",
        "element": "video_player",
        "duration": 1.5,
        "timestamp": T + S,
        "sent_at": T + 2 * S,
        "session_id": "s",
        "properties": {"a": [1]},
    }
    entry = orjson.loads(build_entry(event, event_id=event_id, moment=T - S, received_at=T, project_id=1, request_id="r1"))
    assert entry == {
        "v": 1,
        "event_id": str(event_id),
        "project_id": 1,
        "user_id": "u",
        "action": "play",
        "element": "video_player",
        "duration": 1.5,
        "timestamp": "2026-05-01T11:59:59+00:00",
        "client_timestamp": "2026-05-01T12:00:01+00:00",
        "sent_at": "2026-05-01T12:00:02+00:00",
        "received_at": "2026-05-01T12:00:00+00:00",
        "session_id": "s",
        "properties": {"a": [1]},
        "request_id": "r1",
    }
