"""A `make run` stack, and a proxy in front of it that can lose answers to force SDK retries."""

from __future__ import annotations

import http.client
import http.server
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from engine.db import postgres
from tests.e2e.stack import RunningStack, free_port_block

NODE_DIR = Path(__file__).with_name("node")


@pytest.fixture(scope="package")
def sdk_stack(tmp_path_factory):
    stack = RunningStack(tmp_path_factory.mktemp("sdk") / "local", free_port_block()).start()
    yield stack
    stack.stop()


def rows(stack: RunningStack, sql: str, **params):
    conn = postgres.connect(stack.database_url, application_name="tests", statement_timeout_ms=10_000, io_timeout_seconds=10)
    try:
        return conn.run(sql, **params)
    finally:
        conn.close()


class LossyProxy:
    """Forwards every request to the gateway; answers the first `lose` batch uploads with a 503
    after they were delivered, as a network that drops the answer would: the SDK must retry."""

    def __init__(self, upstream_port: int, lose: int = 1):
        self.upstream_port, self.lose = upstream_port, lose
        self.batches: list[int] = []  # statuses answered to /v1/batch, in order
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                upstream = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=30)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length", "connection")}
                    upstream.request("POST", self.path, body=body, headers=headers)
                    answer = upstream.getresponse()
                    status, payload, answer_headers = answer.status, answer.read(), answer.getheaders()
                finally:
                    upstream.close()
                if self.path.startswith("/v1/batch") and status == 200 and proxy.lose > 0:
                    proxy.lose -= 1
                    status, payload, answer_headers = (
                        503,
                        b'{"code": "lost", "message": "answer lost on the way"}',
                        [("Content-Type", "application/json")],
                    )
                if self.path.startswith("/v1/batch"):
                    proxy.batches.append(status)
                self.send_response(status)
                for name, value in answer_headers:
                    if name.lower() not in ("content-length", "connection", "transfer-encoding", "date", "server"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="package")
def node_sdk():
    """Segment's Node SDK from the npm registry (installed once from the lockfile)."""
    import os

    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        message = "the Node SDK test needs node and npm (Debian: apt-get install nodejs npm)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    if not (NODE_DIR / "node_modules" / "@segment" / "analytics-node").exists():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True, capture_output=True, timeout=300)
    return node
