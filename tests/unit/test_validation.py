import datetime as dt
import uuid

import pytest

from engine.core.errors import BadRequest, PayloadTooLarge
from engine.core.pipeline import check_batch, check_event, split_batch
from tests.factories import SEED_EVENT

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def check(item, retention=0, batch_sent_at=None):
    return check_event(item, 0, NOW, retention, batch_sent_at)


def test_seed_example_is_accepted_as_is():
    result = check(dict(SEED_EVENT))
    assert result.errors is None
    assert result.event["user_id"] == "user_123"
    assert result.event["duration"] == 12.5
    assert result.event["moment"] == dt.datetime(2024, 1, 15, 10, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        ({"user_id": None}, {"user_id": ["Field may not be null."]}),
        ({"user_id": ""}, {"user_id": ["Length must be between 1 and 255."]}),
        ({"user_id": "u" * 256}, {"user_id": ["Length must be between 1 and 255."]}),
        ({"user_id": 42}, {"user_id": ["Not a valid string."]}),
        ({"action": "a" * 256}, {"action": ["Length must be between 1 and 255."]}),
        ({"element": "e" * 101}, {"element": ["Length must be between 1 and 100."]}),
        ({"duration": -1}, {"duration": ["Must be greater than or equal to 0 and less than or equal to 86400.0."]}),
        ({"duration": 86400.5}, {"duration": ["Must be greater than or equal to 0 and less than or equal to 86400.0."]}),
        ({"duration": "12.5"}, {"duration": ["Not a valid number."]}),
        ({"duration": True}, {"duration": ["Not a valid number."]}),
        ({"timestamp": "yesterday"}, {"timestamp": ["Not a valid datetime."]}),
        ({"event_id": "not-a-uuid"}, {"event_id": ["Not a valid UUID."]}),
        ({"properties": [1, 2]}, {"properties": ["Not a valid mapping type."]}),
        ({"colour": "red"}, {"colour": ["Unknown field."]}),
        ({"user_id": "a\x00b"}, {"user_id": ["contains a NUL character (\\u0000), which cannot be stored"]}),
        ({"properties": {"x": "\ud83d"}}, {"properties": {"x": ["contains a lone UTF-16 surrogate, which is not valid Unicode"]}}),
        ({"properties": {"n": 2**64}}, {"properties": {"n": ["integer outside the signed 64-bit range"]}}),
        (
            {"duration": float("inf")},
            {"duration": ["number is too large to store (not finite)", "Special numeric values (nan or infinity) are not permitted."]},
        ),
    ],
)
def test_invalid_fields_are_named(change, errors):
    item = {**SEED_EVENT, **change}
    if change.get("user_id", "") is None:
        item.pop("user_id")
        errors = {"user_id": ["Missing data for required field."]}
    result = check(item)
    assert result.event is None
    assert result.errors == errors


@pytest.mark.parametrize("item", [[1], "text", 7, None])
def test_non_object_events_are_refused(item):
    assert check(item).errors == {"_schema": ["an event must be a JSON object"]}


def test_optional_fields_are_kept():
    event_id = uuid.uuid4()
    result = check({**SEED_EVENT, "event_id": str(event_id), "session_id": "s1", "properties": {"plan": "pro", "n": [1, {"a": None}]}})
    assert result.errors is None
    assert result.event["event_id"] == event_id
    assert result.event["session_id"] == "s1"
    assert result.event["properties"] == {"plan": "pro", "n": [1, {"a": None}]}


@pytest.mark.parametrize(
    ("timestamp", "utc"),
    [
        ("2026-03-01T10:00:00-21:41", dt.datetime(2026, 3, 2, 7, 41, tzinfo=dt.UTC)),
        ("2026-03-01T10:00:00+05:30", dt.datetime(2026, 3, 1, 4, 30, tzinfo=dt.UTC)),
        ("0460-01-11T10:16:04-22:35", dt.datetime(460, 1, 12, 8, 51, 4, tzinfo=dt.UTC)),
    ],
)
def test_times_are_kept_in_utc_whatever_the_offset(timestamp, utc):
    result = check({**SEED_EVENT, "timestamp": timestamp})
    assert result.event["timestamp"] == utc
    assert result.event["timestamp"].utcoffset() == dt.timedelta(0)


def test_a_time_that_overflows_in_utc_is_refused():
    result = check({**SEED_EVENT, "timestamp": "0001-01-01T00:00:00+05:00"})
    assert result.errors == {"timestamp": ["is out of range once moved to UTC"]}


def test_naive_timestamp_is_utc():
    assert check({**SEED_EVENT, "timestamp": "2026-03-01T11:00:00"}).event["moment"] == dt.datetime(2026, 3, 1, 11, tzinfo=dt.UTC)


def test_missing_timestamp_means_received_now():
    item = {k: v for k, v in SEED_EVENT.items() if k != "timestamp"}
    assert check(item).event["moment"] == NOW


def test_sent_at_corrects_a_skewed_clock():
    # The client's clock runs 1 h fast: it says the event was at 13:00 and sent at 13:00:05.
    result = check({**SEED_EVENT, "timestamp": "2026-03-01T13:00:00Z", "sent_at": "2026-03-01T13:00:05Z"})
    assert result.event["moment"] == NOW - dt.timedelta(seconds=5)
    assert result.event["timestamp"] == dt.datetime(2026, 3, 1, 13, tzinfo=dt.UTC)


def test_batch_sent_at_applies_to_events_without_their_own():
    result = check({**SEED_EVENT, "timestamp": "2026-03-01T13:00:00Z"}, batch_sent_at="2026-03-01T13:00:10Z")
    assert result.event["moment"] == NOW - dt.timedelta(seconds=10)


def test_future_time_is_clamped_to_now():
    assert check({**SEED_EVENT, "timestamp": "2030-01-01T00:00:00Z"}).event["moment"] == NOW


def test_retention_refuses_expired_times():
    result = check({**SEED_EVENT, "timestamp": "2025-01-01T00:00:00Z"}, retention=30)
    assert result.errors == {"timestamp": ["is older than the retention period of 30 days"]}


def test_absurd_skew_is_ignored_not_a_crash():
    # A sent_at that would move the event before year 1 is nonsense: the timestamp stands.
    result = check({**SEED_EVENT, "timestamp": "0001-01-01T00:00:00Z", "sent_at": "9999-12-31T00:00:00Z"})
    assert result.errors is None
    assert result.event["moment"] == dt.datetime(1, 1, 1, tzinfo=dt.UTC)
    assert result.event["sent_at"] == dt.datetime(9999, 12, 31, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("document", "count"),
    [([SEED_EVENT], 1), ({"events": [SEED_EVENT, SEED_EVENT]}, 2), ({"events": [SEED_EVENT], "sent_at": "2026-01-01T00:00:00Z"}, 1)],
)
def test_split_batch_shapes(document, count):
    events, _ = split_batch(document)
    assert len(events) == count


@pytest.mark.parametrize(
    ("document", "error", "message"),
    [
        ([], BadRequest, "the batch is empty"),
        ({"events": []}, BadRequest, "the batch is empty"),
        ({"event": []}, BadRequest, "takes only 'events' and 'sent_at'"),
        ({}, BadRequest, "needs 'events'"),
        ("x", BadRequest, "must be a JSON array"),
        ({"events": {"a": 1}}, BadRequest, "must be a JSON array"),
        ([SEED_EVENT] * 501, PayloadTooLarge, "at most 500 events; this one has 501"),
    ],
)
def test_split_batch_refuses(document, error, message):
    with pytest.raises(error) as caught:
        split_batch(document)
    assert message in caught.value.message


def test_check_batch_reports_each_index():
    results = check_batch([SEED_EVENT, {"user_id": "x"}, SEED_EVENT], NOW, 0)
    assert [r.index for r in results] == [0, 1, 2]
    assert [r.errors is None for r in results] == [True, False, True]
    assert results[1].errors == {"action": ["Missing data for required field."]}
