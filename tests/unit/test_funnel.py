"""Funnel steps and attempts (engine.core.funnel), on hand-made sequences and against the oracle on random ones."""

import datetime as dt
import random

import pytest

from engine.core import funnel
from engine.core.errors import BadRequest
from engine.core.query import Filters, parse_query
from tests import analytics_oracle as oracle

NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
ABC = (("a", None), ("b", None), ("c", "x"))


def steps_of(raw):
    return funnel.parse_steps(parse_query([("steps", raw)], NOW, ("steps",)))


def test_steps_are_actions_or_action_colon_element():
    assert steps_of("view,play:video player,buy") == (("view", None), ("play", "video player"), ("buy", None))


@pytest.mark.parametrize("raw", ["view", "a," * 20 + "a", "a,,b", "a,:b", "a,b:", "x" * 256 + ",b"])
def test_bad_steps_are_a_400_naming_steps(raw):
    with pytest.raises(BadRequest) as caught:
        steps_of(raw)
    assert caught.value.details == {"parameter": "steps"}


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ([(0, "a", None), (1, "b", None), (2, "c", "x")], [0, 1, 2]),
        ([(0, "a", None), (1, "b", None), (2, "c", "y")], [0, 1]),  # wrong element
        ([(0, "b", None), (1, "a", None), (2, "c", "x")], [1]),  # out of order
        ([(0, "a", None), (0, "b", None)], [0]),  # not strictly later
        ([(0, "a", None), (11, "b", None)], [0]),  # too slow for within=10
        ([(0, "a", None), (20, "a", None), (25, "b", None), (26, "c", "x")], [20, 25, 26]),  # a later start goes deeper
        ([(0, "a", None), (5, "b", None), (6, "a", None), (7, "b", None)], [0, 5]),  # ties: the earliest start
        ([], []),
    ],
)
def test_best_attempt_is_the_deepest_then_earliest(events, expected):
    assert funnel.best_attempt(funnel.step_times(events, ABC), 10) == expected


def test_funnel_counts_people_and_conversions():
    rows = [
        ("p1", 0, "a", None),
        ("p1", 1, "b", None),
        ("p1", 4, "c", "x"),
        ("p2", 0, "a", None),
        ("p2", 3, "b", None),
        ("p3", 0, "b", None),
    ]
    people = [funnel.step_times([(t * funnel.MICROSECONDS, a, e) for who, t, a, e in rows if who == p], ABC) for p in ("p1", "p2", "p3")]
    assert funnel.funnel(people, ABC, 10) == [
        {"step": "a", "people": 2, "conversion_from_first": 1.0, "conversion_from_previous": 1.0, "median_seconds_from_previous": None},
        {"step": "b", "people": 2, "conversion_from_first": 1.0, "conversion_from_previous": 1.0, "median_seconds_from_previous": 2.0},
        {"step": "c:x", "people": 1, "conversion_from_first": 0.5, "conversion_from_previous": 0.5, "median_seconds_from_previous": 3.0},
    ]
    assert [s["conversion_from_first"] for s in funnel.funnel([], ABC, 10)] == [0.0, 0.0, 0.0]


def test_an_event_matching_several_steps_is_in_each_of_their_lists():
    steps = (("play", None), ("play", "x"), ("play", None))
    events = [(5, "play", "x"), (1, "play", None), (3, "pause", "x")]
    assert funnel.step_times(events, steps) == [[1, 5], [5], [1, 5]]


def test_one_event_serves_one_step_of_an_attempt_only():
    steps = (("play", None), ("play", None), ("play", None))
    assert funnel.best_attempt(funnel.step_times([(0, "play", None), (0, "play", None), (4, "play", None)], steps), 10) == [0, 4]


@pytest.mark.parametrize("seed", range(40))
def test_funnel_agrees_with_the_oracle_on_random_people(seed):
    rng = random.Random(seed)
    steps = [rng.choice(["a", "b", "c", "a:x", "b:y"]) for _ in range(rng.randint(2, 5))]
    parsed = tuple((s.partition(":")[0], s.partition(":")[2] or None) for s in steps)
    within = rng.choice([2, 5, 30])
    events = [
        {
            "project_id": 1,
            "user_id": f"u{rng.randrange(12)}",
            "action": rng.choice("aabbccd"),
            "element": rng.choice(["x", "y", None]),
            "timestamp": NOW + dt.timedelta(seconds=rng.randrange(40), microseconds=rng.choice([0, 1, 500_000])),
        }
        for _ in range(rng.randint(0, 300))
    ]
    people: dict = {}
    for e in events:
        at = (e["timestamp"] - NOW) // dt.timedelta(microseconds=1)
        people.setdefault(e["user_id"], []).append((at, e["action"], e["element"]))
    rng.shuffle(events)
    got = funnel.funnel([funnel.step_times(seq, parsed) for seq in people.values()], parsed, within)
    end = NOW + dt.timedelta(seconds=300)
    assert got == oracle.funnel(events, 1, NOW, end, Filters(), steps, within)


@pytest.mark.parametrize("seed", range(20))
def test_packed_numbers_give_the_attempt_of_per_step_lists(seed):
    # As PostgreSQL sends them (analytics_funnel_times.sql): kind i's times plus i * base, in no
    # order; alike steps share their kind.
    rng = random.Random(seed)
    kinds = rng.randint(1, 4)
    times = [sorted(rng.sample(range(60), rng.randint(0, 12))) for _ in range(kinds)]
    place = [rng.randrange(kinds) for _ in range(rng.randint(2, 6))]
    base = 60
    numbers = [t + (i + 1) * base for i, step in enumerate(times) for t in step]
    rng.shuffle(numbers)
    within = rng.choice([1, 5, 30])
    packed = funnel.Packed.of_numbers(numbers, kinds, place, base)
    assert funnel.best_attempt(packed, within) == funnel.best_attempt([times[k] for k in place], within)
