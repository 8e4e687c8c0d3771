"""Each process's clients, created lazily on first use and never at import.

Redis clients are thread-safe and shared; pg8000 connections are not, so each thread
keeps its own, and a connection that failed at the network level is dropped so that the
next use reconnects.
"""

from __future__ import annotations

import contextlib
import threading
import time

import redis

from engine.buffer.facts import server_facts
from engine.buffer.keys import Keys
from engine.config import Settings
from engine.core import durability
from engine.core.constants import REDIS_FACTS_TTL_SECONDS
from engine.core.durability import ServerFacts
from engine.db import postgres
from engine.logs import get_logger

log = get_logger("engine.clients")

_lock = threading.Lock()
_redis: dict[str, redis.Redis] = {}
_local = threading.local()


def redis_client(settings: Settings) -> redis.Redis:
    """The process's Redis client for settings.redis_url (timeouts on every call)."""
    url = settings.redis_url
    client = _redis.get(url)
    if client is None:
        with _lock:
            client = _redis.get(url)
            if client is None:
                client = redis.Redis.from_url(
                    url,
                    socket_timeout=settings.io_timeout_seconds,
                    socket_connect_timeout=min(settings.io_timeout_seconds, 5.0),
                    health_check_interval=30,
                    protocol=2,
                )
                _redis[url] = client
    return client


def stream_keys(settings: Settings) -> Keys:
    return Keys.for_namespace(settings.redis_namespace)


_facts: dict[str, tuple[float, ServerFacts]] = {}
_warned: set[str] = set()


def redis_facts(settings: Settings) -> ServerFacts:
    """The server's memory and persistence facts, re-read at most every REDIS_FACTS_TTL_SECONDS."""
    cached = _facts.get(settings.redis_url)
    now = time.monotonic()
    if cached is not None and now - cached[0] < REDIS_FACTS_TTL_SECONDS:
        return cached[1]
    facts = server_facts(redis_client(settings))
    _facts[settings.redis_url] = (now, facts)
    warning = durability.warning(facts)
    if warning and warning not in _warned:
        _warned.add(warning)
        log.warning(warning, extra={"redis_version": facts.version, "appendonly": facts.appendonly, "appendfsync": facts.appendfsync})
    return facts


@contextlib.contextmanager
def pg(settings: Settings, role: str, statement_timeout_ms: int | None = None):
    """This thread's connection for `role` (its application_name), reconnecting if dropped."""
    conns = getattr(_local, "conns", None)
    if conns is None:
        conns = _local.conns = {}
    key = (settings.database_url, role)
    conn = conns.get(key)
    if conn is None:
        conn = postgres.connect(
            settings.database_url,
            application_name=f"analytics-{role}",
            statement_timeout_ms=statement_timeout_ms or settings.pg_statement_timeout_ms,
            io_timeout_seconds=settings.io_timeout_seconds,
        )
        conns[key] = conn
    try:
        yield conn
    except BaseException as exc:
        if postgres.is_transient(exc) or not isinstance(exc, postgres.DatabaseError):
            conns.pop(key, None)
            with contextlib.suppress(Exception):
                conn.close()
        raise


def read(settings: Settings, role: str, work):
    """work(conn) for a read-only request, once more on a fresh connection if the first one was dead.

    A thread's cached connection outlives a PostgreSQL restart; its first use then fails at
    the network level. A read can be repeated safely, so that failure never reaches the client.
    """
    try:
        with pg(settings, role) as conn:
            return work(conn)
    except (postgres.InterfaceError, OSError) as exc:
        log.info("stale PostgreSQL connection replaced", extra={"role": role, "error": str(exc)[:200]})
    except postgres.DatabaseError as exc:
        if (postgres.sqlstate(exc) or "")[:2] not in ("08", "57"):
            raise
        log.info("stale PostgreSQL connection replaced", extra={"role": role, "error": postgres.server_message(exc)[:200]})
    with pg(settings, role) as conn:
        return work(conn)


def reset() -> None:
    """Forget every client of this process (tests, and after a fork)."""
    with _lock:
        for client in _redis.values():
            client.close()
        _redis.clear()
    _facts.clear()
    conns = getattr(_local, "conns", {})
    for conn in conns.values():
        with contextlib.suppress(Exception):
            conn.close()
    conns.clear()
