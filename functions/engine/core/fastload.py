"""A loader compiled from a marshmallow schema: Python source generated from its declared fields.

The schema stays the one source of the rules. `compile_loader(schema)` reads its fields (kind,
required, allow_none, load_default, data_key, attribute, pre_load/post_load, validators) and
its `unknown` option, writes one function that applies them in the order Schema.load does,
and compiles it once. The function answers what Schema.load answers for input load accepts,
and None for input load refuses; the caller then runs Schema.load for the error messages.
Its input is a dict (what the pipeline passes), not any Mapping.

Each known kind converts the common JSON type inline (an exact str, int, float, dict) and
hands any other value to the field's own `_deserialize`, so rare inputs get marshmallow's own
answer. Length, Range, OneOf, Regexp and Equal are inlined; any other validator is called as
load calls it. A field kind the compiler does not know, a schema hook, `partial` or `many`
make it refuse at import (UnsupportedSchema names the field). A project field class whose
rules live in its own `_deserialize` opts in with @own_conversion: the loader calls that.
Pure: no I/O.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable

from marshmallow import EXCLUDE, INCLUDE, RAISE, Schema, ValidationError, fields, validate
from marshmallow.decorators import POST_LOAD, PRE_LOAD, VALIDATES, VALIDATES_SCHEMA
from marshmallow.utils import missing

Loader = Callable[[dict], dict | None]

_OWN: set[type] = set()
# Names a subclass may define and still be read as its base kind: none changes what load does.
_HARMLESS = {
    "__init__", "__doc__", "__module__", "__qualname__", "__firstlineno__", "__static_attributes__",
    "__annotations__", "__dict__", "__weakref__", "__orig_bases__", "__parameters__", "_serialize",
    "default_error_messages", "__abstractmethods__", "_abc_impl", "__slotnames__",
}  # fmt: skip
_KNOWN = (
    fields.Raw,
    fields.String,
    fields.Integer,
    fields.Float,
    fields.Boolean,
    fields.UUID,
    fields.AwareDateTime,
    fields.NaiveDateTime,
    fields.DateTime,
    fields.Dict,
)
_ISO = {"iso", "iso8601"}


class UnsupportedSchema(TypeError):
    """The schema declares something the compiler cannot hold equal to Schema.load."""


def own_conversion(cls: type) -> type:
    """Mark a field class whose rules live in its own `_deserialize`: the loader calls it as is."""
    _OWN.add(cls)
    return cls


def _str_keys(value: dict) -> bool:
    return all(type(key) is str for key in value)


def _kind(field: fields.Field) -> type | None:
    """The known kind a field is read as: its own class, or the base its subclass leaves unchanged."""
    cls = type(field)
    if cls in _OWN:
        return cls
    for kind in _KNOWN:
        if issubclass(cls, kind) and all(set(vars(step)) <= _HARMLESS for step in cls.__mro__[: cls.__mro__.index(kind)]):
            return kind
    return None


class _Writer:
    """The generated source, line by line, and the objects it names."""

    def __init__(self):
        self.lines: list[str] = []
        self.names: dict[str, object] = {
            "ValidationError": ValidationError,
            "_MISSING": missing,
            "_str_keys": _str_keys,
            "_uuid": uuid.UUID,
            "_inf": math.inf,
        }

    def name(self, prefix: str, value: object) -> str:
        key = f"{prefix}{len(self.names)}"
        self.names[key] = value
        return key

    def add(self, depth: int, line: str) -> None:
        self.lines.append("    " * depth + line)


def _convert(w: _Writer, d: int, field: fields.Field, kind: type, f: str, key: str, label: str) -> None:
    """Lines turning a present, non-null `v` into the field's output, or returning None."""
    own = f"v = {f}._deserialize(v, {key!r}, item)"
    fast = None
    if kind is fields.Raw:
        return
    if kind is fields.String:
        fast = "type(v) is str", []
    elif kind is fields.Integer:
        fast = "type(v) is int", []
    elif kind is fields.Float:
        special = [] if field.allow_nan else ["if v != v or v == _inf or v == -_inf:", "    return None"]
        fast = "type(v) is float", special
    elif kind is fields.UUID:
        fast = "type(v) is str", ["try:", "    v = _uuid(v)", "except ValueError:", "    return None"]
    elif kind in (fields.DateTime, fields.AwareDateTime) and field.format in _ISO:
        parse = ["try:", f"    v = {w.name('T', field.DESERIALIZATION_FUNCS[field.format])}(v)", "except ValueError:", "    return None"]
        if kind is fields.AwareDateTime:
            zone = "return None" if field.default_timezone is None else f"v = v.replace(tzinfo={w.name('Z', field.default_timezone)})"
            parse += ["if v.tzinfo is None or v.tzinfo.utcoffset(v) is None:", f"    {zone}"]
        fast = "type(v) is str", parse
    elif kind is fields.Dict:
        if field.value_field is not None:
            raise UnsupportedSchema(f"{label}: a Dict with a values field is not compiled")
        keys = field.key_field
        if keys is None:
            fast = "type(v) is dict", ["v = dict(v)"]
        elif type(keys) is fields.String and not (keys.validators or keys.pre_load or keys.post_load or keys.allow_none):
            fast = "type(v) is dict and _str_keys(v)", ["v = dict(v)"]
        else:
            raise UnsupportedSchema(f"{label}: a Dict's keys must be a plain String to be compiled")
    if fast is None:  # a kind with no inline path here: its own conversion, always
        w.add(d, own)
        return
    test, lines = fast
    if not lines:
        w.add(d, f"if not ({test}):")
        w.add(d + 1, own)
        return
    w.add(d, f"if {test}:")
    for line in lines:
        w.add(d + 1, line)
    w.add(d, "else:")
    w.add(d + 1, own)


def _check(w: _Writer, d: int, validator) -> None:
    """Lines returning None when `v` fails the validator; marshmallow 4 ignores a validator's return value."""
    v = w.name("V", validator)
    kind = type(validator)
    if kind is validate.Length:
        if validator.equal is not None:
            w.add(d, f"if len(v) != {validator.equal!r}:")
        else:
            tests = [f"n {op} {bound!r}" for op, bound in (("<", validator.min), (">", validator.max)) if bound is not None]
            w.add(d, "n = len(v)")
            w.add(d, f"if {' or '.join(tests) or 'False'}:")
    elif kind is validate.Range:
        tests = []
        if validator.min is not None:
            tests.append(f"v {'<' if validator.min_inclusive else '<='} {v}.min")
        if validator.max is not None:
            tests.append(f"v {'>' if validator.max_inclusive else '>='} {v}.max")
        w.add(d, f"if {' or '.join(tests) or 'False'}:")
    elif kind is validate.Regexp:
        w.add(d, f"if {v}.regex.match(v) is None:")
    elif kind is validate.Equal:
        w.add(d, f"if v != {v}.comparable:")
    elif kind is validate.OneOf:
        w.add(d, f"if not {w.name('C', _in(validator.choices))}(v):")
    else:
        w.add(d, f"{v}(v)")
        return
    w.add(d + 1, "return None")


def _in(choices) -> Callable[[object], bool]:
    def member(value) -> bool:
        try:
            return value in choices
        except TypeError:
            return False

    return member


def _field(w: _Writer, name: str, field: fields.Field, where: str) -> None:
    kind = _kind(field)
    if kind is None:
        cls = type(field)
        raise UnsupportedSchema(
            f"{where}.{name}: the loader compiler does not know the field kind {cls.__module__}.{cls.__qualname__}; "
            "teach engine.core.fastload this kind, or mark the class @own_conversion if its _deserialize holds its rules"
        )
    if field.attribute and "." in field.attribute:
        raise UnsupportedSchema(f"{where}.{name}: a dotted attribute ({field.attribute!r}) is not compiled")
    key = field.data_key if field.data_key is not None else name
    out = field.attribute or name
    f = w.name("F", field)
    w.add(1, f"v = item.get({key!r}, _MISSING)")
    w.add(1, "if v is _MISSING:")
    if field.required:
        w.add(2, "return None")
    elif field.load_default is missing:
        w.add(2, "pass")
    else:
        default = w.name("D", field.load_default)
        w.add(2, f"out[{out!r}] = {default}()" if callable(field.load_default) else f"out[{out!r}] = {default}")
    if not field.allow_none:
        w.add(1, "elif v is None:")
        w.add(2, "return None")
    w.add(1, "else:")
    d = 2
    for hook in field.pre_load:
        w.add(d, f"v = {w.name('P', hook)}(v)")
    if field.allow_none:
        w.add(d, "if v is None:")
        w.add(d + 1, f"out[{out!r}] = None")
        w.add(d, "else:")
        d += 1
    _convert(w, d, field, kind, f, key, f"{where}.{name}")
    for validator in field.validators:
        _check(w, d, validator)
    for hook in field.post_load:
        w.add(d, f"v = {w.name('P', hook)}(v)")
    w.add(d, f"out[{out!r}] = v")


def loader_source(schema: Schema) -> tuple[str, dict]:
    """The generated source of the schema's loader and the objects it names."""
    where = type(schema).__name__
    hooks = [tag for tag in (PRE_LOAD, POST_LOAD, VALIDATES, VALIDATES_SCHEMA) if schema._hooks[tag]]
    if hooks:
        raise UnsupportedSchema(f"{where}: schema hooks ({', '.join(map(str, hooks))}) are not compiled")
    if schema.many or schema.partial or schema.dict_class is not dict:
        raise UnsupportedSchema(f"{where}: many, partial or a dict_class other than dict is not compiled")
    if schema.unknown not in (RAISE, INCLUDE, EXCLUDE):
        raise UnsupportedSchema(f"{where}: unknown={schema.unknown!r} is not compiled")
    w = _Writer()
    keys = frozenset(f.data_key if f.data_key is not None else name for name, f in schema.load_fields.items())
    w.names["_KEYS"] = keys
    w.add(0, "def load(item):")
    w.add(1, "out = {}")
    if schema.unknown == RAISE:
        w.add(1, "if not item.keys() <= _KEYS:")
        w.add(2, "return None")
    w.lines.append("    try:")
    body_start = len(w.lines)
    for name, field in schema.load_fields.items():
        _field(w, name, field, where)
    w.lines[body_start:] = ["    " + line for line in w.lines[body_start:]]
    w.add(1, "except ValidationError:")
    w.add(2, "return None")
    if schema.unknown == INCLUDE:
        w.add(1, "for key in item.keys() - _KEYS:")
        w.add(2, "out[key] = item[key]")
    w.add(1, "return out")
    return "\n".join(w.lines) + "\n", w.names


def compile_loader(schema: Schema) -> Loader:
    """Generate and compile the schema's loader once; raises UnsupportedSchema naming what it cannot hold."""
    source, names = loader_source(schema)
    exec(compile(source, f"<loader of {type(schema).__name__}>", "exec"), names)  # noqa: S102 - our own generated source
    loader = names["load"]
    loader.__doc__ = f"{type(schema).__name__}.load's answer for valid input, None when load refuses.\n\n{source}"
    return loader
