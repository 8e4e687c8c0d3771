"""HTTP calls to a function with their answers (the scheduled tasks, the paced senders, the polls)."""

from __future__ import annotations

import http.client
import json
import socket
from urllib.parse import urlsplit


def connect(host: str, port: int, timeout: float) -> http.client.HTTPConnection:
    """A connected HTTPConnection with Nagle off.

    http.client writes a request's headers and body separately; with Nagle on, the body waits
    for the server's delayed ACK (40 ms) on every POST of a kept-alive connection.
    """
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    connection.connect()
    connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return connection


def call(
    method: str, url: str, headers: dict[str, str] | None = None, body: bytes | None = None, timeout: float = 30
) -> tuple[int, object]:
    """(status, decoded JSON or None); (0, error text) when nothing answered."""
    parts = urlsplit(url)
    try:
        connection = connect(parts.hostname, parts.port, timeout)
    except OSError as exc:
        return 0, f"{type(exc).__name__}: {exc}"
    try:
        connection.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), body=body, headers=headers or {})
        response = connection.getresponse()
        raw = response.read()
    except (OSError, http.client.HTTPException) as exc:
        return 0, f"{type(exc).__name__}: {exc}"
    finally:
        connection.close()
    try:
        return response.status, json.loads(raw) if raw else None
    except ValueError:
        return response.status, raw[:300].decode(errors="replace")


class KeptConnection:
    """A keep-alive connection for many calls from one thread; reopened after a failure."""

    def __init__(self, url: str, timeout: float = 30):
        parts = urlsplit(url)
        self.host, self.port, self.timeout = parts.hostname, parts.port, timeout
        self.connection: http.client.HTTPConnection | None = None

    def call(self, method: str, path: str, headers: dict[str, str], body: bytes | None = None) -> tuple[int, bytes]:
        """(status, raw body); (0, b"") when the call failed."""
        try:
            if self.connection is None:
                self.connection = connect(self.host, self.port, self.timeout)
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            return 0, b""

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None
