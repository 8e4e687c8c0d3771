"""GET /healthz: liveness and the reachability of each store a function needs; no data."""

from __future__ import annotations

import flask

from engine import clients, web
from engine.buffer import bookkeeping
from engine.config import Settings
from engine.core import constants as c
from engine.core import durability
from engine.db import postgres


def _check(probe) -> str:
    try:
        probe()
    except Exception as exc:  # any failure is the answer here, not an error
        return f"failed: {type(exc).__name__}: {str(exc)[:200]}"
    return "ok"


def healthz(settings: Settings, function: str, needs: tuple[str, ...]) -> flask.Response:
    checks = {}
    if "redis" in needs:
        checks["redis"] = _check(lambda: clients.redis_client(settings).ping())
    if "postgres" in needs:

        def probe_pg():
            clients.read(settings, function, postgres.ping)

        checks["postgres"] = _check(probe_pg)
    body = {"function": function, "checks": checks}
    if "redis" in needs and checks["redis"] == "ok":
        body["stream"] = stream_readiness(settings, function)
        if body["stream"].get("refusing"):
            checks["ingest"] = f"failed: {body['stream']['refusing']}"
    healthy = all(v == "ok" for v in checks.values())
    body["status"] = "ok" if healthy else "degraded"
    return web.json_response(200 if healthy else 503, body)


def stream_readiness(settings: Settings, function: str) -> dict:
    """The stream's lag, and for ingest whether it would refuse events now (backpressure, durability)."""
    rclient, keys = clients.redis_client(settings), clients.stream_keys(settings)
    backlog, oldest_age, _ = bookkeeping.pipeline_facts(rclient, keys, bookkeeping.now_ms())
    stream = {"backlog": backlog, "oldest_undrained_age_seconds": oldest_age, "max_backlog": settings.max_backlog}
    if function == "ingest":
        facts = clients.redis_facts(settings)
        refusing = durability.refusal(facts, settings.durability, settings.env)
        if refusing is None and (backlog >= settings.max_backlog or durability.memory_full(facts, settings.max_redis_memory_ratio)):
            refusing = "backpressure: the drain is behind"
        stream["refusing"] = refusing
        if facts.maxmemory:  # without a maxmemory there is no ratio to warn about
            stream["memory"] = memory_state(facts, settings.max_redis_memory_ratio)
    return stream


def memory_state(facts: durability.ServerFacts, refuse_ratio: float) -> dict:
    """Redis's memory (with a maxmemory set) against the refusal ratio, warning from MEMORY_WARN_FRACTION of it on."""
    ratio = facts.used_memory / facts.maxmemory
    state = {"used_memory": facts.used_memory, "maxmemory": facts.maxmemory, "ratio": round(ratio, 4), "refuse_at_ratio": refuse_ratio}
    if ratio >= c.MEMORY_WARN_FRACTION * refuse_ratio:
        state["warning"] = (
            f"Redis is at {ratio:.0%} of maxmemory; ingest refuses events at {refuse_ratio:.0%} "
            "(README, Redis memory model: backlog, dedupe window, maxmemory)"
        )
    return state
