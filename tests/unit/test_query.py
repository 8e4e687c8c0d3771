"""The analytics routes' common parameters (engine.core.query): values, defaults and each 400."""

import datetime as dt
import zoneinfo

import pytest

from engine.core.errors import BadRequest
from engine.core.query import DEFAULT_RANGE, Filters, choice_param, int_param, parse_query

NOW = dt.datetime(2026, 11, 1, 12, 34, 56, 789, tzinfo=dt.UTC)
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def parsed(*pairs, route=()):
    return parse_query(list(pairs), NOW, route)


def refused(*pairs, route=()) -> str:
    with pytest.raises(BadRequest) as caught:
        parsed(*pairs, route=route)
    assert caught.value.status == 400
    return caught.value.details["parameter"]


def test_defaults_are_the_last_seven_days_of_whole_minutes_in_utc():
    q = parsed()
    assert q.end == dt.datetime(2026, 11, 1, 12, 34, tzinfo=dt.UTC)
    assert q.start == q.end - DEFAULT_RANGE
    assert (q.tz.key, q.format, q.filters) == ("UTC", "json", Filters())


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-01T00:00:00-04:00", dt.datetime(2026, 11, 1, 4, tzinfo=dt.UTC)),
        ("2026-11-01T00:00:00Z", dt.datetime(2026, 11, 1, tzinfo=dt.UTC)),
        ("2026-11-01T00:00:00 05:45", dt.datetime(2026, 10, 31, 18, 15, tzinfo=dt.UTC)),  # "+" unencoded
        ("2026-11-01T10:20:59.999", dt.datetime(2026, 11, 1, 9, 20, tzinfo=dt.UTC)),  # local (Berlin), to the minute
        ("2026-11-01", dt.datetime(2026, 10, 31, 23, tzinfo=dt.UTC)),  # local midnight
    ],
)
def test_from_reads_any_offset_and_local_time_in_tz(value, expected):
    assert parsed(("from", value), ("to", "2026-11-02"), ("tz", "Europe/Berlin")).start == expected


def test_repeated_values_of_one_filter_are_alternatives_and_properties_sorted():
    q = parsed(
        ("action", "play"),
        ("action", "pause"),
        ("action", "play"),
        ("property.plan", "pro"),
        ("property.a", "1"),
        ("property.plan", "team"),
    )
    assert q.filters == Filters(actions=("play", "pause"), properties=(("a", ("1",)), ("plan", ("pro", "team"))))
    assert not q.filters.rollup_ready
    assert parsed(("element", "x")).filters.rollup_ready


def test_route_parameters_are_kept_and_checked_by_helpers():
    q = parsed(("interval", "day"), ("limit", "5"), route=("interval", "limit"))
    assert choice_param(q, "interval", "hour", ("hour", "day")) == "day"
    assert int_param(q, "limit", 10, 1, 1000) == 5
    assert int_param(q, "periods", 8, 1, 52) == 8


@pytest.mark.parametrize(
    ("pairs", "parameter"),
    [
        ((("from", "yesterday"),), "from"),
        ((("to", "2026-13-01"),), "to"),
        ((("from", "1900-01-01"),), "from"),
        ((("to", "9999-12-31T23:59:59-14:00"),), "to"),
        ((("from", "2026-11-02"), ("to", "2026-11-01")), "from"),
        ((("tz", "Mars/Olympus"),), "tz"),
        ((("tz", "../../etc/passwd"),), "tz"),
        ((("tz", ""),), "tz"),
        ((("format", "xml"),), "format"),
        ((("action", ""),), "action"),
        ((("element", "x" * 101),), "element"),
        ((("user_id", "a\x00b"),), "user_id"),
        ((("property.", "x"),), "property."),
        ((("property.plan", ""),), "property.plan"),
        ((("bogus", "1"),), "bogus"),
        ((("tz", "UTC"), ("tz", "UTC")), "tz"),
        (tuple(("action", f"a{i}") for i in range(101)), "action"),
    ],
)
def test_each_bad_parameter_is_a_400_naming_it(pairs, parameter):
    assert refused(*pairs) == parameter


@pytest.mark.parametrize("raw", ["0", "1001", "-1", "1.5", "ten", "", "9" * 12])
def test_bad_integer_parameter_is_a_400_naming_it(raw):
    q = parsed(("limit", raw), route=("limit",))
    with pytest.raises(BadRequest) as caught:
        int_param(q, "limit", 10, 1, 1000)
    assert caught.value.details == {"parameter": "limit"}


def test_unknown_choice_is_a_400_naming_it():
    with pytest.raises(BadRequest) as caught:
        choice_param(parsed(("interval", "fortnight"), route=("interval",)), "interval", "day", ("hour", "day"))
    assert caught.value.details == {"parameter": "interval"}
