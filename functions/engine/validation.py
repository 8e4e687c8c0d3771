"""Pure validation of request bodies into events, with per-event errors. No I/O."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import orjson
from marshmallow import ValidationError

from engine import constants as c
from engine.enrich import correct_time, time_problem
from engine.errors import BadRequest, PayloadTooLarge
from engine.jsonbody import unsafe_values
from engine.schemas import EVENT_SCHEMA, quick_load


@dataclass(frozen=True)
class Checked:
    """One event of a request after validation: either `event` (with `moment`) or `errors`."""

    index: int
    event: dict | None
    errors: dict | None
    too_large: bool = False


def event_bytes(item: dict) -> int:
    """The size of an event as compact JSON (what its 32 KB limit counts)."""
    return len(json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "surrogatepass"))


def sized(item: dict) -> tuple[int, bool]:
    """(size as compact JSON, clean). Clean means orjson could write it, so it holds no lone
    surrogate and no integer past 64 bits, and the text has no NUL: the walk of
    jsonbody.unsafe_values would find nothing the schema does not refuse anyway."""
    try:
        raw = orjson.dumps(item)
    except (orjson.JSONEncodeError, TypeError):
        return event_bytes(item), False
    return len(raw), b"\\u0000" not in raw


def _merge(into: dict, more: dict) -> dict:
    for key, value in more.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        elif isinstance(value, list) and isinstance(into.get(key), list):
            into[key].extend(m for m in value if m not in into[key])
        elif key not in into:
            into[key] = value
    return into


def split_batch(document: Any) -> tuple[list, Any]:
    """The events of a batch body (a JSON array, or {"events": [...], "sent_at"?}).

    Returns (events, batch_sent_at); raises BadRequest or PayloadTooLarge for the whole body.
    """
    batch_sent_at = None
    if isinstance(document, dict):
        unknown = sorted(set(document) - {"events", "sent_at"})
        if unknown:
            raise BadRequest(
                "a batch object takes only 'events' and 'sent_at'",
                {name: ["Unknown field."] for name in unknown},
            )
        if "events" not in document:
            raise BadRequest("a batch object needs 'events': a JSON array of events", {"events": ["Missing data for required field."]})
        batch_sent_at = document.get("sent_at")
        document = document["events"]
    if not isinstance(document, list):
        raise BadRequest('a batch must be a JSON array of events, or {"events": [...]}')
    if not document:
        raise BadRequest("the batch is empty; send at least one event")
    if len(document) > c.MAX_BATCH_EVENTS:
        raise PayloadTooLarge(
            f"a batch holds at most {c.MAX_BATCH_EVENTS} events; this one has {len(document)}",
            {"limit": c.MAX_BATCH_EVENTS, "events": len(document)},
        )
    return document, batch_sent_at


def check_event(item: Any, index: int, received_at: dt.datetime, retention_days: int, batch_sent_at: Any = None) -> Checked:
    """Validate one raw event; never raises for bad input, reports it instead."""
    if not isinstance(item, dict):
        return Checked(index, None, {"_schema": ["an event must be a JSON object"]})
    size, clean = sized(item)
    if size > c.MAX_EVENT_BYTES:
        return Checked(
            index, None, {"_schema": [f"the event is {size} bytes as JSON; the limit is {c.MAX_EVENT_BYTES} bytes"]}, too_large=True
        )
    if batch_sent_at is not None and "sent_at" not in item:
        item = {**item, "sent_at": batch_sent_at}
    event = quick_load(EVENT_SCHEMA, item) if clean else None
    if event is None:  # the slow path, which also says exactly what is wrong
        errors = unsafe_values(item)
        try:
            event = EVENT_SCHEMA.load(item)
        except ValidationError as exc:
            messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
            return Checked(index, None, _merge(errors, messages))
        if errors:
            return Checked(index, None, errors)
    for name in ("timestamp", "sent_at"):
        # PostgreSQL refuses offsets beyond +-15:59 that Python accepts (up to 24 h): the
        # instant is what counts, so it is kept in UTC.
        if event.get(name) is not None:
            try:
                event[name] = event[name].astimezone(dt.UTC)
            except OverflowError:
                return Checked(index, None, {name: ["is out of range once moved to UTC"]})
    moment = correct_time(event.get("timestamp"), event.get("sent_at"), received_at)
    problem = time_problem(moment, received_at, retention_days)
    if problem:
        return Checked(index, None, {"timestamp": [problem]})
    event["moment"] = moment
    return Checked(index, event, None)


def check_batch(items: list, received_at: dt.datetime, retention_days: int, batch_sent_at: Any = None) -> list[Checked]:
    return [check_event(item, i, received_at, retention_days, batch_sent_at) for i, item in enumerate(items)]
