import pytest

from engine.core.errors import InvalidJson
from engine.core.jsonbody import parse_json, unsafe_values


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "body is empty"),
        (b"   ", "body is empty"),
        (b"\xff\xfe{}", "not valid UTF-8"),
        (b"{", "not valid JSON"),
        (b'{"a": 1,}', "not valid JSON"),
        (b'{"a": 1, "a": 2}', "duplicate key 'a'"),
        (b'{"x": {"b": 1, "b": 1}}', "duplicate key 'b'"),
        (b'{"d": NaN}', "NaN is not valid JSON"),
        (b'{"d": Infinity}', "Infinity is not valid JSON"),
        (b'{"d": -Infinity}', "-Infinity is not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "nested deeper"),
    ],
)
def test_parse_json_refuses(body, message):
    with pytest.raises(InvalidJson) as caught:
        parse_json(body)
    assert message in caught.value.message
    assert caught.value.status == 400


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"a": 1}', {"a": 1}),
        (b"[1, 2]", [1, 2]),
        ('{"name": "café ✓"}'.encode(), {"name": "café ✓"}),
        (b'{"big": 1e308}', {"big": 1e308}),
    ],
)
def test_parse_json_accepts(body, expected):
    assert parse_json(body) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"a": "fine", "n": 3, "f": 1.5, "t": True, "z": None}, {}),
        ({"a": "x\x00y"}, {"a": ["contains a NUL character (\\u0000), which cannot be stored"]}),
        ({"a": "\ud800"}, {"a": ["contains a lone UTF-16 surrogate, which is not valid Unicode"]}),
        ({"p": {"deep": ["ok", "\udfff"]}}, {"p": {"deep": {1: ["contains a lone UTF-16 surrogate, which is not valid Unicode"]}}}),
        ({"n": 2**63}, {"n": ["integer outside the signed 64-bit range"]}),
        ({"n": -(2**63)}, {}),
        ({"n": 2**63 - 1}, {}),
        ({"f": float("inf")}, {"f": ["number is too large to store (not finite)"]}),
        ({"f": float("nan")}, {"f": ["number is too large to store (not finite)"]}),
        ({"p": {"k\x00": 1}}, {"p": {"'k\\x00'": ["key contains a NUL character (\\u0000), which cannot be stored"]}}),
    ],
)
def test_unsafe_values(value, expected):
    assert unsafe_values(value) == expected


def test_unsafe_values_limits_depth():
    value: dict = {}
    node = value
    for _ in range(40):
        node["x"] = {}
        node = node["x"]
    errors = unsafe_values(value, max_depth=32)
    path = errors
    for _ in range(32):
        path = path["x"]
    assert path == {"x": ["nested deeper than 32 levels"]}


def test_huge_exponent_parses_to_infinity_and_is_then_refused():
    parsed = parse_json(b'{"duration": 1e400}')
    assert unsafe_values(parsed) == {"duration": ["number is too large to store (not finite)"]}
