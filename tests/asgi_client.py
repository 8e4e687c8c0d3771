"""An ASGI application driven in this process with the Flask test client's call style.

    client = AsgiClient(create_asgi_app("ingest", MAIN))
    response = client.post("/event", json=event, headers=WRITE, query_string={"key": KEY})
    response.status_code, response.json, response.headers["X-Request-Id"], response.get_data()

Every request runs on the client's own event loop (so what the application keeps per loop,
its asyncio Redis clients and its group commit, lives as long as the client); `gather` sends
several requests at once on it, the way concurrent clients reach one server process.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
from urllib.parse import urlencode, urlsplit

from werkzeug.datastructures import Headers


class Answer:
    """A response as the Flask test client shows it: status_code, headers, json, get_data(), text."""

    def __init__(self, status: int, headers: Headers, body: bytes):
        self.status_code, self.headers, self.data = status, headers, body

    def get_data(self, as_text: bool = False):
        return self.data.decode() if as_text else self.data

    @property
    def text(self) -> str:
        return self.data.decode()

    @property
    def json(self):
        return self.get_json()

    def get_json(self):
        content_type = self.headers.get("Content-Type", "")
        return jsonlib.loads(self.data) if content_type.startswith("application/json") and self.data else None


class AsgiClient:
    def __init__(self, app):
        self.app = app
        self.loop = asyncio.new_event_loop()

    def close(self, *endings) -> None:
        """Run the application's endings (coroutine functions) on the client's loop, then close it."""
        for ending in endings:
            self.loop.run_until_complete(ending())
        self.loop.close()

    def open(self, path: str, method: str = "GET", **request) -> Answer:
        return self.loop.run_until_complete(self.request(method, path, **request))

    def get(self, path: str, **request) -> Answer:
        return self.open(path, "GET", **request)

    def post(self, path: str, **request) -> Answer:
        return self.open(path, "POST", **request)

    def options(self, path: str, **request) -> Answer:
        return self.open(path, "OPTIONS", **request)

    def delete(self, path: str, **request) -> Answer:
        return self.open(path, "DELETE", **request)

    def gather(self, *requests: tuple[str, str, dict]) -> list[Answer]:
        """(method, path, request) triples sent at once; their answers in order."""

        async def together() -> list[Answer]:
            return await asyncio.gather(*(self.request(m, p, **r) for m, p, r in requests))

        return self.loop.run_until_complete(together())

    async def request(
        self, method: str, path: str, json=None, data=None, headers=None, query_string=None, content_type: str | None = None
    ) -> Answer:
        """One request through the application, its whole body sent at once."""
        url = urlsplit(path)
        query = url.query
        if query_string:
            extra = query_string if isinstance(query_string, str | bytes) else urlencode(query_string)
            query = "&".join(filter(None, [query, extra.decode() if isinstance(extra, bytes) else extra]))
        sent = Headers(headers or {})
        body = b""
        if json is not None:
            body = jsonlib.dumps(json).encode()
            sent.setdefault("Content-Type", "application/json")
        elif data is not None:
            body = data.encode() if isinstance(data, str) else data
        if content_type is not None:
            sent["Content-Type"] = content_type
        if body or method in ("POST", "PUT", "PATCH"):
            sent["Content-Length"] = str(len(body))
        sent.setdefault("Host", "localhost")
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": url.path,
            "raw_path": url.path.encode(),
            "root_path": "",
            "query_string": query.encode(),
            "headers": [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in sent.items()],
            "client": ("127.0.0.1", 40000),
            "server": ("localhost", 80),
        }
        given = False

        async def receive():
            nonlocal given
            if given:
                await asyncio.Event().wait()  # no disconnect while the application answers
            given = True
            return {"type": "http.request", "body": body, "more_body": False}

        answer: dict = {"headers": Headers(), "body": b""}

        async def send(message):
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                for name, value in message.get("headers", []):
                    answer["headers"].add(name.decode("latin-1"), value.decode("latin-1"))
            elif message["type"] == "http.response.body":
                answer["body"] += message.get("body", b"")

        await self.app(scope, receive, send)
        return Answer(answer["status"], answer["headers"], answer["body"])
