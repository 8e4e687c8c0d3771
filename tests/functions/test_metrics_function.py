import datetime as dt

import pytest

from tests.conftest import READ, TASK, WRITE
from tests.factories import SEED_EVENT, make_event

pytestmark = pytest.mark.integration


def test_metrics_needs_the_read_key(apps):
    for headers in ({}, WRITE, TASK, {"Authorization": "Bearer wrong-read-key-0000"}):
        response = apps["metrics"].get("/metrics", headers=headers)
        assert response.status_code == 401
        assert response.json["error"]["code"] == "unauthorized"


def test_empty_database(apps):
    response = apps["metrics"].get("/metrics", headers=READ)
    assert response.status_code == 200
    body = response.json
    assert {k: body[k] for k in ("active_users", "events_per_min", "avg_duration", "top_elements")} == {
        "active_users": 0,
        "events_per_min": 0.0,
        "avg_duration": 0.0,
        "top_elements": [],
    }
    assert body["all_time"] == {"events": 0, "users": 0, "top_elements": []}
    assert body["window"]["seconds"] == 300


def test_seed_example_end_to_end(apps):
    """POST the seed's example as is, and one happening now; drain; refresh; GET /metrics."""
    assert apps["ingest"].post("/event", json=SEED_EVENT, headers=WRITE).status_code == 202
    assert apps["ingest"].post("/event", json=make_event(), headers=WRITE).status_code == 202
    drained = apps["stream_drain"].post("/tasks/stream-drain", headers=TASK).json
    assert (drained["read"], drained["inserted"]) == (2, 2)
    assert apps["view_refresh"].post("/tasks/view-refresh", headers=TASK).json["status"] == "refreshed"
    body = apps["metrics"].get("/metrics", headers=READ).json
    # The one happening now is in the 5-minute window; the seed's (2024) only in all_time.
    assert body["active_users"] == 1
    assert body["events_per_min"] == 0.2
    assert body["avg_duration"] == 12.5
    assert body["top_elements"] == [{"element": "video_player", "count": 1}]
    assert body["all_time"] == {"events": 2, "users": 1, "top_elements": [{"element": "video_player", "count": 2}]}


def test_event_counts_as_soon_as_drained_without_refresh(apps):
    apps["ingest"].post(
        "/events", json=[make_event(user_id="a"), make_event(user_id="b", element="like_button", duration=3.5)], headers=WRITE
    )
    apps["stream_drain"].post("/tasks/stream-drain", headers=TASK)
    body = apps["metrics"].get("/metrics", headers=READ).json
    assert body["active_users"] == 2
    assert body["avg_duration"] == 8.0
    assert body["top_elements"] == [{"element": "like_button", "count": 1}, {"element": "video_player", "count": 1}]
    assert body["all_time"]["events"] == 2  # kept by the drain in the same transaction: no refresh to wait for


def test_as_of_is_now(apps):
    body = apps["metrics"].get("/metrics", headers=READ).json
    as_of = dt.datetime.fromisoformat(body["as_of"])
    assert abs((dt.datetime.now(dt.UTC) - as_of).total_seconds()) < 5
    minute_after = as_of.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    assert body["window"]["to"] == minute_after.isoformat()  # the window ends with now's whole minute


def test_healthz(apps):
    assert apps["metrics"].get("/healthz").json["checks"] == {"postgres": "ok"}


def test_a_connection_killed_under_the_function_is_replaced_transparently(apps, conn):
    assert apps["metrics"].get("/metrics", headers=READ).status_code == 200  # the thread now holds a connection
    killed = conn.run(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE application_name = 'analytics-metrics' AND datname = current_database()"
    )
    assert killed[0][0] >= 1
    response = apps["metrics"].get("/metrics", headers=READ)
    assert response.status_code == 200
    assert response.json["active_users"] == 0
