"""ingest: parse -> validate -> enrich -> append -> answer, for one event or a batch."""

from __future__ import annotations

import datetime as dt

import flask

from engine import append, groupappend, keyring, web
from engine.buffer import ratelimit
from engine.config import Settings
from engine.core import auth, bots
from engine.core import constants as c
from engine.core.enrich import build_entry, new_event_id
from engine.core.errors import PayloadTooLarge, ValidationFailed
from engine.core.jsonbody import parse_json
from engine.core.pipeline import Checked, check_batch, check_event, split_batch

# Ingest answers browsers on any origin, without credentials (keys travel in the request).
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Content-Encoding, X-Write-Key, Authorization, X-Request-Id",
    "Access-Control-Max-Age": "86400",
    "Access-Control-Expose-Headers": bots.DROPPED_HEADER,
}


def cors_headers(request: flask.Request) -> dict[str, str]:
    """Ingest answers every origin: its keys travel in the request, never in cookies."""
    return CORS_HEADERS


def checked_items(checked: list[Checked], project_id: int, received_at: dt.datetime, rid: str) -> tuple[list[append.Item], list[dict]]:
    """The stream entries of the valid events (each with its id: the client's, else a new one), and the rejections."""
    items = []
    for result in checked:
        if result.event is None:
            continue
        client_id = result.event.get("event_id")
        event_id = client_id or new_event_id()
        payload = build_entry(
            result.event, event_id=event_id, moment=result.event["moment"], received_at=received_at, project_id=project_id, request_id=rid
        )
        items.append(append.Item(result.index, str(event_id), client_id.bytes if client_id else b"", payload, str(result.event["user_id"])))
    return items, [{"index": r.index, "errors": r.errors} for r in checked if r.errors is not None]


async def append_checked(
    settings: Settings,
    checked: list[Checked],
    project_id: int,
    received_at: dt.datetime,
    rid: str,
    buckets: ratelimit.Buckets | None = None,
    dropped: str | None = None,
) -> append.Outcome:
    """Append the valid events to the stream, the script call shared with the requests waiting with
    this one (group commit); duplicates of a recent event_id are not appended, nor is any event of a
    request with a drop reason (append.drop_reason)."""
    items, rejected = checked_items(checked, project_id, received_at, rid)
    return await groupappend.append_items(settings, items, len(checked), rejected, project_id, rid, buckets, dropped)


@append.counted()
async def post_event(settings: Settings, request: flask.Request, rid: str) -> flask.Response:
    """POST /event: one event; 202 with its id once it is in the stream."""
    project_id = await keyring.write_project(settings, auth.presented_write_key(request.headers, request.args))
    document = parse_json(web.read_body(request))
    received_at = dt.datetime.now(dt.UTC)
    buckets = append.request_buckets(settings, request, received_at)
    checked = check_event(document, 0, received_at, settings.retention_days)
    if checked.too_large:
        raise PayloadTooLarge(checked.errors["_schema"][0], {"limit_bytes": c.MAX_EVENT_BYTES})
    if checked.errors is not None:
        raise ValidationFailed("the event is not valid", checked.errors)
    outcome = await append_checked(settings, [checked], project_id, received_at, rid, buckets, append.drop_reason(settings, request))
    status = "dropped" if outcome.dropped else "duplicate" if outcome.duplicates else "accepted"
    return web.json_response(202, {"event_id": outcome.event_ids[0], "status": status}, outcome.headers())


@append.counted()
async def post_events(settings: Settings, request: flask.Request, rid: str) -> flask.Response:
    """POST /events: a batch; per-event results, 400 only when no event was usable."""
    project_id = await keyring.write_project(settings, auth.presented_write_key(request.headers, request.args))
    events, batch_sent_at = split_batch(parse_json(web.read_body(request)))
    received_at = dt.datetime.now(dt.UTC)
    buckets = append.request_buckets(settings, request, received_at)
    checked = check_batch(events, received_at, settings.retention_days, batch_sent_at)
    rejected = [{"index": r.index, "errors": r.errors} for r in checked if r.errors is not None]
    if len(rejected) == len(checked):
        raise ValidationFailed("no event in the batch is valid", {"rejected": rejected}, events=len(rejected))
    outcome = await append_checked(settings, checked, project_id, received_at, rid, buckets, append.drop_reason(settings, request))
    body = {
        "accepted": outcome.accepted,
        "duplicates": outcome.duplicates,
        "dropped": outcome.dropped,
        "rejected": outcome.rejected,
        "event_ids": outcome.event_ids,
    }
    return web.json_response(202, body, outcome.headers())
