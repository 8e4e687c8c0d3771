import math

import pytest

from local.bench.figures import REPORTED, Figure, Goal, format_met, format_ratio, format_value


@pytest.mark.parametrize(
    ("goal", "value", "floor", "met"),
    [
        (Goal(min_ratio=0.8), 81, 100, True),
        (Goal(min_ratio=0.8), 80, 100, True),
        (Goal(min_ratio=0.8), 79, 100, False),
        (Goal(min_ratio=0.8), 79, None, False),  # no floor measured: not met
        (Goal(min_ratio=0.5, min_value=50_000), 60_000, 100_000, True),
        (Goal(min_ratio=0.5, min_value=50_000), 45_000, 80_000, False),  # ratio holds, value does not
        (Goal(min_ratio=0.5, min_value=50_000), 55_000, 120_000, False),  # value holds, ratio does not
        (Goal(max_value=2.0), 1.9, 1.0, True),
        (Goal(max_value=2.0), 2.1, 1.0, False),
        (Goal(max_value=2.0), math.inf, 1.0, False),
        (Goal(max_value=2.0), None, 1.0, False),  # not measured: not met
        (Goal(max_ratio=5), 25, 5, True),  # GET /metrics p99 against 5 × GET /healthz p99
        (Goal(max_ratio=5), 26, 5, False),
        (Goal(max_ratio=5), 26, None, False),
        (REPORTED, 5, 1, None),
        (REPORTED, None, None, None),
    ],
)
def test_goal_is_met_only_when_every_bound_holds(goal, value, floor, met):
    figure = Figure("k", "name", "req/s", value, goal, floor)
    assert figure.met is met


def test_ratio_is_value_over_floor():
    assert Figure("k", "n", "ms", 30.0, floor=10.0).ratio == 3.0
    assert Figure("k", "n", "ms", 30.0).ratio is None


@pytest.mark.parametrize(
    ("goal", "unit", "text"),
    [
        (Goal(min_ratio=0.8), "req/s", "≥ 0.80 of the floor"),
        (Goal(min_ratio=0.5, min_value=50_000), "events/s", "≥ 0.50 of the floor and ≥ 50,000 events/s"),
        (Goal(max_value=50), "ms", "≤ 50.0 ms"),
        (Goal(max_value=150), "MB", "≤ 150 MB"),
        (REPORTED, "s", "reported"),
    ],
)
def test_goal_describes_itself(goal, unit, text):
    assert goal.describe(unit) == text


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (5123.4, "req/s", "5,123 req/s"),
        (51234.9, "events/s", "51,235 events/s"),
        (12.345, "ms", "12.3 ms"),
        (1234.5, "ms", "1,234 ms"),
        (1.416, "s", "1.42 s"),
        (96.4, "MB", "96 MB"),
        (None, "MB", "—"),
        (math.inf, "s", "never, within the wait"),
    ],
)
def test_format_value(value, unit, text):
    assert format_value(value, unit) == text


def test_format_ratio_and_met():
    assert format_ratio(0.8234) == "0.82"
    assert format_ratio(None) == "—"
    assert [format_met(m) for m in (True, False, None)] == ["yes", "**no**", "—"]


def test_as_dict_carries_everything_a_script_needs():
    figure = Figure("drain", "drain", "events/s", 40_000, Goal(min_ratio=0.5), 100_000, "COPY", {"committed": 5}, "note")
    doc = figure.as_dict()
    assert doc["ratio"] == 0.4
    assert doc["met"] is False
    assert doc["goal"] == {"min_ratio": 0.5, "min_value": None, "max_value": None, "max_ratio": None, "text": "≥ 0.50 of the floor"}
    assert doc["details"] == {"committed": 5}
