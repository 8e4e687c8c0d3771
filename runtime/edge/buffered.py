"""A WSGI application served from the event loop, its threads given only whole requests.

a2wsgi runs the application in a thread pool but streams the body to it as it arrives, so a
client that stalls half-way would hold a thread. Here the body is read first, on the event
loop, up to max_body_bytes + 1 (enough for the application to refuse it as too large: the
rest is never read); only then does a thread take the request. A body cut short that way is
declared at the length kept: functions-framework reads every body to its end after the answer
(its read_request hook), and werkzeug takes a stream that ends before its Content-Length for a
client that left (ClientDisconnected, a 500); declared as kept, it is refused as too large.
"""

from __future__ import annotations

import orjson
from a2wsgi import WSGIMiddleware

from engine.asgi import declared_as


class BufferedWSGI:
    """ASGI application: buffer the request body, then hand the request to a2wsgi's thread pool."""

    def __init__(self, wsgi_app, threads: int, max_body_bytes: int, refuse_oversized: bool = False):
        self.inner = WSGIMiddleware(wsgi_app, workers=threads)
        self.max_body_bytes = max_body_bytes
        # The gateway refuses an oversized body itself: forwarded, the function would answer 413
        # while the gateway still wrote the body to it, and the broken pipe became a 502.
        self.refuse_oversized = refuse_oversized

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return
        chunks, size, more = [], 0, True
        while more and size <= self.max_body_bytes:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client left (or the edge cut a stalled body): nothing to run
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if more and self.refuse_oversized:
            await send_too_large(send, self.max_body_bytes)
            return
        if more:
            scope = {**scope, "headers": declared_as(scope["headers"], len(body))}
        whole = {"type": "http.request", "body": body, "more_body": False}
        given = False

        async def replay():
            nonlocal given
            if given:
                return await receive()
            given = True
            return whole

        await self.inner(scope, replay, send)


async def send_too_large(send, limit: int) -> None:
    """413 in the API's error shape (as the functions' own body check answers it)."""
    error = {"code": "payload_too_large", "message": f"the body is larger than {limit} bytes", "details": {"limit_bytes": limit}}
    body = orjson.dumps({"error": error})
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), (b"connection", b"close")]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
