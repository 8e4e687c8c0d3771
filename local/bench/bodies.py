"""The requests the loads send: realistic, valid events, deterministic so every run sends the same."""

from __future__ import annotations

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
