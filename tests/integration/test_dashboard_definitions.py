"""The dashboard series' SQL (GET /metrics/...) against their README definitions, exactly.

The oracles below are written from the README's words ("Dashboard and tracker"), not from
the queries, so that the two can disagree.
"""

import datetime as dt
import random

import pytest

from engine.core import metric_logic
from engine.db import reads
from tests.integration.test_metrics_definitions import store

pytestmark = pytest.mark.integration

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(seconds=17)
FIRST, LAST = metric_logic.minute_span(NOW)
WEEK_FIRST, _ = metric_logic.minute_span(NOW, metric_logic.HEATMAP_MINUTES)
END = LAST + dt.timedelta(minutes=1)  # every span ends with now's whole minute
MICROSECOND = dt.timedelta(microseconds=1)


def row(at: dt.datetime, user_id="u1", element="video_player", duration=1.0, project_id=1) -> dict:
    return {"project_id": project_id, "user_id": user_id, "element": element, "duration": duration, "timestamp": at, "session_id": None}


def mine(rows, low, end):
    """Project 1's rows in [low, end)."""
    return [r for r in rows if r["project_id"] == 1 and low <= r["timestamp"] < end]


def oracle_per_minute(rows):
    """Every minute from FIRST through NOW's minute: events and distinct users with event time in it."""
    inside = mine(rows, FIRST, END)
    points = []
    for i in range(metric_logic.SERIES_MINUTES):
        start = FIRST + dt.timedelta(minutes=i)
        bucket = [r for r in inside if start <= r["timestamp"] < start + dt.timedelta(minutes=1)]
        points.append((start, len(bucket), len({r["user_id"] for r in bucket})))
    return points


def oracle_elements(rows, limit):
    inside = [r for r in mine(rows, FIRST, END) if r["element"] is not None]
    found = {}
    for r in inside:
        found.setdefault(r["element"], []).append(r)
    ranked = sorted(found.items(), key=lambda item: (-len(item[1]), item[0].encode()))
    out = []
    for element, group in ranked[:limit]:
        durations = [r["duration"] for r in group if r["duration"] is not None]
        avg = round(sum(durations) / len(durations), 2) if durations else 0.0
        out.append({"element": element, "events": len(group), "users": len({r["user_id"] for r in group}), "avg_duration": avg})
    return out


def oracle_heatmap(rows):
    inside = mine(rows, WEEK_FIRST, END)
    return [
        (weekday, hour, sum(1 for r in inside if r["timestamp"].isoweekday() == weekday and r["timestamp"].hour == hour))
        for weekday in range(1, 8)
        for hour in range(24)
    ]


def oracle_users(rows, limit):
    """(top `limit` users by events, total duration, bytes of user_id; all events; all users) of project 1."""
    per_user = {}
    for r in rows:
        if r["project_id"] == 1:
            per_user.setdefault(r["user_id"], []).append(r)
    table = [
        (
            user,
            len(group),
            float(sum(r["duration"] for r in group if r["duration"] is not None)),
            min(r["timestamp"] for r in group),
            max(r["timestamp"] for r in group),
        )
        for user, group in per_user.items()
    ]
    table.sort(key=lambda t: (-t[1], -t[2], t[0].encode()))
    return table[:limit], sum(t[1] for t in table), len(table)


def generated(seed: int, count: int) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        at = NOW - dt.timedelta(seconds=rng.choice([rng.uniform(0, 3700), rng.uniform(0, 8 * 86400), 0, 3540]))
        rows.append(
            row(
                at.replace(microsecond=rng.randrange(0, 1_000_000, 1000)),
                user_id=f"user_{rng.randrange(30)}",
                element=rng.choice(["video_player", "like_button", "share", "Zoom", "zoom", "élan", None]),
                duration=rng.choice([None, rng.randrange(0, 4000) / 8]),
                project_id=rng.choice([1, 1, 1, 2]),
            )
        )
    return rows


EDGES = {
    "empty": [],
    "first minute's start is in": [row(FIRST)],
    "just before the first minute is out": [row(FIRST - MICROSECOND)],
    "now is in": [row(NOW)],
    "the rest of now's minute is in": [row(END - MICROSECOND)],
    "the next minute is out": [row(END)],
    "the heatmap's first minute is in, just before it out": [row(WEEK_FIRST), row(WEEK_FIRST - MICROSECOND, user_id="u2")],
    "other project only": [row(NOW, project_id=2)],
    "ties in byte order": [row(NOW, element=e) for e in ("b", "a", "B", "a", "b")],
    "no element, no duration": [row(NOW, element=None, duration=None)],
}


@pytest.mark.parametrize("name", list(EDGES))
def test_series_match_their_definitions_at_the_edges(conn, settings, name):
    rows = EDGES[name]
    store(conn, rows)
    assert reads.per_minute(conn, 1, FIRST, LAST) == oracle_per_minute(rows)
    body = metric_logic.shape_elements(reads.recent_elements(conn, 1, FIRST, LAST, settings.top_elements), FIRST, LAST)
    assert body["elements"] == oracle_elements(rows, settings.top_elements)
    assert reads.heatmap(conn, 1, WEEK_FIRST, LAST) == oracle_heatmap(rows)
    assert reads.engaged_users(conn, 1, 10) == oracle_users(rows, 10)


@pytest.mark.parametrize("seed", [1, 2])
def test_series_match_their_definitions_on_generated_data(conn, settings, seed):
    rows = generated(seed, 3000)
    store(conn, rows)
    per_minute = reads.per_minute(conn, 1, FIRST, LAST)
    assert per_minute == oracle_per_minute(rows)
    assert sum(events for _, events, _ in per_minute) > 500  # the data does exercise the span
    body = metric_logic.shape_elements(reads.recent_elements(conn, 1, FIRST, LAST, 3), FIRST, LAST)
    assert body["elements"] == oracle_elements(rows, 3)
    assert reads.heatmap(conn, 1, WEEK_FIRST, LAST) == oracle_heatmap(rows)
    assert reads.engaged_users(conn, 1, 7) == oracle_users(rows, 7)
    assert reads.engaged_users(conn, 1, 7)[2] == 30  # every user counted, not just the seven shown


def test_engaged_users_count_every_stored_event_at_once_late_ones_too(conn):
    """user_engagement reads the rollups the drain keeps: no refresh, no watermark."""
    before = [row(NOW - dt.timedelta(minutes=m), user_id=u, duration=2.0) for m, u in ((30, "a"), (20, "a"), (10, "b"))]
    store(conn, before)
    assert reads.engaged_users(conn, 1, 10) == oracle_users(before, 10)
    later = [row(NOW - dt.timedelta(minutes=5), user_id="b", duration=4.0), row(NOW, user_id="c", duration=None)]
    late = [row(NOW - dt.timedelta(days=3), user_id="c", duration=1.0)]
    store(conn, later + late)
    assert reads.engaged_users(conn, 1, 10) == oracle_users(before + later + late, 10)
    users, events, count = reads.engaged_users(conn, 1, 10)
    assert (events, count) == (6, 3)
    assert [u[0] for u in users] == ["b", "a", "c"]  # 2 events each: most duration first
    assert users[2] == ("c", 2, 1.0, late[0]["timestamp"], later[1]["timestamp"])
    assert users[0] == ("b", 2, 6.0, before[2]["timestamp"], later[0]["timestamp"])
