"""GET /metrics/breakdown?by=element's two readings of people against the oracle, exactly.

A range that ends at or after the project's newest event counts an element's people from each
(user id, element) pair's last day (sql/013_element_hours.sql); any other range from the minute
presence. Besides the generated events of test_analytics_routes, one element's events are placed
around the first day of the ranges asked: pairs whose last day is that day with events before and
after the range's start, one exactly at it, linked ids on both sides, and late events that move a
pair's last day after it was stored.
"""

import datetime as dt

import pytest

from engine.db import writes
from tests import analytics_oracle as oracle
from tests.helpers import copy_lines
from tests.integration.test_analytics_routes import LINKS, START, ask, generated, load, parsed

pytestmark = pytest.mark.integration

FIRST = dt.datetime(2026, 10, 27, 13, 7, tzinfo=dt.UTC)  # the trailing ranges' start


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


# (user id, timestamp) of the events of element "edge"; comments say whether the id is present from FIRST.
EDGE = [
    ("edge_before", at("2026-10-27T10:00:00")),  # last day is FIRST's day, every event before FIRST: absent
    ("edge_after", at("2026-10-27T10:00:00")),  # the same day, before and after FIRST: present
    ("edge_after", at("2026-10-27T20:00:00")),
    ("edge_exactly", FIRST),  # at FIRST itself: present
    ("edge_second_before", FIRST - dt.timedelta(seconds=1)),  # one second before: absent
    ("edge_same_minute", FIRST + dt.timedelta(seconds=59)),  # in FIRST's minute: present
    ("edge_later", at("2026-10-25T09:00:00")),  # last day after FIRST's day: present
    ("edge_later", at("2026-10-29T09:00:00")),
    ("edge_old", at("2026-10-26T23:59:59")),  # only the day before: absent
    ("anon_1", at("2026-10-27T15:00:00")),  # anon_1 and user_1 are one person, present on both sides
    ("user_1", at("2026-10-30T08:00:00")),
    ("anon_2", at("2026-10-27T09:00:00")),  # user_1's other alias, absent: still one person
    ("anon_3", at("2026-10-28T12:00:00")),  # anon_3 present, its person user_3 absent: one person
    ("user_3", at("2026-10-27T08:00:00")),
    ("edge_last", at("2026-11-04T23:59:30")),  # the newest event of the project
]
LATE = [("edge_before", at("2026-10-24T10:00:00")), ("edge_old", at("2026-10-31T07:00:00"))]  # stored after the rest


def edge_events(pairs) -> list[dict]:
    return [
        {"project_id": 1, "user_id": user, "action": "view", "element": "edge", "duration": 2.5, "timestamp": ts, "session_id": None}
        for user, ts in pairs
    ]


@pytest.fixture
def data(conn):
    rows = generated(7, 1500) + edge_events(EDGE)
    load(conn, rows)
    late = edge_events(LATE)
    writes.load_rows(conn, copy_lines(late, START))
    return rows + late


def newest_minute_end(conn) -> dt.datetime:
    return conn.run("SELECT max(minute) + interval '1 minute' FROM rollup_minutes WHERE project_id = 1")[0][0]


TRAILING = {
    "from the first day's minute": [("from", "2026-10-27T13:07:00Z")],
    "from within that minute": [("from", "2026-10-27T13:07:41Z")],
    "from the first day's midnight": [("from", "2026-10-27T00:00:00Z")],
    "from an offset": [("from", "2026-10-27T09:07:00-04:00"), ("tz", "America/New_York")],
    "from before every event": [("from", "2026-10-01T00:00:00Z")],
    "within the last day": [("from", "2026-11-04T22:30:00Z")],
    "within the last hour": [("from", "2026-11-04T23:58:00Z")],
}
TO_TRAILING = [("to", "2026-11-10T00:00:00Z")]


@pytest.mark.parametrize("filters", [[], [("element", "edge"), ("element", "video_player")]])
@pytest.mark.parametrize("range_name", list(TRAILING))
def test_a_range_to_after_the_newest_event_counts_people_from_last_days(apps, conn, data, range_name, filters):
    params = [*TRAILING[range_name], *TO_TRAILING, ("by", "element"), ("limit", "10"), *filters]
    start, end, _, f = parsed(params)
    assert end >= newest_minute_end(conn)  # the trailing reading
    body = ask(apps, "breakdown", params)
    assert body["rows"] == oracle.breakdown(data, 1, start, end, f, "element", 10, LINKS)
    assert body["rows"]


def test_the_edge_element_counts_the_ids_present_from_the_start_as_persons(apps, data):
    rows = ask(apps, "breakdown", [("from", "2026-10-27T13:07:00Z"), *TO_TRAILING, ("element", "edge")])["rows"]
    # edge_after, edge_exactly, edge_same_minute, edge_later, edge_old (late), edge_last, user_1, user_3
    assert [(r["value"], r["users"]) for r in rows] == [("edge", 8)]


@pytest.mark.parametrize(
    "to",
    [
        "2026-11-04T23:59:00Z",  # the newest event's minute is left out: the minute presence
        "2026-11-05T00:00:00Z",  # one minute after it: trailing
        "2026-11-02T09:30:00Z",
    ],
)
@pytest.mark.parametrize("start", ["2026-10-27T13:07:00Z", "2026-10-27T00:00:00Z", "2026-11-02T08:15:00Z"])
def test_ranges_ending_at_and_before_the_newest_event_match(apps, conn, data, start, to):
    params = [("from", start), ("to", to), ("by", "element"), ("limit", "10")]
    first, end, _, f = parsed(params)
    assert (end >= newest_minute_end(conn)) == (to == "2026-11-05T00:00:00Z")
    assert ask(apps, "breakdown", params)["rows"] == oracle.breakdown(data, 1, first, end, f, "element", 10, LINKS)
