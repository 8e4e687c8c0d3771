"""The one append path of /event, /events and /v1/*: admit -> rate-limit -> append -> answer.

Whatever API an event came in by, it reaches the stream here: under the same durability
policy, backpressure, rate limits and dedupe, counted and logged the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass

import flask
import redis

from engine import clients
from engine.buffer import bookkeeping, dedupe, ratelimit, streams
from engine.buffer.keys import Keys, shard_index
from engine.config import Settings
from engine.core import apikeys, auth, bots, clientip, durability
from engine.core import constants as c
from engine.core.errors import AppError, Backpressured, PayloadTooLarge, ServiceUnavailable, TooManyRequests
from engine.logs import get_logger

log = get_logger("engine.append")

# A node failed, or the cluster's slots are moving (a failover): the edge answers 503 (buffer/errors.py).
NODE_FAILURES = (
    redis.ConnectionError,
    redis.TimeoutError,
    redis.exceptions.ClusterError,
    redis.exceptions.MovedError,
    redis.exceptions.TryAgainError,
)
RETRY_LATER = {"Retry-After": str(c.RETRY_AFTER_SECONDS)}


@dataclass(frozen=True)
class Outcome:
    """Per input index: its event id and whether it was new, or its errors; and the valid events
    dropped without being appended, with the reason (bots.DROP_REASON)."""

    event_ids: list[str | None]
    accepted: int
    duplicates: int
    rejected: list[dict]
    dropped: int = 0
    drop_reason: str | None = None

    def headers(self) -> dict[str, str]:
        """The answer's X-Analytics-Dropped header, when the request's events were dropped."""
        return {bots.DROPPED_HEADER: self.drop_reason} if self.drop_reason else {}


def counted(render: Callable[[AppError], flask.Response] | None = None):
    """Count every refusal of a handler (sync or async) by its error code in the ops counters; then
    answer it with render(exc), or let it propagate to the edge, which answers it in the JSON error shape.
    An async handler counts in a thread: the event loop never waits on that call."""

    def decorate(handler):
        if inspect.iscoroutinefunction(handler):

            @functools.wraps(handler)
            async def waited(settings: Settings, request: flask.Request, rid: str) -> flask.Response:
                try:
                    return await handler(settings, request, rid)
                except AppError as exc:
                    await asyncio.to_thread(count_refusal, settings, exc)
                    if render is None:
                        raise
                    return render(exc)

            return waited

        @functools.wraps(handler)
        def wrapped(settings: Settings, request: flask.Request, rid: str) -> flask.Response:
            try:
                return handler(settings, request, rid)
            except AppError as exc:
                count_refusal(settings, exc)
                if render is None:
                    raise
                return render(exc)

        return wrapped

    return decorate


def count_refusal(settings: Settings, exc: AppError) -> None:
    with contextlib.suppress(redis.RedisError):
        bookkeeping.count(clients.redis_client(settings), clients.stream_keys(settings), **{f"rejected:{exc.code}": exc.events})


def admit(settings: Settings) -> int | None:
    """Refuse (503) when this Redis may not or cannot take events; else the WAITAOF timeout to use."""
    facts = clients.redis_facts(settings)
    problem = durability.refusal(facts, settings.durability, settings.env)
    if problem:
        log.error("refusing events", extra={"reason": problem})
        raise ServiceUnavailable(problem, headers=RETRY_LATER)
    if durability.memory_full(facts, settings.max_redis_memory_ratio):
        raise Backpressured(
            f"the event store is over {settings.max_redis_memory_ratio:.0%} of its memory; retry after the drain catches up",
            {"used_memory": facts.used_memory, "maxmemory": facts.maxmemory},
            headers=RETRY_LATER,
        )
    return durability.fsync_timeout_ms(facts, settings.durability, c.WAITAOF_TIMEOUT_MS)


def drop_reason(settings: Settings, request: flask.Request) -> str | None:
    """Why this request's valid events are not appended, or None: its user agent is a known
    crawler's (the request's own agent: every event it carries comes from that sender)."""
    if settings.drop_bots and bots.is_bot(request.headers.get("User-Agent", "")):
        return bots.DROP_REASON
    return None


def drop_items(items: list[Item], total: int, rejected: list[dict], reason: str, settings: Settings, project_id: int, rid: str) -> Outcome:
    """Append nothing: count the valid events as dropped (and the invalid ones as rejected), log, answer."""
    counts = {f"dropped:{reason}": len(items), "rejected:invalid_event": len(rejected)}
    bookkeeping.count(clients.redis_client(settings), clients.stream_keys(settings), **counts)
    log.info(
        "events dropped",
        extra={"request_id": rid, "project_id": project_id, "reason": reason, "dropped": len(items), "rejected": len(rejected)},
    )
    return Outcome([None] * total, 0, 0, rejected, dropped=len(items), drop_reason=reason)


def request_buckets(settings: Settings, request: flask.Request, now: dt.datetime) -> ratelimit.Buckets:
    """The rate-limit buckets this request draws from: its write key's and its client address's."""
    presented = auth.presented_write_key(request.headers, request.args) or ""
    address = clientip.client_address(request.remote_addr, request.headers.get("X-Forwarded-For"), settings.trusted_proxy_hops)
    rclient, keys = clients.redis_client(settings), clients.stream_keys(settings)
    return ratelimit.buckets_for(settings.key_rate_limit, settings.ip_rate_limit, rclient, keys, apikeys.key_hash(presented), address, now)


@dataclass(frozen=True)
class Item:
    """One stream entry to append: its input index, event id, dedupe id (the client's UUID's bytes, b"" if none), payload."""

    index: int
    event_id: str
    dedupe_id: bytes
    payload: bytes
    person: str = ""  # whose event: with several stream shards, it picks the shard (buffer/keys.shard_index)


def answer_ids(items: list[Item], total: int, buckets: ratelimit.Buckets | None) -> list[str | None]:
    """The answer's event id per input index; refuses (413) a request no bucket could ever let through."""
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
    return ids


@contextlib.contextmanager
def refusals(settings: Settings, buckets: ratelimit.Buckets | None, events: int):
    """Turn the append's refusals into the API's errors (429, 503); a node failure re-reads the topology."""
    try:
        yield
    except NODE_FAILURES:
        clients.forget_topology(settings)  # a node failed or slots moved: the next request re-reads the map
        raise
    except streams.RateLimited as exc:
        rate = buckets.key_rate if exc.which == "key" else buckets.ip_rate
        whose = "this write key" if exc.which == "key" else "this client address"
        raise TooManyRequests(
            f"rate limit of {rate} events/s for {whose} reached; retry after {exc.retry_after_ms} ms",
            {"limit": exc.which, "events_per_second": rate, "retry_after_ms": exc.retry_after_ms},
            headers={"Retry-After": str(max(1, math.ceil(exc.retry_after_ms / 1000)))},
            events=events,
        ) from None
    except streams.Backpressure:
        raise Backpressured(
            f"the pipeline is behind: more than {settings.max_backlog} events wait to be drained; nothing was stored, retry later",
            {"max_backlog": settings.max_backlog},
            headers=RETRY_LATER,
            events=events,
        ) from None
    except streams.NotFsynced as exc:
        raise ServiceUnavailable(
            f"{exc}; the events may be stored: resend them with the same event_id", headers=RETRY_LATER, events=events
        ) from None


def count_rejected(settings: Settings, rejected: list[dict]) -> None:
    if rejected:
        bookkeeping.count(clients.redis_client(settings), clients.stream_keys(settings), **{"rejected:invalid_event": len(rejected)})


def appended(
    items: list[Item], ids: list[str | None], entry_ids: list[bytes | None], rejected: list[dict], project_id: int, rid: str
) -> Outcome:
    """Log an append and make its outcome."""
    duplicates = sum(1 for entry_id in entry_ids if entry_id is None)
    stream_ids = [e.decode() for e in entry_ids if e is not None]
    log.info(
        "events appended",
        extra={
            "request_id": rid,
            "project_id": project_id,
            "accepted": len(items) - duplicates,
            "duplicates": duplicates,
            "rejected": len(rejected),
            "event_ids": [i for i in ids if i][:20],
            "stream_ids": [stream_ids[0], stream_ids[-1]] if stream_ids else [],
        },
    )
    return Outcome(ids, len(items) - duplicates, duplicates, rejected)


def shard_calls(
    settings: Settings, items: list[Item], project_id: int, fsync_timeout: int | None, buckets: ratelimit.Buckets | None
) -> list[tuple[list[int], Keys, streams.Call, streams.Group]]:
    """Per stream shard the items go to (by person): their positions, the shard, the call's terms, the group.

    With one shard this is the one call it always was. A batch that spans shards is appended
    shard by shard: should a later shard refuse, the earlier shards' events stay appended and
    the request answers the refusal (a resend with the same event_ids is deduplicated).
    """
    shards = clients.stream_shards(settings)
    by_shard: dict[int, list[int]] = {}
    for position, item in enumerate(items):
        by_shard.setdefault(shard_index(project_id, item.person, len(shards)), []).append(position)
    calls = []
    for shard, positions in by_shard.items():
        shard_keys = shards[shard]
        facts = clients.redis_facts(settings, shard_keys)
        call = streams.Call(
            shard_keys,
            settings.dedupe_window_seconds,
            settings.max_backlog,
            fsync_timeout,
            dedupe.marks_per_shard(facts.hash_listpack_entries),
            replica_timeout_ms=c.REPLICA_WAIT_TIMEOUT_MS if facts.replicas > 0 else None,
        )
        shard_buckets = ratelimit.for_shard(buckets, shard_keys, len(shards)) if buckets is not None else None
        calls.append((positions, shard_keys, call, ([(items[p].dedupe_id, items[p].payload) for p in positions], shard_buckets)))
    return calls


def place(entry_ids: list[bytes | None], positions: list[int], replies: list[bytes | None]) -> None:
    for p, entry_id in zip(positions, replies, strict=True):
        entry_ids[p] = entry_id
