"""The loaders compiled from the schemas answer what Schema.load answers: the same loaded dict for
input load accepts, None for input load refuses; and the compiler refuses what it cannot hold equal."""

import datetime as dt
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import EXCLUDE, INCLUDE, Schema, ValidationError, fields, post_load, validate

from engine.core.errors import InvalidJson
from engine.core.fastload import UnsupportedSchema, compile_loader, own_conversion
from engine.core.jsonbody import parse_json
from engine.core.schemas import EVENT_LOADER, EVENT_SCHEMA
from engine.core.segment import MESSAGE_LOADER, MESSAGE_SCHEMA
from tests.hostile.requests import CORPUS, make_body

values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["x" * 255, "x" * 256, "é" * 300, "x" * 100, "x" * 101]),
    st.sampled_from(
        ["2026-01-01T00:00:00Z", "2026-13-01T00:00:00Z", "yesterday", "2026-01-01T00:00:00", str(uuid.uuid4()), "play", "", "a\x00b"]
    ),
    st.sampled_from(["track", "page", "identify", "2026-01-01T00:00:00+05:30", "20260101", "a\n", "\x00", 86400, 86401, -1, 0.5]),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(
        st.text(max_size=5),
        st.one_of(st.integers(), st.text(max_size=5), st.dictionaries(st.text(max_size=3), st.integers(), max_size=3)),
        max_size=4,
    ),
)


def inputs(schema):
    names = list(schema.fields) + ["unknown_field"]
    return st.dictionaries(st.sampled_from(names), values, max_size=len(names))


def plausible_events():
    """Mostly valid events, each field drawn from valid values and the edges of its rules."""
    text = st.one_of(st.text(min_size=1, max_size=20), st.sampled_from(["x" * 255, "x" * 256, "", "a\x00"]))
    optional = {
        "element": st.one_of(st.none(), text, st.sampled_from(["x" * 100, "x" * 101])),
        "duration": st.one_of(st.none(), st.integers(-1, 86401), st.floats(-1, 90000), st.sampled_from([True, "5"])),
        "timestamp": st.one_of(st.none(), st.datetimes().map(dt.datetime.isoformat), st.sampled_from(["2026-01-01T00:00:00Z", "x"])),
        "sent_at": st.one_of(st.none(), st.datetimes(timezones=st.timezones()).map(dt.datetime.isoformat)),
        "event_id": st.one_of(st.none(), st.uuids().map(str), st.sampled_from(["not-a-uuid", 5])),
        "session_id": st.one_of(st.none(), text),
        "properties": st.one_of(st.none(), st.dictionaries(st.text(max_size=8), st.integers() | st.text(max_size=5), max_size=5)),
        "unknown_field": st.integers(),
    }
    return st.fixed_dictionaries({"user_id": text, "action": text}, optional=optional)


def assert_agrees(schema, loader, item):
    try:
        expected = schema.load(item)
    except ValidationError:
        expected = None
    assert loader(item) == expected


SETTINGS = settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@given(inputs(EVENT_SCHEMA))
@SETTINGS
def test_the_event_loader_agrees_with_load_on_hostile_inputs(item):
    assert_agrees(EVENT_SCHEMA, EVENT_LOADER, item)


@given(plausible_events())
@SETTINGS
def test_the_event_loader_agrees_with_load_on_plausible_events(item):
    assert_agrees(EVENT_SCHEMA, EVENT_LOADER, item)


@given(inputs(MESSAGE_SCHEMA))
@SETTINGS
def test_the_segment_loader_agrees_with_load_on_hostile_inputs(item):
    assert_agrees(MESSAGE_SCHEMA, MESSAGE_LOADER, item)


def corpus_objects() -> list[dict]:
    """Every JSON object in the hostile corpus's bodies, at any depth (the gzip bomb's is an array)."""
    found: list[dict] = []

    def walk(value, depth=0):
        if isinstance(value, dict):
            found.append(value)
        for child in value.values() if isinstance(value, dict) else value if isinstance(value, list) else ():
            if depth < 50:
                walk(child, depth + 1)

    for entry in CORPUS:
        if "body_make" in entry and entry["body_make"]["kind"] in ("bomb", "truncated_gzip"):
            continue
        body = entry["body"].encode() if "body" in entry else bytes.fromhex(entry["body_hex"]) if "body_hex" in entry else None
        body = make_body(entry["body_make"]) if "body_make" in entry else body
        try:
            walk(parse_json(body or b""))
        except InvalidJson:
            continue
    return found


def test_both_loaders_agree_with_load_on_every_object_of_the_hostile_corpus():
    objects = corpus_objects()
    assert len(objects) > 40
    for item in objects:
        assert_agrees(EVENT_SCHEMA, EVENT_LOADER, item)
        assert_agrees(MESSAGE_SCHEMA, MESSAGE_LOADER, item)


def test_a_valid_event_loads_to_what_load_gives():
    item = {"user_id": "u", "action": "play", "element": "e", "duration": 1.5, "timestamp": "2026-01-01T00:00:00", "properties": {"a": [1]}}
    assert EVENT_LOADER(item) == EVENT_SCHEMA.load(item)
    assert EVENT_LOADER(item)["timestamp"] == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def ignored_false(value):
    return False  # marshmallow 4 ignores what a validator returns; only a raise fails


class Everything(Schema):
    """Declarations the event schemas do not use, so that the compiler's other paths are held to load."""

    class Meta:
        unknown = EXCLUDE

    renamed = fields.String(data_key="user_id", attribute="user", validate=validate.Length(equal=3))
    count = fields.Integer(strict=True, load_default=7, validate=validate.Range(min=0, max=10, min_inclusive=False))
    ratio = fields.Float(allow_nan=True, load_default=list)
    flag = fields.Boolean(allow_none=True)
    kind = fields.String(validate=[validate.OneOf(["track", "page"]), ignored_false])
    exact = fields.Raw(validate=validate.Equal(86400))
    when = fields.DateTime()
    naive = fields.NaiveDateTime(timezone=dt.UTC)
    strict_zone = fields.AwareDateTime()
    tags = fields.Dict()
    trimmed = fields.String(pre_load=[lambda v: v.strip() if isinstance(v, str) else v], post_load=[str.upper])


EVERYTHING = Everything()
EVERYTHING_LOADER = compile_loader(EVERYTHING)


@given(st.dictionaries(st.sampled_from([*Everything._declared_fields, "user_id", "other"]), values, max_size=12))
@SETTINGS
def test_a_loader_agrees_with_load_on_the_other_declarations(item):
    assert_agrees(EVERYTHING, EVERYTHING_LOADER, item)


def test_include_keeps_unknown_fields_as_load_does():
    class Open(Schema):
        class Meta:
            unknown = INCLUDE

        name = fields.String(required=True)

    schema = Open()
    assert compile_loader(schema)({"name": "a", "extra": [1]}) == schema.load({"name": "a", "extra": [1]}) == {"name": "a", "extra": [1]}


def test_the_compiler_refuses_a_field_kind_it_does_not_know_naming_the_field():
    class Odd(fields.Field):
        def _deserialize(self, value, attr, data, **kwargs):
            return value

    class Small(Schema):
        name = fields.String()
        odd = Odd()

    with pytest.raises(UnsupportedSchema, match=r"Small\.odd: .*does not know the field kind .*Odd"):
        compile_loader(Small())


def test_a_subclass_that_changes_conversion_is_not_read_as_its_base():
    class Shouting(fields.String):
        def _deserialize(self, value, attr, data, **kwargs):
            return super()._deserialize(value, attr, data, **kwargs).upper()

    class Small(Schema):
        loud = Shouting()

    with pytest.raises(UnsupportedSchema, match=r"Small\.loud"):
        compile_loader(Small())
    own_conversion(Shouting)
    assert compile_loader(Small())({"loud": "a"}) == {"loud": "A"}


def test_the_compiler_refuses_schema_hooks_nested_fields_and_typed_dicts():
    class Hooked(Schema):
        name = fields.String()

        @post_load
        def shout(self, data, **kwargs):
            return data

    class Nesting(Schema):
        inner = fields.Nested(Hooked)

    class Typed(Schema):
        counts = fields.Dict(keys=fields.String(), values=fields.Integer())

    with pytest.raises(UnsupportedSchema, match="Hooked: schema hooks"):
        compile_loader(Hooked())
    with pytest.raises(UnsupportedSchema, match=r"Nesting\.inner"):
        compile_loader(Nesting())
    with pytest.raises(UnsupportedSchema, match=r"Typed\.counts: a Dict with a values field"):
        compile_loader(Typed())
