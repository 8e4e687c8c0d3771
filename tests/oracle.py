"""The metric definitions of the README, computed from raw events in plain Python.

Written from the README's words, not from engine.metric_logic, so that a query and its
definition can disagree and the tests will say so. `links` maps (project_id, id) to the person
an identity link gives that id (README, Metric definitions: people, not ids).
"""

from __future__ import annotations

import datetime as dt

MINUTE = dt.timedelta(minutes=1)


def person(e: dict, links: dict | None) -> str:
    return (links or {}).get((e["project_id"], e["user_id"]), e["user_id"])


def window(now: dt.datetime, window_seconds: int) -> tuple[dt.datetime, dt.datetime]:
    """[start, end): the whole minutes of the window, the last being now's own minute."""
    end = now.replace(second=0, microsecond=0) + MINUTE
    return end - max(1, round(window_seconds / 60)) * MINUTE, end


def _top(events: list[dict], limit: int) -> list[dict]:
    per_element: dict[str, int] = {}
    for e in events:
        if e["element"] is not None:
            per_element[e["element"]] = per_element.get(e["element"], 0) + 1
    ranked = sorted(per_element.items(), key=lambda item: (-item[1], item[0].encode()))
    return [{"element": name, "count": n} for name, n in ranked[:limit]]


def headline(events: list[dict], project_id: int, now: dt.datetime, window_seconds: int, limit: int, links: dict | None = None) -> dict:
    start, end = window(now, window_seconds)
    inside = [e for e in events if e["project_id"] == project_id and start <= e["timestamp"] < end]
    durations = [e["duration"] for e in inside if e["duration"] is not None]
    return {
        "active_users": len({person(e, links) for e in inside}),
        "events_per_min": round(len(inside) / ((end - start) / MINUTE), 2),
        "avg_duration": round(sum(durations) / len(durations), 2) if durations else 0.0,
        "top_elements": _top(inside, limit),
        "events_in_window": len(inside),
    }


def all_time(events: list[dict], project_id: int, limit: int, links: dict | None = None) -> dict:
    mine = [e for e in events if e["project_id"] == project_id]
    return {"events": len(mine), "users": len({person(e, links) for e in mine}), "top_elements": _top(mine, limit)}


def user_engagement(events: list[dict], links: dict | None = None) -> dict:
    rows: dict = {}
    for e in events:
        key = (e["project_id"], person(e, links))
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


def activity_heatmap(events: list[dict], links: dict | None = None) -> dict:
    cells: dict = {}
    for e in events:
        moment = e["timestamp"].astimezone(dt.UTC)
        key = (e["project_id"], moment.isoweekday(), moment.hour)
        cell = cells.setdefault(key, {"events": 0, "users": set()})
        cell["events"] += 1
        cell["users"].add(person(e, links))
    return {key: (c["events"], len(c["users"])) for key, c in cells.items()}


def element_rankings(events: list[dict], links: dict | None = None) -> dict:
    counts: dict = {}
    users: dict = {}
    for e in events:
        if e["element"] is None:
            continue
        key = (e["project_id"], e["element"])
        counts[key] = counts.get(key, 0) + 1
        users.setdefault(key, set()).add(person(e, links))
    result = {}
    for (project, element), n in counts.items():
        rank = 1 + sum(1 for (p, _), m in counts.items() if p == project and m > n)
        result[(project, element)] = (n, len(users[(project, element)]), rank)
    return result


def per_minute(events: list[dict], project_id: int, first: dt.datetime, last: dt.datetime, links: dict | None = None) -> list[tuple]:
    """(minute, events, people) for every minute from first through last (whole minutes)."""
    points = []
    at = first
    while at <= last:
        inside = [e for e in events if e["project_id"] == project_id and at <= e["timestamp"] < at + MINUTE]
        points.append((at, len(inside), len({person(e, links) for e in inside})))
        at += MINUTE
    return points


def window_elements(
    events: list[dict], project_id: int, first: dt.datetime, last: dt.datetime, limit: int, links: dict | None = None
) -> list:
    """(element, events, people, mean duration or None) over the minutes first through last, most used first."""
    inside = [e for e in events if e["project_id"] == project_id and first <= e["timestamp"] < last + MINUTE and e["element"] is not None]
    found: dict = {}
    for e in inside:
        found.setdefault(e["element"], []).append(e)
    ranked = sorted(found.items(), key=lambda item: (-len(item[1]), item[0].encode()))[:limit]
    out = []
    for element, group in ranked:
        durations = [e["duration"] for e in group if e["duration"] is not None]
        out.append((element, len(group), len({person(e, links) for e in group}), sum(durations) / len(durations) if durations else None))
    return out
