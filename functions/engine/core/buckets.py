"""Time buckets in a time zone (pure): minutes, hours, local days, weeks from Monday, months.

A day is local midnight to local midnight, so a daylight-saving day is one bucket of 23 or 25
hours; a week starts on a local Monday, a month on its local 1st. Bucket starts are UTC instants
(the queries compare them with stored times); `label` gives one back with its offset in the zone.
A local midnight that does not exist (a zone whose clocks jump at 00:00) starts at the first
instant of that day.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from engine.core.query import MAX_POINTS, bad

INTERVALS = ("minute", "hour", "day", "week", "month")
FIXED = {"minute": dt.timedelta(minutes=1), "hour": dt.timedelta(hours=1)}


def _local_midnight(day: dt.date, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    """The first instant of a local date, in UTC."""
    wall = dt.datetime.combine(day, dt.time(0), tzinfo=tz)
    instant = wall.astimezone(dt.UTC)
    if instant.astimezone(tz).date() != day:  # 00:00 was skipped: the day starts when the clocks land
        instant = instant.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0).astimezone(dt.UTC)
    return instant


def floor(moment: dt.datetime, tz: zoneinfo.ZoneInfo, interval: str) -> dt.datetime:
    """The start (UTC) of the bucket holding moment."""
    local = moment.astimezone(tz)
    if interval == "minute":
        return moment.replace(second=0, microsecond=0)
    if interval == "hour":
        start = local.replace(minute=0, second=0, microsecond=0).astimezone(dt.UTC)
        return start if start <= moment else moment.replace(minute=0, second=0, microsecond=0)
    day = local.date()
    if interval == "week":
        day -= dt.timedelta(days=day.weekday())
    elif interval == "month":
        day = day.replace(day=1)
    start = _local_midnight(day, tz)
    return start if start <= moment else _local_midnight(day - dt.timedelta(days=1), tz)


def following(start: dt.datetime, tz: zoneinfo.ZoneInfo, interval: str) -> dt.datetime:
    """The start (UTC) of the bucket after the one starting at start."""
    if interval in FIXED:
        step = FIXED[interval]
        nxt = floor(start + step, tz, interval)
        return nxt if nxt > start else start + step
    day = start.astimezone(tz).date()
    if interval == "day":
        day += dt.timedelta(days=1)
    elif interval == "week":
        day += dt.timedelta(days=7)
    else:
        day = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return _local_midnight(day, tz)


def bucket_starts(
    start: dt.datetime, end: dt.datetime, tz: zoneinfo.ZoneInfo, interval: str, parameter: str = "interval"
) -> list[dt.datetime]:
    """Starts of the buckets covering [start, end) (none when empty); more than MAX_POINTS is a 400."""
    starts: list[dt.datetime] = []
    if start >= end:
        return starts
    current = floor(start, tz, interval)
    while current < end:
        if len(starts) == MAX_POINTS:
            raise bad(
                parameter,
                f"from {start.isoformat()} to {end.isoformat()} by {interval} makes more than {MAX_POINTS} points; "
                f"narrow the range or widen the {parameter}",
            )
        starts.append(current)
        current = following(current, tz, interval)
    return starts


def bounds(starts: list[dt.datetime], end: dt.datetime) -> list[dt.datetime]:
    """The bucket starts and the range's end: width_bucket's thresholds (bucket i holds [starts[i-1], next))."""
    return [*starts, end] if starts else []


def label(start: dt.datetime, tz: zoneinfo.ZoneInfo) -> str:
    """A bucket start as ISO 8601 with its offset in tz (2026-11-01T00:00:00-04:00)."""
    return start.astimezone(tz).isoformat()
