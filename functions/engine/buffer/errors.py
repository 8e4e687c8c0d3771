"""Redis failures, classified: what a client may retry, and the server's own words."""

from __future__ import annotations

import redis

from engine.core import constants as c
from engine.core.errors import ServiceUnavailable


def server_error(exc: redis.ResponseError) -> str:
    """The server's own error text (redis-py prefixes errors raised inside a pipeline)."""
    return str(exc).rsplit("caused error: ", 1)[-1]


# Refusals a client may retry: a full or read-only server, and a cluster's slots moving (a failover).
REFUSALS = ("OOM", "MISCONF", "LOADING", "READONLY", "MOVED", "ASK", "CLUSTERDOWN", "TRYAGAIN")


DOWN = (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError, redis.ReadOnlyError, redis.exceptions.ClusterError)


def unavailable(exc: BaseException) -> ServiceUnavailable | None:
    """A Redis failure as a 503 the client may retry, or None if it is not one."""
    retry = {"Retry-After": str(c.RETRY_AFTER_SECONDS)}
    if isinstance(exc, DOWN):
        return ServiceUnavailable("the event store (Redis) is unavailable; retry later", headers=retry)
    if isinstance(exc, redis.ResponseError) and server_error(exc).startswith(REFUSALS):
        return ServiceUnavailable(f"the event store (Redis) refused the write: {server_error(exc)[:120]}", headers=retry)
    return None
