"""The analytics routes through functions-framework: keys, projects, every bad parameter, and CSV."""

import csv
import io
import random
import uuid
from urllib.parse import urlencode

import pytest

from engine import keycli, keyring
from engine.db import writes
from tests.conftest import READ, TASK, WRITE
from tests.helpers import copy_lines
from tests.integration.test_analytics_routes import START, generated

pytestmark = pytest.mark.integration

ROUTES = ("timeseries", "breakdown", "sessions", "funnel", "retention", "uniques")
STEPS = {"funnel": [("steps", "view,play")]}


def get(apps, route, params, headers=READ):
    return apps["metrics"].get(f"/metrics/{route}?{urlencode(params)}", headers=headers)


@pytest.mark.parametrize("route", ROUTES)
def test_routes_need_the_read_key_and_answer_get_only(apps, route):
    for headers in ({}, WRITE, TASK, {"Authorization": "Bearer wrong-read-key-0000"}):
        response = get(apps, route, STEPS.get(route, []), headers)
        assert (response.status_code, response.json["error"]["code"]) == (401, "unauthorized")
    assert get(apps, route, [("tz", "Mars/Olympus")], {}).status_code == 401  # the key is checked before the parameters
    assert apps["metrics"].post(f"/metrics/{route}", headers=READ).status_code == 405
    response = get(apps, route, STEPS.get(route, []))
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"


BAD = [
    ("timeseries", [("interval", "fortnight")], "interval"),
    ("timeseries", [("tz", "Mars/Olympus")], "tz"),
    ("timeseries", [("from", "2026-11-02"), ("to", "2026-11-01")], "from"),
    ("timeseries", [("from", "2026-10-01"), ("to", "2026-11-01"), ("interval", "minute")], "interval"),
    ("timeseries", [("from", "2026-02-30")], "from"),
    ("timeseries", [("to", "soon")], "to"),
    ("timeseries", [("format", "xml")], "format"),
    ("timeseries", [("action", "")], "action"),
    ("timeseries", [("property.", "pro")], "property."),
    ("timeseries", [("element", "x" * 101)], "element"),
    ("timeseries", [("bogus", "1")], "bogus"),
    ("timeseries", [("interval", "day"), ("interval", "hour")], "interval"),
    ("breakdown", [("by", "color")], "by"),
    ("breakdown", [("by", "property.")], "by"),
    ("breakdown", [("limit", "0")], "limit"),
    ("breakdown", [("limit", "many")], "limit"),
    ("breakdown", [("limit", "1001")], "limit"),
    ("sessions", [("interval", "day")], "interval"),
    ("funnel", [], "steps"),
    ("funnel", [("steps", "view")], "steps"),
    ("funnel", [("steps", ",".join(f"s{i}" for i in range(21)))], "steps"),
    ("funnel", [("steps", "view,,play")], "steps"),
    ("funnel", [("steps", "view,:play")], "steps"),
    ("funnel", [("steps", "view,play"), ("within", "0")], "within"),
    ("funnel", [("steps", "view,play"), ("within", "-5")], "within"),
    ("funnel", [("steps", "view,play"), ("within", "1e3")], "within"),
    ("retention", [("period", "month")], "period"),
    ("retention", [("periods", "0")], "periods"),
    ("retention", [("periods", "x")], "periods"),
    ("retention", [("from", "2026-01-01"), ("to", "2026-12-01"), ("periods", "30")], "periods"),
    ("uniques", [("from", "1971-01-01"), ("to", "2099-01-01")], "from"),
    ("uniques", [("user_id", "a\x00b")], "user_id"),
]


@pytest.mark.parametrize(("route", "params", "parameter"), BAD)
def test_each_bad_parameter_is_a_400_naming_it(apps, route, params, parameter):
    response = get(apps, route, params)
    assert response.status_code == 400, response.json
    assert response.json["error"]["code"] == "bad_request"
    assert response.json["error"]["details"] == {"parameter": parameter}


def test_too_many_points_says_so(apps):
    response = get(apps, "timeseries", [("from", "2026-10-01"), ("to", "2026-11-01"), ("interval", "minute")])
    assert "more than 1500 points" in response.json["error"]["message"]


def test_no_input_makes_a_500(apps):
    rng = random.Random(5)
    names = ["from", "to", "tz", "format", "interval", "by", "limit", "steps", "within", "period", "periods", "action", "property.p"]
    values = [
        "",
        " ",
        "0",
        "-1",
        "99999999999",
        "2026-11-01",
        "2026-11-01T00:00:00+25:00",
        "x" * 300,
        "é",
        "\x00",
        "a:b,c",
        "%",
        "'",
        "NaN",
    ]
    for _ in range(300):
        params = [(rng.choice(names), rng.choice(values)) for _ in range(rng.randrange(1, 4))]
        response = get(apps, rng.choice(ROUTES), params)
        assert response.status_code in (200, 400), (params, response.json)


def test_projects_see_only_their_own_events(apps, conn):
    other, keys = keycli.create_project_keys(conn, "shop")
    keyring.reset()
    rows = [{**e, "project_id": 1} for e in generated(3, 200)] + [{**e, "project_id": other} for e in generated(4, 50)]
    writes.load_rows(conn, copy_lines(rows, START))
    params = [("from", "2026-10-20"), ("to", "2026-11-10"), ("interval", "month")]
    ours = get(apps, "timeseries", params).json["points"]
    theirs = get(apps, "timeseries", params, {"Authorization": f"Bearer {keys['read']}"}).json["points"]
    assert (sum(p["events"] for p in ours), sum(p["events"] for p in theirs)) == (200, 50)
    conn.run("DELETE FROM api_keys WHERE project_id <> 1")
    conn.run("DELETE FROM projects WHERE id <> 1")
    keyring.reset()


@pytest.mark.parametrize("route", ROUTES)
def test_csv_has_a_header_row_and_the_json_rows(apps, conn, route):
    rows = generated(8, 600)
    writes.load_rows(conn, copy_lines(rows, START))
    params = [("from", "2026-10-24"), ("to", "2026-11-02"), *STEPS.get(route, [])]
    body = get(apps, route, params).json
    response = get(apps, route, [*params, ("format", "csv")])
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    table = list(csv.reader(io.StringIO(response.data.decode("utf-8"), newline="")))
    header, lines = table[0], table[1:]
    json_rows = {
        "timeseries": body.get("points"),
        "breakdown": body.get("rows"),
        "sessions": [body],
        "funnel": body.get("steps"),
        "uniques": [{"granularity": g, **p} for g in ("daily", "weekly", "monthly") for p in body.get(g, [])],
    }.get(route)
    if route == "retention":
        assert header[:2] == ["start", "size"] and header[2:] == [f"active_{k}" for k in range(8)]
        assert lines == [[c["start"], str(c["size"]), *map(str, c["active"])] for c in body["cohorts"]]
        return
    assert lines == [["" if r[col] is None else str(r[col]) for col in header] for r in json_rows]
    assert len(lines) > 0


def test_csv_quotes_commas_quotes_and_line_breaks_in_utf8(apps, conn):
    rows = [e for e in generated(9, 400) if e["project_id"] == 1]
    writes.load_rows(conn, copy_lines(rows, START))
    response = get(apps, "breakdown", [("from", "2026-10-20"), ("to", "2026-11-10"), ("by", "element"), ("format", "csv")])
    text = response.data.decode("utf-8")
    assert text.startswith("value,events,users,avg_duration\r\n")
    assert '"like, button",' in text and '"say ""hi""",' in text and '"line\nbreak",' in text and "élan," in text
    values = [line[0] for line in csv.reader(io.StringIO(text, newline=""))][1:]
    assert sorted(values) == sorted({e["element"] for e in rows if e["element"]})


def test_csv_cells_a_spreadsheet_would_run_as_formulas_start_with_an_apostrophe_and_json_keeps_them(apps, conn):
    hostile = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tcell", "plain"]
    rows = [{**e, "project_id": 1, "element": hostile[i % len(hostile)]} for i, e in enumerate(generated(10, 60))]
    writes.load_rows(conn, copy_lines(rows, START))
    params = [("from", "2026-10-20"), ("to", "2026-11-10"), ("by", "element")]
    assert sorted(r["value"] for r in get(apps, "breakdown", params).json["rows"]) == sorted(hostile)
    text = get(apps, "breakdown", [*params, ("format", "csv")]).data.decode("utf-8")
    values = [line[0] for line in csv.reader(io.StringIO(text, newline=""))][1:]
    assert sorted(values) == sorted(["'" + v for v in hostile[:5]] + ["plain"])


def test_an_event_id_sent_twice_counts_once(apps, conn):
    row = {**generated(1, 1)[0], "project_id": 1, "event_id": str(uuid.uuid4())}
    for _ in range(3):  # the drain sends an id once per batch; a resend comes in a later one
        writes.load_rows(conn, copy_lines([row], START))
    points = get(apps, "timeseries", [("from", "2026-10-20"), ("to", "2026-11-10"), ("interval", "month")]).json["points"]
    assert sum(p["events"] for p in points) == 1
