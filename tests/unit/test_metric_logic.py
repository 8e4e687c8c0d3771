import datetime as dt

import pytest

from engine.core import metric_logic

NOW = dt.datetime(2026, 5, 10, 15, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("now", "seconds", "first", "last"),
    [
        (NOW, 300, "14:56", "15:00"),
        (NOW.replace(minute=3, second=59, microsecond=999999), 300, "14:59", "15:03"),
        (NOW.replace(second=1), 60, "15:00", "15:00"),
        (NOW, 10, "15:00", "15:00"),  # at least one minute
        (NOW, 170, "14:58", "15:00"),  # rounded to whole minutes
    ],
)
def test_window_is_whole_minutes_ending_with_now_s(now, seconds, first, last):
    def at(hhmm):
        hour, minute = map(int, hhmm.split(":"))
        return NOW.replace(hour=hour, minute=minute)

    assert metric_logic.window(now, seconds) == (at(first), at(last))


@pytest.mark.parametrize(("events", "seconds", "rate"), [(0, 300, 0.0), (212, 300, 42.4), (1, 300, 0.2), (7, 60, 7.0), (1, 900, 0.07)])
def test_events_per_min(events, seconds, rate):
    assert metric_logic.events_per_min(events, seconds) == rate


@pytest.mark.parametrize(("avg", "shown"), [(None, 0.0), (8.2, 8.2), (8.125, 8.12), (8.126, 8.13), (0.0, 0.0)])
def test_mean_duration(avg, shown):
    assert metric_logic.mean_duration(avg) == shown


def test_shape_keeps_seed_keys_first():
    body = metric_logic.shape_metrics(
        events=212, users=15, avg_duration=8.2, top=[("video_player", 120), ("like_button", 85)], now=NOW, seconds=300
    )
    assert list(body)[:4] == ["active_users", "events_per_min", "avg_duration", "top_elements"]
    assert body["top_elements"] == [{"element": "video_player", "count": 120}, {"element": "like_button", "count": 85}]
    assert body["window"] == {"seconds": 300, "from": "2026-05-10T14:56:00+00:00", "to": "2026-05-10T15:01:00+00:00"}
    assert body["all_time"] == {"events": 0, "users": 0, "top_elements": []}


def test_freshness_before_any_drain():
    assert metric_logic.shape_freshness(0, None, {}, NOW) == {
        "available": True,
        "backlog": 0,
        "oldest_undrained_age_seconds": None,
        "last_drain_at": None,
        "seconds_since_drain": None,
        "last_refresh_at": None,
        "seconds_since_refresh": None,
    }


def test_freshness_after_runs():
    state = {"last_drain_at": str(NOW.timestamp() - 0.25), "last_refresh_at": str(NOW.timestamp() - 12)}
    body = metric_logic.shape_freshness(42, 1.23456, state, NOW)
    assert body["backlog"] == 42
    assert body["oldest_undrained_age_seconds"] == 1.235
    assert body["last_drain_at"] == "2026-05-10T14:59:59.750000+00:00"
    assert body["seconds_since_drain"] == 0.25
    assert body["seconds_since_refresh"] == 12.0
