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


# --- Buckets, from the README's words: a bucket is a local wall-clock minute, hour, date, Monday-week or month. ---


def bucket_key(moment: dt.datetime, tz, interval: str):
    """The bucket of an instant as (first local wall time, its UTC offset) — the offset parts the repeated hour of a DST end."""
    local = moment.astimezone(tz)
    if interval == "minute":
        return (local.replace(second=0, microsecond=0, tzinfo=None), local.utcoffset())
    if interval == "hour":
        return (local.replace(minute=0, second=0, microsecond=0, tzinfo=None), local.utcoffset())
    day = local.date()
    if interval == "week":
        day -= dt.timedelta(days=day.isoweekday() - 1)
    if interval == "month":
        day = day.replace(day=1)
    return (dt.datetime(day.year, day.month, day.day), None)


def bucket_label(key, tz) -> str:
    wall, offset = key
    if offset is None:  # a day, week or month starts at local midnight, with that instant's offset
        return wall.replace(tzinfo=tz).isoformat()
    return wall.replace(tzinfo=dt.timezone(offset)).isoformat()


def bucket_keys(start: dt.datetime, end: dt.datetime, tz, interval: str) -> list:
    """Every bucket a minute of [start, end) falls in, in order."""
    keys, moment = [], start
    while moment < end:
        key = bucket_key(moment, tz, interval)
        if not keys or keys[-1] != key:
            keys.append(key)
        moment += dt.timedelta(minutes=1)
    return keys


def _mean(durations: list) -> float:
    return round(sum(durations) / len(durations), 2) if durations else 0.0


def timeseries(events, project_id, start, end, tz, filters, interval, links=None) -> list[dict]:
    chosen = selected(events, project_id, start, end, filters, links)
    points = []
    for key in bucket_keys(start, end, tz, interval):
        inside = [e for e in chosen if bucket_key(e["timestamp"], tz, interval) == key]
        durations = [e["duration"] for e in inside if e["duration"] is not None]
        points.append(
            {
                "t": bucket_label(key, tz),
                "events": len(inside),
                "users": len({person(e, links) for e in inside}),
                "avg_duration": _mean(durations),
            }
        )
    return points


def breakdown(events, project_id, start, end, filters, by, limit, links=None) -> list[dict]:
    groups: dict = {}
    for e in selected(events, project_id, start, end, filters, links):
        if by == "action":
            value = e.get("action", "click")
        elif by == "element":
            value = e["element"]
        elif by == "user_id":
            value = person(e, links)
        else:
            raw = (e.get("properties") or {}).get(by[len("property.") :])
            value = None if raw is None else _text(raw)
        if value is not None:
            groups.setdefault(value, []).append(e)
    ranked = sorted(groups.items(), key=lambda item: (-len(item[1]), item[0].encode()))[:limit]
    return [
        {
            "value": value,
            "events": len(rows),
            "users": len({person(e, links) for e in rows}),
            "avg_duration": _mean([e["duration"] for e in rows if e["duration"] is not None]),
        }
        for value, rows in ranked
    ]


def sessions(events, project_id, start, end, filters, gap_seconds, links=None) -> dict:
    """Sessions: a person's events with one session_id; without one, split where a gap is >= gap_seconds."""
    by_key: dict = {}
    for e in selected(events, project_id, start, end, filters, links):
        by_key.setdefault((person(e, links), e["session_id"]), []).append(e["timestamp"])
    found = []  # (events, length in seconds)
    for (_, session_id), times in by_key.items():
        times.sort()
        if session_id is not None:
            found.append((len(times), (times[-1] - times[0]).total_seconds()))
            continue
        run = [times[0]]
        for t in times[1:]:
            if (t - run[-1]).total_seconds() >= gap_seconds:
                found.append((len(run), (run[-1] - run[0]).total_seconds()))
                run = []
            run.append(t)
        found.append((len(run), (run[-1] - run[0]).total_seconds()))
    if not found:
        return {"sessions": 0, "median_seconds": 0.0, "mean_seconds": 0.0, "bounce_rate": 0.0, "events_per_session": 0.0}
    lengths = sorted(length for _, length in found)
    middle = len(lengths) // 2
    median = lengths[middle] if len(lengths) % 2 else (lengths[middle - 1] + lengths[middle]) / 2
    return {
        "sessions": len(found),
        "median_seconds": round(median, 2),
        "mean_seconds": round(sum(lengths) / len(lengths), 2),
        "bounce_rate": round(sum(1 for n, _ in found if n == 1) / len(found), 4),
        "events_per_session": round(sum(n for n, _ in found) / len(found), 2),
    }


def _step_matches(step: str, e: dict) -> bool:
    action, _, element = step.partition(":")
    return e.get("action", "click") == action and (not element or e["element"] == element)


def _attempt(seq: list[dict], first: int, steps: list[str], within: float) -> list[dt.datetime]:
    """From the step-1 event seq[first]: the deepest chain of later events (dynamic programming over all
    chains), and among the deepest the one taking the earliest event at each step."""
    t0 = seq[first]["timestamp"]
    depth: dict = {}

    def reach(j: int, k: int) -> int:  # steps matched from step k at event j onwards, j included
        if (j, k) not in depth:
            best = 1
            if k + 1 < len(steps):
                for n in range(j + 1, len(seq)):
                    t = seq[n]["timestamp"]
                    if t > seq[j]["timestamp"] and (t - t0).total_seconds() <= within and _step_matches(steps[k + 1], seq[n]):
                        best = max(best, 1 + reach(n, k + 1))
            depth[j, k] = best
        return depth[j, k]

    chain, j, k = [t0], first, 0
    need = reach(first, 0)
    while len(chain) < need:
        for n in range(j + 1, len(seq)):
            t = seq[n]["timestamp"]
            if t > seq[j]["timestamp"] and (t - t0).total_seconds() <= within and _step_matches(steps[k + 1], seq[n]):
                if reach(n, k + 1) == need - len(chain):
                    chain.append(t)
                    j, k = n, k + 1
                    break
    return chain


def funnel(events, project_id, start, end, filters, steps: list[str], within: float, links=None) -> list[dict]:
    per_person: dict = {}
    for e in selected(events, project_id, start, end, filters, links):
        per_person.setdefault(person(e, links), []).append(e)
    reached = [0] * len(steps)
    gaps: list[list[float]] = [[] for _ in steps]
    for seq in per_person.values():
        seq.sort(key=lambda e: e["timestamp"])
        best: list = []
        for i, e in enumerate(seq):
            if _step_matches(steps[0], e):
                chain = _attempt(seq, i, steps, within)
                if len(chain) > len(best):
                    best = chain
        for k, t in enumerate(best):
            reached[k] += 1
            if k:
                gaps[k].append((t - best[k - 1]).total_seconds())
    answer = []
    for k, step in enumerate(steps):
        g = sorted(gaps[k])
        median = None if not g else (g[len(g) // 2] if len(g) % 2 else (g[len(g) // 2 - 1] + g[len(g) // 2]) / 2)
        answer.append(
            {
                "step": step,
                "people": reached[k],
                "conversion_from_first": round(reached[k] / reached[0], 4) if reached[0] else 0.0,
                "conversion_from_previous": round(reached[k] / (reached[k - 1] if k else reached[0]), 4)
                if (reached[k - 1] if k else reached[0])
                else 0.0,
                "median_seconds_from_previous": None if median is None else round(median, 3),
            }
        )
    return answer


def retention(events, project_id, start, end, tz, filters, period: str, periods: int, links=None) -> list[dict]:
    keys = bucket_keys(start, end, tz, period)
    index = {key: i for i, key in enumerate(keys)}
    active: dict = {}
    for e in selected(events, project_id, start, end, filters, links):
        active.setdefault(person(e, links), set()).add(index[bucket_key(e["timestamp"], tz, period)])
    cohorts = []
    for i, key in enumerate(keys):
        members = [p for p, seen in active.items() if min(seen) == i]
        cohorts.append(
            {
                "start": bucket_label(key, tz),
                "size": len(members),
                "active": [sum(1 for p in members if i + k in active[p]) for k in range(periods + 1)],
            }
        )
    return cohorts


def uniques(events, project_id, start, end, tz, filters, links=None) -> dict:
    chosen = selected(events, project_id, start, end, filters, links)
    answer = {}
    for name, interval in (("daily", "day"), ("weekly", "week"), ("monthly", "month")):
        answer[name] = [
            {
                "t": bucket_label(key, tz),
                "people": len({person(e, links) for e in chosen if bucket_key(e["timestamp"], tz, interval) == key}),
            }
            for key in bucket_keys(start, end, tz, interval)
        ]
    return answer
