"""Pure definitions of the numbers GET /metrics answers. No I/O.

Over the window of event time made of the M whole minutes that end with the current one,
M = active_window_seconds / 60 rounded (5 by default; at least 1), i.e. from the start of the
minute M - 1 before now's to the end of now's minute:
- active_users:   distinct people (a user_id, or the person an identity link maps it to) with
                  at least one event in the window;
- events_per_min: events in the window / M, rounded to 2 decimals;
- avg_duration:   mean of the non-null durations in the window, rounded to 2 decimals,
                  0 when no event in the window has a duration;
- top_elements:   the elements with the most events in the window (null elements left
                  out), most first, ties by element in byte order, at most top_elements.

all_time answers the same questions over every event ever stored (events that retention has
since dropped included), from the rollups the drain keeps in the transaction that stores the
events, so it is exactly as current as the window:
- all_time.events: events stored; all_time.users: distinct people;
- all_time.top_elements: as top_elements, over all events.
"""

from __future__ import annotations

import datetime as dt

MINUTE = dt.timedelta(minutes=1)


def window_minutes(seconds: int) -> int:
    return max(1, round(seconds / 60))


def window(now: dt.datetime, seconds: int) -> tuple[dt.datetime, dt.datetime]:
    """(first, last): the whole minutes of the window, last being now's own minute."""
    last = now.replace(second=0, microsecond=0)
    return last - (window_minutes(seconds) - 1) * MINUTE, last


def events_per_min(events: int, seconds: int) -> float:
    return round(events / window_minutes(seconds), 2)


def mean_duration(avg: float | None) -> float:
    return 0.0 if avg is None else round(float(avg), 2)


def _moment(epoch: str | None) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(float(epoch), dt.UTC) if epoch else None


def shape_freshness(backlog: int, oldest_age: float | None, state: dict[str, str], now: dt.datetime) -> dict:
    """How current the numbers are: what waits in the stream, and when drain and refresh last ran.

    The headline numbers and all_time miss at most the backlog.
    """
    drained, refreshed = _moment(state.get("last_drain_at")), _moment(state.get("last_refresh_at"))
    return {
        "available": True,
        "backlog": backlog,
        "oldest_undrained_age_seconds": None if oldest_age is None else round(oldest_age, 3),
        "last_drain_at": drained.isoformat() if drained else None,
        "seconds_since_drain": round((now - drained).total_seconds(), 3) if drained else None,
        "last_refresh_at": refreshed.isoformat() if refreshed else None,
        "seconds_since_refresh": round((now - refreshed).total_seconds(), 3) if refreshed else None,
    }


def shape_metrics(
    *,
    events: int,
    users: int,
    avg_duration: float | None,
    top: list[tuple[str, int]],
    now: dt.datetime,
    seconds: int,
    all_time: tuple[int, int, list[tuple[str, int]]] = (0, 0, []),
) -> dict:
    """The body of GET /metrics: the seed's four keys first, then the window they cover."""
    first, last = window(now, seconds)
    return {
        "active_users": users,
        "events_per_min": events_per_min(events, seconds),
        "avg_duration": mean_duration(avg_duration),
        "top_elements": [{"element": element, "count": count} for element, count in top],
        "events_in_window": events,
        "window": {"seconds": window_minutes(seconds) * 60, "from": first.isoformat(), "to": (last + MINUTE).isoformat()},
        "as_of": now.isoformat(),
        "all_time": {
            "events": all_time[0],
            "users": all_time[1],
            "top_elements": [{"element": element, "count": count} for element, count in all_time[2]],
        },
    }


# --- The dashboard's series, GET /metrics/... (definitions in the README, "Dashboard and tracker"). ---

SERIES_MINUTES = 60  # the per-minute chart and its top elements cover this many minute buckets
HEATMAP_MINUTES = 7 * 1440  # a week: each weekday x hour cell is one hour of it (the current one partial)
ENGAGED_USERS = 10  # rows of the most-engaged-users table


def minute_span(now: dt.datetime, minutes: int = SERIES_MINUTES) -> tuple[dt.datetime, dt.datetime]:
    """(first, last): `minutes` whole minute buckets, the last one now's own (partial) minute."""
    return window(now, minutes * 60)


def _span(first: dt.datetime, last: dt.datetime) -> dict:
    return {"from": first.isoformat(), "to": (last + MINUTE).isoformat()}


def shape_per_minute(rows: list[tuple[dt.datetime, int, int]], first: dt.datetime, last: dt.datetime) -> dict:
    """GET /metrics/per-minute: one point per minute bucket, oldest first, and their total."""
    return {
        **_span(first, last),
        "bucket_seconds": 60,
        "events": sum(events for _, events, _ in rows),
        "points": [{"minute": minute.isoformat(), "events": events, "users": users} for minute, events, users in rows],
    }


def shape_elements(rows: list[tuple[str, int, int, float | None]], first: dt.datetime, last: dt.datetime) -> dict:
    """GET /metrics/elements: the most used elements over the per-minute chart's span."""
    return {
        **_span(first, last),
        "elements": [
            {"element": element, "events": events, "users": users, "avg_duration": mean_duration(avg)}
            for element, events, users, avg in rows
        ],
    }


def shape_heatmap(rows: list[tuple[int, int, int]], first: dt.datetime, last: dt.datetime) -> dict:
    """GET /metrics/heatmap: all 168 weekday x hour cells, with their total and largest count."""
    counts = [events for _, _, events in rows]
    return {
        **_span(first, last),
        "timezone": "UTC",
        "events": sum(counts),
        "max_events": max(counts, default=0),
        "cells": [{"weekday": weekday, "hour": hour, "events": events} for weekday, hour, events in rows],
    }


def shape_users(rows: list[tuple[str, int, float, dt.datetime, dt.datetime]], events: int, users: int) -> dict:
    """GET /metrics/users: all-time totals, and the most engaged users, most events first."""
    return {
        "total": {"events": events, "users": users},
        "users": [
            {
                "user_id": user_id,
                "events": events,
                "total_duration": round(total, 2),
                "first_seen": first.isoformat(),
                "last_seen": last.isoformat(),
            }
            for user_id, events, total, first, last in rows
        ],
    }


def on_replica(freshness: dict, replica: dict, now: dt.datetime) -> dict:
    """The freshness block of numbers read from a streaming replica: its replay lag, and the last
    drain the replica has replayed in place of the last drain Redis recorded, so that the block
    never vouches for rows the replica does not hold yet. Events drained but not yet replayed are
    in neither the backlog nor the numbers: unreplayed_bytes says that there are some.
    """
    unreplayed = replica["unreplayed_bytes"] or 0
    replayed_at = replica["replayed_at"]
    lag = 0.0 if unreplayed == 0 or replayed_at is None else max(0.0, (replica["now"] - replayed_at).total_seconds())
    drained = replica["last_drain"]
    out = dict(freshness)
    if out.get("available"):
        out["last_drain_at"] = drained.isoformat() if drained else None
        out["seconds_since_drain"] = round((now - drained).total_seconds(), 3) if drained else None
    out["read_from"] = "replica" if replica["replica"] else "primary"
    out["replica"] = {
        "replay_lag_seconds": round(lag, 3),
        "unreplayed_bytes": int(unreplayed),
        "replay_paused": bool(replica["paused"]),
        "last_replayed_at": replayed_at.isoformat() if replayed_at else None,
    }
    return out
