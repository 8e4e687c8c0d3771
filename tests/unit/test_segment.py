import datetime as dt
import uuid

import pytest

from engine.core import segment

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


def mapped(message, kind=None, batch=None, project_id=1):
    return segment.map_message(message, 0, kind_from_path=kind, batch=batch or {}, received_at=NOW, project_id=project_id, retention_days=0)


def test_track_becomes_an_event():
    m = mapped(
        {
            "type": "track",
            "event": "Video Played",
            "userId": "u1",
            "anonymousId": "anon-1",
            "messageId": "ajs-next-abc",
            "properties": {"element": "video_player", "duration": 12.5, "plan": "pro"},
            "context": {"library": {"name": "analytics.js"}},
            "integrations": {"All": True},
        }
    )
    assert m.errors is None and m.operation is None
    assert m.event["user_id"] == "u1"
    assert (m.event["action"], m.event["element"], m.event["duration"]) == ("Video Played", "video_player", 12.5)
    assert m.event["properties"] == {"element": "video_player", "duration": 12.5, "plan": "pro"}
    assert m.event["extra"]["anonymous_id"] == "anon-1"
    assert m.event["extra"]["context"] == {"library": {"name": "analytics.js"}}
    assert m.event["extra"]["envelope"]["integrations"] == {"All": True} and "properties" not in m.event["extra"]["envelope"]
    assert m.links == [("anon-1", "u1")]
    assert m.event_id == uuid.uuid5(segment.MESSAGE_ID_NAMESPACE, "1:ajs-next-abc")


@pytest.mark.parametrize(
    ("message", "kind", "action", "element"),
    [
        ({"event": "Clicked", "anonymousId": "a", "properties": {"category": "nav"}}, "track", "Clicked", "nav"),
        ({"event": "Clicked", "anonymousId": "a"}, "track", "Clicked", None),
        ({"name": "Pricing", "anonymousId": "a", "properties": {"path": "/pricing"}}, "page", "page", "Pricing"),
        ({"anonymousId": "a", "properties": {"path": "/docs/" + "x" * 200}}, "page", "page", ("/docs/" + "x" * 200)[:100]),
        ({"name": "Settings", "userId": "u"}, "screen", "screen", "Settings"),
    ],
)
def test_action_and_element_per_call(message, kind, action, element):
    m = mapped(message, kind)
    assert (m.event["action"], m.event["element"]) == (action, element)


@pytest.mark.parametrize(("duration", "kept"), [(5, 5.0), (0, 0.0), (120000, None), (-1, None), ("5", None), (True, None)])
def test_duration_only_when_it_is_seconds(duration, kept):
    assert mapped({"event": "e", "userId": "u", "properties": {"duration": duration}}, "track").event["duration"] == kept


def test_message_id_uuid_is_kept_and_other_strings_map_per_project():
    fixed = str(uuid.uuid4())
    assert mapped({"event": "e", "userId": "u", "messageId": fixed}, "track").event_id == uuid.UUID(fixed)
    a = mapped({"event": "e", "userId": "u", "messageId": "m-1"}, "track", project_id=1).event_id
    b = mapped({"event": "e", "userId": "u", "messageId": "m-1"}, "track", project_id=2).event_id
    assert a != b and a == mapped({"event": "e", "userId": "u", "messageId": "m-1"}, "track").event_id
    assert mapped({"event": "e", "userId": "u"}, "track").event_id is None


def test_time_is_corrected_as_segment_does():
    # originalTimestamp is on the client's clock, which runs 1 h fast; so is sentAt.
    m = mapped({"event": "e", "userId": "u", "originalTimestamp": "2026-06-01T13:00:00Z", "sentAt": "2026-06-01T13:00:30Z"}, "track")
    assert m.event["moment"] == NOW - dt.timedelta(seconds=30)
    batch = {"sentAt": dt.datetime(2026, 6, 1, 13, 0, 30, tzinfo=dt.UTC)}
    m = mapped({"event": "e", "userId": "u", "timestamp": "2026-06-01T13:00:00Z"}, "track", batch)
    assert m.event["moment"] == NOW - dt.timedelta(seconds=30)


def test_identify_group_alias_are_operations():
    identify = mapped({"userId": "u1", "anonymousId": "a1", "traits": {"plan": "pro"}}, "identify")
    assert identify.event is None
    assert identify.operation == {"kind": "identify", "user_id": "u1", "traits": {"plan": "pro"}, "at": NOW}
    assert identify.links == [("a1", "u1")]
    group = mapped({"userId": "u1", "groupId": "acme", "traits": {"size": 10}}, "group")
    assert group.operation == {"kind": "group", "group_id": "acme", "user_id": "u1", "traits": {"size": 10}, "at": NOW}
    alias = mapped({"previousId": "old", "userId": "new"}, "alias")
    assert (alias.operation["kind"], alias.links) == ("alias", [("old", "new")])


def test_numbers_as_ids_are_strings():
    assert mapped({"event": "e", "userId": 42}, "track").event["user_id"] == "42"


@pytest.mark.parametrize(
    ("message", "kind", "errors"),
    [
        ({"event": "e"}, "track", {"userId": ["userId or anonymousId is required"]}),
        ({"userId": "u"}, "track", {"event": ["Missing data for required field."]}),
        ({"userId": "u"}, "group", {"groupId": ["Missing data for required field."]}),
        ({"userId": "u"}, "alias", {"previousId": ["Missing data for required field."]}),
        ({"userId": "u", "type": "explode"}, None, {"type": ["Must be one of: track, page, screen, identify, group, alias."]}),
        ({"userId": "u", "event": "e\x00"}, "track", {"event": ["contains a NUL character (\\u0000), which cannot be stored"]}),
        ({"userId": True, "event": "e"}, "track", {"userId": ["must be a string"]}),
        (
            {"userId": "u", "event": "e", "properties": {"n": 2**70}},
            "track",
            {"properties": {"n": ["integer outside the signed 64-bit range"]}},
        ),
        ("not an object", "track", {"_schema": ["a message must be a JSON object"]}),
        (
            {"userId": "u", "event": "e", "properties": {"blob": "x" * 40000}},
            "track",
            {"_schema": ["the message is 40051 bytes as JSON; the limit is 32768 bytes"]},
        ),
    ],
)
def test_bad_messages_are_reported(message, kind, errors):
    assert mapped(message, kind).errors == errors
