"""The analytics filters as SQL: one fragment (sql/fragments/event_filters.sql) and its parameters.

Queries over raw events say /* event filters */ where the fragment goes; the text is composed
once at import from files in the repository, never from a request, and every value a request
gives is a bound parameter.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from engine.core.query import Filters

MARKER = "/* event filters */"
EVENT_FILTERS = (Path(__file__).with_name("sql") / "fragments" / "event_filters.sql").read_text()


def with_filters(sql: str) -> str:
    """A query text with the filter fragment in place of its marker (alias e, raw events)."""
    if MARKER not in sql:
        raise ValueError(f"the query has no {MARKER} marker")
    fragment = "\n".join(line for line in EVENT_FILTERS.splitlines() if not line.startswith("--"))
    return sql.replace(MARKER, f"({fragment})")


def filter_params(filters: Filters) -> dict:
    """The fragment's bound parameters (it also reads :project_id, which the query binds)."""
    return {
        "actions": list(filters.actions),
        "elements": list(filters.elements),
        "user_ids": list(filters.user_ids),
        "properties": orjson.dumps({key: list(values) for key, values in filters.properties}).decode(),
    }
