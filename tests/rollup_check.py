"""Every number the rollups answer, against tests/oracle.py over the raw events still stored.

Used wherever rollups must be exact: generated data, concurrent and killed drains, the backfill
of an upgraded database. The raw rows and identity links are read back from PostgreSQL, so the
oracle sees exactly what was stored, once per event id.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from engine import config, metrics
from engine.core import metric_logic
from engine.db import reads
from tests import oracle

COLUMNS = 'project_id, user_id, action, element, duration, "timestamp", session_id'


def stored_events(conn) -> list[dict]:
    names = ("project_id", "user_id", "action", "element", "duration", "timestamp", "session_id")
    return [dict(zip(names, row, strict=True)) for row in conn.run(f"SELECT {COLUMNS} FROM events")]


def stored_links(conn) -> dict:
    return {(p, alias): person for p, alias, person in conn.run("SELECT project_id, alias_id, person_id FROM identity_links")}


def _close(a, b) -> bool:
    """Equal, or floats within 1e-9 relative: the rollups sum durations exactly (numeric), the
    oracle in binary floating point, which rounds at each addition."""
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(b)))
    return a == b


def _same(got: list[tuple], want: list[tuple]) -> bool:
    return len(got) == len(want) and all(len(g) == len(w) and all(map(_close, g, w)) for g, w in zip(got, want, strict=True))


def engaged(events: list[dict], project_id: int, links: dict, limit: int):
    """(top people, all events, all people) of a project, as GET /metrics/users orders them."""
    table = [
        (person, n, float(total), first, last)
        for (p, person), (n, _s, _e, total, _a, first, last) in oracle.user_engagement(events, links).items()
        if p == project_id
    ]
    table.sort(key=lambda t: (-t[1], -t[2], t[0].encode()))
    return table[:limit], sum(t[1] for t in table), len(table)


def check(conn, now: dt.datetime, projects: list[int], settings: config.Settings, events: list[dict] | None = None) -> int:
    """Assert that every rollup read equals the oracle; returns how many events were compared."""
    events = stored_events(conn) if events is None else events
    links = stored_links(conn)
    limit = settings.top_elements
    for project_id in projects:
        mine = [e for e in events if e["project_id"] == project_id]
        body = metrics.read_metrics(conn, project_id, now, settings)
        expected = oracle.headline(mine, project_id, now, settings.active_window_seconds, limit, links)
        assert {k: body[k] for k in expected} == expected, project_id
        assert body["all_time"] == oracle.all_time(mine, project_id, limit, links), project_id

        first, last = metric_logic.minute_span(now, 90)
        recent = [e for e in mine if first <= e["timestamp"] < last + oracle.MINUTE]
        assert reads.per_minute(conn, project_id, first, last) == oracle.per_minute(recent, project_id, first, last, links)
        got = reads.recent_elements(conn, project_id, first, last, limit)
        want = oracle.window_elements(recent, project_id, first, last, limit, links)
        assert _same(got, want), (got, want)

        week_first, _ = metric_logic.minute_span(now, metric_logic.HEATMAP_MINUTES)
        week = [e for e in mine if week_first <= e["timestamp"] < last + oracle.MINUTE]
        cells = {}
        for e in week:
            at = e["timestamp"].astimezone(dt.UTC)
            cells[at.isoweekday(), at.hour] = cells.get((at.isoweekday(), at.hour), 0) + 1
        assert reads.heatmap(conn, project_id, week_first, last) == [(d, h, cells.get((d, h), 0)) for d in range(1, 8) for h in range(24)]

        got_users, got_events, got_people = reads.engaged_users(conn, project_id, 10)
        want_users, want_events, want_people = engaged(mine, project_id, links, 10)
        assert (got_events, got_people) == (want_events, want_people)
        assert _same(got_users, want_users), (got_users, want_users)

    check_views(conn, events, links)
    check_days(conn, events)
    return len(events)


def check_days(conn, events: list[dict]) -> None:
    """rollup_day_users holds each (project, UTC day, user id) with the UTC hours of its events,
    rollup_days each day's distinct user ids, events, durations and their sum; rollup_week_users each
    (project, UTC week's Monday, user id); the same per action in rollup_day_action_users and
    rollup_day_actions; rollup_hour_actions, rollup_hour_elements and rollup_day_elements the events,
    durations and their sum per UTC hour and action or element, and per UTC day and element;
    rollup_element_users each (user id, element) with the UTC day of its newest event."""
    present: dict = {}
    hours: dict = {}
    element_hours: dict = {}
    element_days: dict = {}
    last_days: dict = {}
    for e in events:
        at = e["timestamp"].astimezone(dt.UTC)
        hour = at.replace(minute=0, second=0, microsecond=0)
        for key in ((e["project_id"], at.date(), e["user_id"]), (e["project_id"], at.date(), e["action"], e["user_id"])):
            present[key] = present.get(key, 0) | 1 << at.hour
        cells = [hours.setdefault((e["project_id"], hour, e["action"]), [0, 0, 0.0])]
        if e["element"] is not None:
            cells.append(element_hours.setdefault((e["project_id"], hour, e["element"]), [0, 0, 0.0]))
            cells.append(element_days.setdefault((e["project_id"], at.date(), e["element"]), [0, 0, 0.0]))
            pair = (e["project_id"], e["user_id"], e["element"])
            last_days[pair] = max(last_days.get(pair, at.date()), at.date())
        for cell in cells:
            cell[0] += 1
            if e["duration"] is not None:
                cell[1] += 1
                cell[2] += e["duration"]
    by_day = {key: h for key, h in present.items() if len(key) == 3}
    by_action = {key: h for key, h in present.items() if len(key) == 4}
    assert {(p, d, u): h for p, d, u, h in conn.run("SELECT project_id, day, user_id, hours FROM rollup_day_users")} == by_day
    assert {
        (p, d, a, u): h for p, d, a, u, h in conn.run("SELECT project_id, day, action, user_id, hours FROM rollup_day_action_users")
    } == by_action
    assert {(p, d): n for p, d, n in conn.run("SELECT project_id, day, users FROM rollup_days")} == _counted(by_day)
    by_week = {(p, d - dt.timedelta(days=d.weekday()), u) for p, d, u in by_day}
    assert set(map(tuple, conn.run("SELECT project_id, week, user_id FROM rollup_week_users"))) == by_week
    assert {(p, d, a): n for p, d, a, n in conn.run("SELECT project_id, day, action, users FROM rollup_day_actions")} == _counted(by_action)
    for table, want_cells in (
        ("rollup_hour_actions", hours),
        ("rollup_hour_elements", element_hours),
        ("rollup_day_elements", element_days),
    ):
        got = {(p, h, k): (n, d, s) for p, h, k, n, d, s in conn.run(f"SELECT * FROM {table}")}
        assert got.keys() == want_cells.keys(), table
        assert all(got[key][:2] == tuple(want[:2]) and _close(float(got[key][2]), want[2]) for key, want in want_cells.items()), table
    got_days = {(p, u, el): day for p, u, el, day in conn.run("SELECT project_id, user_id, element, last_day FROM rollup_element_users")}
    assert got_days == last_days
    days: dict = {}
    for (p, hour, a), cell in hours.items():
        for key in ((p, hour.date()), (p, hour.date(), a)):
            total = days.setdefault(key, [0, 0, 0.0])
            total[0], total[1], total[2] = total[0] + cell[0], total[1] + cell[1], total[2] + cell[2]
    got = {(p, d): (n, c, s) for p, d, n, c, s in conn.run("SELECT project_id, day, events, durations, duration_sum FROM rollup_days")}
    got.update(
        {
            (p, d, a): (n, c, s)
            for p, d, a, n, c, s in conn.run("SELECT project_id, day, action, events, durations, duration_sum FROM rollup_day_actions")
        }
    )
    assert got.keys() == days.keys()
    assert all(got[key][:2] == tuple(want[:2]) and _close(float(got[key][2]), want[2]) for key, want in days.items())


def _counted(present: dict) -> dict:
    """Distinct ids per key without its last part (the id)."""
    counts: dict = {}
    for key in present:
        counts[key[:-1]] = counts.get(key[:-1], 0) + 1
    return counts


def check_views(conn, events: list[dict], links: dict) -> None:
    got = {
        (p, u): (n, s, el, total, avg, first, last)
        for p, u, n, s, el, total, avg, first, last in conn.run(
            "SELECT project_id, user_id, events, sessions, elements, total_duration, avg_duration, first_seen, last_seen FROM user_engagement"
        )
    }
    want = oracle.user_engagement(events, links)
    assert got.keys() == want.keys()
    for key, (n, s, el, total, avg, first, last) in want.items():
        g = got[key]
        assert (g[0], g[1], g[2], g[5], g[6]) == (n, s, el, first, last), key
        assert _close(g[3], total) and _close(g[4], avg), key

    heat = {
        (p, wd, h): (n, users) for p, wd, h, n, users in conn.run("SELECT project_id, weekday, hour, events, users FROM activity_heatmap")
    }
    assert heat == oracle.activity_heatmap(events, links)

    ranks = {
        (p, el): (n, users, rank)
        for p, el, n, users, rank in conn.run("SELECT project_id, element, events, users, rank FROM element_rankings")
    }
    assert ranks == oracle.element_rankings(events, links)


@dataclasses.dataclass
class Totals:
    """What all-time figures say, for comparing before and after retention."""

    all_time: dict
    engagement: list
    rankings: list
    heatmap: list


def all_time_figures(conn, project_id: int, now: dt.datetime, settings: config.Settings) -> Totals:
    return Totals(
        metrics.read_metrics(conn, project_id, now, settings)["all_time"],
        sorted(conn.run("SELECT * FROM user_engagement WHERE project_id = :p", p=project_id)),
        sorted(conn.run("SELECT * FROM element_rankings WHERE project_id = :p", p=project_id)),
        sorted(
            conn.run("SELECT project_id, weekday, hour, events, avg_duration FROM activity_heatmap WHERE project_id = :p", p=project_id)
        ),
    )
