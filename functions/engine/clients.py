"""Each process's clients, created lazily on first use and never at import.

Redis clients are thread-safe and shared; pg8000 connections are not, so each thread
keeps its own, and a connection that failed at the network level is dropped so that the
next use reconnects.
"""

from __future__ import annotations

import contextlib
import threading

import redis

from engine import db
from engine.config import Settings
from engine.streams import Keys

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


@contextlib.contextmanager
def pg(settings: Settings, role: str, statement_timeout_ms: int | None = None):
    """This thread's connection for `role` (its application_name), reconnecting if dropped."""
    conns = getattr(_local, "conns", None)
    if conns is None:
        conns = _local.conns = {}
    key = (settings.database_url, role)
    conn = conns.get(key)
    if conn is None:
        conn = db.connect(
            settings.database_url,
            application_name=f"analytics-{role}",
            statement_timeout_ms=statement_timeout_ms or settings.pg_statement_timeout_ms,
            io_timeout_seconds=settings.io_timeout_seconds,
        )
        conns[key] = conn
    try:
        yield conn
    except BaseException as exc:
        if db.is_transient(exc) or not isinstance(exc, db.DatabaseError):
            conns.pop(key, None)
            with contextlib.suppress(Exception):
                conn.close()
        raise


def reset() -> None:
    """Forget every client of this process (tests, and after a fork)."""
    with _lock:
        for client in _redis.values():
            client.close()
        _redis.clear()
    conns = getattr(_local, "conns", {})
    for conn in conns.values():
        with contextlib.suppress(Exception):
            conn.close()
    conns.clear()
