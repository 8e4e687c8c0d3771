"""metrics: authenticate -> query the recent window -> shape -> answer."""

from __future__ import annotations

import datetime as dt

import flask

from engine import auth, clients, db, metric_logic, web
from engine.config import Settings


def read_metrics(conn, project_id: int, now: dt.datetime, settings: Settings) -> dict:
    """GET /metrics's body for one project at `now`."""
    since, until = metric_logic.window(now, settings.active_window_seconds)
    events, users, avg_duration = db.window_aggregates(conn, project_id, since, until)
    top = db.top_elements(conn, project_id, since, until, settings.top_elements) if events else []
    return metric_logic.shape_metrics(
        events=events,
        users=users,
        avg_duration=avg_duration,
        top=top,
        now=now,
        seconds=settings.active_window_seconds,
        all_time=db.all_time(conn, project_id, settings.top_elements),
    )


def get_metrics(settings: Settings, request: flask.Request, rid: str) -> flask.Response:
    project_id = auth.project_for_read_key(settings, request.headers)
    now = dt.datetime.now(dt.UTC)
    with clients.pg(settings, "metrics") as conn:
        body = read_metrics(conn, project_id, now, settings)
    return web.json_response(200, body, {"Cache-Control": "no-store"})
