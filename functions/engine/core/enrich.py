"""Pure enrichment of a validated event: its id, its corrected time, its stream payload."""

from __future__ import annotations

import datetime as dt
import uuid

import orjson
import uuid6

from engine.core import constants as c


def new_event_id() -> uuid.UUID:
    """A time-ordered id (UUIDv7), so that the id index stays hot as rows arrive in order."""
    return uuid6.uuid7()


def correct_time(
    timestamp: dt.datetime | None,
    sent_at: dt.datetime | None,
    received_at: dt.datetime,
) -> dt.datetime:
    """The event's time on the server's clock.

    A client whose clock is off sends `timestamp` (when it happened) and `sent_at` (when it
    left), both on its own clock; their difference is exact whatever the skew, so the event
    happened at received_at - (sent_at - timestamp). A time in the future is clamped to now.
    Both values sent are stored as they came, whatever the correction made of them.
    """
    if timestamp is None:
        return received_at
    moment = timestamp
    if sent_at is not None:
        try:
            moment = received_at - (sent_at - timestamp)
        except OverflowError:
            moment = timestamp  # a sent_at that moves the event past year 1 is nonsense: ignore it
    return min(moment, received_at)


def time_problem(moment: dt.datetime, received_at: dt.datetime, retention_days: int) -> str | None:
    """Why an event's corrected time cannot be stored, or None (retention 0 keeps all)."""
    if retention_days and moment < received_at - dt.timedelta(days=retention_days):
        return f"is older than the retention period of {retention_days} days"
    return None


def build_entry(
    event: dict,
    *,
    event_id: uuid.UUID,
    moment: dt.datetime,
    received_at: dt.datetime,
    project_id: int,
    request_id: str,
    extra: dict | None = None,
) -> bytes:
    """The stream payload of one accepted event (JSON, versioned); extra adds the Segment fields
    (anonymous_id, context, envelope)."""
    return orjson.dumps(
        {
            **(extra or {}),
            "v": c.ENTRY_VERSION,
            "event_id": str(event_id),
            "project_id": project_id,
            "user_id": event["user_id"],
            "action": event["action"],
            "element": event.get("element"),
            "duration": event.get("duration"),
            "timestamp": moment,
            "client_timestamp": event.get("timestamp"),
            "sent_at": event.get("sent_at"),
            "received_at": received_at,
            "session_id": event.get("session_id"),
            "properties": event.get("properties"),
            "request_id": request_id,
        }
    )
