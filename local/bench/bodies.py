"""The requests the loads send: realistic, valid events, deterministic so every run sends the same."""

from __future__ import annotations

import hashlib
import uuid

import orjson

ACTIONS = ("view", "click", "play", "pause", "scroll", "like", "search", "share")
ELEMENTS = ("video_player", "like_button", "nav_home", "search_box", "feed_card", "share_button", "comment_box", "menu")
USERS = 5000


def make_event(i: int, timestamp: str | None) -> dict:
    """The i-th event, in the seed's format, as a tracker would send it."""
    event = {
        "user_id": f"user_{(i * 7919) % USERS}",
        "action": ACTIONS[(i * 31) % len(ACTIONS)],
        "element": ELEMENTS[(i * 17) % len(ELEMENTS)],
        "duration": round(((i * 37) % 400) / 8, 3),
        "session_id": f"s{(i * 7919) % USERS:x}-{i // 1000:x}",
    }
    if timestamp is not None:
        event["timestamp"] = timestamp
    return event


def single_bodies(count: int, timestamp: str | None) -> list[bytes]:
    """Bodies of POST /event: one event each."""
    return [orjson.dumps(make_event(i, timestamp)) for i in range(count)]


def batch_bodies(count: int, size: int, timestamp: str | None) -> list[bytes]:
    """Bodies of POST /events: JSON arrays of `size` events each."""
    return [orjson.dumps([make_event(b * size + i, timestamp) for i in range(size)]) for b in range(count)]


def batch_bodies_at(i: int, size: int, timestamp: str | None) -> bytes:
    """The body of the i-th POST /events of `size` events."""
    return orjson.dumps([make_event(i * size + j, timestamp) for j in range(size)])


def client_event_id(i: int) -> str:
    """The i-th client event_id: a UUID as tracker.js and the SDKs send, random-looking but the same every run."""
    return str(uuid.UUID(bytes=hashlib.blake2b(f"bench-event-{i}".encode(), digest_size=16).digest(), version=4))


def batch_bodies_with_ids(count: int, size: int, timestamp: str | None, first: int = 0) -> list[bytes]:
    """Bodies of POST /events whose events carry client event_ids (ids first .. first + count × size - 1)."""
    return [
        orjson.dumps(
            [{**make_event(i, timestamp), "event_id": client_event_id(i)} for i in range(first + b * size, first + (b + 1) * size)]
        )
        for b in range(count)
    ]
