"""quick_load is Schema.load's happy path: whenever it answers, it answers what load answers,
and whenever load succeeds it answers (so no valid event ever pays for the slow path)."""

import datetime as dt
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from engine.core.schemas import EVENT_SCHEMA, quick_load
from engine.core.segment import MESSAGE_SCHEMA

values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["x" * 255, "x" * 256, "é" * 300]),
    st.sampled_from(
        ["2026-01-01T00:00:00Z", "2026-13-01T00:00:00Z", "yesterday", "2026-01-01T00:00:00", str(uuid.uuid4()), "play", "", "a\x00b"]
    ),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(
        st.text(max_size=5),
        st.one_of(st.integers(), st.text(max_size=5), st.dictionaries(st.text(max_size=3), st.integers(), max_size=3)),
        max_size=4,
    ),
)


def events(schema):
    names = list(schema.fields) + ["unknown_field"]
    return st.dictionaries(st.sampled_from(names), values, max_size=len(names))


def agree(schema, item):
    try:
        expected = schema.load(item)
    except ValidationError:
        expected = None
    quick = quick_load(schema, item)
    if expected is None:
        assert quick is None
    else:
        assert quick == expected


@given(events(EVENT_SCHEMA))
@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_quick_load_agrees_with_load_on_events(item):
    agree(EVENT_SCHEMA, item)


@given(events(MESSAGE_SCHEMA))
@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_quick_load_agrees_with_load_on_segment_messages(item):
    agree(MESSAGE_SCHEMA, item)


def test_a_valid_event_takes_the_quick_path():
    item = {
        "user_id": "u",
        "action": "play",
        "element": "e",
        "duration": 1.5,
        "timestamp": "2026-01-01T00:00:00Z",
        "properties": {"a": [1]},
    }
    assert quick_load(EVENT_SCHEMA, item) == EVENT_SCHEMA.load(item)
    assert quick_load(EVENT_SCHEMA, item)["timestamp"] == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
