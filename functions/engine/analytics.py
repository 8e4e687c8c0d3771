"""The analytics routes (README, "Analytics routes"): authenticate -> parse -> read -> shape -> answer JSON or CSV.

Each route takes the common parameters of engine.core.query (range, tz, filters, format) and
its own; the reads come from the rollups where they carry every filter, else from raw events.
"""

from __future__ import annotations

import datetime as dt

import flask

from engine import clients, keyring, web
from engine.config import Settings
from engine.core import analytics_shape as shape
from engine.core import auth, buckets, funnel, query
from engine.core import constants as c
from engine.db import analytics_reads as reads

NO_STORE = {"Cache-Control": "no-store"}
ROUTE_PARAMS = {
    "timeseries": ("interval",),
    "breakdown": ("by", "limit"),
    "sessions": (),
    "funnel": ("steps", "within"),
    "retention": ("period", "periods"),
    "uniques": (),
}
BREAKDOWNS = ("action", "element", "user_id", "property.<key>")
DEFAULT_WITHIN_SECONDS = 86_400
MAX_WITHIN_SECONDS = 365 * 86_400
MAX_BREAKDOWN_ROWS = 1000


def _open(settings: Settings, request: flask.Request, route: str) -> tuple[int, query.Query]:
    """The project the read key opens, then the parsed parameters (a wrong key is a 401 before any 400)."""
    project_id = auth.project_for_read_key(settings.read_key, request.headers, keyring.lookup_for(settings))
    return project_id, query.parse_query(request.args.items(multi=True), dt.datetime.now(dt.UTC), ROUTE_PARAMS[route])


def _answer(route: str, q: query.Query, body: dict) -> flask.Response:
    if q.format != "csv":
        return web.json_response(200, {**shape.range_block(q.start, q.end, q.tz), **body}, NO_STORE)
    header, rows = shape.csv_tables(route, body)
    response = flask.Response(shape.render_csv(header, rows), status=200)
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{route}.csv"'
    response.headers.update(NO_STORE)
    return response


def get_timeseries(settings: Settings, request: flask.Request, rid: str) -> flask.Response:
    project_id, q = _open(settings, request, "timeseries")
    interval = query.choice_param(q, "interval", "day", buckets.INTERVALS)
    starts = buckets.bucket_starts(q.start, q.end, q.tz, interval)
    counts, people = clients.read(settings, "metrics", lambda conn: reads.series(conn, project_id, q, buckets.bounds(starts, q.end)))
    return _answer("timeseries", q, {"interval": interval, "points": shape.timeseries(starts, counts, people, q.tz)})


def parse_by(q: query.Query) -> tuple[str, str | None]:
    """by=action|element|user_id|property.<key>: (what, the property key or None)."""
    by = q.param("by", "element")
    if by.startswith(query.PROPERTY_PREFIX):
        key = by[len(query.PROPERTY_PREFIX) :]
        if key and "\x00" not in key and len(key) <= c.MAX_PROPERTY_KEY_CHARS:
            return "property", key
    elif by in BREAKDOWNS:
        return by, None
    raise query.bad("by", f"by must be one of {', '.join(BREAKDOWNS)}")


def get_breakdown(settings: Settings, request: flask.Request, rid: str) -> flask.Response:
    project_id, q = _open(settings, request, "breakdown")
    by, key = parse_by(q)
    limit = query.int_param(q, "limit", 10, 1, MAX_BREAKDOWN_ROWS)
    rows = clients.read(settings, "metrics", lambda conn: reads.breakdown(conn, project_id, q, by, key, limit))
    return _answer("breakdown", q, {"by": q.param("by", "element"), "rows": shape.breakdown(rows)})


def get_sessions(settings: Settings, request: flask.Request, rid: str) -> flask.Response:
    project_id, q = _open(settings, request, "sessions")
    row = clients.read(settings, "metrics", lambda conn: reads.sessions(conn, project_id, q, settings.session_gap_seconds))
    return _answer("sessions", q, {**shape.sessions(row), "gap_seconds": settings.session_gap_seconds})


def get_funnel(settings: Settings, request: flask.Request, rid: str) -> flask.Response:
    project_id, q = _open(settings, request, "funnel")
    steps = funnel.parse_steps(q)
    within = query.int_param(q, "within", DEFAULT_WITHIN_SECONDS, 1, MAX_WITHIN_SECONDS)
    answer = clients.read(settings, "metrics", lambda conn: funnel.funnel(reads.funnel_times(conn, project_id, q, steps), steps, within))
    return _answer("funnel", q, {"within": within, "steps": answer})


def get_retention(settings: Settings, request: flask.Request, rid: str) -> flask.Response:
    project_id, q = _open(settings, request, "retention")
    period = query.choice_param(q, "period", "day", ("day", "week"))
    periods = query.int_param(q, "periods", 7, 1, query.MAX_POINTS - 1)
    starts = buckets.bucket_starts(q.start, q.end, q.tz, period, parameter="period")
    if len(starts) * (periods + 1) > query.MAX_POINTS:
        raise query.bad("periods", f"{len(starts)} cohorts x {periods + 1} periods makes more than {query.MAX_POINTS} points")
    cells = clients.read(settings, "metrics", lambda conn: reads.retention(conn, project_id, q, buckets.bounds(starts, q.end), periods))
    return _answer("retention", q, {"period": period, "periods": periods, "cohorts": shape.retention(starts, cells, periods, q.tz)})


UNIQUES = {"daily": "day", "weekly": "week", "monthly": "month"}


def get_uniques(settings: Settings, request: flask.Request, rid: str) -> flask.Response:
    project_id, q = _open(settings, request, "uniques")
    starts = {name: buckets.bucket_starts(q.start, q.end, q.tz, interval, parameter="from") for name, interval in UNIQUES.items()}

    def work(conn):
        return {name: reads.people(conn, project_id, q, buckets.bounds(s, q.end)) for name, s in starts.items()}

    people = clients.read(settings, "metrics", work)
    return _answer("uniques", q, {name: shape.uniques(starts[name], people[name], q.tz) for name in UNIQUES})


def routes(bind) -> dict:
    """The analytics routes of the metrics function, each handler bound to the settings by bind."""
    handlers = {
        "timeseries": get_timeseries,
        "breakdown": get_breakdown,
        "sessions": get_sessions,
        "funnel": get_funnel,
        "retention": get_retention,
        "uniques": get_uniques,
    }
    return {("GET", f"/metrics/{name}"): bind(handler) for name, handler in handlers.items()}
