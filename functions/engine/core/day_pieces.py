"""Buckets cut into what the day presence answers exactly (pure): whole UTC days, UTC hours, minutes.

A bucket's span is [its start or the range's start, the next bound). The presence kept per
(user id, UTC day) carries the UTC hours of the day with an event (sql/011_day_presence.sql), so
any span of whole UTC hours is answered by the day rows whose hours meet the span's; what is left
at the span's edges (less than an hour on each side: a range cut at now's minute, a +05:45 zone's
midnight) is read per minute. A span that is exactly one UTC day is one counter row (`counted`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


@dataclasses.dataclass
class DayPieces:
    """Per bucket (numbered from 1): counted days, (day, hours mask) pieces, minute spans."""

    counted_buckets: list[int] = dataclasses.field(default_factory=list)
    counted_days: list[dt.date] = dataclasses.field(default_factory=list)
    day_buckets: list[int] = dataclasses.field(default_factory=list)
    days: list[dt.date] = dataclasses.field(default_factory=list)
    day_hours: list[int] = dataclasses.field(default_factory=list)
    span_buckets: list[int] = dataclasses.field(default_factory=list)
    span_starts: list[dt.datetime] = dataclasses.field(default_factory=list)
    span_ends: list[dt.datetime] = dataclasses.field(default_factory=list)

    def params(self) -> dict:
        """The arrays a day-presence query binds."""
        return dataclasses.asdict(self)

    def _span(self, bucket: int, low: dt.datetime, high: dt.datetime) -> None:
        if low < high:
            self.span_buckets.append(bucket)
            self.span_starts.append(low)
            self.span_ends.append(high)

    def _hours(self, bucket: int, low: dt.datetime, high: dt.datetime) -> None:
        """Whole UTC hours [low, high), one (day, mask) piece per UTC day they touch."""
        while low < high:
            midnight = low.replace(hour=0)
            stop = min(high, midnight + DAY)
            first, last = low.hour, (stop - HOUR).hour
            self.day_buckets.append(bucket)
            self.days.append(midnight.date())
            self.day_hours.append(((1 << (last + 1)) - 1) & ~((1 << first) - 1))
            low = stop


def _ceil_hour(moment: dt.datetime) -> dt.datetime:
    whole = moment.replace(minute=0, second=0, microsecond=0)
    return whole if whole == moment else whole + HOUR


def day_pieces(bounds: list[dt.datetime], start: dt.datetime, counters: bool = True) -> DayPieces:
    """The pieces of every bucket of width_bucket's bounds (starts, then the range's end), the
    first cut at start; counters=False leaves no bucket to the counters (every piece is presence)."""
    pieces = DayPieces()
    for bucket, (low, high) in enumerate(zip(bounds, bounds[1:], strict=False), start=1):
        low, high = max(low, start).astimezone(dt.UTC), high.astimezone(dt.UTC)
        if low >= high:
            continue
        if counters and high - low == DAY and low == low.replace(hour=0, minute=0, second=0, microsecond=0):
            pieces.counted_buckets.append(bucket)
            pieces.counted_days.append(low.date())
            continue
        first_hour, last_hour = _ceil_hour(low), high.replace(minute=0, second=0, microsecond=0)
        if first_hour >= last_hour:
            pieces._span(bucket, low, high)
            continue
        pieces._span(bucket, low, first_hour)
        pieces._hours(bucket, first_hour, last_hour)
        pieces._span(bucket, last_hour, high)
    return pieces


@dataclasses.dataclass(frozen=True)
class HourCut:
    """A range [start, end) as whole UTC hours [hours_from, hours_to) and the minute spans at its
    edges (less than an hour each), with the UTC day of its start and that day's end."""

    hours_from: dt.datetime
    hours_to: dt.datetime
    span_starts: list[dt.datetime]
    span_ends: list[dt.datetime]
    first_day: dt.date
    first_day_end: dt.datetime

    def params(self) -> dict:
        """The values a query over hour rows, edge minutes and the first day binds."""
        return dataclasses.asdict(self)


def hour_cut(start: dt.datetime, end: dt.datetime) -> HourCut:
    """The range's whole UTC hours and edge minutes; a range within one hour is all minutes."""
    low, high = start.astimezone(dt.UTC), max(start, end).astimezone(dt.UTC)
    first_hour, last_hour = _ceil_hour(low), high.replace(minute=0, second=0, microsecond=0)
    midnight = low.replace(hour=0, minute=0, second=0, microsecond=0)
    if first_hour >= last_hour:
        first_hour = last_hour = low
        edges = [(low, high)]
    else:
        edges = [(low, first_hour), (last_hour, high)]
    edges = [(a, b) for a, b in edges if a < b]
    return HourCut(first_hour, last_hour, [a for a, _ in edges], [b for _, b in edges], midnight.date(), midnight + DAY)
