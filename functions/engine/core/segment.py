"""Pure: messages of Segment's HTTP Tracking API, as events and identity operations. No I/O.

Each message runs the same event pipeline as the seed's API (engine.core.pipeline); what is
Segment's own is only its schema, which ids and clocks it carries, and the mapping below.

- track / page / screen become events: action = the event name, "page" or "screen";
  element = properties.element, else properties.category (track), the page's name or path
  (page), or the screen's name (screen), cut to 100 characters (the whole value stays in
  properties); duration = properties.duration when it is a number of seconds (0-86,400).
- identify and group become operations on users and groups (traits merged, newest wins).
- alias, and any call carrying both anonymousId and userId, links the first id to the person.
- The user is userId, else anonymousId. messageId is the event id: a UUID as is, any other
  string mapped to a UUIDv5 of (project, messageId), so a resend is always recognised.
- Time: Segment's own rule, timestamp = receivedAt - (sentAt - originalTimestamp), with the
  client's originalTimestamp (or timestamp) and the message's (or batch's) sentAt.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from marshmallow import INCLUDE, Schema, ValidationError, fields, validate

from engine.core import constants as c
from engine.core.fastload import compile_loader, own_conversion
from engine.core.pipeline import Intake, run_steps
from engine.core.schemas import NO_NUL, NUL_MESSAGE, JsonObject, _check_properties

TYPES = ("track", "page", "screen", "identify", "group", "alias")
SHORT_PATHS = {"t": "track", "p": "page", "s": "screen", "i": "identify", "g": "group", "a": "alias"}
MESSAGE_ID_NAMESPACE = uuid.UUID("6f1c0d5e-2b8a-4c61-9a3e-5d2f7b9c4e10")
BODY_ONLY = ("properties", "traits", "context")


@own_conversion
class Id(fields.Field):
    """An id as SDKs send it: a string, or a number (made a string)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise ValidationError("must be a string")
        text = str(value)
        if not 1 <= len(text) <= c.MAX_USER_ID_CHARS:
            raise ValidationError(f"must be 1 to {c.MAX_USER_ID_CHARS} characters")
        if "\x00" in text:
            raise ValidationError(NUL_MESSAGE)
        return text


def _text(max_chars: int) -> fields.String:
    return fields.String(allow_none=True, validate=[validate.Length(min=1, max=max_chars), validate.Regexp(NO_NUL, error=NUL_MESSAGE)])


def _moment() -> fields.AwareDateTime:
    return fields.AwareDateTime(allow_none=True, default_timezone=dt.UTC)


class MessageSchema(Schema):
    """The fields of a Segment message this engine reads; any other field is kept in the envelope."""

    class Meta:
        unknown = INCLUDE

    type = fields.String(validate=validate.OneOf(TYPES))
    messageId = Id(allow_none=True)
    userId = Id(allow_none=True)
    anonymousId = Id(allow_none=True)
    previousId = Id(allow_none=True)
    groupId = Id(allow_none=True)
    event = _text(c.MAX_ACTION_CHARS)
    name = _text(c.MAX_USER_ID_CHARS)
    category = _text(c.MAX_USER_ID_CHARS)
    properties = JsonObject(allow_none=True, validate=_check_properties)
    traits = JsonObject(allow_none=True, validate=_check_properties)
    context = JsonObject(allow_none=True)
    integrations = fields.Dict(allow_none=True)
    timestamp = _moment()
    originalTimestamp = _moment()
    sentAt = _moment()
    receivedAt = fields.Raw(allow_none=True)
    writeKey = fields.Raw(allow_none=True)


MESSAGE_SCHEMA = MessageSchema()
MESSAGE_LOADER = compile_loader(MESSAGE_SCHEMA)


@dataclass
class Mapped:
    """One message: an event to append and/or an identity operation, or its errors."""

    index: int
    event_id: uuid.UUID | None = None
    event: dict | None = None  # fields for enrich.build_entry, with "extra"
    operation: dict | None = None  # identify / group / alias, for the drain
    links: list[tuple[str, str]] = field(default_factory=list)
    errors: dict | None = None


def event_id_for(message_id: str | None, project_id: int) -> uuid.UUID | None:
    if message_id is None:
        return None
    try:
        return uuid.UUID(message_id)
    except ValueError:
        return uuid.uuid5(MESSAGE_ID_NAMESPACE, f"{project_id}:{message_id}")


def _cut(value: Any) -> str | None:
    return value[: c.MAX_ELEMENT_CHARS] if isinstance(value, str) and value and "\x00" not in value else None


def element_of(kind: str, message: dict) -> str | None:
    properties = message.get("properties") or {}
    if kind == "track":
        return _cut(properties.get("element")) or _cut(properties.get("category"))
    if kind == "page":
        return _cut(message.get("name")) or _cut(properties.get("path"))
    return _cut(message.get("name"))


def duration_of(message: dict) -> float | None:
    value = (message.get("properties") or {}).get("duration")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= c.MAX_DURATION_SECONDS:
        return float(value)
    return None


def map_message(
    raw: Any,
    index: int,
    *,
    kind_from_path: str | None,
    batch: dict,
    received_at: dt.datetime,
    project_id: int,
    retention_days: int,
) -> Mapped:
    """Run one message through the event pipeline and say what it becomes; bad input is reported, never raised."""
    mapped = Mapped(index)

    def required(message: dict) -> dict:
        return _required(kind_from_path or message.get("type"), message)

    def clocks(message: dict):
        # Segment's rule: the client's originalTimestamp (or timestamp) and the message's (or batch's) sentAt.
        client_time = message.get("originalTimestamp") or message.get("timestamp")
        return ("timestamp", client_time), ("timestamp", message.get("sentAt") or batch.get("sentAt"))

    draft = run_steps(raw, index, Intake("message", MESSAGE_SCHEMA, MESSAGE_LOADER, clocks, received_at, retention_days, required=required))
    if draft.errors is not None:
        mapped.errors = draft.errors
        return mapped
    message, moment = draft.fields, draft.moment
    kind = kind_from_path or message.get("type")
    client_time, sent_at = draft.client_time, draft.sent_at

    user = message.get("userId") or message.get("anonymousId")
    anonymous = message.get("anonymousId")
    if message.get("userId") and anonymous and anonymous != message["userId"]:
        mapped.links.append((anonymous, message["userId"]))
    mapped.event_id = event_id_for(message.get("messageId"), project_id)
    context = {**(batch.get("context") or {}), **(message.get("context") or {})} or None
    envelope = {k: v for k, v in raw.items() if k not in BODY_ONLY and k != "writeKey"}
    envelope["type"] = kind
    if batch.get("integrations") and "integrations" not in envelope:
        envelope["integrations"] = batch["integrations"]

    if kind in ("track", "page", "screen"):
        mapped.event = {
            "user_id": user,
            "action": message["event"] if kind == "track" else kind,
            "element": element_of(kind, message),
            "duration": duration_of(message),
            "timestamp": client_time,
            "sent_at": sent_at,
            "properties": message.get("properties") or {},
            "moment": moment,
            "extra": {"anonymous_id": anonymous, "context": context, "envelope": envelope},
        }
    elif kind == "identify":
        mapped.operation = {"kind": "identify", "user_id": user, "traits": message.get("traits") or {}, "at": moment}
    elif kind == "group":
        mapped.operation = {
            "kind": "group",
            "group_id": message["groupId"],
            "user_id": user,
            "traits": message.get("traits") or {},
            "at": moment,
        }
    else:  # alias
        mapped.links = [(message["previousId"], message["userId"])]
        mapped.operation = {"kind": "alias", "at": moment}
    return mapped


def _required(kind: str | None, message: dict) -> dict:
    if kind not in TYPES:
        return {"type": [f"must be one of {', '.join(TYPES)}"]}
    if kind == "alias":
        missing = [name for name in ("previousId", "userId") if not message.get(name)]
        return {name: ["Missing data for required field."] for name in missing}
    errors = {}
    if not message.get("userId") and not message.get("anonymousId"):
        errors["userId"] = ["userId or anonymousId is required"]
    if kind == "track" and not message.get("event"):
        errors["event"] = ["Missing data for required field."]
    if kind == "group" and not message.get("groupId"):
        errors["groupId"] = ["Missing data for required field."]
    return errors
