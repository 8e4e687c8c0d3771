"""The HTTP edge shared by the four functions: routing, bodies, JSON answers and errors."""

from __future__ import annotations

import asyncio
import inspect
import re
import time
import uuid
import zlib
from collections.abc import Callable

import flask
import orjson

from engine.buffer.errors import unavailable as redis_unavailable
from engine.core import constants as c
from engine.core.errors import AppError, MethodNotAllowed, NotFound, PayloadTooLarge, ServiceUnavailable, UnsupportedMediaType
from engine.db import postgres
from engine.logs import get_logger

log = get_logger("engine.web")

Handler = Callable[[flask.Request, str], flask.Response]
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
JSON_TYPES = ("application/json", "text/plain")


def json_response(status: int, body, headers: dict[str, str] | None = None) -> flask.Response:
    # Error details may be keyed by list positions (ints): JSON wants them as strings.
    response = flask.Response(orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS), status=status, mimetype="application/json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def error_response(exc: AppError) -> flask.Response:
    body = {"error": {"code": exc.code, "message": exc.message, "details": exc.details}}
    return json_response(exc.status, body, exc.headers)


def request_id(request: flask.Request) -> str:
    """The caller's X-Request-Id when it is sane, else a new one; it follows the event to its row."""
    given = request.headers.get("X-Request-Id", "")
    return given if _REQUEST_ID.match(given) else uuid.uuid4().hex


def unavailable(exc: BaseException) -> ServiceUnavailable | None:
    """A store's failure as a 503 the client may retry (each wing classifies its own), or None."""
    return redis_unavailable(exc) or postgres.unavailable(exc)


def dispatch(
    request: flask.Request,
    routes: dict[tuple[str, str], Handler],
    function: str,
    cors: Callable[[flask.Request], dict[str, str]] | None = None,
) -> flask.Response:
    """Route a request to its handler; every failure becomes the JSON error shape.

    cors(request) gives the CORS headers this request may have ({} for none); a preflight
    (OPTIONS) on a known path is answered 204 with them, and the browser decides.
    """
    rid, started = request_id(request), time.perf_counter()
    try:
        handler = route(request, routes, function)
        response = handler if isinstance(handler, flask.Response) else handler(request, rid)
    except Exception as exc:
        response = failure(exc, request, function, rid)
    return finish(response, request, function, rid, cors, started)


async def dispatch_async(
    request: flask.Request,
    routes: dict[tuple[str, str], Handler],
    function: str,
    cors: Callable[[flask.Request], dict[str, str]] | None = None,
) -> flask.Response:
    """dispatch for an async function: a coroutine handler is awaited on the event loop, any other
    handler (one that waits on its stores) runs in a thread, so the loop never waits on it."""
    rid, started = request_id(request), time.perf_counter()
    try:
        handler = route(request, routes, function)
        if isinstance(handler, flask.Response):
            response = handler
        elif inspect.iscoroutinefunction(handler):
            response = await handler(request, rid)
        else:
            response = await asyncio.to_thread(handler, request, rid)
    except Exception as exc:
        response = failure(exc, request, function, rid)
    return finish(response, request, function, rid, cors, started)


def route(request: flask.Request, routes: dict[tuple[str, str], Handler], function: str) -> Handler | flask.Response:
    """The request's handler (its path parameters set on it), or the 204 of a preflight; raises 404 and 405."""
    path = request.path.rstrip("/") or "/"
    # An exact path wins over a parameter route that also matches.
    matched = {m: p for m, p in routes if _parameters(p, request.path) is not None}
    matched.update((m, p) for m, p in routes if p == path)
    if request.method == "OPTIONS" and matched:
        return flask.Response(status=204)
    chosen = (request.method, matched.get(request.method, path))
    handler = routes.get(chosen)
    if handler is not None and chosen[1] != path:
        request.view_args = _parameters(chosen[1], request.path)
    if handler is None:
        allowed = sorted(matched)
        if allowed:
            raise MethodNotAllowed(
                f"{request.method} is not allowed on {path}; use {', '.join(allowed)}", headers={"Allow": ", ".join(allowed)}
            )
        raise NotFound(f"no route {request.method} {path} on the {function} function")
    return handler


def failure(exc: Exception, request: flask.Request, function: str, rid: str) -> flask.Response:
    """The JSON error answer of anything a handler raised: its own, a store's 503, else a logged 500."""
    if isinstance(exc, AppError):
        return error_response(exc)
    path = request.path.rstrip("/") or "/"
    mapped = unavailable(exc)
    if mapped is None:
        log.error("unhandled error", exc_info=exc, extra={"function": function, "path": path, "request_id": rid})
        mapped = AppError(f"internal error; quote request id {rid}")
        mapped.status, mapped.code = 500, "internal"
    else:
        log.warning("dependency unavailable", extra={"function": function, "path": path, "request_id": rid, "error": str(exc)[:300]})
    return error_response(mapped)


def finish(
    response: flask.Response,
    request: flask.Request,
    function: str,
    rid: str,
    cors: Callable[[flask.Request], dict[str, str]] | None,
    started: float,
) -> flask.Response:
    """Add the request id and the CORS headers to an answer, and log it."""
    response.headers["X-Request-Id"] = rid
    for name, value in (cors(request) if cors else {}).items():
        response.headers[name] = value
    log.debug(
        "request",
        extra={
            "function": function,
            "path": request.path.rstrip("/") or "/",
            "status": response.status_code,
            "request_id": rid,
            "ms": round((time.perf_counter() - started) * 1000, 2),
        },
    )
    return response


_PARAMETER = re.compile(r"^(?P<prefix>/.*)/\{(?P<name>[a-z_]+)\}$")


def _parameters(route_path: str, request_path: str) -> dict[str, str] | None:
    """A route ending in a parameter ("/people/{user_id}") matches its prefix and a non-empty rest,
    which is the parameter's value, percent-decoded, slashes included (None: no match)."""
    shape = _PARAMETER.match(route_path) if route_path.endswith("}") else None
    if shape is None or not request_path.startswith(shape["prefix"] + "/"):
        return None
    value = request_path[len(shape["prefix"]) + 1 :]
    return {shape["name"]: value} if value else None


def read_body(request: flask.Request, max_bytes: int = c.MAX_BODY_BYTES) -> bytes:
    """The request body, decompressed, refusing what is too large or of the wrong type."""
    mimetype = request.mimetype or ""
    if mimetype not in JSON_TYPES:
        raise UnsupportedMediaType(
            f"send the body as application/json (or text/plain holding JSON), not {mimetype or 'no Content-Type'}",
            {"accepted": list(JSON_TYPES)},
        )
    encoding = (request.headers.get("Content-Encoding") or "identity").strip().lower()
    if encoding not in ("identity", "gzip"):
        raise UnsupportedMediaType(f"Content-Encoding {encoding!r} is not supported; use gzip or none", {"accepted": ["gzip", "identity"]})
    declared = request.content_length
    if declared is not None and declared > max_bytes:
        raise _too_large(max_bytes)
    raw = request.stream.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise _too_large(max_bytes)
    if encoding == "gzip":
        return _gunzip(raw, max_bytes)
    return raw


def _too_large(max_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"the body is larger than {max_bytes} bytes", {"limit_bytes": max_bytes})


def _gunzip(raw: bytes, max_bytes: int) -> bytes:
    # Inflate at most max_bytes + 1: a gzip bomb is refused without ever being expanded.
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        body = inflater.decompress(raw, max_bytes + 1)
    except zlib.error as exc:
        raise AppError(f"the body is not valid gzip: {exc}") from None
    if len(body) > max_bytes or inflater.unconsumed_tail:
        raise PayloadTooLarge(f"the decompressed body is larger than {max_bytes} bytes", {"limit_bytes": max_bytes})
    if not inflater.eof:
        raise AppError("the gzip body is truncated")
    return body
