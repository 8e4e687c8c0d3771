"""The async function's HTTP edge: a Starlette request in, as the flask.Request the route tables
take (web.py), and the flask.Response they answer out, as a Starlette response.

The body is read on the event loop, up to max_body_bytes + 1 (enough for web.read_body to
refuse it as too large: the rest is never read); a body cut short that way is declared at the
length kept, which is over the limit, so the route answers 413.
"""

from __future__ import annotations

import io

import flask
from a2wsgi.wsgi import build_environ
from starlette.requests import Request
from starlette.responses import Response


async def read_request(request: Request, max_body_bytes: int) -> flask.Request:
    """The whole request (its body in memory) as a flask.Request."""
    chunks, size = [], 0
    async for chunk in request.stream():
        chunks.append(chunk)
        size += len(chunk)
        if size > max_body_bytes:
            break
    body = b"".join(chunks)
    scope = request.scope
    if size > max_body_bytes:
        scope = {**scope, "headers": declared_as(scope["headers"], len(body))}
    return flask.Request(build_environ(scope, io.BytesIO(body)))


def declared_as(headers: list, length: int) -> list:
    """The request's headers with its body declared as length bytes (no chunked transfer-encoding)."""
    kept = [(name, value) for name, value in headers if name.lower() not in (b"content-length", b"transfer-encoding")]
    return [*kept, (b"content-length", str(length).encode())]


def asgi_response(response: flask.Response) -> Response:
    """A flask.Response (a whole body, never a stream) as a Starlette response, its headers as they are."""
    body = response.get_data()
    answer = Response(body, status_code=response.status_code)
    headers = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in response.headers.items()]
    if response.status_code not in (204, 304) and "Content-Length" not in response.headers:
        headers.append((b"content-length", str(len(body)).encode()))
    answer.raw_headers = headers
    return answer
