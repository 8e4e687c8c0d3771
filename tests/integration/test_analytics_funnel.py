"""GET /metrics/funnel against its README definition (tests/analytics_oracle.funnel), exactly."""

import datetime as dt
import random
import uuid
from urllib.parse import urlencode

import pytest

from engine.db import writes
from tests import analytics_oracle as oracle
from tests.conftest import READ
from tests.helpers import copy_lines
from tests.integration.test_analytics_routes import LINKS, generated, load, parsed

pytestmark = pytest.mark.integration

T0 = dt.datetime(2026, 11, 1, 5, tzinfo=dt.UTC)
RANGE = [("from", "2026-10-24T00:00:00Z"), ("to", "2026-11-03T00:00:00Z")]


def step_event(user: str, action: str, seconds: float, element=None, project_id=1) -> dict:
    return {
        "event_id": str(uuid.uuid4()),
        "project_id": project_id,
        "user_id": user,
        "action": action,
        "element": element,
        "duration": None,
        "timestamp": T0 + dt.timedelta(seconds=seconds),
        "session_id": None,
    }


def ask(apps, params):
    response = apps["metrics"].get(f"/metrics/funnel?{urlencode(params)}", headers=READ)
    assert response.status_code == 200, response.json
    return response.json["steps"]


@pytest.mark.parametrize(
    ("steps", "within"),
    [
        ("view,play", 86400),
        ("view,play,pause", 3600),
        ("view:video_player,play,click:élan", 86400),
        ("play,play,play", 600),
        ("click,view,play,pause,click,view", 86400 * 3),
    ],
)
def test_funnel_on_generated_data_matches_its_definition(apps, conn, steps, within):
    rows = generated(11, 1500)
    load(conn, rows)
    params = [*RANGE, ("steps", steps), ("within", str(within))]
    start, end, _, f = parsed(params)
    expected = oracle.funnel(rows, 1, start, end, f, steps.split(","), within, LINKS)
    assert expected[1]["people"] > 0
    assert ask(apps, params) == expected


def test_funnel_with_filters_matches_its_definition(apps, conn):
    rows = generated(12, 1500)
    load(conn, rows)
    params = [*RANGE, ("steps", "view,play,pause"), ("within", "7200"), ("property.plan", "pro"), ("element", "video_player")]
    start, end, _, f = parsed(params)
    assert ask(apps, params) == oracle.funnel(rows, 1, start, end, f, ["view", "play", "pause"], 7200, LINKS)


def test_twenty_steps_in_order_out_of_order_and_too_slowly(apps, conn):
    steps = [f"s{i}" for i in range(20)]
    rows = [step_event("all", s, 10 * i) for i, s in enumerate(steps)]  # every step, in order, 190 s
    rows += [step_event("half", s, 5 * i) for i, s in enumerate(steps[:10])]  # stops after step 10
    rows += [step_event("backwards", s, 100 - i) for i, s in enumerate(steps)]  # all steps, reverse order
    rows += [step_event("slow", s, 400 * i) for i, s in enumerate(steps)]  # in order, too slow after step 1
    rows += [step_event("same second", "s0", 0), step_event("same second", "s1", 0)]  # not strictly later
    rows += [step_event("retry", "s0", 0), step_event("retry", "s0", 1000), step_event("retry", "s1", 1200)]  # second try counts
    rows += [step_event("linked", "s0", 0), step_event("alias", "s1", 5)]  # one person through a link
    rows += [step_event("other project", s, i) for i, s in enumerate(steps)]
    rows[-20:] = [{**e, "project_id": 2} for e in rows[-20:]]
    writes.load_rows(conn, copy_lines(rows, T0))
    conn.run("INSERT INTO identity_links (project_id, alias_id, person_id) VALUES (1, 'alias', 'linked')")
    links = {(1, "alias"): "linked"}
    params = [*RANGE, ("steps", ",".join(steps)), ("within", "300")]
    start, end, _, f = parsed(params)
    got = ask(apps, params)
    assert got == oracle.funnel(rows, 1, start, end, f, steps, 300, links)
    assert [s["people"] for s in got[:3]] == [7, 4, 2]  # s1: all, half, retry, linked
    assert [s["people"] for s in got[9:12]] == [2, 1, 1]
    assert got[1]["median_seconds_from_previous"] == 7.5  # all: 10, half: 5, retry: 200, linked: 5
    assert got[-1] == {
        "step": "s19",
        "people": 1,
        "conversion_from_first": round(1 / 7, 4),
        "conversion_from_previous": 1.0,
        "median_seconds_from_previous": 10.0,
    }


def test_many_people_microsecond_times_and_steps_sharing_an_action(apps, conn):
    rng = random.Random(5)
    rows = [
        step_event(
            f"p{rng.randrange(150)}",
            rng.choice(["view", "view", "play", "pause", "click"]),
            rng.randrange(-3600, 7200) + rng.choice([0, 0.000001, 0.5, 0.999999]),
            element=rng.choice([None, "video_player", 'élan, "quoted"']),
        )
        for _ in range(6000)
    ]
    # At the range's start; 1800 s later (within); a microsecond later than that (too late).
    rows += [step_event("edge", "view", 0.25), step_event("edge", "view", 1800.25, "video_player"), step_event("edge", "play", 1800.250001)]
    rng.shuffle(rows)
    writes.load_rows(conn, copy_lines(rows, T0))
    steps = ["view", "view:video_player", "play", "view"]
    params = [("from", "2026-11-01T05:00:00.250000Z"), ("to", "2026-11-01T06:30:00Z"), ("steps", ",".join(steps)), ("within", "1800")]
    start, end, _, f = parsed(params)
    got = ask(apps, params)
    assert got == oracle.funnel(rows, 1, start, end, f, steps, 1800)
    assert [s["people"] for s in got] == [151, 134, 96, 57]
    edge = ask(apps, [*params, ("user_id", "edge")])
    assert [(s["people"], s["median_seconds_from_previous"]) for s in edge] == [(1, None), (1, 1800.0), (0, None), (0, None)]


def test_twenty_steps_over_the_widest_range_fit_the_packed_times(apps, conn):
    steps = [f"s{i}" for i in range(20)]
    rows = [step_event("all", s, 10 * i) for i, s in enumerate(steps)]
    writes.load_rows(conn, copy_lines(rows, T0))
    params = [("from", "1970-01-01T00:00:00Z"), ("to", "2100-01-01T00:00:00Z"), ("steps", ",".join(steps)), ("within", "300")]
    start, end, _, f = parsed(params)
    got = ask(apps, params)
    assert got == oracle.funnel(rows, 1, start, end, f, steps, 300)
    assert [s["people"] for s in got] == [1] * 20


def test_microseconds_at_the_end_of_the_widest_range_keep_their_order(apps, conn):
    # The times are PostgreSQL's double-precision epoch after 1970-01-01, rounded to the microsecond:
    # at the end of 2099 (4.1e9 s) one microsecond still orders two events, and equal times are equal.
    last = dt.datetime(2099, 12, 31, 23, 59, 59, 999_990, tzinfo=dt.UTC)

    def at(user: str, action: str, micros: int) -> dict:
        return {**step_event(user, action, 0), "timestamp": last + dt.timedelta(microseconds=micros)}

    rows = [at("one later", "a", 1), at("one later", "b", 2), at("same", "a", 7), at("same", "b", 7)]
    rows += [at("one earlier", "b", 3), at("one earlier", "a", 4), at("nines", "a", 8), at("nines", "b", 9)]
    writes.load_rows(conn, copy_lines(rows, T0))
    params = [("from", "1970-01-01T00:00:00Z"), ("to", "2100-01-01T00:00:00Z"), ("steps", "a,b"), ("within", "1")]
    start, end, _, f = parsed(params)
    got = ask(apps, params)
    assert got == oracle.funnel(rows, 1, start, end, f, ["a", "b"], 1)
    assert [s["people"] for s in got] == [4, 2]  # "one later" and "nines"
