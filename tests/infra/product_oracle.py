"""What each panel of the "Analytics: product" dashboard must show, in plain Python.

Written from the panels' descriptions and GET /metrics' definitions (README, "Metric
definitions"), like panel_oracle.py, whose Query and Data they take; the timezone is the
dashboard variable $tz (Query.tz).
"""

from __future__ import annotations

import datetime as dt
import math
from fractions import Fraction
from zoneinfo import ZoneInfo

from tests.infra.panel_oracle import Data, Query, _durations, _mean, _mine, _range, _width

ORIGIN = dt.datetime(2000, 1, 3)  # a Monday: local intervals are counted from its midnight
SESSION_GAP = dt.timedelta(seconds=1800)
RETENTION_WEEKS = 8


def _local_bin(moment: dt.datetime, width: dt.timedelta, zone: ZoneInfo) -> dt.datetime:
    local = moment.astimezone(zone).replace(tzinfo=None)
    return ORIGIN + (local - ORIGIN) // width * width


def _aware(local: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    return local.replace(tzinfo=zone).astimezone(dt.UTC)


def events_and_people(data: Data, q: Query):
    """Every local interval from the one holding the range's start to its end; events and people in each."""
    zone, width = ZoneInfo(q.tz), _width(q)
    first, last = _local_bin(q.start, width, zone), q.end.astimezone(zone).replace(tzinfo=None)
    counted: dict[dt.datetime, list[dict]] = {}
    at = first
    while at <= last:
        counted[at], at = [], at + width
    for e in _range(data, q):
        minute = e["timestamp"].replace(second=0, microsecond=0)
        counted.setdefault(_local_bin(minute, width, zone), []).append(e)
    rows = [[_aware(t, zone), len(rows), len({e["user_id"] for e in rows})] for t, rows in sorted(counted.items())]
    return ["time", "events", "people"], rows


def breakdown_by_element(data: Data, q: Query):
    by: dict[str, list[dict]] = {}
    for e in _range(data, q):
        if e["element"] is not None:
            by.setdefault(e["element"], []).append(e)
    rows = [[name, len(rows), len({e["user_id"] for e in rows}), _mean(_durations(rows))] for name, rows in by.items()]
    rows.sort(key=lambda row: (-row[1], row[0].encode()))
    return ["element", "events", "people", "average duration"], rows[:20]


def _in_filter(data: Data, q: Query) -> list[dict]:
    """Grafana's $__timeFilter: start <= timestamp <= end."""
    return [e for e in _mine(data, q) if q.start <= e["timestamp"] <= q.end]


def _sessions(events: list[dict]) -> list[list[dt.datetime]]:
    """Each session's event times: by (person, session_id) when sent, else a person's runs with gaps under 30 minutes."""
    keyed: dict[tuple, list[dt.datetime]] = {}
    loose: dict[str, list[dt.datetime]] = {}
    for e in events:
        if e["session_id"] is not None:
            keyed.setdefault((e["user_id"], e["session_id"]), []).append(e["timestamp"])
        else:
            loose.setdefault(e["user_id"], []).append(e["timestamp"])
    found = list(keyed.values())
    for times in loose.values():
        times.sort()
        run = [times[0]]
        for moment in times[1:]:
            if moment - run[-1] < SESSION_GAP:
                run.append(moment)
            else:
                found.append(run)
                run = [moment]
        found.append(run)
    return found


def sessions(data: Data, q: Query):
    found = _sessions(_in_filter(data, q))
    lengths = sorted(Fraction((max(s) - min(s)) // dt.timedelta(microseconds=1), 1_000_000) for s in found)
    columns = ["sessions", "median seconds", "mean seconds", "bounce rate", "events per session"]
    if not found:
        return columns, [[0, 0.0, Fraction(0), Fraction(0), Fraction(0)]]
    middle = Fraction(len(lengths) - 1, 2)
    low, high = float(lengths[math.floor(middle)]), float(lengths[math.ceil(middle)])
    median = low + (high - low) * float(middle - math.floor(middle))  # PostgreSQL's percentile_cont, in doubles
    return columns, [
        [
            len(found),
            median,
            sum(lengths) / len(found),
            Fraction(sum(1 for s in found if len(s) == 1), len(found)),
            Fraction(sum(len(s) for s in found), len(found)),
        ]
    ]


def weekly_retention(data: Data, q: Query):
    zone = ZoneInfo(q.tz)
    weeks: dict[str, set[dt.date]] = {}
    for e in _in_filter(data, q):
        day = e["timestamp"].astimezone(zone).date()
        weeks.setdefault(e["user_id"], set()).add(day - dt.timedelta(days=day.weekday()))
    cohorts: dict[dt.date, list[set[dt.date]]] = {}
    for active in weeks.values():
        cohorts.setdefault(min(active), []).append(active)
    rows = [
        [start, len(people), *(sum(1 for a in people if start + dt.timedelta(weeks=k) in a) for k in range(1, RETENTION_WEEKS + 1))]
        for start, people in sorted(cohorts.items())
    ]
    return ["cohort", "people", *(f"week {k}" for k in range(1, RETENTION_WEEKS + 1))], rows


PRODUCT = "analytics-product.json"
ORACLES = {
    (PRODUCT, "Events and people ($tz)"): events_and_people,
    (PRODUCT, "Breakdown by element (time range)"): breakdown_by_element,
    (PRODUCT, "Sessions (time range)"): sessions,
    (PRODUCT, "Weekly retention ($tz, time range)"): weekly_retention,
}
# The timezones each product panel is asked in: UTC and one far from it.
TIMEZONES = ("UTC", "America/New_York")
