"""GET /export/events through the metrics function, on events stored by the real pipeline."""

import csv
import datetime as dt
import io
import time
import uuid
from urllib.parse import urlencode

import orjson
import pytest

from engine import keycli, keyring
from engine.core.exportfmt import COLUMNS
from engine.db import writes
from tests.conftest import READ, TASK, WRITE
from tests.factories import make_event
from tests.helpers import copy_lines

pytestmark = pytest.mark.integration
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
# NOW is taken when the module is collected; events stored through ingest are stamped when the test
# runs, which in a whole-suite run is minutes later: the range reaches a day past NOW to hold them.
RANGE = {"from": (NOW - dt.timedelta(hours=2)).isoformat(), "to": (NOW + dt.timedelta(days=1)).isoformat()}
TRICKY = {
    "user_id": 'Zoë, "the" admin',
    "action": "play",
    "element": "video,player",
    "session_id": "line one\nline two",
    "properties": {"note": 'say "hi",\r\nbye', "城市": "東京", "emoji": "🎬"},
}


def store(apps, events):
    response = apps["ingest"].post("/events", json=events, headers=WRITE)
    assert response.status_code == 202, response.json
    assert apps["stream_drain"].post("/tasks/stream-drain", headers=TASK).json["inserted"] == len(events)
    return response.json["event_ids"]


def export(apps, headers=READ, **params):
    return apps["metrics"].get("/export/events", query_string={**RANGE, **params}, headers=headers)


def csv_rows(response) -> list[dict]:
    reader = csv.reader(io.StringIO(response.data.decode("utf-8"), newline=""))
    header = next(reader)
    assert tuple(header) == COLUMNS
    return [dict(zip(header, row, strict=True)) for row in reader]


def ndjson_rows(response) -> list[dict]:
    return [orjson.loads(line) for line in response.data.split(b"\n") if line]


def test_csv_has_the_header_row_and_quotes_commas_quotes_and_newlines_in_utf8(apps, conn):
    [event_id] = store(apps, [make_event(**TRICKY, duration=2.5)])
    response = export(apps, format="csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="events_')
    [row] = csv_rows(response)
    stored = conn.run('SELECT request_id, received_at, "timestamp" FROM events')[0]
    assert row["event_id"] == event_id
    assert (row["user_id"], row["element"], row["session_id"]) == (TRICKY["user_id"], TRICKY["element"], TRICKY["session_id"])
    assert orjson.loads(row["properties"]) == TRICKY["properties"]
    assert (row["project_id"], row["action"], row["duration"], row["request_id"]) == ("1", "play", "2.5", stored[0])
    assert dt.datetime.fromisoformat(row["received_at"]) == stored[1]
    assert dt.datetime.fromisoformat(row["timestamp"]) == stored[2]
    assert (row["anonymous_id"], row["context"], row["envelope"], row["sent_at"]) == ("", "", "", "")
    assert "東京".encode() in response.data


def test_ndjson_is_the_default_one_object_a_line_with_every_column(apps):
    [event_id] = store(apps, [make_event(**TRICKY)])
    response = export(apps)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/x-ndjson; charset=utf-8"
    [row] = ndjson_rows(response)
    assert tuple(row) == COLUMNS
    assert (row["event_id"], row["user_id"], row["properties"]) == (event_id, TRICKY["user_id"], TRICKY["properties"])
    assert (row["anonymous_id"], row["duration"], row["project_id"]) == (None, 12.5, 1)


@pytest.mark.parametrize(
    ("accept", "params", "expected"),
    [
        ("text/csv", {}, "text/csv"),
        ("application/x-ndjson", {}, "application/x-ndjson"),
        ("text/csv", {"format": "json"}, "application/x-ndjson"),
        ("*/*", {"format": "csv"}, "text/csv"),
        ("text/html,*/*;q=0.8", {}, "application/x-ndjson"),
    ],
)
def test_the_format_is_chosen_by_format_then_accept(apps, accept, params, expected):
    response = export(apps, headers={**READ, "Accept": accept}, **params)
    assert response.status_code == 200
    assert response.headers["Content-Type"].split(";")[0] == expected


def test_an_empty_range_is_a_header_alone_in_csv_and_nothing_in_ndjson(apps):
    assert export(apps, format="csv").data.decode() == ",".join(COLUMNS) + "\n"
    assert export(apps).data == b""


def test_pages_keep_timestamp_then_id_order_with_ties_and_lose_nothing(apps, conn):
    moments = [NOW - dt.timedelta(minutes=30, seconds=i // 700) for i in range(2600)]  # runs of 700 equal times
    rows = [
        {"project_id": 1, "user_id": f"u{i % 13}", "element": "e", "duration": None, "timestamp": t, "session_id": None}
        for i, t in enumerate(moments)
    ]
    writes.load_rows(conn, copy_lines(rows, NOW))
    expected = [str(r[0]) for r in conn.run('SELECT event_id FROM events ORDER BY "timestamp", event_id')]
    got = [row["event_id"] for row in ndjson_rows(export(apps))]
    assert len(got) == 2600
    assert got == expected
    assert [row["event_id"] for row in csv_rows(export(apps, format="csv"))] == expected


def test_filters_select_the_same_events_as_the_analytics_routes(apps):
    ids = store(
        apps,
        [
            make_event(action="play", element="video", properties={"plan": "pro"}),
            make_event(action="play", element="button", properties={"plan": "free"}),
            make_event(action="pause", element="video", properties={"plan": "team"}),
            make_event(action="click", element="video"),
        ],
    )
    got = {
        name: {row["event_id"] for row in ndjson_rows(apps["metrics"].get(f"/export/events?{query}&{urlencode(RANGE)}", headers=READ))}
        for name, query in {
            "play": "action=play",
            "play or pause on video": "action=play&action=pause&element=video",
            "pro or team": "property.plan=pro&property.plan=team",
            "nobody": "user_id=nobody",
        }.items()
    }
    assert got == {
        "play": {ids[0], ids[1]},
        "play or pause on video": {ids[0], ids[2]},
        "pro or team": {ids[0], ids[2]},
        "nobody": set(),
    }


def test_the_range_bounds_the_export(apps, conn):
    inside, outside = NOW - dt.timedelta(hours=1), NOW - dt.timedelta(days=3)
    rows = [
        {"project_id": 1, "user_id": "u", "element": "e", "duration": None, "timestamp": t, "session_id": None} for t in (inside, outside)
    ]
    writes.load_rows(conn, copy_lines(rows, NOW))
    got = ndjson_rows(export(apps))
    assert [dt.datetime.fromisoformat(row["timestamp"]) for row in got] == [inside]


def test_projects_never_see_each_others_events(apps, conn):
    other, keys = keycli.create_project_keys(conn, "other-shop")
    keyring.reset()
    row = {"user_id": "u", "element": "e", "duration": None, "timestamp": NOW - dt.timedelta(minutes=5), "session_id": None}
    mine, theirs = str(uuid.uuid4()), str(uuid.uuid4())
    writes.load_rows(conn, copy_lines([{**row, "project_id": 1, "event_id": mine}, {**row, "project_id": other, "event_id": theirs}], NOW))
    assert [r["event_id"] for r in ndjson_rows(export(apps))] == [mine]
    other_read = {"Authorization": f"Bearer {keys['read']}"}
    assert [r["event_id"] for r in ndjson_rows(export(apps, headers=other_read))] == [theirs]
    assert [r["project_id"] for r in ndjson_rows(export(apps, headers=other_read))] == [other]


@pytest.mark.parametrize("headers", [{}, WRITE, {"Authorization": "Bearer wrong-key-wrong-key"}])
def test_the_read_key_is_required(apps, headers):
    response = export(apps, headers=headers)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"from": "yesterday"}, "from"),
        ({"from": "2026-11-02T00:00:00Z", "to": "2026-11-01T00:00:00Z"}, "from"),
        ({"format": "xml"}, "format"),
        ({"tz": "Mars/Olympus"}, "tz"),
        ({"limit": "5"}, "limit"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(apps, params, parameter):
    response = apps["metrics"].get("/export/events", query_string=params, headers=READ)
    assert response.status_code == 400
    assert response.json["error"]["details"]["parameter"] == parameter


def export_backends(conn) -> int:
    query = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'analytics-export' AND datname = current_database()"
    deadline = time.monotonic() + 5
    while (count := conn.run(query)[0][0]) and time.monotonic() < deadline:
        time.sleep(0.05)
    return count


@pytest.mark.parametrize("taken", [0, 1], ids=["never read", "left after the first page"])
def test_a_client_that_leaves_mid_export_frees_its_connection(apps, conn, taken):
    rows = [
        {"project_id": 1, "user_id": "u", "element": "e", "duration": None, "timestamp": NOW - dt.timedelta(seconds=i), "session_id": None}
        for i in range(2500)
    ]
    writes.load_rows(conn, copy_lines(rows, NOW))
    response = apps["metrics"].get("/export/events", query_string=RANGE, headers=READ, buffered=False)
    assert response.status_code == 200
    assert export_backends(conn) == 1  # the first page is read before the answer starts
    chunks = response.iter_encoded()
    for _ in range(taken):
        assert next(chunks)
    response.close()
    assert export_backends(conn) == 0
