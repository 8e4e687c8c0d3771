"""The analytics routes' reads: from the rollups when they carry every filter, else from raw events.

Each takes its connection, the project and the parsed Query, and returns plain rows; buckets are
numbered by width_bucket over the bucket starts and the range's end (1 is the first bucket).
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.core.query import Query
from engine.db.analytics_filters import query_params
from engine.db.queries import run_prepared


def series(conn, project_id: int, query: Query, bounds: list) -> tuple[dict, dict]:
    """({bucket: (events, durations, duration sum)}, {bucket: people}) of a timeseries."""
    if not bounds:
        return {}, {}
    rows = run_prepared(conn, "analytics_counts", **query_params(project_id, query), bounds=bounds)
    return {int(b): (int(n), int(d), s) for b, n, d, s in rows}, people(conn, project_id, query, bounds)


def people(conn, project_id: int, query: Query, bounds: list) -> dict:
    """{bucket: distinct people}."""
    if not bounds:
        return {}
    return {int(b): int(p) for b, p in run_prepared(conn, "analytics_people", **query_params(project_id, query), bounds=bounds)}


def breakdown(conn, project_id: int, query: Query, by: str, key: str | None, limit: int) -> list[tuple]:
    """[(value, events, people, durations, duration sum)], most events first."""
    params = query_params(project_id, query)
    if by == "element" and query.filters.rollup_ready:
        return run_prepared(conn, "analytics_breakdown_elements", project_id=project_id, start=query.start, end=query.end,
                            elements=params["elements"], limit=limit)  # fmt: skip
    return run_prepared(conn, "analytics_breakdown_raw", **params, by=by, key=key, limit=limit)


def sessions(conn, project_id: int, query: Query, gap_seconds: int) -> tuple:
    """(sessions, median length, mean length, one-event sessions, events)."""
    return tuple(run_prepared(conn, "analytics_sessions", **query_params(project_id, query), gap=gap_seconds)[0])


STEP_BITS = 5  # analytics_funnel_times packs the step's number (1 to 20) under the time: time * 32 + i


def funnel_times(conn, project_id: int, query: Query, steps) -> Iterator[list[list[int]]]:
    """Per person who did any step, the ascending times (microseconds after the range's start) of
    their events matching each step; steps that are alike share one list."""
    kinds = list(dict.fromkeys(steps))
    rows = run_prepared(conn, "analytics_funnel_times", **query_params(project_id, query),
                        step_actions=[action for action, _ in kinds], step_elements=[element or "" for _, element in kinds])  # fmt: skip
    place = [kinds.index(step) for step in steps]
    mask = (1 << STEP_BITS) - 1
    for (text,) in rows:
        times: list[list[int]] = [[] for _ in kinds]
        add = [None, *(found.append for found in times)]
        for packed in sorted(map(int, text[1:-1].split(","))):
            add[packed & mask](packed >> STEP_BITS)
        yield [times[k] for k in place]


def retention(conn, project_id: int, query: Query, bounds: list, periods: int) -> dict:
    """{(cohort bucket, k): people}."""
    if not bounds:
        return {}
    rows = run_prepared(conn, "analytics_retention", **query_params(project_id, query), bounds=bounds, periods=periods)
    return {(int(c), int(k)): int(n) for c, k, n in rows}
