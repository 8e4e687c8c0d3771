"""Pure decoding of stream entries and formatting of PostgreSQL COPY text rows."""

from __future__ import annotations

import datetime as dt

import orjson

from engine.core import constants as c

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
    text = event["timestamp"]
    if isinstance(text, str) and text.endswith("+00:00") and len(text) >= 10:  # as ingest writes it
        try:
            return dt.date.fromisoformat(text[:10])
        except ValueError:
            pass
    try:
        moment = dt.datetime.fromisoformat(event["timestamp"])
    except (TypeError, ValueError):
        raise EntryError(f"entry timestamp {event['timestamp']!r} is not ISO 8601") from None
    if moment.tzinfo is None:
        raise EntryError("entry timestamp has no offset")
    return moment.astimezone(dt.UTC).date()


def copy_line(stream_id: str, payload: bytes) -> bytes:
    """One line of COPY text for drain_raw: the entry id, a tab, the entry's JSON as it came.

    COPY's text format only needs backslashes doubled and line breaks and tabs escaped; JSON
    as ingest writes it has no raw control characters, so most entries need one replace.
    """
    escaped = payload.replace(b"\\", b"\\\\")
    if b"\n" in escaped or b"\r" in escaped or b"\t" in escaped:
        escaped = escaped.replace(b"\n", b"\\n").replace(b"\r", b"\\r").replace(b"\t", b"\\t")
    return stream_id.encode() + b"\t" + escaped + b"\n"
