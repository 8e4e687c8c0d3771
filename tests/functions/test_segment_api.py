import base64
import uuid

import pytest

from tests.conftest import READ, TASK, WRITE, WRITE_KEY

pytestmark = pytest.mark.integration
BASIC = {"Authorization": "Basic " + base64.b64encode(f"{WRITE_KEY}:".encode()).decode()}


def drain(apps):
    return apps["stream_drain"].post("/tasks/stream-drain", headers=TASK).json


@pytest.mark.parametrize("path", ["/v1/track", "/v1/t"])
def test_track_with_basic_auth_lands_as_an_event(apps, conn, path):
    message = {"userId": "u1", "event": "Video Played", "properties": {"element": "video_player", "duration": 3}, "messageId": "m-1"}
    response = apps["ingest"].post(path, json=message, headers=BASIC)
    assert response.status_code == 200
    assert response.json == {"success": True, "accepted": 1, "duplicates": 0, "dropped": 0, "rejected": []}
    assert drain(apps)["inserted"] == 1
    row = conn.run("SELECT user_id, action, element, duration, properties, envelope->>'type', envelope->>'messageId' FROM events")
    assert row == [["u1", "Video Played", "video_player", 3.0, {"element": "video_player", "duration": 3}, "track", "m-1"]]


def test_write_key_in_the_body(apps):
    response = apps["ingest"].post(
        "/v1/batch", json={"writeKey": WRITE_KEY, "batch": [{"type": "page", "anonymousId": "a", "name": "Home"}]}
    )
    assert (response.status_code, response.json["accepted"]) == (200, 1)


def test_text_plain_body_as_analytics_js_sends_it(apps):
    import json

    response = apps["ingest"].post(
        "/v1/p", data=json.dumps({"writeKey": WRITE_KEY, "anonymousId": "a", "name": "Home"}), content_type="text/plain"
    )
    assert response.status_code == 200


def test_a_partly_bad_batch_is_200_with_the_bad_ones_listed(apps, conn):
    batch = {"batch": [{"type": "track", "userId": "u", "event": "ok"}, {"type": "track", "userId": "u"}, {"type": "nope", "userId": "u"}]}
    response = apps["ingest"].post("/v1/batch", json=batch, headers=BASIC)
    assert response.status_code == 200  # retrying would not fix the bad ones: SDKs must not retry
    assert response.json["accepted"] == 1
    assert [r["index"] for r in response.json["rejected"]] == [1, 2]
    drain(apps)
    assert conn.run("SELECT count(*) FROM events") == [[1]]


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        ({"batch": [{"type": "track", "userId": "u"}]}, BASIC, 400, "validation_failed"),
        ({"batch": []}, BASIC, 400, "bad_request"),
        ({"events": []}, BASIC, 400, "bad_request"),
        ({"batch": [{"type": "track", "userId": "u", "event": "e"}]}, {}, 401, "unauthorized"),
        ({"writeKey": "wrong-key-wrong-key", "batch": [{"type": "track", "userId": "u", "event": "e"}]}, {}, 401, "unauthorized"),
        ({"batch": [{"type": "track", "userId": "u", "event": "e"}] * 501}, BASIC, 413, "payload_too_large"),
    ],
)
def test_requests_no_retry_can_fix_are_4xx_in_both_error_shapes(apps, conn, body, headers, status, code):
    response = apps["ingest"].post("/v1/batch", json=body, headers=headers)
    assert response.status_code == status
    assert (response.json["success"], response.json["code"], response.json["error"]["code"]) == (False, code, code)
    assert isinstance(response.json["message"], str) and response.json["message"]


def test_resent_message_ids_are_duplicates(apps, conn):
    message = {"userId": "u", "event": "e", "messageId": "same-id"}
    assert apps["ingest"].post("/v1/track", json=message, headers=BASIC).json["accepted"] == 1
    assert apps["ingest"].post("/v1/track", json=message, headers=BASIC).json["duplicates"] == 1
    drain(apps)
    assert conn.run("SELECT count(*) FROM events") == [[1]]


def test_identify_group_alias_reach_their_tables(apps, conn):
    messages = [
        {"type": "identify", "userId": "u1", "traits": {"plan": "free", "name": "Ada"}, "timestamp": "2026-01-01T00:00:00Z"},
        {"type": "identify", "userId": "u1", "traits": {"plan": "pro"}, "timestamp": "2026-01-02T00:00:00Z"},
        {"type": "identify", "userId": "u1", "traits": {"plan": "stale"}, "timestamp": "2025-12-31T00:00:00Z"},
        {"type": "group", "userId": "u1", "groupId": "acme", "traits": {"size": 10}},
        {"type": "alias", "previousId": "old-id", "userId": "u1"},
    ]
    assert apps["ingest"].post("/v1/batch", json={"batch": messages}, headers=BASIC).json["accepted"] == 5
    assert drain(apps)["identities"] == 5
    assert conn.run("SELECT user_id, traits FROM users") == [["u1", {"plan": "pro", "name": "Ada"}]]
    assert conn.run("SELECT group_id, traits FROM groups") == [["acme", {"size": 10}]]
    assert conn.run("SELECT group_id, user_id FROM group_members") == [["acme", "u1"]]
    assert conn.run("SELECT alias_id, person_id FROM identity_links") == [["old-id", "u1"]]


def test_one_person_counts_once_after_logging_in(apps, conn):
    anon = {"anonymousId": "anon-7", "event": "Viewed", "properties": {"element": "hero"}}
    apps["ingest"].post("/v1/track", json=anon, headers=BASIC)
    apps["ingest"].post("/v1/track", json={**anon, "userId": "user-7"}, headers=BASIC)  # logged in: carries both
    apps["ingest"].post("/v1/track", json={"userId": "user-8", "event": "Viewed"}, headers=BASIC)
    drain(apps)
    assert conn.run("SELECT alias_id, person_id FROM identity_links") == [["anon-7", "user-7"]]
    body = apps["metrics"].get("/metrics", headers=READ).json
    assert body["active_users"] == 2  # user-7 (with its anonymous past) and user-8
    apps["view_refresh"].post("/tasks/view-refresh", headers=TASK)
    assert apps["metrics"].get("/metrics", headers=READ).json["all_time"]["users"] == 2


def test_chains_of_aliases_stay_flat(apps, conn):
    batch = [{"type": "alias", "previousId": "a", "userId": "b"}, {"type": "alias", "previousId": "b", "userId": "c"}]
    apps["ingest"].post("/v1/batch", json={"batch": batch}, headers=BASIC)
    drain(apps)
    assert sorted(conn.run("SELECT alias_id, person_id FROM identity_links")) == [["a", "c"], ["b", "c"]]


def test_the_native_api_still_works_beside_it(apps):
    response = apps["ingest"].post("/event", json={"user_id": "u", "action": "play", "event_id": str(uuid.uuid4())}, headers=WRITE)
    assert response.status_code == 202
