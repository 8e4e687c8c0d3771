"""The four functions-framework targets. Each is a route table over the engine's pipelines.

    functions-framework --source functions/main.py --target ingest --asgi # POST /event, /events
    functions-framework --source functions/main.py --target metrics       # GET /metrics, /export/events, DELETE /people/{user_id}
    functions-framework --source functions/main.py --target stream_drain  # POST /tasks/stream-drain
    functions-framework --source functions/main.py --target view_refresh  # POST /tasks/view-refresh

Every target also answers GET /healthz. Settings are read (and checked) at import, so a
missing variable stops the function at start; only the served target's needs are checked
(config.FUNCTION_NEEDS). Clients are created on first use.
"""

import os
import sys
from functools import partial

import functions_framework
import functions_framework.aio
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from engine import analytics, asgi, config, health, logs, openapi, opsmetrics, people, segment_api, tasks, web
from engine import export as export_pipeline
from engine import ingest as ingest_pipeline
from engine import metrics as metrics_pipeline
from engine.core.constants import MAX_BODY_BYTES
from engine.core.errors import ConfigError

logs.configure()
try:
    SETTINGS = config.function_settings(config.function_target())
except ConfigError as exc:
    # The message is the whole answer: a traceback through functions-framework's loader adds nothing.
    sys.exit(f"error: {exc}")
# One line per start, so that a function's log says when it (re)started and the supervisor's
# restart line can quote it.
logs.get_logger("main").info("functions loaded", extra={"pid": os.getpid(), "env": SETTINGS.env})


def _bind(handler):
    return partial(handler, SETTINGS)


def _health(function: str, *needs: str):
    return lambda request, rid: health.healthz(SETTINGS, function, needs)


INGEST_ROUTES = {
    ("POST", "/event"): _bind(ingest_pipeline.post_event),
    ("POST", "/events"): _bind(ingest_pipeline.post_events),
    ("GET", "/healthz"): _health("ingest", "redis"),
    ("GET", "/internal/metrics"): _bind(opsmetrics.internal_metrics),
    **segment_api.routes(_bind),
}
METRICS_ROUTES = {
    ("GET", "/metrics"): _bind(metrics_pipeline.get_metrics),
    ("GET", "/metrics/per-minute"): _bind(metrics_pipeline.get_per_minute),
    ("GET", "/metrics/elements"): _bind(metrics_pipeline.get_elements),
    ("GET", "/metrics/heatmap"): _bind(metrics_pipeline.get_heatmap),
    ("GET", "/metrics/users"): _bind(metrics_pipeline.get_users),
    **analytics.routes(_bind),
    ("GET", "/export/events"): _bind(export_pipeline.get_export),
    ("DELETE", "/people/{user_id}"): _bind(people.delete_person),
    ("GET", "/healthz"): _health("metrics", "postgres"),
    ("GET", "/internal/metrics"): _bind(opsmetrics.internal_metrics),
}
DRAIN_ROUTES = {
    ("POST", "/tasks/stream-drain"): _bind(tasks.post_drain),
    ("GET", "/healthz"): _health("stream-drain", "redis", "postgres"),
    ("GET", "/internal/metrics"): _bind(opsmetrics.internal_metrics),
}
REFRESH_ROUTES = {
    ("POST", "/tasks/view-refresh"): _bind(tasks.post_refresh),
    ("GET", "/healthz"): _health("view-refresh", "postgres"),
    ("GET", "/internal/metrics"): _bind(opsmetrics.internal_metrics),
}

# Each function documents exactly its own table, this route included.
for _routes in (INGEST_ROUTES, METRICS_ROUTES, DRAIN_ROUTES, REFRESH_ROUTES):
    _routes[("GET", "/openapi.json")] = openapi.handler(_routes)


@functions_framework.aio.http
async def ingest(request: Request) -> Response:
    """Async (served with --asgi): the requests waiting to append share one script call (engine/groupappend.py).
    The other three functions stay sync: each request waits on PostgreSQL, in a thread of its own."""
    try:
        whole = await asgi.read_request(request, MAX_BODY_BYTES)
    except ClientDisconnect:
        return Response(status_code=400)  # the client left mid-body: nothing stored, and nobody reads this
    answer = await web.dispatch_async(whole, INGEST_ROUTES, "ingest", cors=ingest_pipeline.cors_headers)
    return asgi.asgi_response(answer)


@functions_framework.http
def metrics(request):
    return web.dispatch(request, METRICS_ROUTES, "metrics", cors=partial(metrics_pipeline.cors_headers, SETTINGS))


@functions_framework.http
def stream_drain(request):
    return web.dispatch(request, DRAIN_ROUTES, "stream-drain")


@functions_framework.http
def view_refresh(request):
    return web.dispatch(request, REFRESH_ROUTES, "view-refresh")
