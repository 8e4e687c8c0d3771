"""Time-zone buckets (engine.core.buckets): local days, Monday weeks and months across daylight-saving changes."""

import datetime as dt
import zoneinfo

import pytest

from engine.core import buckets
from engine.core.errors import BadRequest

UTC = dt.UTC


def labels(start, end, tz, interval):
    zone = zoneinfo.ZoneInfo(tz)
    return [buckets.label(s, zone) for s in buckets.bucket_starts(start, end, zone, interval)]


@pytest.mark.parametrize(
    ("tz", "start", "end", "interval", "expected"),
    [
        (  # New York's autumn change: a 25-hour day
            "America/New_York",
            dt.datetime(2026, 10, 31, 4, tzinfo=UTC),
            dt.datetime(2026, 11, 3, 5, tzinfo=UTC),
            "day",
            ["2026-10-31T00:00:00-04:00", "2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00"],
        ),
        (  # Berlin's: the repeated hour is two buckets
            "Europe/Berlin",
            dt.datetime(2026, 10, 24, 23, tzinfo=UTC),
            dt.datetime(2026, 10, 25, 2, tzinfo=UTC),
            "hour",
            ["2026-10-25T01:00:00+02:00", "2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00"],
        ),
        (  # weeks start on a local Monday, the first one before the range's start
            "Europe/Berlin",
            dt.datetime(2026, 10, 28, tzinfo=UTC),
            dt.datetime(2026, 11, 10, tzinfo=UTC),
            "week",
            ["2026-10-26T00:00:00+01:00", "2026-11-02T00:00:00+01:00", "2026-11-09T00:00:00+01:00"],
        ),
        (
            "Asia/Kathmandu",
            dt.datetime(2026, 1, 30, tzinfo=UTC),
            dt.datetime(2026, 3, 2, tzinfo=UTC),
            "month",
            ["2026-01-01T00:00:00+05:45", "2026-02-01T00:00:00+05:45", "2026-03-01T00:00:00+05:45"],
        ),
        (  # Santiago skips 00:00 on 2026-09-06: that day starts when the clocks land
            "America/Santiago",
            dt.datetime(2026, 9, 5, 12, tzinfo=UTC),
            dt.datetime(2026, 9, 8, tzinfo=UTC),
            "day",
            ["2026-09-05T00:00:00-04:00", "2026-09-06T01:00:00-03:00", "2026-09-07T00:00:00-03:00"],
        ),
    ],
)
def test_buckets_follow_the_local_calendar(tz, start, end, interval, expected):
    assert labels(start, end, tz, interval) == expected


def test_an_empty_range_has_no_bucket():
    moment = dt.datetime(2026, 11, 1, 12, tzinfo=UTC)
    assert buckets.bucket_starts(moment, moment, zoneinfo.ZoneInfo("UTC"), "day") == []
    assert buckets.bounds([], moment) == []


def test_1500_points_are_allowed_and_1501_refused_naming_the_parameter():
    zone = zoneinfo.ZoneInfo("UTC")
    start = dt.datetime(2026, 11, 1, tzinfo=UTC)
    assert len(buckets.bucket_starts(start, start + dt.timedelta(minutes=1500), zone, "minute")) == 1500
    with pytest.raises(BadRequest) as caught:
        buckets.bucket_starts(start, start + dt.timedelta(minutes=1501), zone, "minute", parameter="period")
    assert caught.value.details == {"parameter": "period"}
    assert "more than 1500 points" in caught.value.message
