"""The dashboard series' pure parts: the minute span and the bodies of GET /metrics/..."""

import datetime as dt

import pytest

from engine.core import metric_logic

NOW = dt.datetime(2026, 5, 10, 15, 7, 42, 123456, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("now", "first"),
    [
        (NOW, dt.datetime(2026, 5, 10, 14, 8, tzinfo=dt.UTC)),
        (dt.datetime(2026, 5, 10, 15, 0, tzinfo=dt.UTC), dt.datetime(2026, 5, 10, 14, 1, tzinfo=dt.UTC)),
        (dt.datetime(2026, 1, 1, 0, 0, 59, 999999, tzinfo=dt.UTC), dt.datetime(2025, 12, 31, 23, 1, tzinfo=dt.UTC)),
    ],
)
def test_minute_span_holds_sixty_buckets_ending_with_the_current_minute(now, first):
    assert metric_logic.minute_span(now) == (first, now.replace(second=0, microsecond=0))


def test_minute_span_length_is_an_argument():
    minute = dt.datetime(2026, 5, 10, 15, 7, tzinfo=dt.UTC)
    assert metric_logic.minute_span(NOW, 1) == (minute, minute)


def test_per_minute_body():
    first, until = metric_logic.minute_span(NOW, 2)
    rows = [(first, 3, 2), (first + dt.timedelta(minutes=1), 0, 0)]
    assert metric_logic.shape_per_minute(rows, first, until) == {
        "from": "2026-05-10T15:06:00+00:00",
        "to": "2026-05-10T15:08:00+00:00",
        "bucket_seconds": 60,
        "events": 3,
        "points": [
            {"minute": "2026-05-10T15:06:00+00:00", "events": 3, "users": 2},
            {"minute": "2026-05-10T15:07:00+00:00", "events": 0, "users": 0},
        ],
    }


def test_elements_body_rounds_durations_like_the_headline():
    first, until = metric_logic.minute_span(NOW)
    body = metric_logic.shape_elements([("video_player", 5, 2, 8.126), ("like_button", 1, 1, None)], first, until)
    assert body["elements"] == [
        {"element": "video_player", "events": 5, "users": 2, "avg_duration": 8.13},
        {"element": "like_button", "events": 1, "users": 1, "avg_duration": 0.0},
    ]
    assert (body["from"], body["to"]) == ("2026-05-10T14:08:00+00:00", "2026-05-10T15:08:00+00:00")


def test_heatmap_body_carries_total_and_largest_cell():
    since, until = metric_logic.minute_span(NOW, metric_logic.HEATMAP_MINUTES)
    rows = [(d, h, 0) for d in range(1, 8) for h in range(24)]
    rows[0], rows[30] = (1, 0, 4), (2, 6, 9)
    body = metric_logic.shape_heatmap(rows, since, until)
    assert (body["events"], body["max_events"], body["timezone"]) == (13, 9, "UTC")
    assert (body["from"], body["to"]) == ("2026-05-03T15:08:00+00:00", "2026-05-10T15:08:00+00:00")
    assert len(body["cells"]) == 168
    assert body["cells"][30] == {"weekday": 2, "hour": 6, "events": 9}


def test_empty_heatmap_has_zero_maximum():
    assert metric_logic.shape_heatmap([], NOW, NOW)["max_events"] == 0


def test_users_body():
    seen = dt.datetime(2026, 5, 10, 15, 0, tzinfo=dt.UTC)
    assert metric_logic.shape_users([("u1", 7, 12.3456, seen, NOW)], 9, 2) == {
        "total": {"events": 9, "users": 2},
        "users": [
            {
                "user_id": "u1",
                "events": 7,
                "total_duration": 12.35,
                "first_seen": "2026-05-10T15:00:00+00:00",
                "last_seen": "2026-05-10T15:07:42.123456+00:00",
            }
        ],
    }
