"""Strict JSON: what PostgreSQL would later choke on is refused here, before it is queued.

Pure: no I/O. `parse_json` refuses what is not JSON at all (bad UTF-8, syntax, duplicate
keys, NaN/Infinity literals, absurd nesting); `unsafe_values` lists the values of a parsed
document that PostgreSQL cannot store (NUL characters, lone surrogates, non-finite floats,
integers beyond 64 bits, nesting past the depth limit), by path.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from engine.core import constants as c
from engine.core.errors import InvalidJson

# Characters PostgreSQL's text and jsonb refuse: NUL, and UTF-16 surrogates that JSON
# escapes can smuggle in as "\ud800" and that no valid UTF-8 string can hold.
_UNSAFE_CHARS = re.compile("[\x00\ud800-\udfff]")


class _DuplicateKey(Exception):
    pass


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return obj


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def parse_json(body: bytes) -> Any:
    """Decode a request body as one strict JSON document, or raise InvalidJson saying why."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidJson("body is not valid UTF-8", {"byte_offset": exc.start}) from None
    if not text.strip():
        raise InvalidJson("body is empty; expected a JSON document")
    try:
        return json.loads(text, object_pairs_hook=_object_without_duplicates, parse_constant=_refuse_constant)
    except _DuplicateKey as exc:
        raise InvalidJson(f"duplicate key {str(exc)!r} in a JSON object", {"key": str(exc)}) from None
    except json.JSONDecodeError as exc:
        raise InvalidJson(f"body is not valid JSON: {exc.msg}", {"line": exc.lineno, "column": exc.colno}) from None
    except ValueError as exc:
        raise InvalidJson(f"body is not valid JSON: {exc}") from None
    except RecursionError:
        raise InvalidJson(f"JSON nested deeper than {c.MAX_JSON_DEPTH} levels") from None


def _string_problem(text: str) -> str | None:
    match = _UNSAFE_CHARS.search(text)
    if match is None:
        return None
    if match.group() == "\x00":
        return "contains a NUL character (\\u0000), which cannot be stored"
    return "contains a lone UTF-16 surrogate, which is not valid Unicode"


def unsafe_values(value: Any, max_depth: int = c.MAX_JSON_DEPTH) -> dict:
    """Problems PostgreSQL would have with a parsed value, as marshmallow-style nested errors.

    Returns {} when the value is safe, else e.g. {"properties": {"a": ["contains a NUL ..."]}}.
    """
    errors: dict = {}

    def report(path: list, message: str) -> None:
        node = errors
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node.setdefault(path[-1] if path else "_schema", []).append(message)

    def walk(item: Any, path: list, depth: int) -> None:
        if depth > max_depth:
            report(path, f"nested deeper than {max_depth} levels")
            return
        if isinstance(item, str):
            problem = _string_problem(item)
            if problem:
                report(path, problem)
        elif isinstance(item, bool) or item is None:
            return
        elif isinstance(item, int):
            if not c.MIN_JSON_INT <= item <= c.MAX_JSON_INT:
                report(path, "integer outside the signed 64-bit range")
        elif isinstance(item, float):
            if not math.isfinite(item):
                report(path, "number is too large to store (not finite)")
        elif isinstance(item, dict):
            for key, child in item.items():
                problem = _string_problem(key)
                if problem:
                    report(path + [repr(key)], f"key {problem}")
                    continue
                walk(child, path + [key], depth + 1)
        elif isinstance(item, list):
            for index, child in enumerate(item):
                walk(child, path + [index], depth + 1)

    walk(value, [], 0)
    return errors
