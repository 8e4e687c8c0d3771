import gzip
import json
import uuid

import orjson
import pytest

from tests.conftest import WRITE, WRITE_KEY
from tests.factories import SEED_EVENT, make_event

pytestmark = pytest.mark.integration


def stream_entries(rclient, keys):
    return [orjson.loads(fields[b"e"]) for _, fields in rclient.xrange(keys.stream)]


def test_seed_example_as_is_is_queued(apps, rclient, keys):
    response = apps["ingest"].post("/event", json=SEED_EVENT, headers=WRITE)
    assert response.status_code == 202
    assert response.json["status"] == "accepted"
    event_id = response.json["event_id"]
    assert uuid.UUID(event_id).version == 7
    [entry] = stream_entries(rclient, keys)
    assert entry["event_id"] == event_id
    assert (entry["user_id"], entry["action"], entry["element"], entry["duration"]) == ("user_123", "play", "video_player", 12.5)
    assert entry["timestamp"] == "2024-01-15T10:30:00+00:00"
    assert entry["client_timestamp"] == "2024-01-15T10:30:00+00:00"
    assert entry["request_id"] == response.headers["X-Request-Id"]


@pytest.mark.parametrize(
    "headers_or_query",
    [
        {"headers": WRITE},
        {"query_string": {"key": WRITE_KEY}},
        {"headers": {"Authorization": "Basic " + __import__("base64").b64encode(f"{WRITE_KEY}:".encode()).decode()}},
    ],
)
def test_every_way_of_sending_the_write_key(apps, headers_or_query):
    assert apps["ingest"].post("/event", json=make_event(), **headers_or_query).status_code == 202


def test_text_plain_body_for_sendbeacon(apps, rclient, keys):
    response = apps["ingest"].post(
        "/event", data=json.dumps(make_event()), content_type="text/plain;charset=UTF-8", query_string={"key": WRITE_KEY}
    )
    assert response.status_code == 202
    assert rclient.xlen(keys.stream) == 1


def test_gzip_body(apps, rclient, keys):
    body = gzip.compress(json.dumps([make_event(), make_event()]).encode())
    response = apps["ingest"].post("/events", data=body, content_type="application/json", headers={**WRITE, "Content-Encoding": "gzip"})
    assert response.status_code == 202
    assert response.json["accepted"] == 2
    assert rclient.xlen(keys.stream) == 2


@pytest.mark.parametrize(
    ("headers", "message"),
    [({}, "missing write key"), ({"X-Write-Key": "wrong-key-wrong-key"}, "invalid write key")],
)
def test_refuses_without_the_write_key(apps, rclient, keys, headers, message):
    response = apps["ingest"].post("/event", json=make_event(), headers=headers)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"
    assert response.json["error"]["message"].startswith(message)
    assert rclient.xlen(keys.stream) == 0


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b'{"user_id": "u", "action": "a", "duration": NaN}', 400, "invalid_json"),
        (b'{"user_id": "u", "user_id": "v", "action": "a"}', 400, "invalid_json"),
        (b'{"user_id": "u\\u0000", "action": "a"}', 400, "validation_failed"),
        (b'{"user_id": "\\ud800", "action": "a"}', 400, "validation_failed"),
        (b'{"action": "a"}', 400, "validation_failed"),
        (b"[]", 400, "validation_failed"),
        (b"not json", 400, "invalid_json"),
    ],
)
def test_bad_single_events_are_clear_400s_and_never_queued(apps, rclient, keys, body, status, code):
    response = apps["ingest"].post("/event", data=body, content_type="application/json", headers=WRITE)
    assert response.status_code == status
    assert response.json["error"]["code"] == code
    assert rclient.xlen(keys.stream) == 0


def test_validation_errors_name_the_fields(apps):
    response = apps["ingest"].post("/event", json={"user_id": "u", "action": "a" * 260, "duration": -1}, headers=WRITE)
    assert response.status_code == 400
    assert response.json["error"]["details"] == {
        "action": ["Length must be between 1 and 255."],
        "duration": ["Must be greater than or equal to 0 and less than or equal to 86400.0."],
    }


def test_wrong_content_type_is_415(apps):
    response = apps["ingest"].post("/event", data="user_id=u", content_type="application/x-www-form-urlencoded", headers=WRITE)
    assert response.status_code == 415
    assert response.json["error"]["code"] == "unsupported_media_type"


def test_batch_reports_each_event(apps, rclient, keys):
    known = str(uuid.uuid4())
    batch = [make_event(event_id=known), {"user_id": "u"}, make_event(event_id=known), make_event()]
    response = apps["ingest"].post("/events", json=batch, headers=WRITE)
    assert response.status_code == 202
    body = response.json
    assert body["accepted"] == 2
    assert body["duplicates"] == 1
    assert body["rejected"] == [{"index": 1, "errors": {"action": ["Missing data for required field."]}}]
    assert body["event_ids"][0] == known and body["event_ids"][1] is None and body["event_ids"][2] == known
    assert uuid.UUID(body["event_ids"][3]).version == 7
    assert [e["event_id"] for e in stream_entries(rclient, keys)] == [known, body["event_ids"][3]]


def test_batch_object_form(apps):
    response = apps["ingest"].post("/events", json={"events": [make_event()], "sent_at": make_event()["timestamp"]}, headers=WRITE)
    assert response.status_code == 202
    assert response.json["accepted"] == 1


def test_batch_with_nothing_valid_is_400_with_every_index(apps, rclient, keys):
    response = apps["ingest"].post("/events", json=[{"user_id": "u"}, {"action": "a"}], headers=WRITE)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "validation_failed"
    assert [r["index"] for r in response.json["error"]["details"]["rejected"]] == [0, 1]
    assert rclient.xlen(keys.stream) == 0


def test_resent_event_id_is_a_duplicate(apps, rclient, keys):
    event = make_event(event_id=str(uuid.uuid4()))
    first = apps["ingest"].post("/event", json=event, headers=WRITE)
    second = apps["ingest"].post("/event", json=event, headers=WRITE)
    assert (first.status_code, first.json["status"]) == (202, "accepted")
    assert (second.status_code, second.json["status"]) == (202, "duplicate")
    assert first.json["event_id"] == second.json["event_id"] == event["event_id"]
    assert rclient.xlen(keys.stream) == 1


def test_oversized_batch_is_413_with_the_limit(apps):
    response = apps["ingest"].post("/events", json=[make_event()] * 501, headers=WRITE)
    assert response.status_code == 413
    assert response.json["error"]["details"] == {"limit": 500, "events": 501}


def test_cors_preflight_allows_any_origin(apps):
    response = apps["ingest"].options("/event", headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"})
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "X-Write-Key" in response.headers["Access-Control-Allow-Headers"]


def test_unknown_route_and_method(apps):
    assert apps["ingest"].get("/event").status_code == 405
    assert apps["ingest"].post("/metrics").json["error"]["code"] == "not_found"


def test_ingest_does_not_serve_other_functions_routes(apps):
    response = apps["ingest"].post("/tasks/stream-drain", headers=WRITE)
    assert response.status_code == 404


def test_healthz(apps):
    response = apps["ingest"].get("/healthz")
    assert response.status_code == 200
    assert response.json == {
        "status": "ok",
        "function": "ingest",
        "checks": {"redis": "ok"},
        "stream": {"backlog": 0, "oldest_undrained_age_seconds": None, "max_backlog": 2_000_000, "refusing": None},
    }


def test_healthz_warns_before_the_memory_ratio_is_reached():
    from engine import health
    from engine.core.durability import ServerFacts

    def facts(used: int) -> ServerFacts:
        return ServerFacts("7.0.0", used, 1000, True, "everysec", False, False, 512)

    assert "warning" not in health.memory_state(facts(679), 0.85)  # 0.8 x 0.85 = 68 %
    assert health.memory_state(facts(680), 0.85)["warning"].startswith("Redis is at 68% of maxmemory; ingest refuses events at 85%")
    assert health.memory_state(facts(500), 0.85) == {"used_memory": 500, "maxmemory": 1000, "ratio": 0.5, "refuse_at_ratio": 0.85}


def test_request_id_follows_the_event_to_its_row(apps, conn, caplog):
    import logging

    caplog.set_level(logging.INFO)
    response = apps["ingest"].post("/event", json=make_event(), headers={**WRITE, "X-Request-Id": "trace-123"})
    assert response.headers["X-Request-Id"] == "trace-123"
    event_id = response.json["event_id"]
    from tests.conftest import TASK

    apps["stream_drain"].post("/tasks/stream-drain", headers=TASK)
    assert conn.run("SELECT request_id FROM events WHERE event_id = CAST(:e AS uuid)", e=event_id) == [["trace-123"]]
    [logged] = [r for r in caplog.records if r.msg == "events appended"]
    assert (logged.request_id, logged.event_ids) == ("trace-123", [event_id])


def test_ops_counters_in_prometheus_text(apps):
    from tests.conftest import TASK

    apps["ingest"].post("/events", json=[make_event(), make_event(), {"user_id": "u"}], headers=WRITE)
    known = make_event(event_id=str(uuid.uuid4()))
    apps["ingest"].post("/event", json=known, headers=WRITE)
    apps["ingest"].post("/event", json=known, headers=WRITE)
    apps["ingest"].post("/event", json={"user_id": "u"}, headers=WRITE)
    apps["ingest"].post("/event", json=make_event(), headers={"X-Write-Key": "wrong-key-wrong-key"})
    apps["stream_drain"].post("/tasks/stream-drain", headers=TASK)
    assert apps["ingest"].get("/internal/metrics").status_code == 401
    for target in ("ingest", "metrics", "stream_drain", "view_refresh"):
        response = apps[target].get("/internal/metrics", headers=TASK)
        assert response.status_code == 200
        lines = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in response.text.splitlines() if not line.startswith("#")}
        assert lines["analytics_events_accepted_total"] == 3
        assert lines["analytics_events_duplicate_total"] == 1
        assert lines["analytics_events_drained_total"] == 3
        assert lines['analytics_events_rejected_total{reason="invalid_event"}'] == 1
        assert lines['analytics_events_rejected_total{reason="validation_failed"}'] == 1
        assert lines['analytics_events_rejected_total{reason="unauthorized"}'] == 1
        assert lines["analytics_stream_backlog"] == 0
        assert lines["analytics_drain_runs_total"] == 1
        assert lines["analytics_dedupe_marks"] == 1  # the one client event_id
        assert lines["analytics_dedupe_bytes_estimate"] == 24
        assert lines["analytics_redis_used_memory_bytes"] > 0
