"""The analytics routes' definitions (README, "Analytics routes"), computed from raw events in plain Python.

Written from the README's words, not from the engine's SQL. Events are dicts as tests/helpers.copy_lines
takes them (project_id, user_id, action, element, duration, timestamp, session_id, properties);
`links` maps (project_id, id) to the person an identity link gives that id.
"""

from __future__ import annotations

import datetime as dt
import json

from tests.oracle import person


def _text(value) -> str:
    """A property value as PostgreSQL's ->> gives it: strings as they are, anything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(", ", ": ")) if isinstance(value, dict | list) else json.dumps(value)


def matches(e: dict, filters, links: dict | None = None) -> bool:
    """Different filters ANDed, the values of one filter ORed; user_id matches the person."""
    if filters.actions and e.get("action", "click") not in filters.actions:
        return False
    if filters.elements and e["element"] not in filters.elements:
        return False
    if filters.user_ids:
        wanted = {person({"project_id": e["project_id"], "user_id": u}, links) for u in filters.user_ids}
        if person(e, links) not in wanted:
            return False
    props = e.get("properties") or {}
    for key, values in filters.properties:
        if key not in props or props[key] is None or _text(props[key]) not in values:
            return False
    return True


def selected(events: list[dict], project_id: int, start: dt.datetime, end: dt.datetime, filters, links=None) -> list[dict]:
    """The events a query reads: one project, [start, end), every filter."""
    return [e for e in events if e["project_id"] == project_id and start <= e["timestamp"] < end and matches(e, filters, links)]
