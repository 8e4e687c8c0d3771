"""The dashboard's routes on the metrics function, through functions-framework, on real stores."""

import datetime as dt

import pytest

from tests.conftest import READ, TASK, WRITE
from tests.factories import make_event

pytestmark = pytest.mark.integration

ROUTES = ("/metrics/per-minute", "/metrics/elements", "/metrics/heatmap", "/metrics/users")


def ago(**delta) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(**delta)).isoformat()


def ingest_and_drain(apps, events):
    answer = apps["ingest"].post("/events", json=events, headers=WRITE)
    assert answer.status_code == 202 and answer.json["accepted"] == len(events)
    assert apps["stream_drain"].post("/tasks/stream-drain", headers=TASK).json["inserted"] == len(events)


@pytest.mark.parametrize("path", ROUTES)
def test_routes_need_the_read_key(apps, path):
    for headers in ({}, WRITE, TASK, {"Authorization": "Bearer wrong-read-key-0000"}):
        response = apps["metrics"].get(path, headers=headers)
        assert response.status_code == 401
        assert response.json["error"]["code"] == "unauthorized"
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="analytics"'


@pytest.mark.parametrize("path", ROUTES)
def test_routes_answer_get_only_and_are_not_cached(apps, path):
    assert apps["metrics"].post(path, headers=READ).status_code == 405
    response = apps["metrics"].get(path, headers=READ)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_empty_database(apps):
    per_minute = apps["metrics"].get("/metrics/per-minute", headers=READ).json
    assert len(per_minute["points"]) == 60
    assert per_minute["events"] == 0 and {p["events"] for p in per_minute["points"]} == {0}
    assert per_minute["points"][0]["minute"] == per_minute["from"]
    assert apps["metrics"].get("/metrics/elements", headers=READ).json["elements"] == []
    heatmap = apps["metrics"].get("/metrics/heatmap", headers=READ).json
    assert (heatmap["events"], heatmap["max_events"], len(heatmap["cells"])) == (0, 0, 168)
    assert apps["metrics"].get("/metrics/users", headers=READ).json == {"total": {"events": 0, "users": 0}, "users": []}


def test_per_minute_puts_each_event_in_its_minute(apps):
    events = [make_event(user_id="a", timestamp=ago(seconds=1)), make_event(user_id="b", timestamp=ago(seconds=2))]
    events += [make_event(user_id="a", timestamp=ago(minutes=30)), make_event(user_id="c", timestamp=ago(minutes=61))]
    ingest_and_drain(apps, events)
    body = apps["metrics"].get("/metrics/per-minute", headers=READ).json
    start = dt.datetime.fromisoformat(body["from"])
    expected = {}
    for e in events:
        at = dt.datetime.fromisoformat(e["timestamp"])
        if at >= start:
            minute = at.replace(second=0, microsecond=0).isoformat()
            expected.setdefault(minute, set()).add(e["user_id"])
    assert {p["minute"]: p["events"] for p in body["points"] if p["events"]} == {m: len(u) for m, u in expected.items()}
    assert body["events"] == 3  # the one 61 minutes ago is before the first bucket
    assert body["points"][-1]["minute"] == (dt.datetime.fromisoformat(body["to"]) - dt.timedelta(minutes=1)).isoformat()


def test_elements_rank_the_last_hour(apps):
    events = [make_event(user_id=u, element="like_button", duration=d) for u, d in (("a", 2.0), ("b", 3.0), ("a", None))]
    events += [make_event(element="share_button", duration=None), make_event(element=None)]
    events += [make_event(element="old_button", timestamp=ago(minutes=90))]
    ingest_and_drain(apps, events)
    assert apps["metrics"].get("/metrics/elements", headers=READ).json["elements"] == [
        {"element": "like_button", "events": 3, "users": 2, "avg_duration": 2.5},
        {"element": "share_button", "events": 1, "users": 1, "avg_duration": 0.0},
    ]


def test_heatmap_counts_the_last_week_by_weekday_and_hour(apps):
    moments = [ago(seconds=5), ago(seconds=6), ago(days=2, hours=3), ago(days=8)]
    ingest_and_drain(apps, [make_event(timestamp=m) for m in moments])
    body = apps["metrics"].get("/metrics/heatmap", headers=READ).json
    nonzero = {(c["weekday"], c["hour"]): c["events"] for c in body["cells"] if c["events"]}
    expected = {}
    for moment in moments[:3]:  # eight days ago is outside the week
        at = dt.datetime.fromisoformat(moment)
        expected[(at.isoweekday(), at.hour)] = expected.get((at.isoweekday(), at.hour), 0) + 1
    assert nonzero == expected
    assert (body["events"], body["max_events"], body["timezone"]) == (3, max(expected.values()), "UTC")
    assert [(c["weekday"], c["hour"]) for c in body["cells"]] == [(d, h) for d in range(1, 8) for h in range(24)]


def test_users_are_live_before_and_after_a_refresh(apps):
    ingest_and_drain(apps, [make_event(user_id="a", duration=5.0, timestamp=ago(minutes=3)), make_event(user_id="b", duration=1.0)])
    assert apps["view_refresh"].post("/tasks/view-refresh", headers=TASK).json["status"] == "refreshed"
    ingest_and_drain(apps, [make_event(user_id="b", duration=2.0), make_event(user_id="c", duration=None)])
    body = apps["metrics"].get("/metrics/users", headers=READ).json
    assert body["total"] == {"events": 4, "users": 3}
    users = body["users"]
    assert [(u["user_id"], u["events"], u["total_duration"]) for u in users] == [("b", 2, 3.0), ("a", 1, 5.0), ("c", 1, 0.0)]
    assert dt.datetime.fromisoformat(users[0]["first_seen"]) < dt.datetime.fromisoformat(users[0]["last_seen"])
