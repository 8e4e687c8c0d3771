"""The metric definitions of the README, computed from raw events in plain Python.

Written from the README's words, not from engine.metric_logic, so that a query and its
definition can disagree and the tests will say so.
"""

from __future__ import annotations

import datetime as dt


def _top(events: list[dict], limit: int) -> list[dict]:
    per_element: dict[str, int] = {}
    for e in events:
        if e["element"] is not None:
            per_element[e["element"]] = per_element.get(e["element"], 0) + 1
    ranked = sorted(per_element.items(), key=lambda item: (-item[1], item[0].encode()))
    return [{"element": name, "count": n} for name, n in ranked[:limit]]


def headline(events: list[dict], project_id: int, now: dt.datetime, window_seconds: int, limit: int) -> dict:
    since = now - dt.timedelta(seconds=window_seconds)
    inside = [e for e in events if e["project_id"] == project_id and since < e["timestamp"] <= now]
    durations = [e["duration"] for e in inside if e["duration"] is not None]
    return {
        "active_users": len({e["user_id"] for e in inside}),
        "events_per_min": round(len(inside) / (window_seconds / 60), 2),
        "avg_duration": round(sum(durations) / len(durations), 2) if durations else 0.0,
        "top_elements": _top(inside, limit),
        "events_in_window": len(inside),
    }


def all_time(events: list[dict], project_id: int, limit: int) -> dict:
    mine = [e for e in events if e["project_id"] == project_id]
    return {"events": len(mine), "users": len({e["user_id"] for e in mine}), "top_elements": _top(mine, limit)}


def user_engagement(events: list[dict]) -> dict:
    rows: dict = {}
    for e in events:
        key = (e["project_id"], e["user_id"])
        row = rows.setdefault(key, {"events": 0, "sessions": set(), "elements": set(), "durations": [], "times": []})
        row["events"] += 1
        if e["session_id"] is not None:
            row["sessions"].add(e["session_id"])
        if e["element"] is not None:
            row["elements"].add(e["element"])
        if e["duration"] is not None:
            row["durations"].append(e["duration"])
        row["times"].append(e["timestamp"])
    return {
        key: (
            r["events"],
            len(r["sessions"]),
            len(r["elements"]),
            sum(r["durations"]),
            (sum(r["durations"]) / len(r["durations"])) if r["durations"] else None,
            min(r["times"]),
            max(r["times"]),
        )
        for key, r in rows.items()
    }


def activity_heatmap(events: list[dict]) -> dict:
    cells: dict = {}
    for e in events:
        moment = e["timestamp"].astimezone(dt.UTC)
        key = (e["project_id"], moment.isoweekday(), moment.hour)
        cell = cells.setdefault(key, {"events": 0, "users": set()})
        cell["events"] += 1
        cell["users"].add(e["user_id"])
    return {key: (c["events"], len(c["users"])) for key, c in cells.items()}


def element_rankings(events: list[dict]) -> dict:
    counts: dict = {}
    users: dict = {}
    for e in events:
        if e["element"] is None:
            continue
        key = (e["project_id"], e["element"])
        counts[key] = counts.get(key, 0) + 1
        users.setdefault(key, set()).add(e["user_id"])
    result = {}
    for (project, element), n in counts.items():
        rank = 1 + sum(1 for (p, _), m in counts.items() if p == project and m > n)
        result[(project, element)] = (n, len(users[(project, element)]), rank)
    return result
