"""The metrics function's reads: each takes its connection and returns rows as plain tuples."""

from __future__ import annotations

from engine.db.queries import run_prepared


def window_aggregates(conn, project_id: int, first, last) -> tuple[int, int, float | None]:
    """(events, distinct people, mean duration) of one project's minutes first through last."""
    rows = run_prepared(conn, "metrics_window", project_id=project_id, first=first, last=last)
    events, users, avg_duration = rows[0]
    return int(events), int(users), None if avg_duration is None else float(avg_duration)


def top_elements(conn, project_id: int, first, last, limit: int) -> list[tuple[str, int]]:
    rows = run_prepared(conn, "metrics_top_elements", project_id=project_id, first=first, last=last, limit=limit)
    return [(element, int(count)) for element, count in rows]


def all_time(conn, project_id: int, limit: int) -> tuple[int, int, list[tuple[str, int]]]:
    """(events, people, top elements) of everything a project ever stored, from the rollups."""
    events, users = run_prepared(conn, "metrics_all_time", project_id=project_id)[0]
    top = run_prepared(conn, "metrics_all_time_elements", project_id=project_id, limit=limit)
    return int(events), int(users), [(element, int(count)) for element, count in top]


def per_minute(conn, project_id: int, first, last) -> list[tuple]:
    """(minute, events, people) for every minute from first through last, zeros included."""
    rows = run_prepared(conn, "metrics_per_minute", project_id=project_id, first=first, last=last)
    return [(minute, int(events), int(users)) for minute, events, users in rows]


def recent_elements(conn, project_id: int, first, last, limit: int) -> list[tuple]:
    """(element, events, people, mean duration or None) from minute first through last, most used first."""
    rows = run_prepared(conn, "metrics_recent_elements", project_id=project_id, first=first, last=last, limit=limit)
    return [(element, int(events), int(users), None if avg is None else float(avg)) for element, events, users, avg in rows]


def heatmap(conn, project_id: int, first, last) -> list[tuple[int, int, int]]:
    """(ISO weekday, UTC hour, events) for all 168 cells over the minutes first through last."""
    rows = run_prepared(conn, "metrics_heatmap", project_id=project_id, first=first, last=last)
    return [(int(weekday), int(hour), int(events)) for weekday, hour, events in rows]


def engaged_users(conn, project_id: int, limit: int) -> tuple[list[tuple], int, int]:
    """([(person, events, total duration, first seen, last seen)], all events, all people), from the rollups."""
    rows = run_prepared(conn, "metrics_engaged_users", project_id=project_id, limit=limit)
    users = [(user_id, int(events), float(total), first, last) for user_id, events, total, first, last, _, _ in rows]
    return users, int(rows[0][5]) if rows else 0, int(rows[0][6]) if rows else 0


def replica_state(conn) -> dict:
    """A replica's replay position (db/sql/replica_state.sql); on a primary, only the last drain."""
    replica, unreplayed, replayed_at, paused, last_drain, now = run_prepared(conn, "replica_state")[0]
    return {
        "replica": replica,
        "unreplayed_bytes": unreplayed,
        "replayed_at": replayed_at,
        "paused": paused,
        "last_drain": last_drain,
        "now": now,
    }
