"""The one event pipeline: the named steps every API's input runs, from raw JSON to a timed event.

The seed's API (/event, /events) and Segment's (/v1/*) run the same steps in the same order;
only their Intake differs (the schema, what a message must carry, where its clocks are):

    require_object -> limit_size -> load_fields -> check_required -> place_in_time

A step may stop the draft with its errors; nothing is ever raised for bad input. Pure: no I/O.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from marshmallow import Schema, ValidationError

from engine.core import constants as c
from engine.core.enrich import correct_time, time_problem
from engine.core.errors import BadRequest, PayloadTooLarge
from engine.core.fastload import Loader
from engine.core.jsonbody import unsafe_values
from engine.core.schemas import EVENT_LOADER, EVENT_SCHEMA

# (field name for errors, its value): the client's clock reading, then its sent-at reading.
Clocks = Callable[[dict], tuple[tuple[str, Any], tuple[str, Any]]]


@dataclass(frozen=True)
class Intake:
    """What one API's input is: its noun, its schema, what it must carry and where its clocks are."""

    noun: str
    schema: Schema
    loader: Loader  # compiled from `schema` (engine.core.fastload): its answer, or None where load refuses
    clocks: Clocks
    received_at: dt.datetime
    retention_days: int
    required: Callable[[dict], dict] | None = None  # loaded fields -> errors ({} when complete)
    defaults: dict | None = None  # fields the input takes from its batch unless it has its own


@dataclass
class Draft:
    """One input on its way through the steps: `fields` and `moment` once valid, else `errors`."""

    index: int
    raw: Any
    fields: dict | None = None
    client_time: dt.datetime | None = None  # in UTC
    sent_at: dt.datetime | None = None  # in UTC
    moment: dt.datetime | None = None  # when it happened, on the server's clock
    errors: dict | None = None
    too_large: bool = False
    clean: bool = False


def event_bytes(item: dict) -> int:
    """The size of an input as compact JSON (what its 32 KB limit counts)."""
    return len(json.dumps(item, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8", "surrogatepass"))


def require_object(draft: Draft, intake: Intake) -> None:
    if not isinstance(draft.raw, dict):
        draft.errors = {"_schema": [f"{'an' if intake.noun[0] in 'aeiou' else 'a'} {intake.noun} must be a JSON object"]}


def limit_size(draft: Draft, intake: Intake) -> None:
    """Refuse what is over MAX_EVENT_BYTES as JSON. Clean means orjson could write it (no lone
    surrogate, no integer past 64 bits) and it holds no NUL: then the compiled loader may be tried."""
    try:
        raw = orjson.dumps(draft.raw)
        size, draft.clean = len(raw), b"\\u0000" not in raw
    except (orjson.JSONEncodeError, TypeError):
        size, draft.clean = event_bytes(draft.raw), False
    if size > c.MAX_EVENT_BYTES:
        draft.too_large = True
        draft.errors = {"_schema": [f"the {intake.noun} is {size} bytes as JSON; the limit is {c.MAX_EVENT_BYTES} bytes"]}


def load_fields(draft: Draft, intake: Intake) -> None:
    """The loader compiled from the schema when the input is clean; when it refuses (or the input
    is not clean), Schema.load, which says exactly what is wrong."""
    raw = {**intake.defaults, **draft.raw} if intake.defaults else draft.raw
    fields = intake.loader(raw) if draft.clean else None
    if fields is None:
        errors = unsafe_values(raw)
        try:
            fields = intake.schema.load(raw)
        except ValidationError as exc:
            messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
            draft.errors = _merge(errors, messages)
            return
        if errors:
            draft.errors = errors
            return
    draft.fields = fields


def check_required(draft: Draft, intake: Intake) -> None:
    errors = intake.required(draft.fields) if intake.required else None
    if errors:
        draft.errors = errors


def place_in_time(draft: Draft, intake: Intake) -> None:
    """Both clocks in UTC, the event's moment corrected for client skew, and refused if out of range.

    PostgreSQL refuses offsets beyond +-15:59 that Python accepts (up to 24 h): the instant is
    what counts, so times are kept in UTC.
    """
    utc = []
    for name, value in intake.clocks(draft.fields):
        try:
            utc.append(value.astimezone(dt.UTC) if value is not None else None)
        except OverflowError:
            draft.errors = {name: ["is out of range once moved to UTC"]}
            return
    draft.client_time, draft.sent_at = utc
    draft.moment = correct_time(draft.client_time, draft.sent_at, intake.received_at)
    problem = time_problem(draft.moment, intake.received_at, intake.retention_days)
    if problem:
        draft.errors = {"timestamp": [problem]}


STEPS = (require_object, limit_size, load_fields, check_required, place_in_time)


def run_steps(raw: Any, index: int, intake: Intake) -> Draft:
    """Run every step over one input, stopping at the first that finds it wrong."""
    draft = Draft(index, raw)
    for step in STEPS:
        step(draft, intake)
        if draft.errors is not None:
            break
    return draft


def _merge(into: dict, more: dict) -> dict:
    for key, value in more.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        elif isinstance(value, list) and isinstance(into.get(key), list):
            into[key].extend(m for m in value if m not in into[key])
        elif key not in into:
            into[key] = value
    return into


# --- The seed's API: /event and /events. ---


@dataclass(frozen=True)
class Checked:
    """One event of a request after the pipeline: either `event` (with its `moment`) or `errors`."""

    index: int
    event: dict | None
    errors: dict | None
    too_large: bool = False


def _seed_clocks(fields: dict) -> tuple[tuple[str, Any], tuple[str, Any]]:
    return ("timestamp", fields.get("timestamp")), ("sent_at", fields.get("sent_at"))


def check_event(item: Any, index: int, received_at: dt.datetime, retention_days: int, batch_sent_at: Any = None) -> Checked:
    """Run one raw event of the seed's API through the pipeline; never raises for bad input."""
    defaults = {"sent_at": batch_sent_at} if batch_sent_at is not None else None
    draft = run_steps(
        item, index, Intake("event", EVENT_SCHEMA, EVENT_LOADER, _seed_clocks, received_at, retention_days, defaults=defaults)
    )
    if draft.errors is not None:
        return Checked(index, None, draft.errors, draft.too_large)
    event = {**draft.fields, "moment": draft.moment}
    for name, value in (("timestamp", draft.client_time), ("sent_at", draft.sent_at)):
        if value is not None:
            event[name] = value
    return Checked(index, event, None)


def check_batch(items: list, received_at: dt.datetime, retention_days: int, batch_sent_at: Any = None) -> list[Checked]:
    return [check_event(item, i, received_at, retention_days, batch_sent_at) for i, item in enumerate(items)]


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
