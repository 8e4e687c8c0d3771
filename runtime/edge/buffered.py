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

from a2wsgi import WSGIMiddleware


class BufferedWSGI:
    """ASGI application: buffer the request body, then hand the request to a2wsgi's thread pool."""

    def __init__(self, wsgi_app, threads: int, max_body_bytes: int):
        self.inner = WSGIMiddleware(wsgi_app, workers=threads)
        self.max_body_bytes = max_body_bytes

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


def declared_as(headers: list, length: int) -> list:
    """The request's headers with its body declared as length bytes (no chunked transfer-encoding)."""
    kept = [(name, value) for name, value in headers if name.lower() not in (b"content-length", b"transfer-encoding")]
    return [*kept, (b"content-length", str(length).encode())]
