"""ingest: parse -> validate -> enrich -> append -> answer, for one event or a batch."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import math
from dataclasses import dataclass

import flask
import redis

from engine import apikeys, auth, clientip, clients, durability, keyring, ratelimit, streams, web
from engine import constants as c
from engine.config import Settings
from engine.enrich import build_entry, new_event_id
from engine.errors import AppError, Backpressured, PayloadTooLarge, ServiceUnavailable, TooManyRequests, ValidationFailed
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


def cors_headers(request: flask.Request) -> dict[str, str]:
    """Ingest answers every origin: its keys travel in the request, never in cookies."""
    return CORS_HEADERS


RETRY_LATER = {"Retry-After": str(c.BACKPRESSURE_RETRY_AFTER_SECONDS)}


@dataclass(frozen=True)
class Outcome:
    """Per input index: its event id and whether it was new, or its errors."""

    event_ids: list[str | None]
    accepted: int
    duplicates: int
    rejected: list[dict]


def counted(handler):
    """Count every refusal by its error code in the ops counters, then let it propagate."""

    @functools.wraps(handler)
    def wrapped(settings: Settings, request: flask.Request, rid: str) -> flask.Response:
        try:
            return handler(settings, request, rid)
        except AppError as exc:
            with contextlib.suppress(redis.RedisError):
                streams.count(clients.redis_client(settings), clients.stream_keys(settings), **{f"rejected:{exc.code}": exc.events})
            raise

    return wrapped


def admit(settings: Settings) -> int | None:
    """Refuse (503) when this Redis may not or cannot take events; else the WAITAOF timeout to use."""
    facts = clients.redis_facts(settings)
    problem = durability.refusal(facts, settings)
    if problem:
        log.error("refusing events", extra={"reason": problem})
        raise ServiceUnavailable(problem, headers=RETRY_LATER)
    if durability.memory_full(facts, settings.max_redis_memory_ratio):
        raise Backpressured(
            f"the event store is over {settings.max_redis_memory_ratio:.0%} of its memory; retry after the drain catches up",
            {"used_memory": facts.used_memory, "maxmemory": facts.maxmemory},
            headers=RETRY_LATER,
        )
    return durability.fsync_timeout_ms(facts, settings, c.WAITAOF_TIMEOUT_MS)


def request_buckets(settings: Settings, request: flask.Request, now: dt.datetime) -> ratelimit.Buckets:
    """The rate-limit buckets this request draws from: its write key's and its client address's."""
    presented = auth.presented_write_key(request.headers, request.args) or ""
    address = clientip.client_address(request.remote_addr, request.headers.get("X-Forwarded-For"), settings.trusted_proxy_hops)
    rclient, keys = clients.redis_client(settings), clients.stream_keys(settings)
    return ratelimit.buckets_for(settings, rclient, keys, apikeys.key_hash(presented), address, now)


@dataclass(frozen=True)
class Item:
    """One stream entry to append: its input index, event id, dedupe id ('' if none), payload."""

    index: int
    event_id: str
    dedupe_id: str
    payload: bytes


def append_checked(
    settings: Settings,
    checked: list[Checked],
    project_id: int,
    received_at: dt.datetime,
    rid: str,
    buckets: ratelimit.Buckets | None = None,
) -> Outcome:
    """Append the valid events to the stream; duplicates of a recent event_id are not appended."""
    items = []
    for result in checked:
        if result.event is None:
            continue
        client_id = result.event.get("event_id")
        event_id = client_id or new_event_id()
        payload = build_entry(
            result.event, event_id=event_id, moment=result.event["moment"], received_at=received_at, project_id=project_id, request_id=rid
        )
        items.append(Item(result.index, str(event_id), str(client_id) if client_id else "", payload))
    rejected = [{"index": r.index, "errors": r.errors} for r in checked if r.errors is not None]
    return append_items(settings, items, len(checked), rejected, project_id, rid, buckets)


def append_items(
    settings: Settings,
    items: list[Item],
    total: int,
    rejected: list[dict],
    project_id: int,
    rid: str,
    buckets: ratelimit.Buckets | None,
) -> Outcome:
    """Append entries under the rate limits, backpressure and durability policy; count and log them."""
    ids: list[str | None] = [None] * total
    for item in items:
        ids[item.index] = item.event_id
    largest = buckets.largest_request() if buckets is not None else None
    if largest is not None and len(items) > largest:
        raise PayloadTooLarge(
            f"this request holds {len(items)} events; the rate limit lets at most {int(largest)} through at once: send smaller batches",
            {"limit_events": int(largest)},
            events=len(items),
        )
    fsync_timeout = admit(settings)
    rclient, keys = clients.redis_client(settings), clients.stream_keys(settings)
    try:
        entry_ids = streams.append_events(
            rclient,
            keys,
            [(item.dedupe_id, item.payload) for item in items],
            settings.dedupe_window_seconds,
            settings.max_backlog,
            fsync_timeout,
            buckets,
        )
    except streams.RateLimited as exc:
        rate = buckets.key_rate if exc.which == "key" else buckets.ip_rate
        whose = "this write key" if exc.which == "key" else "this client address"
        raise TooManyRequests(
            f"rate limit of {rate} events/s for {whose} reached; retry after {exc.retry_after_ms} ms",
            {"limit": exc.which, "events_per_second": rate, "retry_after_ms": exc.retry_after_ms},
            headers={"Retry-After": str(max(1, math.ceil(exc.retry_after_ms / 1000)))},
            events=len(items),
        ) from None
    except streams.Backpressure:
        raise Backpressured(
            f"the pipeline is behind: more than {settings.max_backlog} events wait to be drained; nothing was stored, retry later",
            {"max_backlog": settings.max_backlog},
            headers=RETRY_LATER,
            events=len(items),
        ) from None
    except streams.NotFsynced as exc:
        raise ServiceUnavailable(
            f"{exc}; the events may be stored: resend them with the same event_id", headers=RETRY_LATER, events=len(items)
        ) from None
    if rejected:
        streams.count(rclient, keys, **{"rejected:invalid_event": len(rejected)})
    duplicates = sum(1 for entry_id in entry_ids if entry_id is None)
    appended = [e.decode() for e in entry_ids if e is not None]
    log.info(
        "events appended",
        extra={
            "request_id": rid,
            "project_id": project_id,
            "accepted": len(items) - duplicates,
            "duplicates": duplicates,
            "rejected": len(rejected),
            "event_ids": [i for i in ids if i][:20],
            "stream_ids": [appended[0], appended[-1]] if appended else [],
        },
    )
    return Outcome(ids, len(items) - duplicates, duplicates, rejected)


@counted
def post_event(settings: Settings, request: flask.Request, rid: str) -> flask.Response:
    """POST /event: one event; 202 with its id once it is in the stream."""
    project_id = auth.project_for_write_key(settings, request.headers, request.args, keyring.lookup_for(settings))
    document = parse_json(web.read_body(request))
    received_at = dt.datetime.now(dt.UTC)
    buckets = request_buckets(settings, request, received_at)
    checked = check_event(document, 0, received_at, settings.retention_days)
    if checked.too_large:
        raise PayloadTooLarge(checked.errors["_schema"][0], {"limit_bytes": c.MAX_EVENT_BYTES})
    if checked.errors is not None:
        raise ValidationFailed("the event is not valid", checked.errors)
    outcome = append_checked(settings, [checked], project_id, received_at, rid, buckets)
    status = "duplicate" if outcome.duplicates else "accepted"
    return web.json_response(202, {"event_id": outcome.event_ids[0], "status": status})


@counted
def post_events(settings: Settings, request: flask.Request, rid: str) -> flask.Response:
    """POST /events: a batch; per-event results, 400 only when no event was usable."""
    project_id = auth.project_for_write_key(settings, request.headers, request.args, keyring.lookup_for(settings))
    events, batch_sent_at = split_batch(parse_json(web.read_body(request)))
    received_at = dt.datetime.now(dt.UTC)
    buckets = request_buckets(settings, request, received_at)
    checked = check_batch(events, received_at, settings.retention_days, batch_sent_at)
    rejected = [{"index": r.index, "errors": r.errors} for r in checked if r.errors is not None]
    if len(rejected) == len(checked):
        raise ValidationFailed("no event in the batch is valid", {"rejected": rejected}, events=len(rejected))
    outcome = append_checked(settings, checked, project_id, received_at, rid, buckets)
    body = {
        "accepted": outcome.accepted,
        "duplicates": outcome.duplicates,
        "rejected": outcome.rejected,
        "event_ids": outcome.event_ids,
    }
    return web.json_response(202, body)
