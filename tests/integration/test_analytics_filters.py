"""The analytics filter fragment (engine.db.analytics_filters) against its definition, on real PostgreSQL."""

import datetime as dt
import itertools
import random
import uuid

import pytest

from engine.core.query import Filters
from engine.db import writes
from engine.db.analytics_filters import filter_params, with_filters
from tests import analytics_oracle
from tests.helpers import copy_lines

pytestmark = pytest.mark.integration

NOW = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)
QUERY = with_filters("SELECT e.event_id::text FROM events e WHERE e.project_id = :project_id AND /* event filters */")
LINKS = {(1, "anon1"): "alice", (1, "anon2"): "alice", (1, "bob-old"): "bob"}


def generated(seed: int, count: int) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        props = rng.choice(
            [None, {}, {"plan": rng.choice(["pro", "team", "free"])}, {"plan": "pro", "n": rng.choice([1, 2.5, True, None])}]
        )
        rows.append(
            {
                "event_id": str(uuid.uuid4()),
                "project_id": rng.choice([1, 1, 1, 2]),
                "user_id": rng.choice(["alice", "anon1", "anon2", "bob", "bob-old", "carol"]),
                "action": rng.choice(["play", "pause", "click"]),
                "element": rng.choice([None, "video", "button"]),
                "duration": None,
                "timestamp": NOW - dt.timedelta(seconds=rng.randrange(3600)),
                "session_id": None,
                "properties": props,
            }
        )
    return rows


FILTERS = [
    Filters(),
    Filters(actions=("play",)),
    Filters(actions=("play", "pause")),
    Filters(elements=("video", "button")),
    Filters(user_ids=("alice",)),
    Filters(user_ids=("anon1",)),  # an alias: its person's events, every id of it
    Filters(user_ids=("bob", "carol")),
    Filters(user_ids=("nobody",)),
    Filters(properties=(("plan", ("pro",)),)),
    Filters(properties=(("plan", ("pro", "team")),)),
    Filters(properties=(("n", ("1",)), ("plan", ("pro",)))),
    Filters(properties=(("n", ("true", "2.5")),)),
    Filters(actions=("play",), elements=("video",), user_ids=("alice",), properties=(("plan", ("pro", "free")),)),
]


@pytest.mark.parametrize("index", range(len(FILTERS)))
def test_filter_fragment_selects_what_the_definition_selects(conn, index):
    rows = generated(index, 600)
    writes.load_rows(conn, copy_lines(rows, NOW))
    for (project, alias), target in LINKS.items():
        conn.run("INSERT INTO identity_links (project_id, alias_id, person_id) VALUES (:p, :a, :t)", p=project, a=alias, t=target)
    filters = FILTERS[index]
    got = {r[0] for r in conn.run(QUERY, project_id=1, **filter_params(filters))}
    expected = {e["event_id"] for e in rows if e["project_id"] == 1 and analytics_oracle.matches(e, filters, LINKS)}
    assert got == expected
    assert filters == Filters() or len(expected) < len([e for e in rows if e["project_id"] == 1])


def test_repeated_values_of_one_filter_match_any_and_different_filters_all(conn):
    rows = generated(99, 400)
    writes.load_rows(conn, copy_lines(rows, NOW))
    count = {}
    for actions, elements in itertools.product([("play",), ("pause",), ("play", "pause")], [(), ("video",)]):
        params = filter_params(Filters(actions=actions, elements=elements))
        count[actions, elements] = len(conn.run(QUERY, project_id=1, **params))
    assert count[("play", "pause"), ()] == count[("play",), ()] + count[("pause",), ()] > 0
    assert count[("play",), ("video",)] < count[("play",), ()]
