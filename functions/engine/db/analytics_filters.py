"""The analytics filters as SQL: fragments under sql/fragments/ and their bound parameters.

A query puts `/* filtered events */` where it reads events (a subquery: one project, the range,
every filter, and each event's `person`), `/* presence */` where it reads who was present when
(rollup presence rows, or filtered events when :raw), `/* day presence */` for who was present in
which bucket from the day rollups (engine.core.day_pieces), or `/* event filters */` for the bare
condition over raw events aliased e. The text is composed once at import from files in the
repository, never from a request; every value a request gives is a bound parameter.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from engine.core.query import Filters, Query

_FRAGMENTS = Path(__file__).with_name("sql") / "fragments"
MARKER = "/* event filters */"
EVENTS_MARKER = "/* filtered events */"
PRESENCE_MARKER = "/* presence */"
DAY_PRESENCE_MARKER = "/* day presence */"
# Outer first: presence holds filtered events, which hold the filters.
MARKERS = (DAY_PRESENCE_MARKER, PRESENCE_MARKER, EVENTS_MARKER, MARKER)


def _fragment(name: str) -> str:
    text = (_FRAGMENTS / f"{name}.sql").read_text()
    return "\n".join(line for line in text.splitlines() if not line.startswith("--"))


FRAGMENTS = {
    DAY_PRESENCE_MARKER: _fragment("day_presence"),
    PRESENCE_MARKER: _fragment("presence"),
    EVENTS_MARKER: _fragment("filtered_events"),
    MARKER: f"({_fragment('event_filters')})",
}
EVENT_FILTERS = FRAGMENTS[MARKER]


def with_filters(sql: str) -> str:
    """A query text with each fragment in place of its marker."""
    if not any(marker in sql for marker in MARKERS):
        raise ValueError(f"the query has none of the markers {', '.join(MARKERS)}")
    for marker in MARKERS:
        sql = sql.replace(marker, FRAGMENTS[marker])
    return sql


def filter_params(filters: Filters) -> dict:
    """The filter fragment's bound parameters (it also reads :project_id, which the query binds)."""
    return {
        "actions": list(filters.actions),
        "elements": list(filters.elements),
        "user_ids": list(filters.user_ids),
        "properties": orjson.dumps({key: list(values) for key, values in filters.properties}).decode(),
    }


def query_params(project_id: int, query: Query) -> dict:
    """Everything /* filtered events */ and /* presence */ bind: project, range, filters, and :raw
    (true when a filter is one the rollups do not carry)."""
    return {
        "project_id": project_id,
        "start": query.start,
        "end": query.end,
        "raw": not query.filters.rollup_ready,
        **filter_params(query.filters),
    }
