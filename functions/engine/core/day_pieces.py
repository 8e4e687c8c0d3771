"""Buckets cut into what the day presence answers exactly (pure): UTC weeks, whole UTC days, UTC hours, minutes.

A bucket's span is [its start or the range's start, the next bound). The presence kept per
(user id, UTC day) carries the UTC hours of the day with an event (sql/011_day_presence.sql), so
any span of whole UTC hours is answered by the day rows whose hours meet the span's; what is left
at the span's edges (less than an hour on each side: a range cut at now's minute, a +05:45 zone's
midnight) is read per minute. A span that is exactly one UTC day is one counter row (`counted`).
With weeks=True (presence with no action filter: the week rows carry none), the whole UTC weeks
[Monday 00:00 UTC, next Monday) inside a span's hours are one week piece each
(sql/012_week_presence.sql), one row per id instead of one per id and day.
A single range is cut the same way into whole UTC days, hours and minutes for the per-day,
per-hour and per-minute counts of the element breakdown (`range_cut`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
WEEK = dt.timedelta(weeks=1)


@dataclasses.dataclass
class DayPieces:
    """Per bucket (numbered from 1): counted days, UTC weeks (by their Monday), (day, hours mask)
    pieces, minute spans."""

    counted_buckets: list[int] = dataclasses.field(default_factory=list)
    counted_days: list[dt.date] = dataclasses.field(default_factory=list)
    week_buckets: list[int] = dataclasses.field(default_factory=list)
    weeks: list[dt.date] = dataclasses.field(default_factory=list)
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

    def _weeks(self, bucket: int, low: dt.datetime, high: dt.datetime) -> None:
        """Whole UTC hours [low, high): the whole UTC weeks inside one piece each, the rest by day."""
        midnight = low.replace(hour=0)
        first = midnight + DAY if midnight < low else midnight
        first += (7 - first.weekday()) % 7 * DAY  # the first Monday at or after low
        week = first
        while week + WEEK <= high:
            self.week_buckets.append(bucket)
            self.weeks.append(week.date())
            week += WEEK
        if week == first:  # not one whole week
            self._hours(bucket, low, high)
            return
        self._hours(bucket, low, first)
        self._hours(bucket, week, high)


def _ceil_hour(moment: dt.datetime) -> dt.datetime:
    whole = moment.replace(minute=0, second=0, microsecond=0)
    return whole if whole == moment else whole + HOUR


def day_pieces(bounds: list[dt.datetime], start: dt.datetime, counters: bool = True, weeks: bool = False) -> DayPieces:
    """The pieces of every bucket of width_bucket's bounds (starts, then the range's end), the
    first cut at start; counters=False leaves no bucket to the counters (every piece is presence);
    weeks=True reads whole UTC weeks from the week presence (only right with no action filter)."""
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
        (pieces._weeks if weeks else pieces._hours)(bucket, first_hour, last_hour)
        pieces._span(bucket, last_hour, high)
    return pieces


@dataclasses.dataclass(frozen=True)
class RangeCut:
    """A range [start, end) as whole UTC days [days_from, days_to), the whole UTC hours left at its
    edges (hour spans) and the minutes left after those (minute spans, less than an hour each),
    with the UTC day of its start and that day's end."""

    days_from: dt.date
    days_to: dt.date
    hour_starts: list[dt.datetime]
    hour_ends: list[dt.datetime]
    span_starts: list[dt.datetime]
    span_ends: list[dt.datetime]
    first_day: dt.date
    first_day_end: dt.datetime

    def params(self) -> dict:
        """The values a query over day rows, hour rows, edge minutes and the first day binds."""
        return dataclasses.asdict(self)


def _spans(*pairs: tuple[dt.datetime, dt.datetime]) -> tuple[list[dt.datetime], list[dt.datetime]]:
    kept = [(a, b) for a, b in pairs if a < b]
    return [a for a, _ in kept], [b for _, b in kept]


def range_cut(start: dt.datetime, end: dt.datetime) -> RangeCut:
    """The range's whole UTC days, the whole hours around them and the minutes at its edges; a
    range without a whole hour is all minutes, one without a whole day hours and minutes."""
    low, high = start.astimezone(dt.UTC), max(start, end).astimezone(dt.UTC)
    midnight = low.replace(hour=0, minute=0, second=0, microsecond=0)
    first_hour, last_hour = _ceil_hour(low), high.replace(minute=0, second=0, microsecond=0)
    if first_hour >= last_hour:
        first_hour = last_hour = high
    first_day = first_hour if first_hour == first_hour.replace(hour=0) else first_hour.replace(hour=0) + DAY
    last_day = last_hour.replace(hour=0)
    if first_day >= last_day:
        first_day = last_day = last_hour
    hours = _spans((first_hour, first_day), (last_day, last_hour))
    minutes = _spans((low, first_hour), (last_hour, high))
    return RangeCut(first_day.date(), last_day.date(), *hours, *minutes, midnight.date(), midnight + DAY)
