"""What each Grafana panel must show, computed in plain Python from the rows the test wrote.

Written from each panel's title and description (and the README's metric definitions), not
from its SQL, so that a query and its meaning can disagree and the tests say so. Each oracle
returns (columns, rows); a rational value is a Fraction, compared at the scale PostgreSQL's
numeric answered with.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from fractions import Fraction

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclasses.dataclass(frozen=True)
class Query:
    """The question a panel is asked: its time range, $__interval, project and timezone ($tz)."""

    start: dt.datetime
    end: dt.datetime
    interval: dt.timedelta
    project_id: int = 1
    tz: str = "UTC"

    @property
    def interval_seconds(self) -> int:
        return int(self.interval.total_seconds())


@dataclasses.dataclass(frozen=True)
class Data:
    """Everything the test wrote: events (dicts of events' columns), task_runs, dead_letters."""

    events: list[dict]
    task_runs: list[dict]
    dead_letters: list[dict]


def _mine(data: Data, q: Query) -> list[dict]:
    return [e for e in data.events if e["project_id"] == q.project_id]


MINUTE = dt.timedelta(minutes=1)


def _minute(moment: dt.datetime) -> dt.datetime:
    return moment.replace(second=0, microsecond=0)


def _window(data: Data, q: Query) -> list[dict]:
    """GET /metrics's window: the whole minutes of (start, end], end's own minute the last."""
    return [e for e in _mine(data, q) if _minute(q.start) + MINUTE <= e["timestamp"] < _minute(q.end) + MINUTE]


def _range(data: Data, q: Query) -> list[dict]:
    """Grafana's time range [start, end], in whole minutes: every minute it touches."""
    return [e for e in _mine(data, q) if _minute(q.start) <= e["timestamp"] < _minute(q.end) + MINUTE]


def _width(q: Query) -> dt.timedelta:
    """The series' interval: $__interval in whole minutes, rounded up, at least one."""
    return max(1, -(-q.interval_seconds // 60)) * MINUTE


EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _bucket(moment: dt.datetime, seconds: int) -> dt.datetime:
    """The start of the interval holding moment, intervals aligned on the Unix epoch."""
    return EPOCH + (moment - EPOCH) // dt.timedelta(seconds=seconds) * dt.timedelta(seconds=seconds)


def _buckets(rows: list[dict], key: str, q: Query, fill: bool = False, step: dt.timedelta | None = None) -> dict[dt.datetime, list[dict]]:
    """Rows by interval (step, else $__interval); with fill, every interval from the one holding the range's start to its end."""
    step = step or q.interval
    seconds = int(step.total_seconds())
    grouped: dict[dt.datetime, list[dict]] = {}
    if fill:
        at = _bucket(q.start, seconds)
        while at <= q.end:
            grouped[at], at = [], at + step
    for row in rows:
        grouped.setdefault(_bucket(row[key], seconds), []).append(row)
    return dict(sorted(grouped.items()))


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _durations(events: list[dict]) -> list[float]:
    return [e["duration"] for e in events if e["duration"] is not None]


def _top(events: list[dict], limit: int) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for e in events:
        if e["element"] is not None:
            counts[e["element"]] = counts.get(e["element"], 0) + 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0].encode()))[:limit]


# --- Overview ---


def events_per_minute_now(data: Data, q: Query):
    seconds = (q.end - q.start).total_seconds()
    return ["events per minute"], [[Fraction(len(_window(data, q)) * 60) / Fraction(seconds)]]


def active_users_now(data: Data, q: Query):
    return ["active users"], [[len({e["user_id"] for e in _window(data, q)})]]


def average_duration_now(data: Data, q: Query):
    return ["average duration"], [[_mean(_durations(_window(data, q))) or 0.0]]


def events_in_range(data: Data, q: Query):
    return ["events"], [[len(_range(data, q))]]


def events_per_minute_series(data: Data, q: Query):
    width = _width(q)
    buckets = _buckets(_range(data, q), "timestamp", q, fill=True, step=width)
    return ["time", "events per minute"], [[t, Fraction(len(rows) * 60, int(width.total_seconds()))] for t, rows in buckets.items()]


def active_users_series(data: Data, q: Query):
    buckets = _buckets(_range(data, q), "timestamp", q, fill=True, step=_width(q))
    return ["time", "active users"], [[t, len({e["user_id"] for e in rows})] for t, rows in buckets.items()]


def average_duration_series(data: Data, q: Query):
    buckets = _buckets(_range(data, q), "timestamp", q, step=_width(q))
    return ["time", "average duration"], [[t, _mean(_durations(rows))] for t, rows in buckets.items()]


def top_elements_in_range(data: Data, q: Query):
    return ["element", "events"], [[name, count] for name, count in _top(_range(data, q), 10)]


def weekday_hour(data: Data, q: Query):
    cells: dict[tuple[int, int], int] = {}
    for e in _mine(data, q):
        moment = e["timestamp"].astimezone(dt.UTC)
        cells[moment.isoweekday(), moment.hour] = cells.get((moment.isoweekday(), moment.hour), 0) + 1
    columns = ["weekday", "day", *(f"{hour:02d}" for hour in range(24))]
    return columns, [[day, WEEKDAYS[day - 1], *(cells.get((day, hour), 0) for hour in range(24))] for day in range(1, 8)]


def user_engagement(data: Data, q: Query):
    users: dict[str, list[dict]] = {}
    for e in _mine(data, q):
        users.setdefault(e["user_id"], []).append(e)
    rows = []
    for user, events in users.items():
        durations = _durations(events)
        rows.append(
            [
                user,
                len(events),
                len({e["session_id"] for e in events if e["session_id"] is not None}),
                len({e["element"] for e in events if e["element"] is not None}),
                float(sum(durations)),
                _mean(durations),
                min(e["timestamp"] for e in events),
                max(e["timestamp"] for e in events),
            ]
        )
    rows.sort(key=lambda row: (-row[1], -row[4], row[0].encode()))  # as GET /metrics/users orders them
    columns = ["user", "events", "sessions", "elements", "total duration", "average duration", "first seen", "last seen"]
    return columns, rows[:50]


def top_elements_all_time(data: Data, q: Query):
    events = [e for e in _mine(data, q) if e["element"] is not None]
    ranked = _top(events, len(events))
    rows = []
    for name, count in ranked:
        mine = [e for e in events if e["element"] == name]
        rank = 1 + sum(1 for _, other in ranked if other > count)  # rank(): ties share, then a gap
        rows.append([rank, name, count, len({e["user_id"] for e in mine}), _mean(_durations(mine))])
    rows.sort(key=lambda row: (row[0], row[1].encode()))
    return ["rank", "element", "events", "users", "average duration"], rows[:20]


# --- Pipeline health ---


def _drains(data: Data) -> list[dict]:
    return [r for r in data.task_runs if r["task"] == "stream-drain"]


def _last_drain(data: Data, q: Query) -> dict | None:
    done = [r for r in _drains(data) if r["finished_at"] <= q.end]
    return max(done, key=lambda r: r["finished_at"]) if done else None


def backlog_now(data: Data, q: Query):
    last = _last_drain(data, q)
    return ["backlog"], [[last["backlog"]]] if last else []


def lag_now(data: Data, q: Query):
    last = _last_drain(data, q)
    return ["oldest undrained"], [[last["oldest_undrained_age_seconds"] or 0.0]] if last else []


def since_last_drain(data: Data, q: Query):
    last = _last_drain(data, q)
    age = Fraction((q.end - last["finished_at"]) // dt.timedelta(microseconds=1), 1_000_000) if last else None
    return ["since last drain"], [[age]]


def dead_letters_waiting(data: Data, q: Query):
    return ["dead letters"], [[sum(1 for d in data.dead_letters if d["replayed_at"] is None)]]


def _drain_buckets(data: Data, q: Query, fill: bool = False) -> dict[dt.datetime, list[dict]]:
    runs = [r for r in _drains(data) if q.start <= r["finished_at"] <= q.end]
    return _buckets(runs, "finished_at", q, fill)


def backlog_series(data: Data, q: Query):
    return ["time", "backlog"], [[t, max(r["backlog"] for r in rows)] for t, rows in _drain_buckets(data, q).items()]


def lag_series(data: Data, q: Query):
    rows = _drain_buckets(data, q).items()
    ages = [[t, [r["oldest_undrained_age_seconds"] for r in runs if r["oldest_undrained_age_seconds"] is not None]] for t, runs in rows]
    return ["time", "oldest undrained"], [[t, max(values) if values else None] for t, values in ages]


def throughput_series(data: Data, q: Query):
    seconds = q.interval_seconds
    rows = [
        [t, Fraction(sum(r["inserted"] for r in runs), seconds), Fraction(sum(r["duplicates"] for r in runs), seconds)]
        for t, runs in _drain_buckets(data, q, fill=True).items()
    ]
    return ["time", "inserted per second", "duplicates per second"], rows


def dead_lettered_series(data: Data, q: Query):
    buckets = _drain_buckets(data, q, fill=True)
    rows = [[t, sum(r["dead_lettered"] for r in runs), sum(r["reclaimed"] for r in runs)] for t, runs in buckets.items()]
    return ["time", "dead-lettered", "reclaimed"], rows


def refresh_series(data: Data, q: Query):
    runs = [r for r in data.task_runs if r["task"] == "view-refresh" and r["status"] == "refreshed"]
    runs = [r for r in runs if q.start <= r["finished_at"] <= q.end]
    buckets = _buckets(runs, "finished_at", q)
    return ["time", "refresh seconds"], [[t, max(r["seconds"] for r in rows)] for t, rows in buckets.items()]


# (dashboard file, panel title) -> oracle. Every panel must have one (test_dashboards checks).
ORACLES = {
    ("analytics-overview.json", "Events per minute (last 5 min)"): events_per_minute_now,
    ("analytics-overview.json", "Active users (last 5 min)"): active_users_now,
    ("analytics-overview.json", "Average duration (last 5 min)"): average_duration_now,
    ("analytics-overview.json", "Events (time range)"): events_in_range,
    ("analytics-overview.json", "Events per minute"): events_per_minute_series,
    ("analytics-overview.json", "Active users"): active_users_series,
    ("analytics-overview.json", "Average duration"): average_duration_series,
    ("analytics-overview.json", "Top elements (time range)"): top_elements_in_range,
    ("analytics-overview.json", "Activity by weekday and hour (UTC, all time)"): weekday_hour,
    ("analytics-overview.json", "User engagement (all time, 50 most active)"): user_engagement,
    ("analytics-overview.json", "Top elements (all time)"): top_elements_all_time,
    ("analytics-pipeline.json", "Backlog"): backlog_now,
    ("analytics-pipeline.json", "Lag"): lag_now,
    ("analytics-pipeline.json", "Since the last drain"): since_last_drain,
    ("analytics-pipeline.json", "Dead letters"): dead_letters_waiting,
    ("analytics-pipeline.json", "Backlog over time"): backlog_series,
    ("analytics-pipeline.json", "Lag: oldest undrained entry"): lag_series,
    ("analytics-pipeline.json", "Drain throughput"): throughput_series,
    ("analytics-pipeline.json", "Dead-lettered and reclaimed"): dead_lettered_series,
    ("analytics-pipeline.json", "View refresh duration"): refresh_series,
}
