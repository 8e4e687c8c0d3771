"""ingest: parse -> validate -> enrich -> append -> answer, for one event or a batch."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import flask

from engine import auth, clients, streams, web
from engine.config import Settings
from engine.enrich import build_entry, new_event_id
from engine.errors import ValidationFailed
from engine.jsonbody import parse_json
from engine.logs import get_logger
from engine.validation import Checked, check_batch, check_event, split_batch

log = get_logger("engine.ingest")

# Ingest answers browsers on any origin, without credentials (keys travel in the request).
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Content-Encoding, X-Write-Key, Authorization, X-Request-Id",
    "Access-Control-Max-Age": "86400",
}


@dataclass(frozen=True)
class Outcome:
    """Per input index: its event id and whether it was new, or its errors."""

    event_ids: list[str | None]
    accepted: int
    duplicates: int
    rejected: list[dict]


def append_checked(settings: Settings, checked: list[Checked], project_id: int, received_at: dt.datetime, rid: str) -> Outcome:
    """Append the valid events to the stream; duplicates of a recent event_id are not appended."""
    items, ids = [], [None] * len(checked)
    for result in checked:
        if result.event is None:
            continue
        client_id = result.event.get("event_id")
        event_id = client_id or new_event_id()
        ids[result.index] = str(event_id)
        payload = build_entry(
            result.event, event_id=event_id, moment=result.event["moment"], received_at=received_at, project_id=project_id, request_id=rid
        )
        items.append((result.index, str(client_id) if client_id else "", payload))
    entry_ids = streams.append_events(
        clients.redis_client(settings),
        clients.stream_keys(settings),
        [(dedupe_id, payload) for _, dedupe_id, payload in items],
        settings.dedupe_window_seconds,
    )
    duplicates = sum(1 for entry_id in entry_ids if entry_id is None)
    rejected = [{"index": r.index, "errors": r.errors} for r in checked if r.errors is not None]
    log.info(
        "events appended",
        extra={
            "request_id": rid,
            "project_id": project_id,
            "accepted": len(items) - duplicates,
            "duplicates": duplicates,
            "rejected": len(rejected),
            "event_ids": [i for i in ids if i][:20],
        },
    )
    return Outcome(ids, len(items) - duplicates, duplicates, rejected)


def post_event(settings: Settings, request: flask.Request, rid: str) -> flask.Response:
    """POST /event: one event; 202 with its id once it is in the stream."""
    project_id = auth.project_for_write_key(settings, request.headers, request.args)
    document = parse_json(web.read_body(request))
    received_at = dt.datetime.now(dt.UTC)
    checked = check_event(document, 0, received_at, settings.retention_days)
    if checked.errors is not None:
        raise ValidationFailed("the event is not valid", checked.errors)
    outcome = append_checked(settings, [checked], project_id, received_at, rid)
    status = "duplicate" if outcome.duplicates else "accepted"
    return web.json_response(202, {"event_id": outcome.event_ids[0], "status": status})


def post_events(settings: Settings, request: flask.Request, rid: str) -> flask.Response:
    """POST /events: a batch; per-event results, 400 only when no event was usable."""
    project_id = auth.project_for_write_key(settings, request.headers, request.args)
    events, batch_sent_at = split_batch(parse_json(web.read_body(request)))
    received_at = dt.datetime.now(dt.UTC)
    checked = check_batch(events, received_at, settings.retention_days, batch_sent_at)
    rejected = [{"index": r.index, "errors": r.errors} for r in checked if r.errors is not None]
    if len(rejected) == len(checked):
        raise ValidationFailed("no event in the batch is valid", {"rejected": rejected})
    outcome = append_checked(settings, checked, project_id, received_at, rid)
    body = {
        "accepted": outcome.accepted,
        "duplicates": outcome.duplicates,
        "rejected": outcome.rejected,
        "event_ids": outcome.event_ids,
    }
    return web.json_response(202, body)
