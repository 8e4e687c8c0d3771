import datetime as dt

import orjson
import pytest

from engine.core.copyfmt import EntryError, copy_line, decode_entry, event_day

GOOD = {
    "v": 1,
    "event_id": "0190b1c2-0000-7000-8000-000000000001",
    "project_id": 1,
    "user_id": "u1",
    "action": "play",
    "element": "video_player",
    "duration": 12.5,
    "timestamp": "2026-05-01T23:59:59.5+00:00",
    "client_timestamp": None,
    "sent_at": None,
    "received_at": "2026-05-02T00:00:00+00:00",
    "session_id": None,
    "properties": None,
    "request_id": "r",
}


def test_decode_good_entry():
    assert decode_entry({b"e": orjson.dumps(GOOD)}) == GOOD


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "entry has no 'e' field"),
        ({b"e": b"{not json"}, "entry is not valid JSON"),
        ({b"e": b"[1]"}, "entry is not a JSON object"),
        ({b"e": orjson.dumps({**GOOD, "v": 99})}, "entry version 99 is not 1"),
        ({b"e": orjson.dumps({**GOOD, "user_id": None, "action": None})}, "entry lacks user_id, action"),
    ],
)
def test_decode_refuses(fields, message):
    with pytest.raises(EntryError) as caught:
        decode_entry(fields)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("timestamp", "day"),
    [
        ("2026-05-01T23:59:59.5+00:00", dt.date(2026, 5, 1)),
        ("2026-05-01T23:30:00-02:00", dt.date(2026, 5, 2)),  # 01:30 UTC the next day
        ("2026-05-02T00:00:00+00:00", dt.date(2026, 5, 2)),
    ],
)
def test_event_day_is_utc(timestamp, day):
    assert event_day({**GOOD, "timestamp": timestamp}) == day


@pytest.mark.parametrize("timestamp", ["garbage", "2026-05-01T00:00:00", 12])
def test_event_day_refuses(timestamp):
    with pytest.raises(EntryError):
        event_day({**GOOD, "timestamp": timestamp})


@pytest.mark.parametrize(
    ("payload", "line"),
    [
        (b'{"a":"x"}', b'1-0\t{"a":"x"}\n'),
        (b'{"a":"x\\"y\\\\z"}', b'1-0\t{"a":"x\\\\"y\\\\\\\\z"}\n'),  # JSON's own escapes reach PostgreSQL unchanged
        (b'{"a":\n1,\t"b":2}', b'1-0\t{"a":\\n1,\\t"b":2}\n'),  # raw whitespace between tokens
    ],
)
def test_copy_line_escapes_for_copy_text(payload, line):
    assert copy_line("1-0", payload) == line
