"""The append of the ingest function: append.py's steps, the script call by group commit.

Every step but the call is append.py's own (answer ids, admission, refusals, logging); the
call goes through the event loop's Committer of the shard (buffer/groupcommit.py), so the
requests waiting in one process share one script call. The rare calls that count refusals
and drops run in a thread, so that the event loop never waits on them.
"""

from __future__ import annotations

import asyncio
import weakref

import redis.asyncio

from engine import append, clients
from engine.append import Item, Outcome
from engine.buffer import ratelimit, streams
from engine.buffer.groupcommit import Committer, append_groups
from engine.buffer.keys import Keys
from engine.config import Settings

# Per event loop: its asyncio clients (by server) and its committers (by shard and call terms).
# An asyncio client belongs to the loop it was made on; tests run several loops in one process.
_loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict] = weakref.WeakKeyDictionary()


def async_client(settings: Settings, keys: Keys) -> redis.asyncio.Redis:
    """This loop's asyncio client of the server holding the shard `keys` (clients.node_client's server)."""
    node = clients.node_client(settings, keys)
    held = _loops.setdefault(asyncio.get_running_loop(), {})
    known = held.get(("node", id(node)))
    if known is not None and known[0] is node:  # the same server as last time: no address to read
        return known[1]
    where = node.get_connection_kwargs()
    name = ("client", where.get("host"), where.get("port"), where.get("path"), where.get("db"))
    client = held.get(name)
    if client is None:
        timeouts = {"socket_timeout": settings.io_timeout_seconds, "socket_connect_timeout": min(settings.io_timeout_seconds, 5.0)}
        if settings.redis_cluster_nodes:
            auth = {"username": where.get("username"), "password": where.get("password")}
            client = redis.asyncio.Redis(host=where["host"], port=where["port"], protocol=2, **auth, **timeouts)
        else:
            client = redis.asyncio.Redis.from_url(settings.redis_url, protocol=2, **timeouts)
        held[name] = client
    held[("node", id(node))] = (node, client)
    return client


def committer(settings: Settings, call: streams.Call) -> Committer:
    """This loop's group commit for one shard under one call's terms."""
    client = async_client(settings, call.keys)
    held = _loops.setdefault(asyncio.get_running_loop(), {})
    name = ("committer", id(client), call)
    found = held.get(name)
    if found is None:
        found = held[name] = Committer(lambda groups: append_groups(client, call, groups))
    return found


def committers(loop: asyncio.AbstractEventLoop) -> list[Committer]:
    """The committers of an event loop (each counts its calls and the groups they carried)."""
    held = _loops.get(loop, {})
    return [value for key, value in held.items() if key[0] == "committer"]


async def append_items(
    settings: Settings,
    items: list[Item],
    total: int,
    rejected: list[dict],
    project_id: int,
    rid: str,
    buckets: ratelimit.Buckets | None,
    dropped: str | None = None,
) -> Outcome:
    """Append entries under the rate limits, backpressure and durability policy, awaiting group commit
    for the script call; count and log them. With a drop reason (append.drop_reason), append none."""
    if dropped is not None:
        return await asyncio.to_thread(append.drop_items, items, total, rejected, dropped, settings, project_id, rid)
    ids = append.answer_ids(items, total, buckets)
    with append.refusals(settings, buckets, len(items)):
        fsync_timeout = append.admit(settings)
        entry_ids: list[bytes | None] = [None] * len(items)
        for positions, _, call, group in append.shard_calls(settings, items, project_id, fsync_timeout, buckets):
            append.place(entry_ids, positions, await committer(settings, call).append(group))
    if rejected:
        await asyncio.to_thread(append.count_rejected, settings, rejected)
    return append.appended(items, ids, entry_ids, rejected, project_id, rid)


async def release() -> None:
    """Close the running loop's asyncio clients (a loop that ends: a test's, a worker's at exit)."""
    held = _loops.pop(asyncio.get_running_loop(), {})
    for key, value in held.items():
        if key[0] == "client":
            await value.aclose()
