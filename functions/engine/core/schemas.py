"""The marshmallow schemas of the public API: the source of truth for what an event may hold."""

from __future__ import annotations

import datetime as dt

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from engine.core import constants as c
from engine.core.fastload import compile_loader, own_conversion


@own_conversion
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


def properties_problem(value, depth: int = 1) -> str | None:
    """Why a properties object breaks the limits (nesting, keys per object, key length), or None."""
    if depth > c.MAX_PROPERTIES_DEPTH:
        return f"properties nest deeper than {c.MAX_PROPERTIES_DEPTH} levels"
    children = []
    if isinstance(value, (int, float)) and not isinstance(value, bool) and not MIN_NUMBER <= value <= MAX_NUMBER:
        return f"a number in properties lies outside {MIN_NUMBER}..{MAX_NUMBER}"
    if isinstance(value, dict):
        if len(value) > c.MAX_PROPERTIES_KEYS:
            return f"an object in properties has {len(value)} keys; the limit is {c.MAX_PROPERTIES_KEYS}"
        for key, child in value.items():
            if len(key) > c.MAX_PROPERTY_KEY_CHARS:
                return f"a key in properties is {len(key)} characters long; the limit is {c.MAX_PROPERTY_KEY_CHARS}"
            children.append(child)
    elif isinstance(value, list):
        children = value
    for child in children:
        problem = properties_problem(child, depth + 1 if isinstance(child, (dict, list)) else depth)
        if problem:
            return problem
    return None


def _check_properties(value) -> None:
    problem = properties_problem(value) if value is not None else None
    if problem:
        raise ValidationError(problem)


NO_NUL = "^[^\\x00]*$"
NUL_MESSAGE = "contains a NUL character (\\u0000), which cannot be stored"
MIN_NUMBER, MAX_NUMBER = c.MIN_JSON_INT, c.MAX_JSON_INT


def _text(max_chars: int, required: bool) -> fields.String:
    return fields.String(
        required=required,
        allow_none=not required,
        validate=[validate.Length(min=1, max=max_chars), validate.Regexp(NO_NUL, error=NUL_MESSAGE)],
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
    properties = JsonObject(allow_none=True, validate=_check_properties)


EVENT_SCHEMA = EventSchema()
# Compiled at import from the schema above; None where load refuses (engine.core.fastload).
EVENT_LOADER = compile_loader(EVENT_SCHEMA)
