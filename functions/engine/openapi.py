"""The OpenAPI 3.1 document, generated from the marshmallow schemas (apispec), served at /openapi.json.

One table of operations; each function's document holds the operations of its own route
table, and a test checks each one (and the gateway's) against what is served.
"""

from __future__ import annotations

from functools import lru_cache

import flask
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from engine import web
from engine.core import api_schemas as a
from engine.core import constants as c
from engine.core import segment
from engine.core.schemas import MAX_NUMBER, MIN_NUMBER, NO_NUL, EventSchema, JsonObject

VERSION = "1.0.0"
WRITE = [{"writeKey": []}, {"writeKeyQuery": []}, {"writeKeyBasic": []}]
READ = [{"readKey": []}]
ADMIN = [{"adminKey": []}]
TASK = [{"taskToken": []}]
PUBLIC: list = []

# (method, path, summary, security, request schema, {status: response schema}, tag)
INGEST_ERRORS = (400, 401, 413, 415, 429, 503)
READ_ERRORS = (401, 503)
TASK_ERRORS = (401, 503)
ADMIN_ERRORS = (400, 401, 403, 503)
OPERATIONS = [
    ("post", "/event", "Send one event", WRITE, "Event", {202: "Accepted"}, INGEST_ERRORS, "ingest"),
    (
        "post",
        "/events",
        "Send up to 500 events (an array, or {events, sent_at}); invalid ones are rejected per index",
        WRITE,
        "EventBatch",
        {202: "BatchResult"},
        INGEST_ERRORS,
        "ingest",
    ),
    (
        "get",
        "/metrics",
        "The headline numbers of the recent window, all-time figures, freshness",
        READ,
        None,
        {200: "Metrics"},
        READ_ERRORS,
        "metrics",
    ),
    ("get", "/metrics/per-minute", "Events and users per minute over the last hour", READ, None, {200: "Series"}, READ_ERRORS, "metrics"),
    ("get", "/metrics/elements", "Top elements over the last hour", READ, None, {200: "Series"}, READ_ERRORS, "metrics"),
    (
        "get",
        "/metrics/heatmap",
        "Events by weekday and hour (UTC) over the last 7 days",
        READ,
        None,
        {200: "Series"},
        READ_ERRORS,
        "metrics",
    ),
    ("get", "/metrics/users", "The most engaged users, and all-time totals", READ, None, {200: "Series"}, READ_ERRORS, "metrics"),
    (
        "delete",
        "/people/{user_id}",
        "Erase a person (and every id linked to them) from the admin key's project; idempotent",
        ADMIN,
        None,
        {200: "Erasure"},
        ADMIN_ERRORS,
        "metrics",
    ),
    (
        "get",
        "/export/events",
        "The raw events of a range, filtered, streamed as NDJSON or (?format=csv, Accept: text/csv) CSV",
        READ,
        None,
        {200: "export"},
        (400, *READ_ERRORS),
        "metrics",
    ),
    ("post", "/tasks/stream-drain", "One drain invocation (called by the scheduler)", TASK, None, {200: "Drain"}, TASK_ERRORS, "tasks"),
    (
        "post",
        "/tasks/view-refresh",
        "Refresh the materialized views (called by the scheduler)",
        TASK,
        None,
        {200: "Refresh"},
        TASK_ERRORS,
        "tasks",
    ),
    ("get", "/healthz", "Liveness and dependency checks (each function)", PUBLIC, None, {200: "Health"}, (503,), "operations"),
    (
        "get",
        "/internal/metrics",
        "Ops counters in Prometheus text format (each function)",
        TASK,
        None,
        {200: "text"},
        TASK_ERRORS,
        "operations",
    ),
    ("get", "/openapi.json", "This document", PUBLIC, None, {200: "document"}, (), "operations"),
]
# The analytics routes (README, "Analytics routes"): common parameters plus each route's own.
ANALYTICS_ERRORS = (400, 401, 503)
COMMON_QUERY = ("from", "to", "tz", "format", "action", "element", "user_id")
ANALYTICS = {
    "timeseries": ("Events, people and mean duration per bucket of a range, in a time zone", ("interval",)),
    "breakdown": ("Events, people and mean duration per action, element, person or property value", ("by", "limit")),
    "sessions": ("Sessions: count, median and mean length, bounce rate, events per session", ()),
    "funnel": ("People reaching each step in order within a time limit (2 to 20 steps)", ("steps", "within")),
    "retention": ("Cohorts by the period of a person's first event, and how many came back", ("period", "periods")),
    "uniques": ("Distinct people per day, week and month, as the time zone counts them", ()),
}
OPERATIONS += [
    ("get", f"/metrics/{name}", summary, READ, None, {200: "Series"}, ANALYTICS_ERRORS, "analytics")
    for name, (summary, _) in ANALYTICS.items()
]
SEGMENT_WRITE = WRITE + [{}]  # or writeKey in the body
OPERATIONS += [
    ("post", f"/v1/{kind}", f"Segment's {kind} call", SEGMENT_WRITE, "SegmentMessage", {200: "SegmentResult"}, INGEST_ERRORS, "segment")
    for kind in segment.TYPES
]
OPERATIONS += [
    (
        "post",
        f"/v1/{short}",
        f"Segment's {kind} call (analytics.js's short path)",
        SEGMENT_WRITE,
        "SegmentMessage",
        {200: "SegmentResult"},
        INGEST_ERRORS,
        "segment",
    )
    for short, kind in segment.SHORT_PATHS.items()
]
OPERATIONS += [
    (
        "post",
        f"/v1/{path}",
        "Segment's batch: messages of any type",
        SEGMENT_WRITE,
        "SegmentBatch",
        {200: "SegmentResult"},
        INGEST_ERRORS,
        "segment",
    )
    for path in ("batch", "import", "b")
]


def _response(schema: str) -> dict:
    if schema == "text":
        return {"description": "Prometheus text format", "content": {"text/plain": {"schema": {"type": "string"}}}}
    if schema == "export":
        lines = {"schema": {"type": "string"}}
        return {"description": "One event a line", "content": {"application/x-ndjson": lines, "text/csv": lines}}
    if schema == "document":
        return {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}
    return {"description": "OK", "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


def _error(status: int, tag: str = "") -> dict:
    descriptions = {
        400: "bad input; details name the fields (for a batch, per index)",
        401: "no key, or a wrong one",
        403: "a valid key of a kind that may not do this (a read or write key where an admin key is needed)",
        413: "too large: body, event, batch, or a request larger than the rate limit's burst",
        415: "not application/json (or text/plain) or an unknown Content-Encoding",
        429: "rate limited: retry after Retry-After",
        503: "a dependency is down or the pipeline is behind: retry after Retry-After",
    }
    schema = "SegmentError" if tag == "segment" else "Error"
    return {"description": descriptions[status], "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


def json_value(level: int) -> dict:
    """What a value inside properties may be at this nesting level: the limits of schemas.py, as JSON Schema."""
    options = [
        {"type": "string", "pattern": NO_NUL},
        {"type": "number", "minimum": MIN_NUMBER, "maximum": MAX_NUMBER},
        {"type": "boolean"},
        {"type": "null"},
    ]
    if level <= c.MAX_PROPERTIES_DEPTH:
        options += [{"type": "array", "items": json_value(level + 1)}, json_object(level)]
    return {"anyOf": options}


def json_object(level: int) -> dict:
    return {
        "type": "object",
        "maxProperties": c.MAX_PROPERTIES_KEYS,
        "propertyNames": {"maxLength": c.MAX_PROPERTY_KEY_CHARS, "pattern": NO_NUL},
        "additionalProperties": json_value(level + 1),
    }


def properties_attribute(self, field, ret, **kwargs) -> dict:
    """apispec hook: a JsonObject field is documented with its limits, not as any object."""
    if isinstance(field, JsonObject):
        schema = json_object(1)
        return {
            **schema,
            "type": ["object", "null"] if field.allow_none else "object",
            "additionalProperties": schema["additionalProperties"],
        }
    return {}


def served(routes) -> frozenset[tuple[str, str]]:
    """A route table's (method, path) pairs, as the document spells them."""
    return frozenset((method.lower(), path) for method, path in routes)


@lru_cache(maxsize=8)
def document(routes: frozenset[tuple[str, str]] | None = None) -> dict:
    """The document of the given (method, path) routes; None: of every route any function serves."""
    plugin = MarshmallowPlugin()
    spec = APISpec(
        title="Analytics engine",
        version=VERSION,
        openapi_version="3.1.0",
        plugins=[plugin],
        info={"description": "Real-time user-behaviour analytics. Limits and keys: README, Security."},
    )
    plugin.converter.add_attribute_function(properties_attribute)
    spec.components.security_scheme("writeKey", {"type": "apiKey", "in": "header", "name": "X-Write-Key"})
    spec.components.security_scheme("writeKeyQuery", {"type": "apiKey", "in": "query", "name": "key"})
    spec.components.security_scheme("writeKeyBasic", {"type": "http", "scheme": "basic", "description": "the write key as the username"})
    spec.components.security_scheme("readKey", {"type": "http", "scheme": "bearer"})
    spec.components.security_scheme("adminKey", {"type": "http", "scheme": "bearer", "description": "an admin key"})
    spec.components.security_scheme("taskToken", {"type": "http", "scheme": "bearer"})
    for name, schema in (
        ("Event", EventSchema),
        ("BatchObject", a.BatchObjectSchema),
        ("Accepted", a.AcceptedSchema),
        ("BatchResult", a.BatchResultSchema),
        ("Error", a.ErrorSchema),
        ("Metrics", a.MetricsSchema),
        ("Series", a.SeriesSchema),
        ("Drain", a.DrainSchema),
        ("Refresh", a.RefreshSchema),
        ("Erasure", a.ErasureSchema),
        ("Health", a.HealthSchema),
        ("SegmentMessage", segment.MessageSchema),
        ("SegmentBatch", a.SegmentBatchSchema),
        ("SegmentResult", a.SegmentResultSchema),
        ("SegmentError", a.SegmentErrorSchema),
    ):
        spec.components.schema(name, schema=schema)
    spec.components.schema(
        "EventBatch",
        component={
            "oneOf": [
                {"type": "array", "items": {"$ref": "#/components/schemas/Event"}, "minItems": 1},
                {"$ref": "#/components/schemas/BatchObject"},
            ]
        },
    )
    for method, path, summary, security, request, answers, errors, tag in OPERATIONS:
        if routes is not None and (method, path) not in routes:
            continue
        operation = {"summary": summary, "tags": [tag], "security": security, "responses": {}}
        if tag == "analytics":
            names = (*COMMON_QUERY, *ANALYTICS[path.rsplit("/", 1)[1]][1])
            operation["parameters"] = [{"name": n, "in": "query", "required": n == "steps", "schema": {"type": "string"}} for n in names]
        elif path.endswith("}"):
            name = path.rsplit("{", 1)[1][:-1]
            operation["parameters"] = [{"name": name, "in": "path", "required": True, "schema": {"type": "string", "maxLength": 255}}]
        if request:
            ref = {"$ref": f"#/components/schemas/{request}"}
            operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": ref}}}
        for status, schema in answers.items():
            operation["responses"][str(status)] = _response(schema)
        for status in errors:
            operation["responses"][str(status)] = _error(status, tag)
        spec.path(path=path, operations={method: operation})
    return spec.to_dict()


def handler(routes: dict) -> web.Handler:
    """GET /openapi.json of one function: the document of exactly the routes in its table."""

    def get_openapi(request: flask.Request, rid: str) -> flask.Response:
        return web.json_response(200, document(served(routes)))

    return get_openapi
