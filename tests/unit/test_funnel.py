"""Funnel steps and attempts (engine.core.funnel), on hand-made sequences."""

import datetime as dt

import pytest

from engine.core import funnel
from engine.core.errors import BadRequest
from engine.core.query import parse_query

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
    assert funnel.best_attempt(events, ABC, 10) == expected


def test_funnel_counts_people_and_conversions():
    rows = [
        ("p1", 0, "a", None),
        ("p1", 1, "b", None),
        ("p1", 4, "c", "x"),
        ("p2", 0, "a", None),
        ("p2", 3, "b", None),
        ("p3", 0, "b", None),
    ]
    assert funnel.funnel(rows, ABC, 10) == [
        {"step": "a", "people": 2, "conversion_from_first": 1.0, "conversion_from_previous": 1.0, "median_seconds_from_previous": None},
        {"step": "b", "people": 2, "conversion_from_first": 1.0, "conversion_from_previous": 1.0, "median_seconds_from_previous": 2.0},
        {"step": "c:x", "people": 1, "conversion_from_first": 0.5, "conversion_from_previous": 0.5, "median_seconds_from_previous": 3.0},
    ]
    assert [s["conversion_from_first"] for s in funnel.funnel([], ABC, 10)] == [0.0, 0.0, 0.0]
