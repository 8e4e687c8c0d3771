"""Each metric's SQL against the README's definition (tests/oracle.py), exactly."""

import datetime as dt
import random

import pytest

from engine import metrics
from engine.db import writes
from tests import oracle
from tests.conftest import with_settings
from tests.helpers import copy_lines

pytestmark = pytest.mark.integration

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
WINDOW = 300
FIRST = NOW.replace(second=0) - dt.timedelta(minutes=4)  # the window: 5 whole minutes, now's the last
NEXT = NOW.replace(second=0) + dt.timedelta(minutes=1)
MICROSECOND = dt.timedelta(microseconds=1)


def store(conn, events: list[dict]) -> None:
    """Write rows as the drain does (COPY through staging), with full control of each field."""
    writes.load_rows(conn, copy_lines(events, NOW))


def event(project_id=1, user_id="u1", element="video_player", duration=1.0, seconds_ago=10.0, session_id=None, at=None):
    return {
        "project_id": project_id,
        "user_id": user_id,
        "element": element,
        "duration": duration,
        "timestamp": at or NOW - dt.timedelta(seconds=seconds_ago),
        "session_id": session_id,
    }


def generated(seed: int, count: int) -> list[dict]:
    rng = random.Random(seed)
    elements = ["video_player", "like_button", "share", "Zoom", "zoom", "élan", None]
    rows = []
    for _ in range(count):
        rows.append(
            event(
                project_id=rng.choice([1, 1, 1, 2]),
                user_id=f"user_{rng.randrange(40)}",
                element=rng.choice(elements),
                # Multiples of 1/8 are exact in binary, so any summation order gives the same
                # mean; the definition, not float noise, is what is compared.
                duration=rng.choice([None, rng.randrange(0, 4000) / 8]),
                seconds_ago=rng.choice([rng.uniform(0, 600), WINDOW, 0, rng.uniform(-30, 0)]),
                session_id=rng.choice([None, f"s{rng.randrange(10)}"]),
            )
        )
    return rows


def headline_of(conn, settings):
    body = metrics.read_metrics(conn, 1, NOW, settings)
    return {k: body[k] for k in ("active_users", "events_per_min", "avg_duration", "top_elements", "events_in_window")}


CASES = {
    "empty": [],
    "one event": [event()],
    "one event without duration or element": [event(duration=None, element=None)],
    "exactly at the window's first minute is in": [event(at=FIRST)],
    "just before the window's first minute is out": [event(at=FIRST - MICROSECOND)],
    "exactly now is in": [event(seconds_ago=0)],
    "the rest of now's minute is in": [event(at=NEXT - MICROSECOND)],
    "the next minute is out": [event(at=NEXT)],
    "other project only": [event(project_id=2)],
    "ties by bytes": [event(element="b"), event(element="a"), event(element="B"), event(element="a"), event(element="b")],
    "more elements than the limit": [event(element=f"e{i:02d}", user_id=f"u{i}") for i in range(15)],
}


@pytest.mark.parametrize("name", list(CASES))
def test_headline_metrics_match_their_definitions(conn, settings, name):
    rows = CASES[name]
    store(conn, rows)
    assert headline_of(conn, settings) == oracle.headline(rows, 1, NOW, WINDOW, settings.top_elements)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_headline_metrics_on_generated_data(conn, settings, seed):
    rows = generated(seed, 3000)
    store(conn, rows)
    expected = oracle.headline(rows, 1, NOW, WINDOW, settings.top_elements)
    assert expected["events_in_window"] > 100  # the data does exercise the window
    assert headline_of(conn, settings) == expected


def test_window_length_is_a_setting(conn, settings):
    rows = generated(9, 500)
    store(conn, rows)
    body = metrics.read_metrics(conn, 1, NOW, with_settings(settings, active_window_seconds=60, top_elements=2))
    expected = oracle.headline(rows, 1, NOW, 60, 2)
    assert {k: body[k] for k in expected} == expected
    assert body["window"]["seconds"] == 60


@pytest.mark.parametrize("seed", [4, 5])
def test_views_match_their_definitions(conn, settings, seed):
    rows = generated(seed, 2000)
    store(conn, rows)

    got = {
        (p, u): (n, s, el, total, avg, first, last)
        for p, u, n, s, el, total, avg, first, last in conn.run(
            "SELECT project_id, user_id, events, sessions, elements, total_duration, avg_duration, first_seen, last_seen "
            "FROM user_engagement"
        )
    }
    assert got == oracle.user_engagement(rows)

    got = {
        (p, wd, h): (n, users) for p, wd, h, n, users in conn.run("SELECT project_id, weekday, hour, events, users FROM activity_heatmap")
    }
    assert got == oracle.activity_heatmap(rows)

    got = {
        (p, el): (n, users, rank)
        for p, el, n, users, rank in conn.run("SELECT project_id, element, events, users, rank FROM element_rankings")
    }
    assert got == oracle.element_rankings(rows)

    body = metrics.read_metrics(conn, 1, NOW, settings)
    assert body["all_time"] == oracle.all_time(rows, 1, settings.top_elements)
