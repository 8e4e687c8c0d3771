"""Pure rules for the daily partitions of events: names, bounds, which to create or drop."""

from __future__ import annotations

import datetime as dt
import re

from engine.core.constants import PARTITION_DAYS_BACK

_NAME = re.compile(r"^events_p(\d{4})(\d{2})(\d{2})$")


def partition_name(day: dt.date) -> str:
    return f"events_p{day:%Y%m%d}"


def day_of(name: str) -> dt.date | None:
    match = _NAME.match(name)
    return dt.date(*map(int, match.groups())) if match else None


def bounds(day: dt.date) -> tuple[str, str]:
    """The partition's range [start, end) as UTC timestamptz literals."""
    nxt = day + dt.timedelta(days=1)
    return f"{day.isoformat()} 00:00:00+00", f"{nxt.isoformat()} 00:00:00+00"


def create_statement(day: dt.date) -> str:
    # Built from a date, never from input: the name and bounds are digits and dashes.
    start, end = bounds(day)
    return f"CREATE TABLE IF NOT EXISTS {partition_name(day)} PARTITION OF events FOR VALUES FROM ('{start}') TO ('{end}')"


def drop_statement(day: dt.date) -> str:
    return f"DROP TABLE IF EXISTS {partition_name(day)}"


def retention_cutoff(now: dt.datetime, retention_days: int) -> dt.datetime | None:
    """The time before which events expire, or None when they never do (retention 0)."""
    return now - dt.timedelta(days=retention_days) if retention_days else None


def days_ahead(now: dt.datetime, ahead: int) -> list[dt.date]:
    """Today (UTC) and the next `ahead` days."""
    today = now.astimezone(dt.UTC).date()
    return [today + dt.timedelta(days=i) for i in range(ahead + 1)]


def expired(days: set[dt.date], now: dt.datetime, retention_days: int) -> list[dt.date]:
    """Partitions whose whole day lies before the retention cutoff."""
    cutoff = retention_cutoff(now, retention_days)
    if cutoff is None:
        return []
    return sorted(d for d in days if dt.datetime.combine(d + dt.timedelta(days=1), dt.time(), dt.UTC) <= cutoff)


def needed(days: set[dt.date], existing: set[dt.date], now: dt.datetime, retention_days: int) -> list[dt.date]:
    """Days a batch needs that have no partition yet.

    Days older than PARTITION_DAYS_BACK, or already past retention, get none: their rows go
    to events_default.
    """
    oldest = now.astimezone(dt.UTC).date() - dt.timedelta(days=PARTITION_DAYS_BACK)
    cutoff = retention_cutoff(now, retention_days)
    if cutoff is not None:
        oldest = max(oldest, cutoff.astimezone(dt.UTC).date())
    return sorted(d for d in days - existing if d >= oldest)
