"""Test data factories: one place that knows what a valid event looks like."""

from __future__ import annotations

import datetime as dt
import uuid

SEED_EVENT = {
    "user_id": "user_123",
    "action": "play",
    "element": "video_player",
    "duration": 12.5,
    "timestamp": "2024-01-15T10:30:00Z",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def make_event(**overrides) -> dict:
    """The seed's example event, happening now, with any field overridden (None removes it)."""
    event = {**SEED_EVENT, "timestamp": utcnow().isoformat()}
    event.update(overrides)
    return {k: v for k, v in event.items() if v is not None}


def make_events(count: int, **overrides) -> list[dict]:
    return [make_event(user_id=f"user_{i % 17}", event_id=str(uuid.uuid4()), **overrides) for i in range(count)]
