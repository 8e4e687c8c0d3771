"""uvicorn's httptools protocol with the bounds uvicorn lacks: time to receive headers and body.

uvicorn closes a keep-alive connection idle after an answer (timeout_keep_alive), but a
connection that never sends, or trickles its headers, or stalls half-way through a body, it
keeps forever. Each connection here has at most one timer running:

- header: from connecting (or from the first byte of a next request) to the last header;
- body: from the last header to the last byte of the body;
- idle: uvicorn's own keep-alive timer, counted when it closes a connection.

What passes a bound is closed and counted (engine.connstats); a client that sent part of a
request first gets a 408 in the API's error shape, which HTTP/1.1 allows before a response.
An application waiting for the rest of a body is told the client disconnected, so it stores
nothing. Past max_connections open in one process, a new connection is closed at once.

uvicorn writes every response header name in lower case (a2wsgi lowercases a Flask app's names
first). Names are case-insensitive in HTTP, yet a client that compares them exactly (a dict of
http.client's headers, as tests/hostile keeps) would miss `Retry-After`; CasedHead writes them
as the functions always did behind gunicorn's sync server: `Retry-After`, `X-Request-Id`.
"""

from __future__ import annotations

import dataclasses

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from engine import connstats


@dataclasses.dataclass(frozen=True)
class Bounds:
    header_seconds: float
    body_seconds: float
    max_connections: int


def timeout_answer(bound: str, seconds: float) -> bytes:
    """A whole 408 response that closes the connection."""
    what = "headers" if bound == "header_timeout" else "body"
    message = f"the request's {what} did not arrive within {seconds:g} s; the connection is closed"
    body = orjson.dumps({"error": {"code": "request_timeout", "message": message, "details": {"limit_seconds": seconds}}})
    head = (
        b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    return head + body


# After a 408: how long the client has to read it before the connection is closed.
LINGER_SECONDS = 2.0

# Names whose usual spelling is not each part capitalised.
SPELLED = {b"www-authenticate": b"WWW-Authenticate", b"etag": b"ETag"}


def cased(head: bytes) -> bytes:
    """A response head with each header name capitalised by its parts (content-type: Content-Type)."""
    head, end, rest = head.partition(b"\r\n\r\n")  # nothing after the head's end is touched
    lines = head.split(b"\r\n")
    for i in range(1, len(lines)):
        name, colon, value = lines[i].partition(b":")
        lines[i] = (SPELLED.get(name) or b"-".join(part.capitalize() for part in name.split(b"-"))) + colon + value
    return b"\r\n".join(lines) + end + rest


class CasedHead:
    """The transport one request's cycle writes through: its response head's names cased, the rest as is."""

    def __init__(self, transport) -> None:
        self.transport = transport
        self.head_written = False

    def write(self, data: bytes) -> None:
        if not self.head_written and data.startswith(b"HTTP/1."):
            self.head_written = not data.startswith(b"HTTP/1.1 1")  # an interim 100 Continue comes first
            data = cased(data)
        self.transport.write(data)

    def __getattr__(self, name: str):
        return getattr(self.transport, name)


class GuardedProtocol(HttpToolsProtocol):
    """HttpToolsProtocol that closes connections slower than its Bounds (config.edge_bounds)."""

    def __init__(self, config, server_state, app_state, _loop=None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.bounds: Bounds = config.edge_bounds
        self.deadline = None
        self.bound = ""
        self.partial = False
        self.lingering = False

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        connstats.opened()
        if len(self.connections) > self.bounds.max_connections:
            connstats.closed_by("connection_limit")
            self.transport.close()
            return
        self.arm("header_timeout", self.bounds.header_seconds)

    def connection_lost(self, exc) -> None:
        self.disarm()
        connstats.closed()
        super().connection_lost(exc)

    def arm(self, bound: str, seconds: float) -> None:
        self.disarm()
        self.bound = bound
        self.deadline = self.loop.call_later(seconds, self.expire, seconds)

    def disarm(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.partial = True
        if self.deadline is None:
            self.arm("header_timeout", self.bounds.header_seconds)

    def on_headers_complete(self) -> None:
        self.arm("body_timeout", self.bounds.body_seconds)
        super().on_headers_complete()
        self.cycle.transport = CasedHead(self.transport)  # before its task first runs, on a later turn of the loop

    def on_message_complete(self) -> None:
        self.disarm()
        self.partial = False
        super().on_message_complete()

    def expire(self, seconds: float) -> None:
        self.deadline = None
        if self.transport.is_closing():
            return
        connstats.closed_by(self.bound)
        cycle = self.cycle if self.bound == "body_timeout" else None
        if cycle is not None and not cycle.response_complete:
            # The application stops waiting for the rest of the body: it sees a disconnect.
            answered = cycle.response_started
            cycle.disconnected = True
            cycle.message_event.set()
        else:
            answered = not self.partial
        if not answered:
            self.transport.write(timeout_answer(self.bound, seconds))
            self.linger()
            return
        self.transport.close()

    def linger(self) -> None:
        """Half-close after the 408 and discard what the client still sends, then close.

        Closing a socket that holds unread bytes (a header line that arrived as the bound
        passed) sends a reset, and a reset can destroy the 408 before the client reads it.
        """
        self.lingering = True
        self.flow.resume_reading()  # a body's reading may have been paused, its bytes left unread
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)

    def data_received(self, data: bytes) -> None:
        if not self.lingering:
            super().data_received(data)

    def timeout_keep_alive_handler(self) -> None:
        if not self.transport.is_closing():
            connstats.closed_by("idle_timeout")
        super().timeout_keep_alive_handler()
