"""Turn corpus entries into raw HTTP requests, sent with http.client (bytes exactly as written)."""

from __future__ import annotations

import base64
import gzip
import http.client
import json
import time
import zlib
from pathlib import Path

CORPUS = json.loads((Path(__file__).with_name("corpus.json")).read_text())
EVENT = {"user_id": "u1", "action": "play", "element": "video_player", "duration": 12.5}


def make_body(spec: dict) -> bytes:
    kind = spec["kind"]
    if kind == "nested":
        return b"[" * spec["depth"] + b"]" * spec["depth"]
    if kind == "nested_objects":
        return b'{"a":' * spec["depth"] + b"1" + b"}" * spec["depth"]
    if kind == "event":
        return json.dumps({**EVENT, spec["field"]: "x" * spec["chars"]}).encode()
    if kind == "many_keys":
        return json.dumps({**EVENT, "properties": {f"k{i}": i for i in range(spec["keys"])}}).encode()
    if kind == "long_key":
        return json.dumps({**EVENT, "properties": {"k" * spec["chars"]: 1}}).encode()
    if kind == "big_event":
        return json.dumps({**EVENT, "properties": {"blob": "x" * spec["bytes"]}}).encode()
    if kind == "padding":
        return json.dumps([{**EVENT, "properties": {"blob": "x" * 20000}}] * (spec["bytes"] // 20000 + 1)).encode()
    if kind == "batch":
        return json.dumps([EVENT] * spec["count"]).encode()
    if kind == "bomb":
        return gzip.compress(b"[" + b" " * spec["inflated"] + b"]", 9)
    if kind == "truncated_gzip":
        return gzip.compress(json.dumps(EVENT).encode())[:-12]
    raise ValueError(f"unknown body kind {kind}")


def fill(text: str, keys: dict) -> str:
    for name, value in keys.items():
        text = text.replace("{" + name + "}", value)
    return text


def build(entry: dict, keys: dict) -> tuple[str, str, dict, bytes | None]:
    keys = {**keys, "write_basic": base64.b64encode(f"{keys['write']}:".encode()).decode()}
    path = entry["path"] + (f"?{fill(entry['query'], keys)}" if entry.get("query") else "")
    headers = {name: fill(value, keys) for name, value in entry.get("headers", {}).items()}
    body = None
    if "body" in entry:
        body = entry["body"].encode()
    elif "body_hex" in entry:
        body = bytes.fromhex(entry["body_hex"])
    elif "body_make" in entry:
        body = make_body(entry["body_make"])
    if entry.get("gzip"):
        body = gzip.compress(body)
    return entry["method"], path, headers, body


def send(port: int, method: str, path: str, headers: dict, body: bytes | None, timeout: float = 30) -> tuple[int, dict, dict, float]:
    """(status, JSON body or {}, response headers, seconds)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    started = time.monotonic()
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        raw = response.read()
        seconds = time.monotonic() - started
        try:
            parsed = json.loads(raw) if raw else {}
        except ValueError:
            parsed = {"raw": raw[:200].decode(errors="replace")}
        return response.status, parsed, dict(response.getheaders()), seconds
    finally:
        connection.close()


def gzip_bomb(inflated_bytes: int) -> bytes:
    """A valid gzip stream of `inflated_bytes` spaces: tiny on the wire, huge once inflated."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = b" " * (1 << 20)
    parts = [compressor.compress(b"[")]
    full, rest = divmod(inflated_bytes, len(chunk))
    for _ in range(full):
        parts.append(compressor.compress(chunk))
    parts.append(compressor.compress(b" " * rest + b"]"))
    parts.append(compressor.flush())
    return b"".join(parts)
