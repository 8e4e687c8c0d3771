"""The analytics routes (engine.analytics) against their README definitions (tests/analytics_oracle.py), exactly.

Generated events around two daylight-saving changes (Europe/Berlin 2026-10-25, America/New_York
2026-11-01), with late events loaded after later ones, resent ids, identity links arriving after
their events, several projects, filters and empty ranges; each route is asked through the metrics
function and compared with the oracle as a whole body.
"""

import datetime as dt
import random
import uuid
from urllib.parse import urlencode

import pytest

from engine.core.query import parse_query
from engine.db import analytics_reads, writes
from tests import analytics_oracle as oracle
from tests.conftest import READ
from tests.helpers import copy_lines

pytestmark = pytest.mark.integration

START = dt.datetime(2026, 10, 23, tzinfo=dt.UTC)
DAYS = 12
ACTIONS = ["view", "play", "pause", "click"]
ELEMENTS = [None, "video_player", "like, button", 'say "hi"', "line\nbreak", "élan"]
LINKS = {(1, "anon_1"): "user_1", (1, "anon_2"): "user_1", (1, "anon_3"): "user_3"}
TZS = ["UTC", "America/New_York", "Europe/Berlin", "Asia/Kathmandu"]


def generated(seed: int, count: int) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        rows.append(
            {
                "event_id": str(uuid.uuid4()),
                "project_id": rng.choice([1, 1, 1, 1, 2]),
                "user_id": rng.choice([f"user_{i}" for i in range(12)] + ["anon_1", "anon_2", "anon_3"]),
                "action": rng.choice(ACTIONS),
                "element": rng.choice(ELEMENTS),
                # Multiples of 1/8 are exact in binary: any summation order gives the same mean.
                "duration": rng.choice([None, rng.randrange(0, 4000) / 8]),
                "timestamp": START + dt.timedelta(seconds=rng.randrange(DAYS * 86400)),
                "session_id": rng.choice([None, None, f"s{rng.randrange(6)}"]),
                "properties": rng.choice([None, {"plan": rng.choice(["pro", "team", "free"])}, {"plan": "pro", "n": rng.choice([1, 2])}]),
            }
        )
    return rows


def load(conn, rows: list[dict]) -> None:
    """Late events (the older half) arrive after the newer, a tenth is resent, and the links come last."""
    ordered = sorted(rows, key=lambda e: e["timestamp"])
    half = len(ordered) // 2
    writes.load_rows(conn, copy_lines(ordered[half:], START))
    writes.load_rows(conn, copy_lines(ordered[:half] + ordered[half::10], START))
    for (project, alias), target in LINKS.items():
        conn.run("INSERT INTO identity_links (project_id, alias_id, person_id) VALUES (:p, :a, :t)", p=project, a=alias, t=target)


@pytest.fixture
def data(conn):
    rows = generated(7, 1500)
    load(conn, rows)
    return rows


def ask(apps, route: str, params: list[tuple[str, str]]):
    response = apps["metrics"].get(f"/metrics/{route}?{urlencode(params)}", headers=READ)
    assert response.status_code == 200, response.json
    return response.json


def parsed(params):
    q = parse_query(params, dt.datetime(2030, 1, 1, tzinfo=dt.UTC), ("interval", "by", "limit", "steps", "within", "period", "periods"))
    return q.start, q.end, q.tz, q.filters


FILTERS = {
    "none": [],
    "element": [("element", "video_player"), ("element", "élan")],
    "action": [("action", "play"), ("action", "pause")],
    "property": [("property.plan", "pro"), ("property.plan", "team")],
    "person by an alias": [("user_id", "anon_2")],
    "all of them": [("action", "play"), ("element", "video_player"), ("property.plan", "pro"), ("user_id", "user_1")],
}
RANGES = {
    "days": [("from", "2026-10-24T00:00:00"), ("to", "2026-11-03T00:00:00")],
    "offsets and a partial minute": [("from", "2026-10-24T13:07:41+02:00"), ("to", "2026-11-02T09:30:00Z")],
}


@pytest.mark.parametrize("tz", TZS)
@pytest.mark.parametrize("interval", ["day", "week", "month"])
@pytest.mark.parametrize("filters", ["none", "element", "action"])
def test_timeseries_by_day_week_month_matches_its_definition(apps, data, tz, interval, filters):
    params = [*RANGES["days"], ("tz", tz), ("interval", interval), *FILTERS[filters]]
    body = ask(apps, "timeseries", params)
    start, end, zone, f = parsed(params)
    assert body["points"] == oracle.timeseries(data, 1, start, end, zone, f, interval, LINKS)
    assert sum(p["events"] for p in body["points"]) > 0


@pytest.mark.parametrize("tz", TZS)
@pytest.mark.parametrize("interval", ["minute", "hour"])
def test_timeseries_by_minute_and_hour_across_the_dst_change_matches(apps, data, tz, interval):
    day = "2026-11-01" if tz != "Europe/Berlin" else "2026-10-25"
    hours = 24 if interval == "minute" else 0
    params = [
        ("from", f"{day}T01:00:00"),
        ("to", f"{day}T03:00:00" if hours else "2026-11-02T00:00:00"),
        ("tz", tz),
        ("interval", interval),
    ]
    body = ask(apps, "timeseries", params)
    start, end, zone, f = parsed(params)
    assert body["points"] == oracle.timeseries(data, 1, start, end, zone, f, interval, LINKS)


def test_a_dst_day_is_one_bucket_of_25_hours_and_the_offset_is_in_t(apps, data):
    params = [("from", "2026-10-31"), ("to", "2026-11-03"), ("tz", "America/New_York"), ("interval", "day")]
    assert [p["t"] for p in ask(apps, "timeseries", params)["points"]] == [
        "2026-10-31T00:00:00-04:00",
        "2026-11-01T00:00:00-04:00",
        "2026-11-02T00:00:00-05:00",
    ]
    hours = ask(apps, "timeseries", [("from", "2026-11-01"), ("to", "2026-11-02"), ("tz", "America/New_York"), ("interval", "hour")])
    assert len(hours["points"]) == 25
    assert [p["t"] for p in hours["points"][1:3]] == ["2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00"]


@pytest.mark.parametrize("filters", list(FILTERS))
@pytest.mark.parametrize("by", ["action", "element", "user_id", "property.plan"])
def test_breakdown_matches_its_definition(apps, data, filters, by):
    params = [*RANGES["offsets and a partial minute"], ("by", by), ("limit", "4"), *FILTERS[filters]]
    body = ask(apps, "breakdown", params)
    start, end, _, f = parsed(params)
    assert body["rows"] == oracle.breakdown(data, 1, start, end, f, by, 4, LINKS)


@pytest.mark.parametrize("filters", list(FILTERS))
@pytest.mark.parametrize("range_name", list(RANGES))
def test_sessions_match_their_definition(apps, settings, data, filters, range_name):
    params = [*RANGES[range_name], *FILTERS[filters]]
    body = ask(apps, "sessions", params)
    start, end, _, f = parsed(params)
    expected = oracle.sessions(data, 1, start, end, f, settings.session_gap_seconds, LINKS)
    assert {k: body[k] for k in expected} == expected
    assert filters == "all of them" or expected["sessions"] > 0


@pytest.mark.parametrize("tz", TZS)
@pytest.mark.parametrize("period", ["day", "week"])
@pytest.mark.parametrize("filters", ["none", "element", "action", "property"])
def test_retention_matches_its_definition(apps, data, tz, period, filters):
    params = [*RANGES["days"], ("tz", tz), ("period", period), ("periods", "3"), *FILTERS[filters]]
    body = ask(apps, "retention", params)
    start, end, zone, f = parsed(params)
    assert body["cohorts"] == oracle.retention(data, 1, start, end, zone, f, period, 3, LINKS)


@pytest.mark.parametrize("first_day", ["2026-08-25", "2026-08-24"])  # 62 daily buckets (the most a mask holds), then 63
@pytest.mark.parametrize("filters", ["none", "action", "element"])
def test_retention_at_the_last_bucket_a_mask_holds_and_past_it_matches_its_definition(apps, data, first_day, filters):
    params = [("from", f"{first_day}T00:00:00Z"), ("to", "2026-10-26T00:00:00Z"), ("tz", "UTC"), ("period", "day"), ("periods", "7")]
    body = ask(apps, "retention", params + FILTERS[filters])
    start, end, zone, f = parsed(params + FILTERS[filters])
    assert len(body["cohorts"]) == analytics_reads.MASK_BUCKETS + (first_day == "2026-08-24")
    assert body["cohorts"] == oracle.retention(data, 1, start, end, zone, f, "day", 7, LINKS)
    assert sum(c["size"] for c in body["cohorts"][-3:]) > 0  # people in the mask's highest bits


@pytest.mark.parametrize("tz", TZS)
@pytest.mark.parametrize("filters", ["none", "element", "action", "person by an alias"])
def test_uniques_match_their_definition(apps, data, tz, filters):
    params = [*RANGES["offsets and a partial minute"], ("tz", tz), *FILTERS[filters]]
    body = ask(apps, "uniques", params)
    start, end, zone, f = parsed(params)
    assert {k: body[k] for k in ("daily", "weekly", "monthly")} == oracle.uniques(data, 1, start, end, zone, f, LINKS)


def expected_at_defaults(route: str, data: list[dict], params) -> dict:
    """The oracle's answer of a route with its default parameters."""
    start, end, zone, f = parsed(params)
    if route == "timeseries":
        return {"points": oracle.timeseries(data, 1, start, end, zone, f, "day", LINKS)}
    if route == "breakdown":
        return {"rows": oracle.breakdown(data, 1, start, end, f, "element", 10, LINKS)}
    if route == "sessions":
        return oracle.sessions(data, 1, start, end, f, 1800, LINKS)
    if route == "retention":
        return {"cohorts": oracle.retention(data, 1, start, end, zone, f, "day", 7, LINKS)}
    return oracle.uniques(data, 1, start, end, zone, f, LINKS)


@pytest.mark.parametrize("route", ["timeseries", "breakdown", "sessions", "retention", "uniques"])
def test_an_empty_range_and_a_range_without_events_answer_zeros(apps, data, route):
    same = [("from", "2026-10-25T10:00:00Z"), ("to", "2026-10-25T10:00:00Z")]
    before = [("from", "2026-01-01T00:00:00Z"), ("to", "2026-01-03T00:00:00Z")]
    for params in (same, before):
        body = ask(apps, route, params)
        expected = expected_at_defaults(route, data, params)
        assert {k: body[k] for k in expected} == expected
    assert ask(apps, "timeseries", same)["points"] == []
    assert len(ask(apps, "timeseries", before)["points"]) == 2
