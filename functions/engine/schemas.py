"""The marshmallow schemas of the public API: the source of truth for what an event may hold."""

from __future__ import annotations

import datetime as dt

from marshmallow import RAISE, Schema, fields, validate

from engine import constants as c


class JsonNumber(fields.Float):
    """A finite JSON number; unlike fields.Float it refuses numeric strings like "12.5"."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.make_error("invalid", input=value)
        return super()._deserialize(value, attr, data, **kwargs)


class JsonObject(fields.Dict):
    """A JSON object with string keys (what `properties` must be)."""

    def __init__(self, **kwargs):
        super().__init__(keys=fields.String(), **kwargs)


def _text(max_chars: int, required: bool) -> fields.String:
    return fields.String(
        required=required,
        allow_none=not required,
        validate=validate.Length(min=1, max=max_chars),
    )


def _moment() -> fields.AwareDateTime:
    # A timestamp without an offset is read as UTC, as most SDKs mean it.
    return fields.AwareDateTime(allow_none=True, default_timezone=dt.UTC)


class EventSchema(Schema):
    """One event as POST /event and POST /events take it: the seed's five fields and more."""

    class Meta:
        unknown = RAISE

    user_id = _text(c.MAX_USER_ID_CHARS, required=True)
    action = _text(c.MAX_ACTION_CHARS, required=True)
    element = _text(c.MAX_ELEMENT_CHARS, required=False)
    duration = JsonNumber(
        allow_none=True,
        validate=validate.Range(min=0, max=c.MAX_DURATION_SECONDS),
    )
    timestamp = _moment()
    sent_at = _moment()
    event_id = fields.UUID(allow_none=True)
    session_id = _text(c.MAX_SESSION_ID_CHARS, required=False)
    properties = JsonObject(allow_none=True)


EVENT_SCHEMA = EventSchema()
