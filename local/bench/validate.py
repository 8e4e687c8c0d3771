"""Validation per event, side by side in one run: the loader compiled from the schema, the former
hand-written fast path (quick_load, kept here only as the reference it replaced) and Schema.load.

python -m local.bench.validate [--events N] [--rounds R]

Each round times every method over the same events, in turn, so that load from other work on
the machine falls on all of them alike. Time is this process's CPU time (time.process_time), so
that waiting for a core another process holds is not counted; the figure is each method's
fastest round (the least disturbed one, as timeit advises), in microseconds per event, with the
median round beside it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid

from marshmallow import INCLUDE, Schema, ValidationError, fields

from engine.core.schemas import EVENT_LOADER, EVENT_SCHEMA
from engine.core.segment import MESSAGE_LOADER, MESSAGE_SCHEMA
from local.bench.bodies import make_event

# The former fast path, as engine.core.schemas held it until the compiled loader replaced it.


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
    exactly what. Valid only for schemas without hooks or schema-level validators (a property
    test held it equal to load while it served ingest). Module-level schemas only: plans are
    kept by the schema's id.
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


def full_event(i: int) -> dict:
    """An event with every field the schema takes."""
    return {
        **make_event(i, "2026-12-01T10:00:00.123+01:00"),
        "sent_at": "2026-12-01T10:00:01Z",
        "event_id": str(uuid.UUID(int=i + 1)),
        "properties": {"plan": "pro", "items": [1, 2, 3], "price": 9.5, "page": {"path": "/a", "depth": 2}},
    }


def message(i: int) -> dict:
    return {
        "type": "track",
        "event": "Clicked",
        "userId": f"user_{i}",
        "anonymousId": str(uuid.UUID(int=i + 7)),
        "messageId": f"m-{i}",
        "timestamp": "2026-12-01T10:00:00Z",
        "sentAt": "2026-12-01T10:00:01Z",
        "properties": {"element": "buy", "duration": 3},
        "context": {"library": {"name": "analytics.js"}},
    }


def per_event_us(method, items: list[dict]) -> float:
    started = time.process_time()
    for item in items:
        method(item)
    return (time.process_time() - started) / len(items) * 1e6


def strict_load(schema: Schema):
    def load(item):
        try:
            return schema.load(item)
        except ValidationError:
            return None

    return load


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.bench.validate", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args(argv)
    sets = {
        "bench events (5 fields)": (EVENT_SCHEMA, EVENT_LOADER, [make_event(i, "2026-12-01T10:00:00Z") for i in range(args.events)]),
        "events with every field": (EVENT_SCHEMA, EVENT_LOADER, [full_event(i) for i in range(args.events)]),
        "Segment track messages": (MESSAGE_SCHEMA, MESSAGE_LOADER, [message(i) for i in range(args.events)]),
    }
    print(f"{args.events} events x {args.rounds} rounds; fastest round (median round); load average {os.getloadavg()[0]:.2f} at start")
    print(f"{'events':<24} {'compiled':>17} {'quick_load':>17} {'Schema.load':>18} {'quick/compiled':>15} {'load/compiled':>14}")
    for label, (schema, loader, items) in sets.items():
        methods = {"compiled": loader, "quick_load": lambda item, s=schema: quick_load(s, item), "load": strict_load(schema)}
        for method in methods.values():  # every method accepts these events, and is warm
            assert all(method(item) is not None for item in items[:50])
        rounds: dict[str, list[float]] = {name: [] for name in methods}
        for _ in range(args.rounds):
            for name, method in methods.items():
                rounds[name].append(per_event_us(method, items))
        best = {name: min(times) for name, times in rounds.items()}
        cells = " ".join(f"{best[name]:>7.2f} ({statistics.median(rounds[name]):>6.2f}) us" for name in methods)
        print(f"{label:<24} {cells} {best['quick_load'] / best['compiled']:>14.2f}x {best['load'] / best['compiled']:>13.2f}x")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
