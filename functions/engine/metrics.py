"""metrics: authenticate -> query the recent window -> shape -> answer."""

from __future__ import annotations

import datetime as dt

import flask
import redis

from engine import clients, keyring, web
from engine.buffer import bookkeeping
from engine.config import Settings
from engine.core import auth, metric_logic
from engine.db import reads
from engine.logs import get_logger

log = get_logger("engine.metrics")


def cors_headers(settings: Settings, request: flask.Request) -> dict[str, str]:
    """Metrics hold a company's data: only the origins in ANALYTICS_METRICS_ALLOWED_ORIGINS may
    read them from a browser (the gateway's own page is same-origin and needs none)."""
    origin = request.headers.get("Origin", "").rstrip("/")
    if not origin or origin not in settings.metrics_allowed_origins:
        return {"Vary": "Origin"}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": "GET, OPTIONS",
        "Access-Control-Allow-Headers": "Authorization, X-Request-Id",
        "Access-Control-Max-Age": "600",
        "Vary": "Origin",
    }


def read_metrics(conn, project_id: int, now: dt.datetime, settings: Settings) -> dict:
    """GET /metrics's body for one project at `now`."""
    first, last = metric_logic.window(now, settings.active_window_seconds)
    events, users, avg_duration = reads.window_aggregates(conn, project_id, first, last)
    top = reads.top_elements(conn, project_id, first, last, settings.top_elements) if events else []
    return metric_logic.shape_metrics(
        events=events,
        users=users,
        avg_duration=avg_duration,
        top=top,
        now=now,
        seconds=settings.active_window_seconds,
        all_time=reads.all_time(conn, project_id, settings.top_elements),
    )


def read_with_replica_state(conn, project_id: int, now: dt.datetime, settings: Settings) -> tuple[dict, dict | None]:
    """The metrics, and with a read replica its replay state, read first: the last drain it names
    was replayed before the numbers were read, so the numbers hold at least that drain's rows."""
    replica = reads.replica_state(conn) if settings.database_read_url else None
    return read_metrics(conn, project_id, now, settings), replica


def read_freshness(settings: Settings, now: dt.datetime) -> dict:
    """The freshness block; Redis being down must not take the numbers down with it."""
    try:
        backlog, age, state = bookkeeping.pipeline_facts(
            clients.redis_client(settings), clients.stream_keys(settings), int(now.timestamp() * 1000), clients.stream_shards(settings)
        )
    except redis.RedisError as exc:
        log.warning("freshness unavailable", extra={"error": str(exc)[:200]})
        return {"available": False, "error": f"Redis unavailable: {type(exc).__name__}"}
    return metric_logic.shape_freshness(backlog, age, state, now)


def get_metrics(settings: Settings, request: flask.Request, rid: str) -> flask.Response:
    project_id = auth.project_for_read_key(settings.read_key, request.headers, keyring.lookup_for(settings))
    now = dt.datetime.now(dt.UTC)
    body, replica = clients.read(settings, "metrics", lambda conn: read_with_replica_state(conn, project_id, now, settings))
    body["freshness"] = read_freshness(settings, now)
    if replica is not None:
        body["freshness"] = metric_logic.on_replica(body["freshness"], replica, now)
    return web.json_response(200, body, {"Cache-Control": "no-store"})


# --- The dashboard's series: each authenticates, reads one query, shapes, answers. ---

NO_STORE = {"Cache-Control": "no-store"}


def get_per_minute(settings: Settings, request: flask.Request, rid: str) -> flask.Response:
    project_id = auth.project_for_read_key(settings.read_key, request.headers, keyring.lookup_for(settings))
    first, last = metric_logic.minute_span(dt.datetime.now(dt.UTC))
    rows = clients.read(settings, "metrics", lambda conn: reads.per_minute(conn, project_id, first, last))
    return web.json_response(200, metric_logic.shape_per_minute(rows, first, last), NO_STORE)


def get_elements(settings: Settings, request: flask.Request, rid: str) -> flask.Response:
    project_id = auth.project_for_read_key(settings.read_key, request.headers, keyring.lookup_for(settings))
    first, last = metric_logic.minute_span(dt.datetime.now(dt.UTC))
    rows = clients.read(settings, "metrics", lambda conn: reads.recent_elements(conn, project_id, first, last, settings.top_elements))
    return web.json_response(200, metric_logic.shape_elements(rows, first, last), NO_STORE)


def get_heatmap(settings: Settings, request: flask.Request, rid: str) -> flask.Response:
    project_id = auth.project_for_read_key(settings.read_key, request.headers, keyring.lookup_for(settings))
    first, last = metric_logic.minute_span(dt.datetime.now(dt.UTC), metric_logic.HEATMAP_MINUTES)
    rows = clients.read(settings, "metrics", lambda conn: reads.heatmap(conn, project_id, first, last))
    return web.json_response(200, metric_logic.shape_heatmap(rows, first, last), NO_STORE)


def get_users(settings: Settings, request: flask.Request, rid: str) -> flask.Response:
    project_id = auth.project_for_read_key(settings.read_key, request.headers, keyring.lookup_for(settings))
    rows, events, users = clients.read(settings, "metrics", lambda conn: reads.engaged_users(conn, project_id, metric_logic.ENGAGED_USERS))
    return web.json_response(200, metric_logic.shape_users(rows, events, users), NO_STORE)
