"""The scheduled functions' handlers: stream-drain and view-refresh, behind the task token."""

from __future__ import annotations

import datetime as dt
import logging

import flask

from engine import clients, refresh, shards, web
from engine.buffer import bookkeeping
from engine.config import Settings
from engine.core import auth
from engine.db import upkeep
from engine.logs import get_logger

log = get_logger("engine.tasks")


def post_drain(settings: Settings, request: flask.Request, rid: str) -> flask.Response:
    """POST /tasks/stream-drain: one drain invocation; answers its counts."""
    auth.require_task_token(settings.task_token, request.headers)
    rclient = clients.redis_client(settings)
    keys = clients.stream_keys(settings)
    now = dt.datetime.now(dt.UTC)
    stream_shards = clients.stream_shards(settings)
    with clients.pg(settings, "stream-drain") as conn:
        report, drained = shards.drain_shards(rclient, conn, stream_shards, settings, now)
        finished = dt.datetime.now(dt.UTC)
        _, oldest_age, _ = bookkeeping.pipeline_facts(rclient, keys, int(finished.timestamp() * 1000), stream_shards)
        upkeep.record_task_run(conn, "stream-drain", "ok", now, finished, report.as_dict(), oldest_age, {"request_id": rid})
    bookkeeping.write_state(rclient, keys, last_drain_at=finished.timestamp(), last_drain_read=report.read)
    bookkeeping.count(rclient, keys, drain_runs=1, reclaimed=report.reclaimed)
    body = report.as_dict() | ({"shards": drained} if len(stream_shards) > 1 else {})
    log.log(logging.INFO if report.read else logging.DEBUG, "drain finished", extra={"request_id": rid, **body})
    return web.json_response(200, body)


def post_refresh(settings: Settings, request: flask.Request, rid: str) -> flask.Response:
    """POST /tasks/view-refresh: refresh the views (or answer skipped) with timings."""
    auth.require_task_token(settings.task_token, request.headers)
    now = dt.datetime.now(dt.UTC)
    with clients.pg(settings, "view-refresh", settings.pg_refresh_timeout_ms) as conn:
        result = refresh.run_refresh(conn, settings, now)
        finished = dt.datetime.now(dt.UTC)
        details = {k: v for k, v in result.items() if k != "status"}
        upkeep.record_task_run(conn, "view-refresh", result["status"], now, finished, {}, None, {"request_id": rid, **details})
    if result["status"] == "refreshed":
        bookkeeping.write_state(clients.redis_client(settings), clients.stream_keys(settings), last_refresh_at=finished.timestamp())
    return web.json_response(200, {"request_id": rid, **result})
