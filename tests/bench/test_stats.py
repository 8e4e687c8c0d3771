import math

import pytest

from local.bench.stats import freshness_lags, median, percentile, rate, ratio, summary


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([5.0], 50, 5.0),
        ([5.0], 99, 5.0),
        ([1, 2, 3, 4], 0, 1),
        ([1, 2, 3, 4], 100, 4),
        ([1, 2, 3, 4], 50, 2.5),
        ([4, 1, 3, 2], 50, 2.5),  # order does not matter
        (list(range(1, 101)), 99, 99.01),
        (list(range(1, 101)), 90, 90.1),
        ([1, 1, 1, 10], 75, 3.25),
        ([1, 2, math.inf], 99, math.inf),
    ],
)
def test_percentile_interpolates_between_closest_ranks(values, q, expected):
    assert percentile(values, q) == pytest.approx(expected)


def test_percentile_of_nothing_is_none():
    assert percentile([], 50) is None
    assert median([]) is None


@pytest.mark.parametrize("q", [-1, 100.5])
def test_percentile_refuses_out_of_range(q):
    with pytest.raises(ValueError, match="between 0 and 100"):
        percentile([1, 2], q)


def test_summary():
    assert summary([3, 1, 2]) == {"count": 3, "p50": 2, "p90": pytest.approx(2.8), "p99": pytest.approx(2.98), "max": 3}
    assert summary([]) == {"count": 0, "p50": None, "p90": None, "p99": None, "max": None}


@pytest.mark.parametrize(
    ("value", "floor", "expected"),
    [(80, 100, 0.8), (None, 100, None), (80, None, None), (80, 0, None), (0, 5, 0.0)],
)
def test_ratio(value, floor, expected):
    assert ratio(value, floor) == expected


def test_rate():
    assert rate(100, 4) == 25
    assert rate(100, 0) is None


def test_freshness_each_event_is_seen_at_the_first_poll_counting_it():
    acked = [1.0, 1.1, 2.0]
    polls = [(0.5, 0), (1.5, 1), (1.8, 2), (2.6, 3)]
    lags, missing = freshness_lags(acked, polls)
    assert lags == pytest.approx([0.5, 0.7, 0.6])
    assert missing == 0


def test_freshness_a_poll_before_the_ack_never_counts_it():
    # The count already reached 1 before the event was acknowledged (another event's row):
    # the event is seen no earlier than the first poll after its 202.
    lags, missing = freshness_lags([2.0], [(1.0, 1), (3.0, 1)])
    assert lags == pytest.approx([1.0])
    assert missing == 0


def test_freshness_ignores_a_dip_and_reports_events_never_counted():
    lags, missing = freshness_lags([0.0, 0.1, 0.2], [(1.0, 2), (1.5, 1), (2.0, 2)])
    assert lags == pytest.approx([1.0, 0.9])
    assert missing == 1


def test_freshness_of_no_events():
    assert freshness_lags([], [(1.0, 0)]) == ([], 0)
