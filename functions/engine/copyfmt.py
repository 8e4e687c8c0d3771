"""Pure decoding of stream entries and formatting of PostgreSQL COPY text rows."""

from __future__ import annotations

import datetime as dt

import orjson

from engine import constants as c

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
NULL = "\\N"
_REQUIRED = ("event_id", "project_id", "user_id", "action", "timestamp", "received_at")
OPERATIONS = ("identify", "group", "alias")
_REQUIRED_BY_OPERATION = {
    "identify": ("event_id", "project_id", "user_id", "at"),
    "group": ("event_id", "project_id", "group_id", "user_id", "at"),
    "alias": ("event_id", "project_id", "links", "at"),
}


class EntryError(ValueError):
    """A stream entry that no retry can load: it is dead-lettered at once."""


def decode_entry(fields: dict) -> dict:
    """The event a stream entry carries, or EntryError saying why it cannot be read."""
    raw = fields.get(c.ENTRY_FIELD)
    if raw is None:
        raise EntryError(f"entry has no {c.ENTRY_FIELD.decode()!r} field")
    try:
        event = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise EntryError(f"entry is not valid JSON: {exc}") from None
    if not isinstance(event, dict):
        raise EntryError("entry is not a JSON object")
    if event.get("v") != c.ENTRY_VERSION:
        raise EntryError(f"entry version {event.get('v')!r} is not {c.ENTRY_VERSION}")
    kind = event.get("kind", "event")
    if kind != "event" and kind not in OPERATIONS:
        raise EntryError(f"entry kind {kind!r} is unknown")
    missing = [k for k in _REQUIRED_BY_OPERATION.get(kind, _REQUIRED) if event.get(k) is None]
    if missing:
        raise EntryError(f"entry lacks {', '.join(missing)}")
    return event


def event_day(event: dict) -> dt.date:
    """The UTC day of the event's time, which names its partition."""
    try:
        moment = dt.datetime.fromisoformat(event["timestamp"])
    except (TypeError, ValueError):
        raise EntryError(f"entry timestamp {event['timestamp']!r} is not ISO 8601") from None
    if moment.tzinfo is None:
        raise EntryError("entry timestamp has no offset")
    return moment.astimezone(dt.UTC).date()


def _text(value) -> str:
    if value is None:
        return NULL
    return str(value).translate(_ESCAPES)


def _json(value) -> str:
    if value is None:
        return NULL
    return orjson.dumps(value).decode().translate(_ESCAPES)


def copy_row(stream_id: str, event: dict) -> str:
    """One line of COPY text for drain_staging, in copy_staging.sql's column order."""
    duration = event.get("duration")
    return (
        "\t".join(
            (
                _text(stream_id),
                _text(event["event_id"]),
                _text(int(event["project_id"])),
                _text(event["user_id"]),
                _text(event["action"]),
                _text(event.get("element")),
                NULL if duration is None else repr(float(duration)),
                _text(event["timestamp"]),
                _text(event.get("client_timestamp")),
                _text(event.get("sent_at")),
                _text(event["received_at"]),
                _text(event.get("session_id")),
                _json(event.get("properties")),
                _text(event.get("request_id")),
                _text(event.get("anonymous_id")),
                _json(event.get("context")),
                _json(event.get("envelope")),
            )
        )
        + "\n"
    )
