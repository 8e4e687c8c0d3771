"""Property tests (hypothesis) for the validation and clock-skew rules."""

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.core.enrich import correct_time
from engine.core.jsonbody import unsafe_values
from engine.core.pipeline import check_event

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
moments = st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC))
safe_text = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), min_size=1, max_size=40)
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), st.floats(-1e18, 1e18, allow_nan=False), safe_text)
properties = st.dictionaries(safe_text, json_scalars | st.lists(json_scalars, max_size=4), max_size=8)


@given(timestamp=moments, sent_at=moments)
def test_corrected_time_is_never_in_the_future(timestamp, sent_at):
    assert correct_time(timestamp, sent_at, NOW) <= NOW


@given(
    timestamp=moments,
    delay=st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=30)),
    skew=st.timedeltas(min_value=dt.timedelta(days=-3), max_value=dt.timedelta(days=3)),
)
def test_skew_cancels_out(timestamp, delay, skew):
    # A client clock off by `skew` reports both moments shifted by it; the stored time is not.
    happened = NOW - delay
    assert correct_time(happened + skew, NOW + skew, NOW) == happened


@given(
    user_id=safe_text,
    action=st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), min_size=1, max_size=50),
    props=properties,
)
@settings(max_examples=200)
def test_valid_events_pass_and_keep_their_fields(user_id, action, props):
    result = check_event({"user_id": user_id, "action": action, "properties": props}, 0, NOW, 0)
    assert result.errors is None
    assert (result.event["user_id"], result.event["action"], result.event["properties"]) == (user_id, action, props)


@given(prefix=safe_text, suffix=safe_text, field=st.sampled_from(["user_id", "action", "element", "session_id"]))
def test_a_nul_anywhere_in_a_text_field_is_refused(prefix, suffix, field):
    # At most 40 characters (the shortest field limit) with the NUL always inside them.
    event = {"user_id": "u", "action": "a", field: prefix[:20] + "\x00" + suffix[:19]}
    result = check_event(event, 0, NOW, 0)
    assert result.event is None
    assert field in result.errors


@given(
    value=st.recursive(
        json_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(safe_text, inner, max_size=3), max_leaves=20
    )
)
def test_safe_values_are_found_safe(value):
    assert unsafe_values({"v": value}) == {}


@given(big=st.integers(min_value=2**63) | st.integers(max_value=-(2**63) - 1))
def test_integers_past_64_bits_are_refused_wherever_they_are(big):
    assert unsafe_values({"properties": {"deep": [1, {"n": big}]}}) == {
        "properties": {"deep": {1: {"n": ["integer outside the signed 64-bit range"]}}}
    }
