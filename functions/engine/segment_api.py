"""Segment's HTTP Tracking API on the ingest function: /v1/track, page, screen, identify, group,
alias, and /v1/batch (also /v1/import and /v1/b, and analytics.js's short /v1/t, /p, /s, /i, /g, /a).

Answers as Segment's SDKs expect: 200 once the messages are in the stream (the valid ones;
invalid ones are listed by index and retrying would not fix them), 400/401/413 for a request
no retry can fix, 429 and 503 (with Retry-After) for the ones a retry will. Errors carry both
this API's shape and Segment's top-level code and message, which the SDKs log.
"""

from __future__ import annotations

import datetime as dt

import flask
import orjson

from engine import append, groupappend, keyring, web
from engine.config import Settings
from engine.core import auth, segment
from engine.core import constants as c
from engine.core.enrich import build_entry, new_event_id
from engine.core.errors import AppError, BadRequest, PayloadTooLarge, ValidationFailed
from engine.core.jsonbody import parse_json


def segment_error(exc: AppError) -> flask.Response:
    """An AppError in both shapes: {"error": {...}} and Segment's {"code", "message"}, which the SDKs log."""
    body = {
        "success": False,
        "code": exc.code,
        "message": exc.message,
        "error": {"code": exc.code, "message": exc.message, "details": exc.details},
    }
    return web.json_response(exc.status, body, exc.headers)


async def _project(settings: Settings, request: flask.Request, document) -> int:
    """The write key as Basic username, X-Write-Key or ?key=, else writeKey in the body."""
    presented = auth.presented_write_key(request.headers, request.args)
    if not presented and isinstance(document, dict) and isinstance(document.get("writeKey"), str):
        presented = document["writeKey"]
    return await keyring.write_project(settings, presented)


def operation_entry(operation: dict, event_id, links, project_id: int, received_at: dt.datetime, rid: str) -> bytes:
    """The stream payload of an identify, group or alias (the drain applies it to users, groups, links)."""
    return orjson.dumps(
        {
            "v": c.ENTRY_VERSION,
            "kind": operation["kind"],
            "event_id": str(event_id),
            "project_id": project_id,
            "user_id": operation.get("user_id"),
            "group_id": operation.get("group_id"),
            "traits": operation.get("traits"),
            "links": links,
            "at": operation["at"],
            "received_at": received_at,
            "request_id": rid,
        }
    )


async def _accept(settings: Settings, request: flask.Request, rid: str, messages: list, kind: str | None, batch: dict, project_id: int):
    received_at = dt.datetime.now(dt.UTC)
    buckets = append.request_buckets(settings, request, received_at)
    mapped = [
        segment.map_message(
            m, i, kind_from_path=kind, batch=batch, received_at=received_at, project_id=project_id, retention_days=settings.retention_days
        )
        for i, m in enumerate(messages)
    ]
    rejected = [{"index": m.index, "errors": m.errors} for m in mapped if m.errors is not None]
    if len(rejected) == len(mapped):
        raise ValidationFailed("no message in the request is valid", {"rejected": rejected}, events=len(rejected))
    items = []
    for m in mapped:
        if m.errors is not None:
            continue
        event_id = m.event_id or new_event_id()
        dedupe = event_id.bytes if m.event_id else b""
        if m.event is not None:
            extra = {**m.event.pop("extra"), "links": m.links or None}
            payload = build_entry(
                m.event,
                event_id=event_id,
                moment=m.event["moment"],
                received_at=received_at,
                project_id=project_id,
                request_id=rid,
                extra=extra,
            )
        else:
            payload = operation_entry(m.operation, event_id, m.links, project_id, received_at, rid)
        items.append(append.Item(m.index, str(event_id), dedupe, payload, str((m.event or m.operation or {}).get("user_id") or "")))
    dropped = append.drop_reason(settings, request)
    outcome = await groupappend.append_items(settings, items, len(mapped), rejected, project_id, rid, buckets, dropped)
    body = {
        "success": True,
        "accepted": outcome.accepted,
        "duplicates": outcome.duplicates,
        "dropped": outcome.dropped,
        "rejected": outcome.rejected,
    }
    return web.json_response(200, body, outcome.headers())


def single(kind: str):
    """POST /v1/<kind>: one message of that type (the type in the body, if any, is ignored)."""

    @append.counted(render=segment_error)
    async def handler(settings: Settings, request: flask.Request, rid: str) -> flask.Response:
        document = parse_json(web.read_body(request))
        project_id = await _project(settings, request, document)
        return await _accept(settings, request, rid, [document], kind, {}, project_id)

    return handler


@append.counted(render=segment_error)
async def post_batch(settings: Settings, request: flask.Request, rid: str) -> flask.Response:
    """POST /v1/batch: {"batch": [messages with their type], "context"?, "integrations"?, "sentAt"?, "writeKey"?}."""
    document = parse_json(web.read_body(request))
    project_id = await _project(settings, request, document)
    if not isinstance(document, dict) or not isinstance(document.get("batch"), list):
        raise BadRequest('a batch is {"batch": [messages]}', {"batch": ["Missing data for required field."]})
    messages = document["batch"]
    if not messages:
        raise BadRequest("the batch is empty; send at least one message")
    if len(messages) > c.MAX_BATCH_EVENTS:
        raise PayloadTooLarge(
            f"a batch holds at most {c.MAX_BATCH_EVENTS} messages; this one has {len(messages)}", {"limit": c.MAX_BATCH_EVENTS}
        )
    batch = {"context": document.get("context"), "integrations": document.get("integrations")}
    sent_at = document.get("sentAt")
    if sent_at is not None:
        try:
            batch["sentAt"] = segment.MESSAGE_SCHEMA.fields["sentAt"].deserialize(sent_at)
        except Exception:
            raise ValidationFailed("sentAt is not a valid time", {"sentAt": ["Not a valid datetime."]}) from None
    if batch["context"] is not None and not isinstance(batch["context"], dict):
        raise ValidationFailed("context must be an object", {"context": ["Not a valid mapping type."]})
    return await _accept(settings, request, rid, messages, None, batch, project_id)


def routes(bind) -> dict:
    """The /v1 routes for the ingest function's route table (bind adds the settings)."""
    table = {("POST", f"/v1/{kind}"): bind(single(kind)) for kind in segment.TYPES}
    table.update({("POST", f"/v1/{short}"): bind(single(kind)) for short, kind in segment.SHORT_PATHS.items()})
    table.update({("POST", f"/v1/{path}"): bind(post_batch) for path in ("batch", "import", "b")})
    return table
