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
import redis.cluster

from engine.buffer.facts import server_facts
from engine.buffer.keys import Keys, shard_keys
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


def _redis_name(settings: Settings) -> str:
    nodes = settings.redis_cluster_nodes
    return "cluster:" + ",".join(f"{h}:{p}" for h, p in nodes) if nodes else settings.redis_url


def redis_client(settings: Settings) -> redis.Redis:
    """The process's Redis client (timeouts on every call): redis-py's cluster client when
    ANALYTICS_REDIS_CLUSTER_NODES is set, else one for settings.redis_url."""
    name = _redis_name(settings)
    client = _redis.get(name)
    if client is None:
        with _lock:
            client = _redis.get(name)
            if client is None:
                timeouts = {"socket_timeout": settings.io_timeout_seconds, "socket_connect_timeout": min(settings.io_timeout_seconds, 5.0)}
                if settings.redis_cluster_nodes:
                    client = redis.cluster.RedisCluster(
                        startup_nodes=[redis.cluster.ClusterNode(h, p) for h, p in settings.redis_cluster_nodes],
                        protocol=2,
                        cluster_error_retry_attempts=1,
                        **timeouts,
                    )
                else:
                    client = redis.Redis.from_url(settings.redis_url, health_check_interval=30, protocol=2, **timeouts)
                _redis[name] = client
    return client


def stream_keys(settings: Settings) -> Keys:
    """The deployment's own keys (its state, its counters), and with one shard the stream's too."""
    return Keys.for_namespace(settings.redis_namespace)


def stream_shards(settings: Settings) -> tuple[Keys, ...]:
    """The keys of every stream shard (ANALYTICS_STREAM_SHARDS)."""
    return shard_keys(settings.redis_namespace, settings.stream_shards)


def node_client(settings: Settings, keys: Keys) -> redis.Redis:
    """A plain client of the server holding this shard: the cluster node's own, so that WAITAOF
    and WAIT run on the connection of the append they wait for; without a cluster, the client."""
    client = redis_client(settings)
    if not isinstance(client, redis.cluster.RedisCluster):
        return client
    return client.get_redis_connection(client.get_node_from_key(keys.stream))


def forget_topology(settings: Settings) -> None:
    """After a node failed: re-read the cluster's slot map before the next call (a failover moves slots)."""
    client = _redis.get(_redis_name(settings))
    if isinstance(client, redis.cluster.RedisCluster):
        with contextlib.suppress(redis.RedisError, redis.cluster.RedisClusterException):
            client.nodes_manager.initialize()
        _facts.clear()


_facts: dict[str, tuple[float, ServerFacts]] = {}
_warned: set[str] = set()


def redis_facts(settings: Settings, keys: Keys | None = None) -> ServerFacts:
    """The memory and persistence facts of the server holding `keys` (default: the first shard),
    re-read at most every REDIS_FACTS_TTL_SECONDS."""
    node = node_client(settings, keys or stream_shards(settings)[0])
    where = node.get_connection_kwargs()
    name = f"{where.get('host')}:{where.get('port')}:{where.get('path')}|{_redis_name(settings)}"
    cached = _facts.get(name)
    now = time.monotonic()
    if cached is not None and now - cached[0] < REDIS_FACTS_TTL_SECONDS:
        return cached[1]
    facts = server_facts(node)
    _facts[name] = (now, facts)
    warning = durability.warning(facts)
    if warning and warning not in _warned:
        _warned.add(warning)
        log.warning(warning, extra={"redis_version": facts.version, "appendonly": facts.appendonly, "appendfsync": facts.appendfsync})
    return facts


# Roles that only read: with ANALYTICS_DATABASE_READ_URL they read from that replica.
READ_ROLES = ("metrics",)


@contextlib.contextmanager
def pg(settings: Settings, role: str, statement_timeout_ms: int | None = None):
    """This thread's connection for `role` (its application_name), reconnecting if dropped."""
    conns = getattr(_local, "conns", None)
    if conns is None:
        conns = _local.conns = {}
    url = settings.database_read_url if role in READ_ROLES and settings.database_read_url else settings.database_url
    key = (url, role)
    conn = conns.get(key)
    if conn is None:
        conn = postgres.connect(
            url,
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
