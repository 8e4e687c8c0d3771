"""The marshmallow schemas of the public API: the source of truth for what an event may hold."""

from __future__ import annotations

import datetime as dt

from marshmallow import INCLUDE, RAISE, Schema, ValidationError, fields, validate

from engine.core import constants as c


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


def _direct(field: fields.Field):
    """field.deserialize without its wrapper, for a present, non-null value: the field's own
    _deserialize, then each of its validators. None when the field has load hooks, which
    only deserialize itself applies."""
    if field.pre_load or field.post_load:
        return None
    convert, validators = field._deserialize, tuple(field.validators)

    def load(value, name, data):
        output = convert(value, name, data)
        for validator in validators:
            if validator(output) is False:  # marshmallow reads a False return as a failure
                raise ValidationError("invalid")
        return output

    return load


_PLANS: dict[int, tuple] = {}


def _plan(schema: Schema) -> tuple:
    """(name, field, direct loader or None) of each declared field, computed once per schema."""
    plan = _PLANS.get(id(schema))
    if plan is None:
        plan = _PLANS[id(schema)] = tuple((name, field, _direct(field)) for name, field in schema.load_fields.items())
    return plan


def quick_load(schema: Schema, item: dict) -> dict | None:
    """Schema.load's happy path, without its machinery: each declared field's own conversion
    and validators, so the schema stays the one source of the rules.

    Returns None whenever anything is off (an unknown field the schema refuses, a missing
    required one, a field that fails), and the caller then runs schema.load, which says
    exactly what. Valid only for schemas without hooks or schema-level validators
    (tests/unit/test_quick_load.py holds it equal to load). Module-level schemas only: plans
    are kept by the schema's id.
    """
    declared = schema.load_fields
    include = schema.unknown == INCLUDE
    if not include and not item.keys() <= declared.keys():
        return None
    loaded = {key: value for key, value in item.items() if key not in declared} if include else {}
    for name, field, direct in _plan(schema):
        if name in item:
            value = item[name]
            try:
                if direct is None or value is None:
                    loaded[name] = field.deserialize(value, name, item)
                else:
                    loaded[name] = direct(value, name, item)
            except ValidationError:
                return None
        elif field.required:
            return None
    return loaded
