"""The analytics routes' reads: from the rollups when they carry every filter, else from raw events.

Each takes its connection, the project and the parsed Query, and returns plain rows; buckets are
numbered by width_bucket over the bucket starts and the range's end (1 is the first bucket).
"""

from __future__ import annotations

import array
import datetime as dt
import itertools
import operator
import sys
from collections.abc import Iterator

from engine.core.day_pieces import DayPieces, day_pieces, range_cut
from engine.core.funnel import Packed
from engine.core.query import Query
from engine.db.analytics_filters import query_params
from engine.db.postgres import transaction
from engine.db.queries import run_prepared


def series(conn, project_id: int, query: Query, bounds: list) -> tuple[dict, dict]:
    """({bucket: (events, durations, duration sum)}, {bucket: people}) of a timeseries: from the day
    and hour rollups with no filter or only action, else per minute (element) or raw."""
    if not bounds:
        return {}, {}
    if query.filters.day_ready:
        pieces = day_pieces(bounds, query.start).params()  # counts of several actions add up: any day counts
        rows = run_prepared(conn, "analytics_counts_hours", project_id=project_id, actions=list(query.filters.actions), **pieces)
    else:
        rows = run_prepared(conn, "analytics_counts", **query_params(project_id, query), bounds=bounds)
    return {int(b): (int(n), int(d), s) for b, n, d, s in rows}, people(conn, project_id, query, bounds)


def people(conn, project_id: int, query: Query, bounds: list) -> dict:
    """{bucket: distinct people}: from the day rollups with no filter or only action, else per minute or raw."""
    if not bounds:
        return {}
    if query.filters.day_ready:
        actions = list(query.filters.actions)
        # A counter is of one action; the week rows are of every action.
        pieces = day_pieces(bounds, query.start, counters=len(actions) <= 1, weeks=not actions).params()
        rows = run_prepared(conn, "analytics_people_days", project_id=project_id, actions=actions, **pieces)
    else:
        rows = run_prepared(conn, "analytics_people", **query_params(project_id, query), bounds=bounds)
    return {int(b): int(p) for b, p in rows}


def breakdown(conn, project_id: int, query: Query, by: str, key: str | None, limit: int) -> list[tuple]:
    """[(value, events, people, durations, duration sum)], most events first."""
    params = query_params(project_id, query)
    if by == "element" and query.filters.rollup_ready:
        cut = range_cut(query.start, query.end).params()
        return run_prepared(conn, "analytics_breakdown_elements", project_id=project_id, start=query.start, end=query.end,
                            elements=params["elements"], limit=limit, **cut)  # fmt: skip
    return run_prepared(conn, "analytics_breakdown_raw", **params, by=by, key=key, limit=limit)


def sessions(conn, project_id: int, query: Query, gap_seconds: int) -> tuple:
    """(sessions, median length, mean length, one-event sessions, events)."""
    return tuple(run_prepared(conn, "analytics_sessions", **query_params(project_id, query), gap=gap_seconds)[0])


def funnel_times(conn, project_id: int, query: Query, steps) -> Iterator[Packed]:
    """Per person who did any step, the times (microseconds after the range's start) of their
    events matching each step, ascending per step; steps that are alike share one span.

    PostgreSQL packs each time with its step's number i as i * base + time, base being longer than
    the range (ranges lie within 1970-2100: 21 times that in microseconds fits a bigint), as
    big-endian 8-byte integers; funnel.Packed.of_numbers sorts and reads them in place. A
    person's ids come one after the other."""
    kinds = list(dict.fromkeys(steps))
    base = (query.end - query.start) // dt.timedelta(microseconds=1) + 1
    params = {"step_base": base, "step_actions": [action for action, _ in kinds], "step_elements": [element or "" for _, element in kinds]}
    with transaction(conn):
        run_prepared(conn, "analytics_funnel_plan")
        rows = run_prepared(conn, "analytics_funnel_times", **query_params(project_id, query), **params)
    place = [kinds.index(step) for step in steps]
    for _, ids in itertools.groupby(rows, key=operator.itemgetter(0)):
        packed = array.array("q")
        for _, data in ids:
            packed.frombytes(data)
        if sys.byteorder == "little":
            packed.byteswap()  # int8send writes big-endian
        yield Packed.of_numbers(packed, len(kinds), place, base)


# The most buckets whose presence fits a bigint mask, one bit each (bits 0-61: clear of the sign).
MASK_BUCKETS = 62


def retention(conn, project_id: int, query: Query, bounds: list, periods: int) -> dict:
    """{(cohort bucket, k): people}: from one presence mask per person when the buckets fit one
    (analytics_retention_masks), else by grouping presence per (bucket, person)."""
    if not bounds:
        return {}
    by_day = query.filters.day_ready
    actions = query.filters.actions
    pieces = (day_pieces(bounds, query.start, counters=False, weeks=not actions) if by_day else DayPieces()).params()
    params = {**query_params(project_id, query), **pieces, "bounds": bounds, "periods": periods, "by_day": by_day}
    if len(bounds) - 1 > MASK_BUCKETS:
        rows = run_prepared(conn, "analytics_retention", **params)
    else:
        with transaction(conn):
            run_prepared(conn, "analytics_retention_plan")
            rows = run_prepared(conn, "analytics_retention_masks", **params, buckets=len(bounds) - 1)
    return {(int(c), int(k)): int(n) for c, k, n in rows}
