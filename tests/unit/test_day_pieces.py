"""engine.core.day_pieces: buckets cut into counted UTC days, (day, hours) pieces and minute spans."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from engine.core import buckets
from engine.core.day_pieces import day_pieces, range_cut


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def mask(*hours: int) -> int:
    return sum(1 << hour for hour in hours)


def test_whole_utc_days_are_counted_and_partial_ones_are_hours_and_minutes():
    start, end = utc("2026-11-01T02:47"), utc("2026-11-03T10:05")
    bounds = buckets.bounds(buckets.bucket_starts(start, end, zoneinfo.ZoneInfo("UTC"), "day"), end)
    pieces = day_pieces(bounds, start)
    assert (pieces.counted_buckets, pieces.counted_days) == ([2], [dt.date(2026, 11, 2)])
    assert list(zip(pieces.day_buckets, pieces.days, pieces.day_hours, strict=True)) == [
        (1, dt.date(2026, 11, 1), mask(*range(3, 24))),
        (3, dt.date(2026, 11, 3), mask(*range(0, 10))),
    ]
    assert list(zip(pieces.span_buckets, pieces.span_starts, pieces.span_ends, strict=True)) == [
        (1, start, utc("2026-11-01T03:00")),
        (3, utc("2026-11-03T10:00"), end),
    ]


def test_without_counters_a_whole_day_is_one_piece_of_every_hour():
    start, end = utc("2026-11-02T00:00"), utc("2026-11-03T00:00")
    pieces = day_pieces([start, end], start, counters=False)
    assert pieces.counted_buckets == []
    assert (pieces.day_buckets, pieces.days, pieces.day_hours) == ([1], [dt.date(2026, 11, 2)], [mask(*range(24))])
    assert pieces.span_buckets == []


def test_a_new_york_day_spans_two_utc_days_and_the_dst_day_has_25_hours():
    tz = zoneinfo.ZoneInfo("America/New_York")
    start, end = utc("2026-11-01T04:00"), utc("2026-11-02T05:00")  # local 2026-11-01, 25 hours long
    pieces = day_pieces(buckets.bounds(buckets.bucket_starts(start, end, tz, "day"), end), start)
    assert pieces.counted_buckets == []
    assert list(zip(pieces.day_buckets, pieces.days, pieces.day_hours, strict=True)) == [
        (1, dt.date(2026, 11, 1), mask(*range(4, 24))),
        (1, dt.date(2026, 11, 2), mask(*range(0, 5))),
    ]
    assert pieces.span_buckets == []


def test_kathmandu_midnights_leave_45_minute_spans_at_each_edge():
    tz = zoneinfo.ZoneInfo("Asia/Kathmandu")  # +05:45: local midnight is 18:15 UTC
    start, end = utc("2026-11-01T18:15"), utc("2026-11-02T18:15")
    pieces = day_pieces(buckets.bounds(buckets.bucket_starts(start, end, tz, "day"), end), start)
    assert list(zip(pieces.day_buckets, pieces.days, pieces.day_hours, strict=True)) == [
        (1, dt.date(2026, 11, 1), mask(*range(19, 24))),
        (1, dt.date(2026, 11, 2), mask(*range(0, 18))),
    ]
    assert list(zip(pieces.span_starts, pieces.span_ends, strict=True)) == [
        (start, utc("2026-11-01T19:00")),
        (utc("2026-11-02T18:00"), end),
    ]


def test_a_bucket_inside_one_hour_is_one_minute_span():
    start, end = utc("2026-11-01T10:05"), utc("2026-11-01T10:40")
    pieces = day_pieces([utc("2026-11-01T00:00"), end], start)
    assert (pieces.counted_buckets, pieces.day_buckets) == ([], [])
    assert (pieces.span_buckets, pieces.span_starts, pieces.span_ends) == ([1], [start], [end])


def test_a_bucket_wholly_before_the_start_has_no_piece():
    start = utc("2026-11-03T00:00")
    pieces = day_pieces([utc("2026-11-01T00:00"), utc("2026-11-02T00:00"), utc("2026-11-04T00:00")], start)
    assert (pieces.counted_buckets, pieces.counted_days) == ([2], [dt.date(2026, 11, 3)])
    assert pieces.day_buckets == [] and pieces.span_buckets == []


def covered_hours(pieces) -> set[tuple[int, dt.datetime]]:
    """(bucket, UTC hour) of every week and (day, hours) piece."""
    hours = set()
    for bucket, monday in zip(pieces.week_buckets, pieces.weeks, strict=True):
        first = dt.datetime.combine(monday, dt.time(), dt.UTC)
        hours |= {(bucket, first + dt.timedelta(hours=h)) for h in range(7 * 24)}
    for bucket, day, bits in zip(pieces.day_buckets, pieces.days, pieces.day_hours, strict=True):
        midnight = dt.datetime.combine(day, dt.time(), dt.UTC)
        hours |= {(bucket, midnight + dt.timedelta(hours=h)) for h in range(24) if bits >> h & 1}
    return hours


def test_a_utc_week_bucket_is_one_week_piece():
    start, end = utc("2026-10-26T00:00"), utc("2026-11-02T00:00")  # Monday to Monday
    pieces = day_pieces(buckets.bounds(buckets.bucket_starts(start, end, zoneinfo.ZoneInfo("UTC"), "week"), end), start, weeks=True)
    assert (pieces.week_buckets, pieces.weeks) == ([1], [dt.date(2026, 10, 26)])
    assert (pieces.counted_buckets, pieces.day_buckets, pieces.span_buckets) == ([], [], [])


def test_a_month_reads_its_whole_utc_weeks_and_the_days_around_them():
    start, end = utc("2026-11-01T00:00"), utc("2026-12-01T00:00")  # Sunday 1 to Monday 30, then December
    pieces = day_pieces([start, end], start, counters=False, weeks=True)
    assert pieces.weeks == [dt.date(2026, 11, d) for d in (2, 9, 16, 23)] and pieces.week_buckets == [1] * 4
    assert list(zip(pieces.days, pieces.day_hours, strict=True)) == [
        (dt.date(2026, 11, 1), mask(*range(24))),
        (dt.date(2026, 11, 30), mask(*range(24))),
    ]


def test_hours_at_both_sides_of_a_week_stay_hours_and_the_minutes_spans():
    start, end = utc("2026-10-25T23:10"), utc("2026-11-02T05:30")  # Sunday 23:10 to the next Monday 05:30
    pieces = day_pieces([start, end], start, counters=False, weeks=True)
    assert (pieces.week_buckets, pieces.weeks) == ([1], [dt.date(2026, 10, 26)])
    assert (pieces.day_buckets, pieces.days, pieces.day_hours) == ([1], [dt.date(2026, 11, 2)], [mask(*range(5))])
    assert list(zip(pieces.span_starts, pieces.span_ends, strict=True)) == [
        (start, utc("2026-10-26T00:00")),
        (utc("2026-11-02T05:00"), end),
    ]


def test_a_kathmandu_week_holds_no_whole_utc_week():
    tz = zoneinfo.ZoneInfo("Asia/Kathmandu")  # its Monday midnight is Sunday 18:15 UTC
    start, end = utc("2026-10-25T18:15"), utc("2026-11-01T18:15")
    bounds = buckets.bounds(buckets.bucket_starts(start, end, tz, "week"), end)
    with_weeks, without = day_pieces(bounds, start, counters=False, weeks=True), day_pieces(bounds, start, counters=False)
    assert with_weeks.weeks == [] and with_weeks == without


def test_without_weeks_no_week_piece_is_made():
    start, end = utc("2026-10-26T00:00"), utc("2026-11-23T00:00")
    assert day_pieces([start, end], start).weeks == []


@pytest.mark.parametrize("tz", ["UTC", "America/New_York", "Asia/Kathmandu"])
@pytest.mark.parametrize("interval", ["day", "week", "month"])
@pytest.mark.parametrize("span", [("2026-08-05T10:07", "2026-10-28T13:41"), ("2026-09-28T00:00", "2026-12-21T00:00")])
def test_week_pieces_cover_the_same_hours_as_day_pieces(tz, interval, span):
    start, end = utc(span[0]), utc(span[1])  # 84 days, cut at minutes or on UTC Mondays
    bounds = buckets.bounds(buckets.bucket_starts(start, end, zoneinfo.ZoneInfo(tz), interval), end)
    with_weeks, without = day_pieces(bounds, start, weeks=True), day_pieces(bounds, start)
    assert covered_hours(with_weeks) == covered_hours(without)
    assert len(set(zip(with_weeks.week_buckets, with_weeks.weeks, strict=True))) == len(with_weeks.weeks)
    assert (with_weeks.counted_buckets, with_weeks.counted_days) == (without.counted_buckets, without.counted_days)
    assert (with_weeks.span_buckets, with_weeks.span_starts, with_weeks.span_ends) == (
        without.span_buckets,
        without.span_starts,
        without.span_ends,
    )
    if tz == "UTC" and interval == "week":
        assert len(with_weeks.weeks) >= 11


def spans(starts, ends) -> list[tuple[dt.datetime, dt.datetime]]:
    return list(zip(starts, ends, strict=True))


def test_a_range_is_its_whole_utc_days_the_hours_around_them_and_the_minutes_at_its_edges():
    start, end = dt.datetime.fromisoformat("2026-11-01T02:47:00-04:00"), utc("2026-11-03T10:05")
    cut = range_cut(start, end)
    assert (cut.days_from, cut.days_to) == (dt.date(2026, 11, 2), dt.date(2026, 11, 3))
    assert spans(cut.hour_starts, cut.hour_ends) == [
        (utc("2026-11-01T07:00"), utc("2026-11-02T00:00")),
        (utc("2026-11-03T00:00"), utc("2026-11-03T10:00")),
    ]
    assert spans(cut.span_starts, cut.span_ends) == [(utc("2026-11-01T06:47"), utc("2026-11-01T07:00")), (utc("2026-11-03T10:00"), end)]
    assert (cut.first_day, cut.first_day_end) == (dt.date(2026, 11, 1), utc("2026-11-02T00:00"))


@pytest.mark.parametrize(
    ("start", "end", "days", "hours", "minutes"),
    [
        ("2026-11-01T00:00", "2026-11-03T00:00", 2, [], []),  # whole days only
        ("2026-11-01T05:00", "2026-11-01T09:00", 0, [("2026-11-01T05:00", "2026-11-01T09:00")], []),  # no whole day
        ("2026-11-01T05:10", "2026-11-01T05:50", 0, [], [("2026-11-01T05:10", "2026-11-01T05:50")]),  # within an hour
        ("2026-11-01T05:10", "2026-11-01T06:20", 0, [], [("2026-11-01T05:10", "2026-11-01T06:20")]),  # no whole hour
        ("2026-11-01T23:10", "2026-11-02T01:20", 0, [("2026-11-02T00:00", "2026-11-02T01:00")], [
            ("2026-11-01T23:10", "2026-11-02T00:00"), ("2026-11-02T01:00", "2026-11-02T01:20")]),  # across midnight
        ("2026-11-01T05:10", "2026-11-01T05:10", 0, [], []),  # empty
    ],
)  # fmt: skip
def test_a_range_without_a_whole_day_or_hour_is_cut_finer(start, end, days, hours, minutes):
    cut = range_cut(utc(start), utc(end))
    assert (cut.days_to - cut.days_from).days == days
    assert spans(cut.hour_starts, cut.hour_ends) == [(utc(a), utc(b)) for a, b in hours]
    assert spans(cut.span_starts, cut.span_ends) == [(utc(a), utc(b)) for a, b in minutes]
