import datetime as dt

import pytest

from engine.core import partitions

NOW = dt.datetime(2026, 5, 10, 15, 0, tzinfo=dt.UTC)
D = dt.date


def test_names_and_bounds_round_trip():
    assert partitions.partition_name(D(2026, 5, 1)) == "events_p20260501"
    assert partitions.day_of("events_p20260501") == D(2026, 5, 1)
    assert partitions.day_of("events_default") is None
    assert partitions.bounds(D(2026, 12, 31)) == ("2026-12-31 00:00:00+00", "2027-01-01 00:00:00+00")


def test_create_statement():
    assert partitions.create_statement(D(2026, 5, 1)) == (
        "CREATE TABLE IF NOT EXISTS events_p20260501 PARTITION OF events "
        "FOR VALUES FROM ('2026-05-01 00:00:00+00') TO ('2026-05-02 00:00:00+00')"
    )


def test_days_ahead():
    assert partitions.days_ahead(NOW, 2) == [D(2026, 5, 10), D(2026, 5, 11), D(2026, 5, 12)]


@pytest.mark.parametrize(
    ("retention", "expected"),
    [
        (0, []),
        (10, [D(2026, 4, 29)]),  # cutoff 2026-04-30 15:00: the 29th ends before it, the 30th does not
        (9, [D(2026, 4, 29), D(2026, 4, 30)]),
    ],
)
def test_expired(retention, expected):
    assert partitions.expired({D(2026, 4, 29), D(2026, 4, 30), D(2026, 5, 1)}, NOW, retention) == expected


@pytest.mark.parametrize(
    ("days", "existing", "retention", "expected"),
    [
        ({D(2026, 5, 10)}, set(), 0, [D(2026, 5, 10)]),
        ({D(2026, 5, 10)}, {D(2026, 5, 10)}, 0, []),
        ({D(2024, 1, 15), D(2026, 5, 9)}, set(), 0, [D(2026, 5, 9)]),  # too old: the default partition
        ({D(2026, 3, 9), D(2026, 3, 8)}, set(), 0, [D(2026, 3, 9)]),  # 62 days back is the oldest
        ({D(2026, 5, 1)}, set(), 5, []),  # past retention
    ],
)
def test_needed(days, existing, retention, expected):
    assert partitions.needed(days, existing, NOW, retention) == expected
